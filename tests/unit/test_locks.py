"""The file lock: one holder at a time, a bounded wait, released when the block ends."""

import threading

import pytest

from retrainer.boundaries.locks import LockTimeout, file_lock


def test_a_second_holder_waits_then_gives_up(tmp_path):
    path = tmp_path / "locks" / "lake.lock"
    # flock is per open file description: a second open in the same process contends.
    with (
        file_lock(path),
        pytest.raises(LockTimeout, match="held by another process"),
        file_lock(path, timeout=0.3),
    ):
        pass


def test_the_lock_is_free_again_after_the_block(tmp_path):
    path = tmp_path / "lake.lock"
    order = []
    with file_lock(path):
        waiter = threading.Thread(target=lambda: _take(path, order))
        waiter.start()
        order.append("holder done")
    waiter.join(timeout=5)
    assert order == ["holder done", "waiter got it"]


def _take(path, order):
    with file_lock(path, timeout=5):
        order.append("waiter got it")
