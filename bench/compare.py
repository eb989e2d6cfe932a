"""`make bench`: where a retrain's time and memory go, against a plain script and a minimal one.

In one invocation, each contender as its own process (imports included, as a user pays
them), with its wall time and peak RSS:

- (a) ``bench/minimal_script.py``: pandas + scikit-learn only: read, join, one fit, ROC AUC;
- (b) ``bench/plain_script.py``: the flow's work without Prefect (validation, features,
  fits, evaluation, MLflow, champion comparison), cold (new MLflow database) and warm (the
  database has a champion);
- (c) the retrain flow (``retrainer run --force``) against a running Prefect server started
  with the stack code of ``make up`` in a home of its own (and stopped at the end, whatever
  happens): cold (empty lake and MLflow database: every delivery is ingested and validated)
  and warm (nothing new to ingest); and warm again with Prefect's ephemeral server.

Each flow run's stages come from its task runs' start and end times, read from the Prefect
API; the plain script times the same stages itself. Then the flow and (b) run at each larger
scale of ``--scales`` (synthetic years, ``bench/synth.py``). The table and the ratios go to the
terminal and, for a full-size run, to ``docs/benchmark.md`` and ``docs/benchmark.json``.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import synth
from retrainer.boundaries import prefect_api
from retrainer.boundaries.lake import Lake
from retrainer.boundaries.settings import PROJECT_ROOT, Home, config_path
from retrainer.operations import processes, stack

STAGES = (
    "imports",
    "startup",
    "ingest",
    "gx_validation",
    "features",
    "fits",
    "evaluation",
    "mlflow",
    "orchestration",
    "other",
)
# The flow's tasks (by function name) by stage; any other task (check_config) is orchestration.
TASK_STAGES = {
    "ingest_source": "ingest",
    "check_deliveries": "ingest",
    "read_validated": "ingest",
    "audit_data": "ingest",
    "validate_training_table": "gx_validation",
    "name_run": "features",
    "build_features": "features",
    "split_by_time": "features",
    "train_model": "fits",
    "evaluate_model": "evaluation",
    "score_champion": "evaluation",
    "explain_and_card": "evaluation",
    "promotion_gate": "evaluation",
    "check_services": "mlflow",
    "repair_interrupted_runs": "mlflow",
    "check_unchanged": "mlflow",
    "log_to_mlflow": "mlflow",
    "record_trigger": "mlflow",
    "move_aliases": "mlflow",
    "record_decision": "mlflow",
}
# The targets: (numerator row, denominator row, at most).
TARGETS = (
    ("flow, warm", "plain (b), warm", 1.10),
    ("flow, cold", "plain (b), cold", 1.30),
    ("flow, warm", "minimal (a)", 2.0),
)
# Runs a command and reports its peak RSS (largest descendant waited for), in KiB.
MEASURE = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
    "file=sys.stderr); sys.exit(code)"
)
IMPORTS = (
    "import time; t = time.perf_counter(); "
    "from retrainer.boundaries.settings import configure_environment; configure_environment(); "
    "import retrainer.operations.cli, flows.retrain; print(time.perf_counter() - t)"
)


@dataclass
class Row:
    """One contender's run: wall time, peak memory, score and seconds by stage."""

    label: str
    scale: int
    flights: int
    wall: float
    peak_mib: float
    roc_auc: float | None
    stages: dict[str, float] = field(default_factory=dict)
    peak_growth_mib: dict[str, float] = field(default_factory=dict)  # (b) only


@dataclass
class Measured:
    """What one process took."""

    wall: float
    peak_mib: float
    stdout: str
    started: datetime
    ended: datetime


def measure(command: list[str], env: dict[str, str]) -> Measured:
    """Run ``command`` and return its wall seconds, peak RSS and stdout."""
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    peak = int(re.search(r"PEAK_RSS_KIB (\d+)", done.stderr).group(1)) / 1024
    return Measured(wall, peak, done.stdout, started_at, datetime.now(UTC))


