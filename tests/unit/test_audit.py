"""The audit says why rows were refused, with real numbers, and where a partition's rows belong."""

import pandas as pd

from retrainer.domain.audit import SourceAudit, as_markdown, group_reasons, local_months
from retrainer.domain.schema import CHECK, REASON


def test_reasons_group_by_kind_keep_a_real_example_and_the_values_range():
    check = "expect_column_values_to_be_between(wind_speed)"
    why = "Sensor anomaly: sustained wind above 150 mph is physically impossible."
    quarantine = pd.DataFrame(
        {
            "wind_speed": ["1048.36", "160.2", None],
            "temp": [None, None, "13.1"],
            CHECK: [check, check, "anomaly"],
            REASON: [
                f"{check}: {why}",
                f"{check}: {why}",
                "sensor spike: temp=13.1 while the readings around it have median 57 "
                "(largest plausible jump 25)",
            ],
        }
    )

    wind, spike = group_reasons(quarantine)

    assert (wind.check, wind.reason, wind.rows) == (check, why, 2)  # the check is not repeated
    assert wind.values == "160.2 to 1048.36"
    assert "temp=13.1" in spike.reason and "median 57" in spike.reason and spike.rows == 1


def test_reasons_that_differ_only_in_numbers_are_one_line():
    reasons = [
        f"sensor spike: temp={t} while the readings around it have median 57" for t in (1, 2)
    ]
    quarantine = pd.DataFrame({CHECK: ["anomaly"] * 2, REASON: reasons})

    (group,) = group_reasons(quarantine)

    assert group.rows == 2 and group.reason == reasons[0]


def test_a_new_year_evening_in_new_york_is_a_january_partition_explained():
    times = pd.Series(["2013-12-31T12:00:00Z", "2014-01-01T04:30:00Z"])  # 23:30 in New York
    months = local_months(times, "America/New_York")
    audit = SourceAudit(
        source="flights",
        partitions={"year=2013/month=12": 1, "year=2014/month=01": 1},
        timezone="America/New_York",
        local_months=months,
    )

    assert months == {"year=2013/month=12": ["2013-12"], "year=2014/month=01": ["2013-12"]}
    assert audit.shifted_partitions == {"year=2014/month=01": ["2013-12"]}
    text = as_markdown([audit])
    assert "| year=2014/month=01 | 1 | 2013-12 |" in text
    assert "year=2014/month=01 holds rows that are 2013-12 in America/New_York" in text
