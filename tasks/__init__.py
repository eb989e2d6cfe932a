"""Prefect tasks, one module per stage. Each task is a thin wrapper over ``retrainer``."""
