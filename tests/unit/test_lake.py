"""The lake's commit protocol: idempotent, atomic, readers see only committed files."""

import pandas as pd

from retrainer.boundaries.lake import DeliveryRecord, Lake


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
    assert lake.seen("ab" * 32).status == "accepted"
