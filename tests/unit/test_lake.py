"""The lake's commit protocol: idempotent, atomic, readers see only committed files."""

import errno
import json
import os

import pandas as pd
import pytest

from retrainer.boundaries.lake import DeliveryRecord, Lake, LakeWriteError, atomic_write


def record(sha: str = "ab" * 32) -> DeliveryRecord:
    return DeliveryRecord(
        source="s",
        name="f.csv",
        sha256=sha,
        received_at="2026-01-01T00:00:00+00:00",
        status="accepted",
        raw=f"raw/s/{sha}.csv",
    )


def rows(months: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(len(months)),
            "at": pd.to_datetime([f"2013-{m:02d}-05" for m in months], utc=True),
        }
    )


def test_commit_partitions_by_month_and_reads_back(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(record(), rows([1, 1, 2]), pd.DataFrame(), "at")
    assert sorted(p.parent.name for p in tmp_path.glob("validated/s/*/*/*.parquet")) == [
        "month=01",
        "month=02",
    ]
    assert len(lake.read_validated("s")) == 3
    assert lake.records()[0].validated == {
        f"validated/s/year=2013/month=01/part-{'ab' * 8}.parquet": 2,
        f"validated/s/year=2013/month=02/part-{'ab' * 8}.parquet": 1,
    }


def test_files_not_in_the_manifest_are_invisible(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(record(), rows([1]), pd.DataFrame(), "at")
    # what a crash between writing a partition and committing the manifest leaves behind
    rows([1]).to_parquet(tmp_path / "validated/s/year=2013/month=01/part-orphan.parquet")
    assert len(lake.read_validated("s")) == 1


def test_raw_copy_is_written_once_and_named_by_content(tmp_path):
    lake = Lake(tmp_path)
    first = lake.store_raw("s", "cd" * 32, ".csv", b"a,b\n1,2\n")
    mtime = (tmp_path / first).stat().st_mtime_ns
    assert lake.store_raw("s", "cd" * 32, ".csv", b"a,b\n1,2\n") == first
    assert (tmp_path / first).stat().st_mtime_ns == mtime


def test_a_retried_rejected_delivery_replaces_its_entry(tmp_path):
    lake = Lake(tmp_path)
    rejected = record()
    rejected.status = "rejected"
    lake.commit(rejected, pd.DataFrame(), pd.DataFrame(), None)
    lake.commit(record(), rows([1]), pd.DataFrame(), "at")
    assert [r.status for r in lake.records()] == ["accepted"]
    assert [r.status for r in lake.seen("s", "ab" * 32)] == ["accepted"]


def test_each_source_has_its_own_manifest(tmp_path):
    lake = Lake(tmp_path)
    other = record("cd" * 32)
    other.source = "t"
    lake.commit(record(), rows([1]), pd.DataFrame(), "at")
    lake.commit(other, rows([2]), pd.DataFrame(), "at")
    assert sorted(p.name for p in (tmp_path / "_manifests").iterdir()) == ["s.json", "t.json"]
    assert [r.source for r in lake.records()] == ["s", "t"]
    assert len(lake.read_validated("s")) == len(lake.read_validated("t")) == 1


def test_a_legacy_single_manifest_is_read_then_split_by_the_first_writer(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(record(), rows([1]), pd.DataFrame(), "at")
    entries = json.loads(lake.manifest_path("s").read_text())["deliveries"]
    (tmp_path / "_manifest.json").write_text(json.dumps({"deliveries": entries}))
    lake.manifest_path("s").unlink()

    assert [r.sha256 for r in lake.records("s")] == ["ab" * 32]
    with lake.writer():
        pass
    assert not (tmp_path / "_manifest.json").exists()
    assert [r.sha256 for r in lake.records("s")] == ["ab" * 32]


def test_the_writer_removes_temporary_files_a_killed_writer_left(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(record(), rows([1]), pd.DataFrame(), "at")
    partition = tmp_path / "validated/s/year=2013/month=01"
    leftover = partition / ".part-0123456789abcdef.parquet.4242.tmp"
    leftover.write_bytes(b"")  # what SIGKILL during a Parquet write leaves
    with lake.writer():
        assert not leftover.exists()
    assert len(lake.read_validated("s")) == 1


def test_a_full_disk_leaves_no_temporary_file_and_no_commit(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    lake.commit(record(), rows([1]), pd.DataFrame(), "at")
    before = lake.manifest_path("s").read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(LakeWriteError, match=r"No space left on device.*free space") as caught:
        lake.commit(record("cd" * 32), rows([2]), pd.DataFrame(), "at")
    monkeypatch.undo()

    assert not caught.value.transient
    assert not list(tmp_path.rglob("*.tmp"))
    assert lake.manifest_path("s").read_bytes() == before
    assert len(lake.read_validated("s")) == 1


def test_a_rewrite_swaps_files_in_one_commit_and_deletes_the_old_one(tmp_path):
    lake = Lake(tmp_path)
    committed = lake.commit(record(), rows([1, 1]), pd.DataFrame(), "at")
    (old,) = committed.validated
    newer = record("cd" * 32)
    lake.commit(newer, rows([2]), pd.DataFrame(), "at", rewrites={old: rows([1])})

    first = lake.records("s")[0]
    (new,) = first.validated
    assert new != old and first.validated[new] == 1 and first.accepted == 1
    assert not (tmp_path / old).exists()
    assert len(lake.read_validated("s")) == 2
    assert json.loads(lake.manifest_path("s").read_text())["obsolete"] == []


def test_obsolete_files_a_crash_left_are_deleted_by_the_next_writer(tmp_path):
    lake = Lake(tmp_path)
    committed = lake.commit(record(), rows([1]), pd.DataFrame(), "at")
    stale = tmp_path / "validated/s/year=2013/month=01/part-old.parquet"
    rows([1]).to_parquet(stale)
    manifest = json.loads(lake.manifest_path("s").read_text())
    manifest["obsolete"] = ["validated/s/year=2013/month=01/part-old.parquet"]
    lake.manifest_path("s").write_text(json.dumps(manifest))

    with lake.writer():
        pass

    assert not stale.exists()
    assert lake.records("s")[0].validated == committed.validated


def test_every_write_syncs_the_file_and_its_directory(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(
        os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real(fd)
    )
    atomic_write(tmp_path / "a" / "f.json", b"{}")
    assert any(p.endswith(f".f.json.{os.getpid()}.tmp") for p in synced)
    assert str(tmp_path / "a") in synced and str(tmp_path) in synced
