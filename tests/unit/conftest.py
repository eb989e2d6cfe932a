"""Unit tier: pure functions on tiny inline data. It starts no process and no server."""

import subprocess

import pytest
from joblib import cpu_count

# scikit-learn asks joblib for the physical cores, which runs `lscpu` once and caches the
# answer: ask before the guard below is in place.
cpu_count(only_physical_cores=True)


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test that starts a process fails: it belongs in the flow or e2e tier."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the unit tier starts no process: {args[:1]}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
