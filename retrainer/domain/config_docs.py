"""The config reference, field by field, generated from the pydantic models themselves.

``docs/config.md`` is this module's output (``make docs``); a unit test fails when the models
change and the file was not regenerated, so the reference cannot drift from the code.
"""

import types
import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from retrainer.domain.config import DeploymentConfig, RetrainConfig

HEADER = """# Config reference

One YAML file per data set under `configs/` (see `configs/flights.yaml`). Everything but
`deployment:` is the retrain flow's parameter; `deployment:` says how `make up` schedules
and triggers the data set's flows. Unknown keys are errors; `retrainer check --config FILE`
checks a file, including every column it names, without running anything.

Generated from the pydantic models in `retrainer/domain/config.py` by `make docs`; do not
edit by hand.
"""


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation refers to (inside lists, dicts and unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models(arg)]


def type_name(annotation: Any) -> str:
    """A field's type as a config author reads it: ``list of str``, ``one of a, b``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping of {type_name(args[0])} to {type_name(args[1])}"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()
    else:
        return "**required**"
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{value!r}`" if value not in ({}, []) else "empty"


def _summary(model: type[BaseModel]) -> str:
    doc = (model.__doc__ or "").strip().splitlines()
    return doc[0].replace("``", "`") if doc else ""


def _section(model: type[BaseModel], path: str) -> list[str]:
    lines = [f"## {model.__name__}", "", f"`{path}`: {_summary(model)}", ""]
    lines += ["| field | type | default | what |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        nested = _models(field.annotation)
        what = field.description or (_summary(nested[0]) if nested else "")
        what = what.replace("|", "\\|")
        lines.append(f"| `{name}` | {type_name(field.annotation)} | {_default(field)} | {what} |")
    return [*lines, ""]


def config_reference() -> str:
    """The whole reference: every model reachable from the config file, in reading order."""
    lines = [HEADER]
    seen: set[type[BaseModel]] = set()
    for root, where in ((RetrainConfig, "(top level)"), (DeploymentConfig, "deployment")):
        queue: list[tuple[type[BaseModel], str]] = [(root, where)]
        while queue:
            model, path = queue.pop(0)
            if model in seen:
                continue
            seen.add(model)
            lines += _section(model, path)
            for name, field in model.model_fields.items():
                prefix = "" if path == "(top level)" else f"{path}."
                queue += [(nested, f"{prefix}{name}") for nested in _models(field.annotation)]
    return "\n".join(lines).rstrip() + "\n"
