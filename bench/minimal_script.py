"""What a data scientist writes with pandas and scikit-learn only: read, join, fit once, score.

No validation, no tracking, no threshold choice, no champion: the floor under any pipeline.
It reads the same landing folder as the flow, joins the weather at the origin's departure
hour and the plane's register entry, trains one HistGradientBoosting model on everything
before the last two months, and prints the test ROC AUC (and its wall time) as JSON.
Imports only pandas and scikit-learn (and the standard library), on purpose.
"""

import json
import sqlite3
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

SCHEDULE = ["month", "day", "hour", "minute", "sched_dep_time", "sched_arr_time", "distance"]
CATEGORIES = ["carrier", "origin", "dest"]
WEATHER = ["temp_c", "dewp_c", "humid", "wind_dir", "wind_speed", "wind_gust", "precip"]
WEATHER += ["pressure", "visib"]
PLANE = ["year", "seats", "engines"]


def main(landing: Path) -> None:
    """Read, join, fit, score; print the test ROC AUC as JSON."""
    started = time.perf_counter()
    flights = pd.concat(pd.read_csv(p) for p in sorted(landing.glob("flights/*.csv")))
    weather = pd.concat(
        pd.read_json(p, lines=True, dtype=False) for p in sorted(landing.glob("weather/*.jsonl"))
    )
    with sqlite3.connect(landing / "planes.db") as conn:
        planes = pd.read_sql(f"select tailnum, {', '.join(PLANE)} from planes", conn)
    weather = weather.rename(columns={"station": "origin", "observed_at": "time_hour"})
    weather = weather.drop_duplicates(["origin", "time_hour"])[["origin", "time_hour", *WEATHER]]
    planes = planes.rename(columns={c: f"plane_{c}" for c in PLANE})
    data = flights.dropna(subset=["arr_delay"])
    data = data.merge(weather, on=["origin", "time_hour"], how="left")
    data = data.merge(planes, on="tailnum", how="left")
    for column in CATEGORIES:
        data[column] = data[column].astype("category")
    features = [*SCHEDULE, *CATEGORIES, *WEATHER, *(f"plane_{c}" for c in PLANE)]
    period = data["year"] * 100 + data["month"]
    test = period >= sorted(period.unique())[-2]
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    model.fit(data.loc[~test, features], data.loc[~test, "arr_delay"] >= 15)
    proba = model.predict_proba(data.loc[test, features])[:, 1]
    auc = roc_auc_score(data.loc[test, "arr_delay"] >= 15, proba)
    print(
        json.dumps(
            {"roc_auc": auc, "rows": len(data), "seconds_in_process": time.perf_counter() - started}
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
