"""Benchmarks: the orchestrated flow against a plain script doing the same work."""
