"""Derived features: the expression language, its errors, and the guard by known times."""

import numpy as np
import pandas as pd
import pytest

from retrainer.domain import derived
from retrainer.domain.availability import LeakageError, check_known_by
from retrainer.domain.config import RetrainConfig
from retrainer.domain.features import build_training_table, feature_columns
from tests.unit.test_features import frames


def _derive(expressions: dict[str, str], **columns) -> pd.DataFrame:
    table = pd.DataFrame(columns, dtype="float64")
    return derived.derive(table, expressions, {name: None for name in columns})[0]


def test_arithmetic_chains_and_missing_values():
    out = _derive(
        {"f": "d / 7.5 + 15", "slack": "gap - 2 * f", "late": "-(slack - delay)"},
        d=[750.0, np.nan],
        gap=[400.0, 300.0],
        delay=[10.0, 5.0],
    )
    assert out["f"].tolist()[0] == 115.0
    assert out["slack"].tolist()[0] == 170.0
    assert out["late"].tolist()[0] == -160.0
    assert out[["f", "slack", "late"]].iloc[1].isna().all()  # missing propagates


def test_where_min_max_and_comparisons():
    out = _derive(
        {
            "pick": "where(a <= b, a, b * 10)",
            "low": "min(a, b)",
            "both": "max(a, b)",
            "flag": "missing(a)",
            "ratio": "a / b",
        },
        a=[1.0, 5.0, np.nan],
        b=[2.0, 3.0, 4.0],
    )
    assert out["pick"].tolist() == [1.0, 30.0, 40.0]  # a comparison with NaN is false
    assert out["low"].tolist() == [1.0, 3.0, 4.0]  # min and max skip a missing argument
    assert out["both"].tolist() == [2.0, 5.0, 4.0]
    assert out["flag"].tolist() == [0.0, 0.0, 1.0]
    zero = _derive({"r": "a / b"}, a=[1.0], b=[0.0])
    assert zero["r"].isna().all()  # no infinities reach a model


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("gap -", "is not an expression"),
        ("__import__('os').system('x')", "calls only"),
        ("gap.real", "is not allowed"),
        ("gap ** 2", "is not"),
        ("'text'", "only numbers"),
        ("where(gap, 1)", "where takes 3 arguments"),
        ("gaps * 2", r"'gaps' is not a numeric feature; did you mean \['gap'\]"),
        ("y + 1", r"derived \['x', 'y'\]: they read each other in a cycle"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expression, message):
    with pytest.raises(ValueError, match=message):
        derived.in_order({"x": expression, "y": "x - gap"}, ["gap"])


def test_a_derived_name_may_not_shadow_a_feature():
    with pytest.raises(ValueError, match="already a feature"):
        derived.in_order({"gap": "gap * 2"}, ["gap"])


def test_derived_features_may_come_in_any_order():
    # YAML tools may sort keys: a derived feature may read one declared after it.
    assert derived.in_order({"b": "a * 2", "a": "gap + 1"}, ["gap"]) == ["a", "b"]
    out = _derive({"b": "a * 2", "a": "gap + 1"}, gap=[1.0])
    assert out[["a", "b"]].iloc[0].tolist() == [2.0, 4.0]


def _with_derived(config: RetrainConfig, expressions: dict[str, str]) -> RetrainConfig:
    changed = config.model_copy(deep=True)
    changed.features.derived = expressions
    return changed


def test_the_demo_table_carries_derived_features(flights_config: RetrainConfig):
    config = _with_derived(flights_config, {"dist_per_seat": "distance / plane_seats"})
    assert feature_columns(config)[0][-1] == "dist_per_seat"
    table = build_training_table(frames(), config).frame.set_index("flight")
    assert table.loc[1, "dist_per_seat"] == 7.0
    assert table.loc[2, "dist_per_seat"] == 3.5


def test_a_derived_feature_is_known_when_its_latest_input_is():
    stamp = pd.to_datetime(["2013-01-07 08:00", "2013-01-07 09:00"], utc=True)
    known = {
        "early": pd.Series(stamp),
        "late": pd.Series(stamp + pd.Timedelta(hours=2)),
        "fixed": None,  # known in advance (a timetable)
    }
    table = pd.DataFrame({"early": [1.0, 2.0], "late": [3.0, 4.0], "fixed": [5.0, 6.0]})
    _, times = derived.derive(table, {"x": "early + fixed", "y": "x * late", "z": "fixed"}, known)
    assert times["x"].tolist() == known["early"].tolist()
    assert times["y"].tolist() == known["late"].tolist()  # through x, the latest input
    assert times["z"] is None
    cutoff = pd.Series(stamp + pd.Timedelta(hours=1))
    check_known_by({"x": times["x"]}, cutoff, table[["fixed"]], 2.0)
    with pytest.raises(LeakageError, match="y: 2 of 2 rows"):
        check_known_by({"y": times["y"]}, cutoff, table[["fixed"]], 2.0)
