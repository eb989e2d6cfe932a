"""``--param key=value`` overrides of a config, by dotted path (``model.params.max_iter=50``)."""

import copy
from typing import Any

import yaml
from pydantic import ValidationError

from retrainer.domain.config import RetrainConfig, column_problems, problems


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


def with_choices(
    config: RetrainConfig,
    model_family: str | None = None,
    model_params: dict[str, Any] | None = None,
    test_months: int | None = None,
    require_approval: bool | None = None,
) -> RetrainConfig:
    """The config with the custom-run form's common choices applied (None: as configured).

    ``model_params`` are merged over the configured ones, not put in their place.
    """
    chosen: dict[str, Any] = {
        "model.family": model_family,
        "split.test_months": test_months,
        "promotion.require_approval": require_approval,
        **{f"model.params.{name}": value for name, value in (model_params or {}).items()},
    }
    overrides = {path: value for path, value in chosen.items() if value is not None}
    if not overrides:
        return config
    return apply_overrides(config.model_dump(mode="json"), overrides)
