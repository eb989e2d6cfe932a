"""Exact TreeSHAP for scikit-learn's HistGradientBoostingClassifier, categorical splits included.

shap's ``TreeExplainer`` (0.51) reads a HistGradientBoosting node's numeric threshold and
ignores its category bitset, so on a model with native categorical features its values are
silently wrong (on a small test model they missed the model's own output by 11 log-odds;
shap's additivity check does not run for this model type). This is the path-dependent
TreeSHAP algorithm of Lundberg et al. (2018, Algorithm 2; the same recursion as shap's C
implementation) with the one change that matters: the child a row goes to is decided the
way the model decides it, bitsets and missing values included.

It is vectorised over rows: the recursion visits every node once per tree, carrying one
weight per row. Values are in the model's raw output (log-odds); they add up, with the
expected value, to ``decision_function`` exactly, which ``explain`` checks.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class _Path:
    """The unique path to a node: per element its feature, zero fraction, one and weights."""

    features: list[int]
    zeros: list[float]
    ones: list[np.ndarray]
    weights: list[np.ndarray]

    def extend(self, zero: float, one: np.ndarray, feature: int) -> "_Path":
        d = len(self.features)
        weights = [*self.weights, np.ones_like(one) if d == 0 else np.zeros_like(one)]
        for i in range(d - 1, -1, -1):
            weights[i + 1] = weights[i + 1] + one * weights[i] * (i + 1) / (d + 1)
            weights[i] = zero * weights[i] * (d - i) / (d + 1)
        return _Path([*self.features, feature], [*self.zeros, zero], [*self.ones, one], weights)

    def _walk_back(self, k: int):
        """Yield (i, weight of element i with element ``k`` taken out), from the end back."""
        d = len(self.features) - 1
        one, zero = self.ones[k], self.zeros[k]
        hot = one != 0
        safe_one = np.where(hot, one, 1.0)
        following = self.weights[d]
        for i in range(d - 1, -1, -1):
            with np.errstate(divide="ignore", invalid="ignore"):
                from_one = following * (d + 1) / ((i + 1) * safe_one)
                from_zero = self.weights[i] * (d + 1) / (zero * (d - i)) if zero else 0.0
            yield i, np.where(hot, from_one, from_zero)
            following = np.where(
                hot, self.weights[i] - from_one * zero * (d - i) / (d + 1), following
            )

    def unwind(self, k: int) -> "_Path":
        d = len(self.features) - 1
        weights = list(self.weights[:d])
        for i, weight in self._walk_back(k):
            weights[i] = weight
        keep = [i for i in range(d + 1) if i != k]
        return _Path(
            [self.features[i] for i in keep],
            [self.zeros[i] for i in keep],
            [self.ones[i] for i in keep],
            weights,
        )

    def unwound_sums(self) -> np.ndarray:
        """For every element but the root, the path's total weight with it taken out.

        The same recurrence as ``_walk_back``, run for all elements at once (one row each).
        """
        d = len(self.features) - 1
        one = np.stack(self.ones[1:])
        zero = np.array(self.zeros[1:])[:, np.newaxis]
        hot = one != 0
        safe_one = np.where(hot, one, 1.0)
        safe_zero = np.where(zero != 0, zero, 1.0)
        following = np.broadcast_to(self.weights[d], one.shape)
        total = np.zeros_like(one)
        for i in range(d - 1, -1, -1):
            from_one = following * (d + 1) / ((i + 1) * safe_one)
            from_zero = np.where(zero != 0, self.weights[i] * (d + 1) / (safe_zero * (d - i)), 0.0)
            total += np.where(hot, from_one, from_zero)
            following = np.where(
                hot, self.weights[i] - from_one * zero * (d - i) / (d + 1), following
            )
        return total


def _in_bitset(bitsets: np.ndarray, row: int, code: np.ndarray) -> np.ndarray:
    words = bitsets[row][code // 32]
    return ((words >> (code % 32)) & 1).astype(bool)


def _goes_left(model, nodes: np.ndarray, bitsets: np.ndarray, X: np.ndarray) -> dict:
    """For each split node, which rows go left, decided as the model's predictor decides.

    Categorical: in the node's bitset goes left; a known category not in it goes right; a
    negative or unknown category is routed like a missing value.
    """
    known, feature_map = model._bin_mapper.make_known_categories_bitsets()
    decisions = {}
    for j in np.flatnonzero(~nodes["is_leaf"].astype(bool)):
        node = nodes[j]
        value = X[:, node["feature_idx"]]
        missing = np.isnan(value)
        if node["is_categorical"]:
            code = np.where(missing | (value < 0), 0, value).astype(np.int64) % 256  # uint8 cast
            left = _in_bitset(bitsets, node["bitset_idx"], code)
            known_here = _in_bitset(known, feature_map[node["feature_idx"]], code)
            missing |= (value < 0) | ~(left | known_here)
        else:
            left = value <= node["num_threshold"]
        decisions[j] = np.where(missing, bool(node["missing_go_to_left"]), left)
    return decisions


def _tree(nodes: np.ndarray, goes_left: dict[int, np.ndarray], phi: np.ndarray) -> None:
    """Add one tree's SHAP values (features x rows) to ``phi``."""

    def recurse(j: int, path: _Path, zero: float, one: np.ndarray, feature: int) -> None:
        path = path.extend(zero, one, feature)
        node = nodes[j]
        if node["is_leaf"]:
            if len(path.features) > 1:
                weights = path.unwound_sums()
                for i, feature in enumerate(path.features[1:]):
                    contribution = (path.ones[i + 1] - path.zeros[i + 1]) * node["value"]
                    phi[feature] += weights[i] * contribution
            return
        split = int(node["feature_idx"])
        incoming_zero, incoming_one = 1.0, np.ones_like(one)
        if split in path.features:  # split on again: undo the earlier split, redo it here
            k = path.features.index(split)
            incoming_zero, incoming_one = path.zeros[k], path.ones[k]
            path = path.unwind(k)
        left, right = int(node["left"]), int(node["right"])
        count = float(node["count"])
        hot_left = goes_left[j]
        recurse(
            left, path, nodes[left]["count"] / count * incoming_zero, incoming_one * hot_left, split
        )
        recurse(
            right,
            path,
            nodes[right]["count"] / count * incoming_zero,
            incoming_one * ~hot_left,
            split,
        )

    rows = phi.shape[1]
    recurse(0, _Path([], [], [], []), 1.0, np.ones(rows), -1)