def home_env(root: Path, threads: int, api: str | None = None) -> dict[str, str]:
    """The environment of a contender whose state lives in ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))}
    env |= {"RETRAINER_HOME": str(root), "OMP_NUM_THREADS": str(threads)}
    if api:
        env["PREFECT_API_URL"] = api
    return env


def last_json(stdout: str) -> dict:
    """The JSON line a script printed last."""
    return json.loads(stdout.strip().splitlines()[-1])


def with_other(stages: dict[str, float], wall: float) -> dict[str, float]:
    """``stages`` plus ``other``: the wall time no stage accounts for."""
    return {**stages, "other": max(0.0, wall - sum(stages.values()))}


def run_minimal(landing: Path, root: Path, threads: int, scale: int, flights: int) -> Row:
    """(a): the minimal script."""
    m = measure(
        [sys.executable, "-m", "bench.minimal_script", str(landing)], home_env(root, threads)
    )
    out = last_json(m.stdout)
    return Row("minimal (a)", scale, flights, m.wall, m.peak_mib, out["roc_auc"])


def run_plain(label: str, landing: Path, root: Path, threads: int, scale: int, flights: int) -> Row:
    """(b): the plain script with its state (GX, MLflow) in ``root``."""
    config = str(config_path("flights"))
    command = [sys.executable, "-m", "bench.plain_script", str(landing), config]
    m = measure([*command, "--threads", str(threads)], home_env(root, threads))
    out = last_json(m.stdout)
    stages = {k: v for k, v in out["stages"].items() if k != "total_in_process"}
    growth = out["peak_growth_mib"]
    stages = with_other(stages, m.wall)
    return Row(label, scale, flights, m.wall, m.peak_mib, out["roc_auc"], stages, growth)


def run_flow(
    label: str, root: Path, threads: int, scale: int, flights: int, api: str | None, imports: float
) -> Row:
    """(c): ``retrainer run --force`` in home ``root``; stages from the API when ``api``."""
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "retrainer"), "run", "--config", str(config_path("flights"))]
    command += ["--force", "--param", f"model.threads={threads}"]
    m = measure(command, home_env(root, threads, api))
    auc = float(re.search(r"roc_auc (\d\.\d+)", m.stdout).group(1))
    stages = {}
    if api:
        try:
            stages = flow_stages(root, api, m, imports)
        except Exception as exc:  # the run's figures stand without their breakdown
            print(f"{label} {scale}x: no stage breakdown ({type(exc).__name__}: {exc})")
    return Row(label, scale, flights, m.wall, m.peak_mib, auc, stages)


def flow_stages(root: Path, api: str, m: Measured, imports: float) -> dict[str, float]:
    """A flow run's seconds by stage, from its task runs' times (and the lake's manifests).

    ``startup``: from the process start to the flow run's start, less the imports (config
    check, preflight, creating the run on the server). Validation inside ingestion is taken
    from the lake: each delivery records its GX seconds.
    """
    run, tasks = prefect_api.latest_run_timings(api, "retrain")
    stages = dict.fromkeys(STAGES[:-1], 0.0)
    stages["imports"] = imports
    stages["startup"] = max(0.0, (run.start_time - m.started).total_seconds() - imports)
    for t in tasks:
        stages[TASK_STAGES.get(t.task, "orchestration")] += (t.end - t.start).total_seconds()
    in_tasks = sum((t.end - t.start).total_seconds() for t in tasks)
    stages["orchestration"] += (run.end_time - run.start_time).total_seconds() - in_tasks
    lake = Lake(Home(root).lake)
    validating = sum(
        r.validation_seconds for r in lake.records() if r.received_at >= m.started.isoformat()
    )
    stages["gx_validation"] += validating
    stages["ingest"] -= validating
    return with_other(stages, m.wall)


def import_seconds(root: Path) -> float:
    """Seconds to import the CLI and the retrain flow in a fresh process (bytecode compiled)."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS],
        env=home_env(root, 1),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def start_stack(root: Path) -> str:
    """``make up`` in home ``root`` on free ports; the Prefect API URL."""
    h = Home(root)
    options = stack.StackOptions(
        configs=[config_path("flights")],
        prefect_port=processes.free_port(),
        mlflow_port=processes.free_port(),
        data_docs_port=processes.free_port(),
        env={"PREFECT_HOME": str(h.prefect), "MLFLOW_TRACKING_URI": f"sqlite:///{h.mlflow_db}"},
    )
    return stack.up(h, options, echo=lambda _: None).prefect_api


