"""The ingest flow: land every source's new deliveries in the lake, nothing else.

Run on its own schedule (daily) so data is validated as it arrives, not only when a model
is retrained; the retrain flow runs the same tasks first and finds nothing left to do.
"""

from prefect import flow

from retrainer.domain.config import RetrainConfig
from tasks.audit import audit_data
from tasks.ingest import check_deliveries, ingest_source


@flow(name="ingest", flow_run_name="ingest-{config.name}")
def ingest(config: RetrainConfig) -> dict[str, list[dict]]:
    """Ingest every source of one data set and publish the data audit."""
    ingested = {s.name: ingest_source(config, s.name) for s in config.sources}
    audit_data(config)
    check_deliveries(config, ingested)
    return ingested
