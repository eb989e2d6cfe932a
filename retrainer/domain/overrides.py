"""``--param key=value`` overrides of a config, by dotted path (``model.params.max_iter=50``)."""

import copy
import json
from typing import Any

import yaml
from pydantic import ValidationError

from retrainer.domain.config import RetrainConfig, problems


class OverrideError(ValueError):
    """An override that is malformed, names no config field, or gives an invalid value."""


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``["a.b=1", "c=x"]`` -> ``{"a.b": 1, "c": "x"}``; values are read as YAML scalars."""
    parsed: dict[str, Any] = {}
    for assignment in assignments:
        path, sep, raw = assignment.partition("=")
        path = path.strip()
        if not sep or not path or any(not part for part in path.split(".")):
            raise OverrideError(f"{assignment!r} is not key=value (e.g. model.params.max_iter=50)")
        try:
            # YAML, so 50 is a number, true a boolean, [a, b] a list and null is None.
            parsed[path] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise OverrideError(f"{assignment!r}: value is not valid YAML: {exc}") from exc
    return parsed


def parse_arguments(assignments: list[str]) -> dict[str, Any]:
    """``["version=2", "reason=bad data"]`` -> ``{"version": 2, "reason": "bad data"}``.

    Top-level flow parameters: a value that reads as JSON is that value, anything else is
    text (so ``reason=yes`` stays the word, unlike YAML).
    """
    parsed: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, raw = assignment.partition("=")
        if not sep or not name.strip() or "." in name:
            raise OverrideError(f"{assignment!r} is not name=value (e.g. version=2)")
        try:
            parsed[name.strip()] = json.loads(raw)
        except ValueError:
            parsed[name.strip()] = raw
    return parsed


def apply_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> RetrainConfig:
    """The config ``base`` (a plain dict) with ``overrides`` set, validated as a whole."""
    merged = copy.deepcopy(base)
    for path, value in overrides.items():
        node = merged
        *parents, leaf = path.split(".")
        for depth, key in enumerate(parents):
            child = node.get(key) if isinstance(node, dict) else None
            if child is None and isinstance(node, dict) and key not in node:
                # An absent optional section (e.g. no `deployment:` in an old file).
                child = node[key] = {}
            if not isinstance(child, dict):
                where = ".".join(parents[: depth + 1])
                raise OverrideError(f"{path}: {where} is not a section of the config")
            node = child
        node[leaf] = value
    try:
        return RetrainConfig.model_validate(merged)
    except ValidationError as exc:
        raise OverrideError(f"the overridden config is not valid:\n{problems(exc)}") from exc