class Rows(list):
    """The rows measured so far; each is printed as it comes (a long run shows progress)."""

    def append(self, row: Row) -> None:
        """Add ``row`` and print it."""
        super().append(row)
        print(
            f"{row.label}, {row.scale}x: {row.wall:.1f} s, {row.peak_mib:.0f} MiB, "
            f"ROC AUC {row.roc_auc}",
            flush=True,
        )


def ratios(rows: list[Row]) -> list[dict]:
    """The issue's ratios at 1x, each beside its target."""
    by_label = {r.label: r for r in rows if r.scale == 1}
    found = []
    for top, bottom, target in TARGETS:
        if top in by_label and bottom in by_label:
            value = by_label[top].wall / by_label[bottom].wall
            found.append(
                {
                    "ratio": f"{top} / {bottom}",
                    "value": value,
                    "target": target,
                    "met": value <= target,
                }
            )
    return found


def _stage_table(rows, names: list[str], values, number: str) -> list[str]:
    """A Markdown table: one row per benchmark row, one column per stage name."""
    lines = ["| | scale | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for r in rows:
        cells = " | ".join(number.format(values(r).get(k, 0.0)) for k in names)
        lines.append(f"| {r.label} | {r.scale}x | {cells} |")
    return lines


def markdown(rows: list[Row], found: list[dict], note: str) -> str:
    """The figures as Markdown tables (docs/benchmark.md)."""
    plain = {r.scale: r.wall for r in rows if r.label == "plain (b), warm"}
    lines = [
        "# Benchmark",
        "",
        f"Generated by `bench/compare.py`, which `make bench` runs ({note}).",
        "Do not edit: run it again.",
        "",
        "| | flights | wall s | peak RSS MiB | test ROC AUC | x plain (b) warm |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.scale != 1:
            continue
        auc = f"{r.roc_auc:.4f}" if r.roc_auc is not None else ""
        base = plain.get(1)
        x = f"{r.wall / base:.2f}" if base else ""
        lines.append(
            f"| {r.label} | {r.flights:,} | {r.wall:.1f} | {r.peak_mib:.0f} | {auc} | {x} |"
        )
    lines += ["", "| ratio | value | target | |", "|---|---|---|---|"]
    for f in found:
        met = "met" if f["met"] else "not met"
        lines.append(f"| {f['ratio']} | {f['value']:.2f} | <= {f['target']:.2f} | {met} |")
    staged = [r for r in rows if r.stages]
    lines += ["", "Seconds by stage:", ""]
    lines += _stage_table(staged, STAGES, lambda r: r.stages, "{:.1f}")
    lines += ["", "MiB the plain script's peak RSS grew by in each stage (what sets the peak):", ""]
    grown = [r for r in rows if r.peak_growth_mib]
    names = list(dict.fromkeys(k for r in grown for k in r.peak_growth_mib))
    lines += _stage_table(grown, names, lambda r: r.peak_growth_mib, "{:.0f}")
    lines += ["", "Scale (synthetic years before 2013, `make synth`):", ""]
    lines += [
        "| | scale | flights | wall s | peak RSS MiB | test ROC AUC |",
        "|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r.label, r.scale)):
        if r.label in ("flow, cold", "flow, warm", "plain (b), cold"):
            auc = f"{r.roc_auc:.4f}" if r.roc_auc is not None else ""
            size = f"{r.scale}x | {r.flights:,}"
            lines.append(f"| {r.label} | {size} | {r.wall:.1f} | {r.peak_mib:.0f} | {auc} |")
    return "\n".join(lines) + "\n"


def print_table(rows: list[Row], found: list[dict]) -> None:
    """The terminal's view of the same figures."""
    print(f"\n{'':22}{'scale':>6}{'flights':>11}{'wall s':>9}{'peak MiB':>10}{'ROC AUC':>9}")
    for r in rows:
        auc = f"{r.roc_auc:9.4f}" if r.roc_auc is not None else f"{'':9}"
        print(f"{r.label:22}{r.scale:>5}x{r.flights:>11,}{r.wall:9.1f}{r.peak_mib:10.0f}{auc}")
    print()
    for f in found:
        met = "met" if f["met"] else "NOT met"
        print(f"{f['ratio']:42}{f['value']:6.2f}  target <= {f['target']:.2f}  {met}")
    print(f"\n{'seconds by stage':22}{'':6}" + "".join(f"{s[:9]:>10}" for s in STAGES))
    for r in rows:
        if r.stages:
            cells = "".join(f"{r.stages.get(s, 0.0):10.1f}" for s in STAGES)
            print(f"{r.label:22}{r.scale:>5}x{cells}")


def main() -> None:
    """Run every contender at every scale; print the table; write it for a full-size run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1", help="data sizes, e.g. '1 3 10' (years)")
    parser.add_argument("--every", type=int, default=1, help="keep every n-th flight (quick)")
    parser.add_argument("--threads", type=int, default=1, help="native threads for every fit")
    parser.add_argument("--no-ephemeral", action="store_true", help="skip the ephemeral row")
    parser.add_argument(
        "--no-plain-at-scale",
        action="store_true",
        help="run (b) at 1x only (it saves time at large scales)",
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for benchmark.md/.json")
    args = parser.parse_args()
    scales = sorted({int(s) for s in args.scales.split()})
    root = Path(os.environ.get("RETRAINER_HOME", ".retrainer")).resolve() / "bench"
    shutil.rmtree(root, ignore_errors=True)
    flights = {}
    for scale in scales:
        flights[scale] = synth.build(Home(root / f"flow-{scale}x").landing, scale, args.every)
    rows = Rows()
    landing = Home(root / "flow-1x").landing
    if 1 in scales:  # the contenders compared at the demo's size
        rows.append(run_minimal(landing, root / "minimal", args.threads, 1, flights[1]))
        for label in ("plain (b), cold", "plain (b), warm"):
            rows.append(run_plain(label, landing, root / "plain-1x", args.threads, 1, flights[1]))
    imports = import_seconds(root / "imports")
    stack_home = root / "stack"
    try:
        api = start_stack(stack_home)
        for scale in scales:
            home = root / f"flow-{scale}x"
            for label in ("flow, cold", "flow, warm"):
                rows.append(
                    run_flow(label, home, args.threads, scale, flights[scale], api, imports)
                )
            if scale > 1 and not args.no_plain_at_scale:
                plain_home = root / f"plain-{scale}x"
                rows.append(
                    run_plain(
                        "plain (b), cold",
                        home / "landing",
                        plain_home,
                        args.threads,
                        scale,
                        flights[scale],
                    )
                )
    finally:
        stack.down(Home(stack_home), echo=lambda _: None)
    if 1 in scales and not args.no_ephemeral:
        rows.append(
            run_flow(
                "flow, warm, ephemeral", root / "flow-1x", args.threads, 1, flights[1], None, 0
            )
        )
    found = ratios(rows)
    print_table(rows, found)
    note = f"one run; threads {args.threads}; every {args.every}; {datetime.now(UTC):%Y-%m-%d}"
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "benchmark.md").write_text(markdown(rows, found, note))
        figures = {"note": note, "rows": [asdict(r) for r in rows], "ratios": found}
        (args.out / "benchmark.json").write_text(json.dumps(figures, indent=1) + "\n")
        print(f"\nwritten: {args.out / 'benchmark.md'}, {args.out / 'benchmark.json'}")
    print(f"(state in {root})")


if __name__ == "__main__":
    main()
