"""Derived features: arithmetic over other features, declared in the config.

A gradient-boosted tree splits on one feature at a time, so a quantity that only a
difference or a ratio of two features shows (the aircraft's spare time on the ground: the
gap since its previous leg minus twice that leg's flight time) needs many splits to be
approximated, and is learnt badly. ``features.derived`` names such a quantity once::

    leg_minutes: leg_latest_tailnum / 7.5 + 15
    turn_slack: tail_gap_tailnum - 2 * leg_minutes

An expression is Python arithmetic over feature names (numeric features, history features,
``day_of_week`` and other derived features, in any order but not in a cycle) and numbers:
``+ - * /``, unary ``-``, comparisons (1.0 or 0.0; a comparison with a missing value is
false), and the functions ``where(condition, then, else)``, ``min(a, b)`` and ``max(a, b)``
(a missing argument is skipped), ``abs``, ``log1p`` and ``missing(x)`` (1.0 where x is
missing).
Nothing else parses: no attribute access, no other calls, no names outside the features.

A derived value is known when the latest feature it reads is known, so the leakage guard
checks it like any other feature.
"""

import ast
import difflib
import operator

import numpy as np
import pandas as pd

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARE = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
# Every other node (attributes, subscripts, lambdas, boolean operators, ...) is refused.
_ALLOWED = (
    ast.Name,
    ast.Load,
    ast.BinOp,
    ast.operator,
    ast.UnaryOp,
    ast.USub,
    ast.UAdd,
    ast.Compare,
    ast.cmpop,
    ast.Call,
)
_FUNCTIONS = {
    "where": (3, lambda c, a, b: np.where(np.nan_to_num(c) != 0, a, b)),
    "min": (2, np.fmin),
    "max": (2, np.fmax),
    "abs": (1, np.abs),
    "log1p": (1, np.log1p),
    "missing": (1, lambda x: np.isnan(x).astype("float64")),
}


def parse(name: str, expression: str) -> ast.expr:
    """The expression's syntax tree, or a ValueError saying what is not allowed."""
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(
            f"derived {name!r}: {expression!r} is not an expression ({exc.msg})"
        ) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func.id if isinstance(node.func, ast.Name) else None
            if function not in _FUNCTIONS or node.keywords:
                raise ValueError(
                    f"derived {name!r}: calls only {sorted(_FUNCTIONS)}, positionally; "
                    f"not {ast.unparse(node.func)}"
                )
            if len(node.args) != _FUNCTIONS[function][0]:
                raise ValueError(
                    f"derived {name!r}: {function} takes {_FUNCTIONS[function][0]} arguments"
                )
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float) or isinstance(node.value, bool):
                raise ValueError(f"derived {name!r}: only numbers, not {node.value!r}")
        elif isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
            raise ValueError(f"derived {name!r}: operator {ast.unparse(node)!r} is not + - * /")
        elif not isinstance(node, _ALLOWED):
            raise ValueError(f"derived {name!r}: {ast.unparse(node)!r} is not allowed")
    return tree


def references(tree: ast.expr) -> list[str]:
    """Feature names an expression reads, in order of first use."""
    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in functions]
    return list(dict.fromkeys(names))


def in_order(derived: dict[str, str], features: list[str]) -> list[str]:
    """Derived names, each after the derived features it reads (the YAML order may be sorted).

    Raises ValueError for a bad expression, a name that is neither a feature nor derived
    (with the closest names), a name that shadows a feature, or a cycle.
    """
    known = set(features)
    reads: dict[str, list[str]] = {}
    for name, expression in derived.items():
        if name in known:
            raise ValueError(f"derived {name!r}: the name is already a feature")
        reads[name] = references(parse(name, expression))
        for used in reads[name]:
            if used not in known and used not in derived:
                close = difflib.get_close_matches(used, [*features, *derived], n=3)
                hint = f"; did you mean {close}?" if close else ""
                raise ValueError(f"derived {name!r}: {used!r} is not a numeric feature{hint}")
    order: list[str] = []
    while len(order) < len(reads):
        ready = [
            n for n in reads if n not in order and all(r in known or r in order for r in reads[n])
        ]
        if not ready:
            stuck = sorted(set(reads) - set(order))
            raise ValueError(f"derived {stuck}: they read each other in a cycle")
        order += ready
    return order


def _evaluate(node: ast.expr, columns: dict[str, np.ndarray]) -> np.ndarray | float:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return columns[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, columns)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = _BINARY[type(node.op)](
                _evaluate(node.left, columns), _evaluate(node.right, columns)
            )
        return np.where(np.isfinite(out), out, np.nan) if isinstance(node.op, ast.Div) else out
    if isinstance(node, ast.Compare):
        left, result = _evaluate(node.left, columns), True
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(right_node, columns)
            result = np.logical_and(result, _COMPARE[type(op)](left, right))
            left = right
        return np.asarray(result, dtype="float64")
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    arguments = [_evaluate(a, columns) for a in node.args]
    return _FUNCTIONS[node.func.id][1](*arguments)


def derive(
    table: pd.DataFrame, derived: dict[str, str], known: dict[str, pd.Series | None]
) -> tuple[pd.DataFrame, dict[str, pd.Series | None]]:
    """Add each derived feature to ``table``; it is known when its latest input is.

    ``known`` maps features to when each row's value became known (None: in advance); the
    result extends it with the derived features, for the leakage guard.
    """
    columns: dict[str, np.ndarray] = {}
    known = dict(known)
    for name in in_order(derived, [c for c in table.columns if c not in derived]):
        tree = parse(name, derived[name])
        used = references(tree)
        inputs = {
            n: columns[n]
            if n in columns
            else pd.to_numeric(table[n], errors="coerce").to_numpy(dtype="float64")
            for n in used
        }
        value = _evaluate(tree, inputs)
        columns[name] = np.broadcast_to(np.asarray(value, dtype="float64"), len(table)).copy()
        stamps = [known[n] for n in used if known.get(n) is not None]
        known[name] = pd.concat(stamps, axis=1).max(axis=1) if stamps else None
    return table.assign(**columns), known
