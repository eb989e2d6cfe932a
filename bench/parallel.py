"""`make bench`, parallel training: the training stage's fold fits in turn, on joblib, on Dask.

The demo's training stage (``configs/flights.yaml``: two families x two trials x two folds,
then the refit of the best) on every n-th flight of 2013, once per contender, each in a
process of its own with the same prepared split. A contender is a ``parallel.Plan`` run
through the same functions as the flow's ``train-model`` task (``parallel.mapper`` and
``train``), inside a flow against a Prefect server started for the benchmark, so Dask's fold
fits are real ``fit-fold`` task runs. Measured: the stage's seconds (a LocalCluster's start
and stop included), the process's seconds, and the peak RSS of the process with all its
children (workers included), sampled every 0.1 s; each contender runs in every round
(``--rounds``, the order reversed each round) and keeps its fastest. Every contender must
choose the same candidate with the same score: the table shows it.

``python -m bench.parallel [--every 5]``; state under ``$RETRAINER_HOME/bench-parallel``.
"""

import argparse
import contextlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from retrainer.boundaries.parallel import Plan
from retrainer.boundaries.settings import PROJECT_ROOT, Home, config_path

EXTERNAL = "dask, external scheduler (2 worker processes, started before)"


def contenders(cores: int, address: str | None) -> dict[str, Plan]:
    """What is compared, by label: the three settings and the variants measured to pick them."""
    found = {
        "sequential": Plan("sequential", 1, cores),
        "joblib, threads (default)": Plan("joblib", cores, 1),
        "joblib, loky processes": Plan("joblib", cores, 1, joblib_backend="loky"),
        "dask, LocalCluster of processes": Plan("dask", cores, 1, dask_processes=True),
        "dask, LocalCluster of threads (dask's default)": Plan("dask", cores, 1),
    }
    if address:
        found[EXTERNAL] = Plan("dask", 0, 1, address=address)
    return found


def prepare(landing: Path, every: int, out: Path, cores: int) -> int:
    """Land the sampled demo, build its split as the plain script does; pickle it to ``out``."""
    from bench import synth
    from bench.plain_script import Stages, read_sources
    from retrainer.boundaries.settings import configure_environment
    from retrainer.domain.config import load_config
    from retrainer.domain.features import build_training_table
    from retrainer.domain.splits import split_rows

    flights = synth.build(landing, 1, every)
    h = configure_environment()
    config = load_config(config_path("flights"))
    config.model.threads = cores  # the machine's cores, not the load heuristic: a fixed race
    frames = read_sources(landing, config, h, Stages())
    split = split_rows(build_training_table(frames, config).frame, config)
    out.write_bytes(pickle.dumps((config, split)))
    return flights


def stage(contender: str, prepared: str, address: str | None) -> dict:
    """One contender's training stage, timed: the flow's own functions with its plan."""
    from retrainer.boundaries import parallel
    from retrainer.domain.training import train
    from tasks.train import fit_fold

    config, split = pickle.loads(Path(prepared).read_bytes())
    chosen = contenders(config.model.threads, address)[contender]
    started = time.perf_counter()
    with parallel.mapper(chosen, on_worker=fit_fold) as fold_fits:
        trained = train(config, split, fold_fits, chosen.threads_per_fit)
    return {
        "stage_seconds": time.perf_counter() - started,
        "chosen": f"{trained.family} trial {trained.search.best.number}",
        "cv": trained.cv["pooled"],
        "fits": sum(len(t.fold_scores) for t in trained.search.trials) + 1,
        "train_rows": len(split.train),
    }


def run_contender(contender: str, prepared: str, address: str | None) -> None:
    """The contender's process: the stage inside a flow run; its figures as a JSON line."""
    from prefect import flow

    timed = flow(name="bench-parallel", flow_run_name=contender, log_prints=False)(stage)
    print(json.dumps(timed(contender, prepared, address)))


def tree_rss(pids: list[int]) -> int:
    """Bytes resident in the processes ``pids`` and all their descendants, now."""
    import psutil

    total = 0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for member in members:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += member.memory_info().rss
    return total


