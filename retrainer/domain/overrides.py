"""``--param key=value`` overrides of a config, by dotted path (``model.params.max_iter=50``)."""

import copy
import json
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from retrainer.domain.config import (
    ModelFamily,
    ParamValue,
    RetrainConfig,
    column_problems,
    problems,
)


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
        config = RetrainConfig.model_validate(merged)
    except ValidationError as exc:
        raise OverrideError(f"the overridden config is not valid:\n{problems(exc)}") from exc
    unknown = column_problems(config)
    if unknown:
        raise OverrideError("the overridden config names unknown columns:\n" + "\n".join(unknown))
    return config


def differences(base: Any, changed: Any, path: str = "") -> dict[str, Any]:
    """The dotted paths where ``changed`` differs from ``base`` (plain dicts), new values.

    The inverse of ``apply_overrides``: what a run changed relative to its config file.
    """
    if isinstance(base, dict) and isinstance(changed, dict):
        found: dict[str, Any] = {}
        for key in sorted(base.keys() | changed.keys(), key=str):
            found |= differences(base.get(key), changed.get(key), f"{path}{key}.")
        return found
    return {} if base == changed else {path.rstrip("."): changed}


class RunChoices(BaseModel):
    """The common choices for one run, on top of the config (empty: as configured)."""

    model_family: ModelFamily | None = Field(default=None, description="the estimator family")
    model_params: dict[str, ParamValue] | None = Field(
        default=None,
        description='hyperparameters merged over the config\'s, e.g. {"max_iter": 200}',
    )
    test_months: int | None = Field(
        default=None, ge=1, description="how many of the latest months are the test set"
    )
    require_approval: bool | None = Field(
        default=None, description="wait for a reviewer before promoting"
    )


def with_choices(config: RetrainConfig, choices: RunChoices | None = None) -> RetrainConfig:
    """The config with a run's choices applied; ``model_params`` are merged, not replaced."""
    if choices is None:
        return config
    chosen: dict[str, Any] = {
        "model.family": choices.model_family,
        "split.test_months": choices.test_months,
        "promotion.require_approval": choices.require_approval,
        **{f"model.params.{name}": value for name, value in (choices.model_params or {}).items()},
    }
    overrides = {path: value for path, value in chosen.items() if value is not None}
    if not overrides:
        return config
    return apply_overrides(config.model_dump(mode="json"), overrides)
