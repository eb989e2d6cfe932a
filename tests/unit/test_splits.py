"""Every split kind and every target kind, on tiny inline tables."""

import numpy as np
import pandas as pd
import pytest

from retrainer.domain.config import RetrainConfig, SplitConfig, TargetConfig
from retrainer.domain.features import build_training_table
from retrainer.domain.splits import SplitError, split_rows


def customers(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """A table without times: a quarter churn, households of four."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer": np.arange(n),
            "household": np.arange(n) // 4,
            "tenure": rng.integers(0, 72, n).astype("float64"),
            "plan": rng.choice(["basic", "pro", "max"], n),
            "churn": np.where(np.arange(n) % 4 == 0, "Yes", "No"),
            "spend": rng.normal(50, 10, n),
        }
    )


def table(config: RetrainConfig, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    frames = {"customers": customers() if frame is None else frame}
    return build_training_table(frames, config).frame.assign(household=lambda t: t.customer // 4)


def test_time_split_folds_are_an_expanding_window(flights_config: RetrainConfig):
    config = flights_config.model_copy(deep=True)
    config.split = SplitConfig(test_months=1, validation_months=2, timezone="UTC", min_train_rows=1)
    months = pd.date_range("2013-01-15", periods=5, freq="MS", tz="UTC") + pd.Timedelta(days=14)
    frame = pd.DataFrame({"time_hour": months.repeat(30), "delayed": 0})

    split = split_rows(frame, config)

    assert split.periods == {
        "train": ["2013-02", "2013-03", "2013-04", "2013-05"],
        "validation": ["2013-04", "2013-05"],
        "test": ["2013-06"],
    }
    month = split.train["time_hour"].dt.strftime("%Y-%m")
    for fit, check in split.folds:
        assert month.iloc[fit].max() < month.iloc[check].min()  # never learns its future
        assert month.iloc[check].nunique() == 1
    assert [len(f) for f, _ in split.folds] == [60, 90]


def test_time_split_says_what_is_missing(flights_config: RetrainConfig):
    frame = pd.DataFrame({"time_hour": pd.to_datetime(["2013-01-10"] * 5, utc=True)})
    with pytest.raises(SplitError, match="covers 1 month"):
        split_rows(frame, flights_config)


def test_stratified_split_keeps_the_class_balance(churn_config: RetrainConfig):
    split = split_rows(table(churn_config), churn_config)

    assert len(split.test) == 40 and split.test["churned"].mean() == 0.25
    assert len(split.folds) == 4
    for fit, check in split.folds:
        assert not set(fit) & set(check)
        assert split.train["churned"].iloc[check].mean() == pytest.approx(0.25, abs=0.03)
    assert sorted(np.concatenate([c for _, c in split.folds])) == list(range(len(split.train)))


def test_grouped_split_keeps_each_group_on_one_side(churn_config: RetrainConfig):
    config = churn_config.model_copy(deep=True)
    config.split = SplitConfig(kind="grouped", group_column="household", folds=3, min_train_rows=50)
    frame = table(config)

    split = split_rows(frame, config)

    assert not set(split.train["household"]) & set(split.test["household"])
    for fit, check in split.folds:
        households = split.train["household"]
        assert not set(households.iloc[fit]) & set(households.iloc[check])


def test_leave_one_out_for_small_data_and_not_beyond(churn_config: RetrainConfig):
    config = churn_config.model_copy(deep=True)
    config.split = SplitConfig(
        kind="leave_one_out", min_train_rows=10, min_test_rows=5, test_fraction=0.25
    )

    split = split_rows(table(config, customers(40)), config)

    assert len(split.folds) == len(split.train) == 30
    assert all(len(check) == 1 for _, check in split.folds)
    with pytest.raises(SplitError, match="leave-one-out would fit 1500 models"):
        split_rows(table(config, customers(2000)), config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_train_rows": 500}, "only 160 training rows"),
        ({"min_test_rows": 100}, "only 40 test rows"),
        ({"folds": 60}, "fewer than split.folds"),
    ],
)
def test_a_split_that_leaves_too_few_rows_says_so(churn_config, change, message):
    config = churn_config.model_copy(deep=True)
    config.split = config.split.model_copy(update=change)
    with pytest.raises(SplitError, match=message):
        split_rows(table(config), config)


def test_multiclass_and_regression_targets(churn_config: RetrainConfig):
    multi = churn_config.model_copy(deep=True)
    multi.target = TargetConfig(kind="multiclass", column="plan", name="plan_label")
    multi.features.categorical = []
    labels = table(multi)["plan_label"]
    assert set(labels) == {"basic", "pro", "max"} and labels.dtype == object

    regression = churn_config.model_copy(deep=True)
    regression.target = TargetConfig(kind="regression", column="spend", name="spend_label")
    values = table(regression)["spend_label"]
    assert values.dtype == "float64" and values.std() > 5
    regression.split = SplitConfig(kind="stratified", folds=3, min_train_rows=50)
    split = split_rows(table(regression), regression)  # plain K-fold: no classes to stratify
    assert len(split.folds) == 3