def measure(contender: str, prepared: Path, env: dict, address: str | None, also: list[int]):
    """Run one contender's process; its figures, wall seconds and peak tree RSS (MiB)."""
    command = [sys.executable, "-m", "bench.parallel", "--contender", contender]
    command += ["--prepared", str(prepared)] + (["--address", address] if address else [])
    peak, done = 0, threading.Event()
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss([process.pid, *also]))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{contender} failed:\n{stdout.decode()[-2000:]}\n{stderr.decode()[-4000:]}")
    figures = json.loads(stdout.decode().strip().splitlines()[-1])
    load = os.getloadavg()[0]  # the last minute's: this contender's and any other work's
    return figures | {"process_seconds": wall, "peak_mib": peak / 2**20, "load": load}


def fastest(kept: dict | None, new: dict) -> dict:
    """The faster round's figures, with the highest peak RSS of both."""
    if kept is None:
        return new
    best = new if new["stage_seconds"] < kept["stage_seconds"] else kept
    return best | {"peak_mib": max(kept["peak_mib"], new["peak_mib"])}


def start_prefect(h: Home) -> str:
    """A Prefect server for the contenders' flow runs, on a free port; its API URL."""
    from retrainer.operations import processes, servers

    options = servers.StackOptions(configs=[], prefect_port=processes.free_port())
    options.env = {"PREFECT_HOME": str(h.prefect)}
    urls = servers.stack_urls(options)
    prefect = servers.servers(h, options, urls)[0]
    processes.spawn(h, prefect.name, prefect.argv, servers.child_environment(h, options, urls))
    processes.wait_ready(h, prefect.name, prefect.answers, options.timeout_seconds)
    return urls.prefect_api


def table(rows: dict[str, dict], note: str) -> str:
    """The side-by-side table (Markdown, as the README quotes it)."""
    lines = [
        f"Training stage of the demo ({note}):",
        "",
        "| fold fits | stage s | process s | peak RSS MiB (with workers) | load after | "
        "chosen, cv ROC AUC |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in rows.items():
        lines.append(
            f"| {label} | {r['stage_seconds']:.1f} | {r['process_seconds']:.1f} | "
            f"{r['peak_mib']:.0f} | {r['load']:.1f} | {r['chosen']}, {r['cv']:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Prepare the split, start a Prefect server and a Dask cluster, race the contenders."""
    from retrainer.operations import dask_cluster, processes, servers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=5, help="keep every n-th flight")
    parser.add_argument("--only", nargs="*", help="contenders to run (labels); default all")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, fastest kept")
    parser.add_argument("--contender", help=argparse.SUPPRESS)  # one contender's process
    parser.add_argument("--prepared", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:
        run_contender(args.contender, args.prepared, args.address)
        return
    root = Path(os.environ.get("RETRAINER_HOME", ".retrainer")).resolve() / "bench-parallel"
    shutil.rmtree(root, ignore_errors=True)
    h = Home(root)
    cores = len(os.sched_getaffinity(0))
    prepared = root / "split.pickle"
    os.environ["RETRAINER_HOME"] = str(root)
    flights = prepare(h.landing, args.every, prepared, cores)
    load_before = os.getloadavg()[0]
    try:
        api = start_prefect(h)
        address = dask_cluster.start(h, workers=cores, threads=1)
        cluster = [p for p in (processes.pid(h, n) for n in (dask_cluster.WORKERS,)) if p]
        env = dict(os.environ) | {"PREFECT_API_URL": api}
        labels = [c for c in contenders(cores, address) if not args.only or c in args.only]
        rows: dict[str, dict] = {}
        # Rounds over every contender, the order reversed each round: load from other work
        # that comes and goes falls on all of them alike; each keeps its fastest round.
        for round_number in range(args.rounds):
            for label in labels[:: -1 if round_number % 2 else 1]:
                also = cluster if label == EXTERNAL else []
                r = measure(label, prepared, env, address, also)
                print(
                    f"{label}: stage {r['stage_seconds']:.1f} s, {r['peak_mib']:.0f} MiB",
                    flush=True,
                )
                rows[label] = fastest(rows.get(label), r)
    finally:
        dask_cluster.stop(h)
        processes.stop(h, servers.PREFECT_SERVER)
    first = next(iter(rows.values()))
    load = f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    note = (
        f"every {args.every}th flight: {flights:,} flights, {first['train_rows']:,} training "
        f"rows, {first['fits']} fits; {cores} cores; fastest of {args.rounds} rounds; {load}"
    )
    print("\n" + table(rows, note))
    if len({(r["chosen"], round(r["cv"], 12)) for r in rows.values()}) != 1:
        sys.exit("the contenders chose different candidates: a mapper changed the result")
    print(f"\n(state in {root})")


if __name__ == "__main__":
    main()
