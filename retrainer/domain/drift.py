"""Data drift: how far a period's model inputs and predictions moved from a reference.

Per feature: the population stability index (PSI, the size of the shift) and a test (KS for
numeric, chi-square for categorical columns: is it more than sampling noise), plus the change
in its missing-value rate. scipy rather than evidently (which fails to import with pandas 3)
or NannyML (which pulls in xgboost and its own pins): a few lines each, tested here.
"""

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from retrainer.domain.config import MonitoringConfig

# A bin empty on one side would make PSI infinite; this floor is the usual convention.
EMPTY_BIN = 1e-4


@dataclass(frozen=True)
class FeatureDrift:
    """How one feature moved between the reference and the current rows."""

    feature: str
    kind: str  # numeric | categorical
    psi: float
    test: str  # ks | chi2
    statistic: float
    p_value: float
    missing_reference: float
    missing_current: float
    drifted: bool
    missing_drifted: bool
    expected: bool  # listed in monitoring.expected_drift: reported, never an alarm

    @property
    def missing_change(self) -> float:
        """Current minus reference missing-value rate."""
        return self.missing_current - self.missing_reference

    def as_dict(self) -> dict:
        """Plain dict, for tables and JSON."""
        return {**asdict(self), "missing_change": self.missing_change}


@dataclass(frozen=True)
class PredictionDrift:
    """How the predicted probabilities moved from the reference predictions."""

    psi: float
    ks_statistic: float
    p_value: float
    mean_reference: float
    mean_current: float


def _shares(counts: np.ndarray) -> np.ndarray:
    return np.clip(counts / max(counts.sum(), 1), EMPTY_BIN, None)


def _psi(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    ref, cur = _shares(reference_counts), _shares(current_counts)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def numeric_psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI over bins cut at the reference's quantiles (missing values left out).

    A discrete column (engines, hour) gets fewer bins: repeated quantiles collapse into one
    edge, and each remaining edge opens a bin of its own.
    """
    reference, current = reference[~np.isnan(reference)], current[~np.isnan(current)]
    if len(reference) == 0 or len(current) == 0:
        return float("nan")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    n = len(edges) + 1
    ref = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=n)
    cur = np.bincount(np.searchsorted(edges, current, side="right"), minlength=n)
    return _psi(ref, cur)


def categorical_counts(reference: pd.Series, current: pd.Series) -> pd.DataFrame:
    """Counts per category (missing left out), one column per side, every category once."""
    counts = pd.concat(
        {
            "reference": reference.dropna().astype(str).value_counts(),
            "current": current.dropna().astype(str).value_counts(),
        },
        axis=1,
    )
    return counts.fillna(0).sort_index()


def categorical_psi(reference: pd.Series, current: pd.Series) -> float:
    """PSI over categories; a category seen on one side only counts as a near-empty bin."""
    counts = categorical_counts(reference, current)
    if counts.empty:
        return float("nan")
    return _psi(counts["reference"].to_numpy(), counts["current"].to_numpy())


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value (missing values left out)."""
    reference, current = reference[~np.isnan(reference)], current[~np.isnan(current)]
    if len(reference) == 0 or len(current) == 0:
        return float("nan"), float("nan")
    result = stats.ks_2samp(reference, current, method="asymp")
    return float(result.statistic), float(result.pvalue)


def chi_square_test(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    """Chi-square test of the category counts of both sides (homogeneity); statistic, p-value."""
    counts = categorical_counts(reference, current)
    if len(counts) < 2:
        return 0.0, 1.0
    result = stats.chi2_contingency(counts.to_numpy().T)
    return float(result.statistic), float(result.pvalue)


def _missing(values: pd.Series) -> float:
    return float(values.isna().mean()) if len(values) else float("nan")


def feature_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    config: MonitoringConfig,
) -> list[FeatureDrift]:
    """Every feature's drift, most shifted (by PSI) first."""
    found = []
    for column in [*numeric, *categorical]:
        ref, cur = reference[column], current[column]
        if column in numeric:
            ref_values, cur_values = ref.to_numpy("float64"), cur.to_numpy("float64")
            psi = numeric_psi(ref_values, cur_values, config.bins)
            test, (statistic, p_value) = "ks", ks_test(ref_values, cur_values)
        else:
            psi = categorical_psi(ref, cur)
            test, (statistic, p_value) = "chi2", chi_square_test(ref, cur)
        missing_ref, missing_cur = _missing(ref), _missing(cur)
        found.append(
            FeatureDrift(
                feature=column,
                kind="numeric" if column in numeric else "categorical",
                psi=psi,
                test=test,
                statistic=statistic,
                p_value=p_value,
                missing_reference=missing_ref,
                missing_current=missing_cur,
                drifted=bool(psi > config.psi_threshold and p_value < config.p_value),
                missing_drifted=bool(abs(missing_cur - missing_ref) > config.missing_change_alarm),
                expected=column in config.expected_drift,
            )
        )
    return sorted(found, key=lambda d: -np.nan_to_num(d.psi, nan=-1.0))


def prediction_drift(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> PredictionDrift:
    """PSI and KS of the predicted probabilities against the reference predictions."""
    statistic, p_value = ks_test(reference, current)
    return PredictionDrift(
        psi=numeric_psi(reference, current, bins),
        ks_statistic=statistic,
        p_value=p_value,
        mean_reference=float(np.mean(reference)),
        mean_current=float(np.mean(current)),
    )
