"""The replay's results: per-month table, per-policy summary, plot, and where they are kept."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrainer.boundaries import tracking
from retrainer.boundaries.settings import Home
from retrainer.domain.monitoring import MonitoringReport
from retrainer.domain.policy import RetrainPolicy


@dataclass
class Outcome:
    """One month under one policy: how the serving model did, and what the policy did next."""

    period: str
    version: str
    realised: float | None
    estimated: float
    alarms: list[str]
    retrain: str | None
    decision: str | None

    @classmethod
    def of(cls, report: MonitoringReport, retrain: str | None, decision: str | None) -> "Outcome":
        """The outcome a monitoring report and the policy's reaction make."""
        return cls(
            period=report.period,
            version=report.version,
            realised=None if report.realised is None else report.realised["roc_auc"],
            estimated=report.estimated["roc_auc"],
            alarms=sorted({a.kind for a in report.alarms}),
            retrain=retrain,
            decision=decision,
        )

    def line(self, policy: str) -> str:
        """A progress line."""
        then = f"retrain ({self.retrain}): {self.decision}" if self.retrain else "no retrain"
        return (
            f"{self.period} {policy:<9} v{self.version:<3} ROC AUC {_auc(self.realised)} "
            f"(estimated {self.estimated:.4f}) alarms [{', '.join(self.alarms)}] -> {then}"
        )


@dataclass
class PolicyRun:
    """A policy's year: the months it served and what its retrains cost."""

    policy: RetrainPolicy
    training_seconds: float
    retrains: int
    months: list[Outcome] = field(default_factory=list)

    @property
    def mean_auc(self) -> float:
        """Mean of the months' realised ROC AUC."""
        values = [m.realised for m in self.months if m.realised is not None]
        return sum(values) / len(values)

    @property
    def promotions(self) -> int:
        """Retrains whose model the gate promoted."""
        return sum(m.decision == "promoted" for m in self.months)

    @property
    def estimate_error(self) -> float:
        """Mean absolute gap between the CBPE estimate and the realised ROC AUC."""
        gaps = [abs(m.estimated - m.realised) for m in self.months if m.realised is not None]
        return sum(gaps) / len(gaps)


def _auc(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _cell(key: str, value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if key == "training min" else f"{value:.4f}"
    return str(value)


def summary(runs: list[PolicyRun]) -> list[dict]:
    """Per policy: mean ROC AUC, retrains, training minutes, gain over never per extra minute."""
    never = next(r for r in runs if r.policy is RetrainPolicy.NEVER)
    rows = []
    for run in runs:
        extra = (run.training_seconds - never.training_seconds) / 60
        gain = run.mean_auc - never.mean_auc
        rows.append(
            {
                "policy": str(run.policy),
                "mean ROC AUC": round(run.mean_auc, 4),
                "worst month": round(min(m.realised for m in run.months if m.realised), 4),
                "retrains": run.retrains,
                "promoted": run.promotions,
                "training min": round(run.training_seconds / 60, 2),
                "gain over never": round(gain, 4),
                "gain per extra training min": round(gain / extra, 4) if extra > 0 else None,
                "CBPE error": round(run.estimate_error, 4),
            }
        )
    return rows


def winner(rows: list[dict]) -> str:
    """The policy with the most ROC AUC per extra training minute; never, if none gains."""
    paying = [r for r in rows if (r["gain per extra training min"] or 0) > 0]
    if not paying:
        return "never: no retraining policy beat the first model"
    best = max(paying, key=lambda r: r["gain per extra training min"])
    return (
        f"{best['policy']}: +{best['gain over never']:.4f} mean ROC AUC over never for "
        f"{best['training min']} training minutes, {best['gain per extra training min']:.4f} "
        "per extra training minute"
    )


def markdown(runs: list[PolicyRun], every: int, cooldown: int, minutes: float) -> str:
    """The month-by-month table and the summary, as Markdown."""
    rows = summary(runs)
    header = "| month | " + " | ".join(str(r.policy) for r in runs) + " |"
    months = []
    for i, outcome in enumerate(runs[0].months):
        cells = []
        for run in runs:
            m = run.months[i]
            mark = f" R{'+' if m.decision == 'promoted' else '-'}" if m.retrain else ""
            cells.append(f"{_auc(m.realised)}{mark}")
        months.append(f"| {outcome.period} | " + " | ".join(cells) + " |")
    keys = list(rows[0])
    return "\n".join(
        [
            f"Replay of 2013: {'all flights' if every == 1 else f'every {every}th flight'}, "
            f"alarm cooldown {cooldown} month(s), {minutes:.1f} min wall.",
            "",
            "Realised ROC AUC of the model serving each month (R: retrained after the month, "
            "+ promoted, - kept the champion):",
            "",
            header,
            "|" + "---|" * (len(runs) + 1),
            *months,
            "",
            "| " + " | ".join(keys) + " |",
            "|" + "---|" * len(keys),
            *("| " + " | ".join(_cell(k, r[k]) for k in keys) + " |" for r in rows),
            "",
            f"Winner on score per training minute: {winner(rows)}.",
        ]
    )


def plot(runs: list[PolicyRun]):
    """Each month's realised ROC AUC per policy; retrains marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for run in runs:
        months = [m.period[5:] for m in run.months]
        ax.plot(months, [m.realised for m in run.months], marker="o", label=str(run.policy))
        retrained = [(m.period[5:], m.realised) for m in run.months if m.retrain]
        if retrained:
            ax.scatter(*zip(*retrained, strict=True), s=120, facecolors="none", edgecolors="k")
    ax.set_xlabel("month of 2013 (circled: a retrain followed)")
    ax.set_ylabel("realised ROC AUC")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def publish(
    h: Home, runs: list[PolicyRun], every: int, cooldown: int, minutes: float, docs: Path | None
) -> str:
    """Write replay.md, replay.json and replay.png (into ``docs`` too), log an MLflow run."""
    text = markdown(runs, every, cooldown, minutes)
    document = {
        "every": every,
        "cooldown_months": cooldown,
        "wall_minutes": minutes,
        "summary": summary(runs),
        "months": {str(r.policy): [asdict(m) for m in r.months] for r in runs},
    }
    figure = plot(runs)
    for folder in [h.root, *([docs] if docs else [])]:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "replay.md").write_text(text + "\n")
        (folder / "replay.json").write_text(json.dumps(document, indent=1) + "\n")
        figure.savefig(folder / "replay.png", dpi=100)
    experiment = tracking.use_experiment(h.mlflow_uri, "flights-delay-replay", h.mlartifacts)
    tracking.log_report_run(
        experiment,
        f"replay-every-{every}",
        tags={"dataset": "flights", "winner": winner(summary(runs))},
        metrics={f"mean_roc_auc.{r.policy}": r.mean_auc for r in runs},
        documents={"replay/replay.json": document, "replay/replay.md": {"markdown": text}},
        figures={"replay.png": figure},
    )
    return text
