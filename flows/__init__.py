"""Prefect flows: each reads like a table of contents of task calls."""