def hist_gradient_boosting_shap(model, X: np.ndarray) -> tuple[np.ndarray, float]:
    """SHAP values (rows x features, log-odds) of a fitted binary HGB on its input ``X``.

    Returns the values and the expected value (the model's average raw output over its
    training data, as the trees' node counts weigh it).
    """
    X = np.asarray(X, dtype=np.float64)
    # With categorical features the model first re-encodes its input and puts those columns
    # first; its trees split on that matrix.
    preprocessor = getattr(model, "_preprocessor", None)
    order = np.arange(X.shape[1])
    if preprocessor is not None:
        categorical = np.asarray(model.is_categorical_, dtype=bool)
        order = np.r_[np.flatnonzero(categorical), np.flatnonzero(~categorical)]
        X = np.asarray(preprocessor.transform(X), dtype=np.float64)
    phi = np.zeros((X.shape[1], X.shape[0]))
    expected = float(np.ravel(model._baseline_prediction)[0])
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaves = nodes["is_leaf"].astype(bool)
        expected += float(
            (nodes["value"][leaves] * nodes["count"][leaves]).sum() / nodes["count"][0]
        )
        _tree(nodes, _goes_left(model, nodes, predictor.raw_left_cat_bitsets, X), phi)
    values = np.empty_like(phi.T)
    values[:, order] = phi.T
    return values, expected
