"""The dependency rule, read from the imports: operations -> deployments -> flows -> tasks ->
boundaries -> domain. A module may import its own layer or any layer to its right, never one
to its left; a task module never imports another task module; only one module talks to each
server.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {
    "retrainer.domain": 0,
    "retrainer.boundaries": 1,
    "tasks": 2,
    "flows": 3,
    "deployments": 4,
    "retrainer.operations": 5,
    "bench": 5,
}
# The domain is pure: DataFrames and pydantic models in, the same out. No server clients.
NOT_IN_DOMAIN = (
    "prefect",
    "mlflow",
    "great_expectations",
    "sqlalchemy",
    "httpx",
    "urllib.request",
    "subprocess",
)
# One client per server, in one module.
ONLY_IN = {
    "mlflow": "retrainer.boundaries.tracking",
    "great_expectations": "retrainer.boundaries.validation",
    "prefect.client.orchestration": "retrainer.boundaries.prefect_api",
}


def _layer(module: str) -> int | None:
    for prefix, rank in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return None


def _under(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _modules() -> dict[str, Path]:
    found = {}
    for package in ("retrainer", "tasks", "flows", "deployments", "bench"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, module: str) -> list[str]:
    """Every module ``path`` imports, at the top or inside a function, as absolute names."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: -node.level]
                base = ".".join([*package, base] if base else package)
            names.append(base)
            # `from retrainer.boundaries import tracking` imports a module too.
            names += [f"{base}.{alias.name}" for alias in node.names]
    return names


MODULES = _modules()


def test_every_module_is_in_a_layer():
    unplaced = [m for m in MODULES if _layer(m) is None and m != "retrainer"]
    assert unplaced == [], f"modules outside every layer: {unplaced}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_one_way(module: str):
    own = _layer(module)
    if own is None:
        return
    wrong = []
    for name in _imports(MODULES[module], module):
        target = _layer(name)
        if target is not None and target > own:
            wrong.append(f"{name} (a layer above)")
        if (
            own == LAYERS["tasks"]
            and name.startswith("tasks.")
            and name in MODULES
            and name != module
        ):
            wrong.append(f"{name} (another task module)")
        if own == LAYERS["retrainer.domain"] and _under(name, NOT_IN_DOMAIN):
            wrong.append(f"{name} (I/O in the domain)")
        for library, owner in ONLY_IN.items():
            if _under(name, (library,)) and module != owner:
                wrong.append(f"{name} (only {owner} may use it)")
    assert wrong == [], f"{module} imports {wrong}"


def test_the_rule_catches_a_violation(tmp_path: Path):
    upward = tmp_path / "bad.py"
    upward.write_text("def f():\n    from tasks.train import train_model\n")

    (imported,) = _imports(upward, "retrainer.domain.bad")[:1]

    assert _layer(imported) > _layer("retrainer.domain.bad")
