"""The same work as the retrain flow in plain Python: no Prefect, no GX, no MLflow, no lake.

Reads the landing zone directly (CSV files, the JSON-lines feed, the SQLite table), applies the
same schema mapping, de-duplication, features, split and model, and prints the test metrics
as JSON. It is the yardstick for the flow's overhead, so it shares the flow's pure functions.
"""

import json
import sqlite3
import sys
import time
from pathlib import Path

import pandas as pd

from retrainer.config import load_config
from retrainer.evaluation import classification_metrics
from retrainer.features import build_training_table, feature_columns, time_split
from retrainer.modeling import best_f1_threshold, build_pipeline, fit, fit_threads
from retrainer.schema import ROW_ID, apply_schema


def read_landing(landing: Path, config) -> dict[str, pd.DataFrame]:
    """Every source's landed data, mapped to the canonical schema and de-duplicated."""
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
    frames = {}
    for source in config.sources:
        clean = apply_schema(raw[source.name], source).clean.drop(columns=[ROW_ID])
        frames[source.name] = clean.drop_duplicates(subset=source.key)
    frames["weather"] = frames["weather"][frames["weather"]["wind_speed"].fillna(0) <= 150]
    return frames


def main(landing: Path, config_file: Path) -> None:
    """Train and evaluate once; print wall time and metrics as JSON."""
    started = time.perf_counter()
    config = load_config(config_file)
    table = build_training_table(read_landing(landing, config), config).frame
    split = time_split(table, config)
    numeric, categorical = feature_columns(config)
    label, threads = config.target.name, fit_threads(config.model)
    columns = [*numeric, *categorical, label]

    def train(frame: pd.DataFrame):
        pipeline = build_pipeline(config.model, config.features, numeric, categorical)
        return fit(pipeline, frame[columns], label, threads)

    first = train(split.train)
    proba = first.predict_proba(split.validation[columns[:-1]])[:, 1]
    threshold = best_f1_threshold(split.validation[label].to_numpy(), proba)
    final = train(pd.concat([split.train, split.validation], ignore_index=True))
    test_proba = final.predict_proba(split.test[columns[:-1]])[:, 1]
    metrics = classification_metrics(split.test[label].to_numpy(), test_proba, threshold)
    metrics["seconds_in_process"] = time.perf_counter() - started
    print(json.dumps(metrics))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
