"""Links into the MLflow UI, as data: built once, rendered by whoever shows them."""

from dataclasses import dataclass

from retrainer.domain.records import LoggedModel

# The MLflow 3 UI has two modes, GenAI (the default in a new browser) and model training;
# this query parameter opens a page in the second, with its menu (runs, models).
TRAINING = "workflowType=machine_learning"


@dataclass(frozen=True)
class Links:
    """Where a logged run and its registered version are in the MLflow UI."""

    run: str
    model_version: str
    runs: str = ""


def mlflow_links(ui: str, logged: LoggedModel, view: str | None = None) -> Links:
    """The run's, the model version's and the runs list's pages under the MLflow UI at ``ui``.

    ``view``: a saved view of the runs list (its key), which picks the columns it shows.
    """
    base = ui.rstrip("/")
    return Links(
        run=f"{base}/#/experiments/{logged.experiment_id}/runs/{logged.run_id}?{TRAINING}",
        model_version=f"{base}/#/models/{logged.model}/versions/{logged.version}?{TRAINING}",
        runs=runs_list(ui, logged.experiment_id, view),
    )


def runs_list(ui: str, experiment_id: str, view: str | None = None) -> str:
    """The experiment's runs list (not its overview page), in a saved view when given."""
    page = f"{ui.rstrip('/')}/#/experiments/{experiment_id}/runs?{TRAINING}"
    return f"{page}&viewStateShareKey={view}" if view else page


def runs_view(metrics: list[str], params: list[str], tags: list[str]) -> dict:
    """A view of the MLflow runs list: these columns besides the name, newest run first.

    The shape is the MLflow UI's own (what its "Share" button saves): columns are named
    ``<kind>.`<name>```, kinds ``attributes``, ``metrics``, ``params`` and ``tags``.
    """
    columns = ["attributes.`Models`"]
    columns += [f"metrics.`{name}`" for name in metrics]
    columns += [f"params.`{name}`" for name in params]
    columns += [f"tags.`{name}`" for name in tags]
    return {
        "selectedColumns": columns,
        "columnOrder": columns,
        "orderByKey": "attributes.start_time",
        "orderByAsc": False,
    }
