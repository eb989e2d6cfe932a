"""retrainer: scheduled, gated, observable retraining on Prefect, Great Expectations and MLflow.

Three layers, imports pointing one way (operations -> deployments -> flows -> tasks ->
boundaries -> domain): ``domain`` (pure functions), ``boundaries`` (I/O), ``operations``
(CLI, servers). ``tests/unit/test_architecture.py`` keeps it so.
"""
