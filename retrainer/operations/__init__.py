"""Operations: the `retrainer` CLI, the local servers and their processes, triggering runs.

What a person or a machine runs: ``cli`` (commands), ``console`` (what the terminal shows),
``stack`` with ``servers`` and ``processes`` (``make up`` / ``make down``), ``trigger`` (runs
over the API). The top layer: may import deployments, flows, tasks, boundaries and domain.
"""
