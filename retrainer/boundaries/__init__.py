"""I/O boundaries: the lake, the sources, Great Expectations, MLflow, the Prefect API, the
environment.

One module per thing outside the process: ``lake`` (Parquet + manifest), ``sources/`` (files,
feed, SQL), ``validation`` (GX), ``tracking`` (every MLflow call), ``prefect_api`` (every
Prefect API call), ``settings`` (every environment variable and local path). Imports only the
domain.
"""
