"""Links into the MLflow UI, as data: built once, rendered by whoever shows them."""

from dataclasses import dataclass

from retrainer.domain.records import LoggedModel


@dataclass(frozen=True)
class Links:
    """Where a logged run and its registered version are in the MLflow UI."""

    run: str
    model_version: str


def mlflow_links(ui: str, logged: LoggedModel) -> Links:
    """The run's and the model version's pages under the MLflow UI at ``ui``."""
    base = ui.rstrip("/")
    return Links(
        run=f"{base}/#/experiments/{logged.experiment_id}/runs/{logged.run_id}",
        model_version=f"{base}/#/models/{logged.model}/versions/{logged.version}",
    )
