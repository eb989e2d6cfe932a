"""What a run shows people: its summary, its overrides, its names and its links."""

from retrainer.domain.links import mlflow_links, runs_view
from retrainer.domain.naming import mlflow_run_name, numbered
from retrainer.domain.overrides import RunChoices, differences, with_choices
from retrainer.domain.promotion import Decision
from retrainer.domain.records import LoggedModel
from retrainer.domain.reports import RunFacts, expectations_markdown, summary_markdown

LOGGED = LoggedModel("r1", "7", "flights-delay", "3", "retrain-flights-2013-12 #2")


def _facts(champion: dict | None) -> RunFacts:
    decision = Decision(
        promote=True,
        decision="promoted",
        reason="test roc_auc 0.7000 beats champion v2 0.6800 by +0.0200 (needed > 0.0)",
        metric="roc_auc",
        challenger_metric=0.70,
        champion_metric=0.68,
        champion_before="2",
    )
    return RunFacts(
        logged=LOGGED,
        decision=decision,
        alias="champion",
        metrics={"roc_auc": 0.70, "f1": 0.5, "log_loss": 0.6},
        champion_metrics=champion,
        periods={"train": ["2013-01", "2013-09"], "validation": ["2013-10"], "test": ["2013-12"]},
        rows={"train": 1000, "validation": 100, "test": 200},
        rows_without_label=12,
        deliveries={"flights": [{"status": "accepted", "quarantined": 3}], "planes": []},
        overrides={"model.params.max_iter": 50},
        links={"MLflow run": "http://mlflow/run"},
    )


def test_the_summary_leads_with_the_decision_and_compares_with_the_champion():
    text = summary_markdown(_facts({"roc_auc": 0.68, "f1": 0.52, "log_loss": 0.61}))

    assert text.startswith("## flights-delay v3: **promoted**, now `champion`")
    assert "beats champion v2" in text
    assert "| roc_auc (gate) | 0.7000 | 0.6800 | +0.0200 |" in text
    assert "| f1 | 0.5000 | 0.5200 | -0.0200 |" in text
    assert "| train | 2013-01 to 2013-09 | 1,000 |" in text
    assert "flights: 1 of 1 deliveries accepted, 3 rows quarantined; planes: nothing new" in text
    assert "`model.params.max_iter` = `50`" in text and "[MLflow run](http://mlflow/run)" in text


def test_a_first_model_has_no_champion_column():
    assert "champion v" not in summary_markdown(_facts(None)).split("\n\n")[2]


def test_the_why_of_each_expectation_is_a_full_table_cell():
    row = {
        "expectation": "expect_column_values_to_not_be_null",
        "column": "delayed",
        "gate": "block",
        "success": False,
        "unexpected": 4,
        "unexpected_percent": 0.5,
        "sample_failing_rows": [3, 9],
        "why": "A row without a label cannot be trained on; a long reason is kept whole.",
    }

    text = expectations_markdown([row])

    assert (
        "| **failed** | 4 (0.50 %) | 3, 9 | A row without a label cannot be trained on; a long"
        in text
    )


def test_overrides_are_the_dotted_paths_that_differ():
    base = {"model": {"family": "hgb", "params": {}}, "split": {"test_months": 2}}
    changed = {"model": {"family": "hgb", "params": {"max_iter": 50}}, "split": {"test_months": 1}}

    assert differences(base, changed) == {"model.params.max_iter": 50, "split.test_months": 1}
    assert differences(base, base) == {}


def test_the_form_choices_change_only_what_was_chosen(flights_config):
    flights_config.model.params = {"max_depth": 3}

    chosen = with_choices(
        flights_config, RunChoices(model_family="random_forest", model_params={"n_estimators": 9})
    )

    assert chosen.model.family == "random_forest"
    assert chosen.model.params == {"max_depth": 3, "n_estimators": 9}  # merged, not replaced
    assert chosen.split == flights_config.split
    assert with_choices(flights_config, RunChoices()) is flights_config


def test_names_tell_runs_on_the_same_data_apart():
    assert numbered("retrain-flights-2013-12", 0) == "retrain-flights-2013-12 #1"
    assert numbered("retrain-flights-2013-12", 4) == "retrain-flights-2013-12 #5"
    assert mlflow_run_name("retrain-flights-2013-12 #5", "7", "rejected") == (
        "retrain-flights-2013-12 #5 v7 rejected"
    )


def test_mlflow_links_open_model_training_pages_and_the_runs_list():
    links = mlflow_links("http://ui:5000/", LOGGED, "retrainer")

    assert links.run == "http://ui:5000/#/experiments/7/runs/r1?workflowType=machine_learning"
    assert links.runs == (
        "http://ui:5000/#/experiments/7/runs?workflowType=machine_learning"
        "&viewStateShareKey=retrainer"
    )
    view = runs_view(["test_roc_auc"], ["model_family"], ["promotion.decision"])
    assert view["selectedColumns"] == [
        "attributes.`Models`",
        "metrics.`test_roc_auc`",
        "params.`model_family`",
        "tags.`promotion.decision`",
    ]
