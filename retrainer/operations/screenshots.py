"""``make screenshots``: the README's pictures, taken from a real run in a real browser.

In a temporary ``RETRAINER_HOME`` it lands the demo data, starts the stack on free ports,
triggers two retrains (the second with an override, so the gate has a champion to compare
with) and photographs both UIs and the Data Docs with Debian's chromium. Then it stops the
stack and deletes the home. Run as ``python -m retrainer.operations.screenshots DIR``.
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from retrainer.boundaries import demo
from retrainer.boundaries.settings import Home, bundled_configs
from retrainer.operations import processes, stack

CHROMIUM = "/usr/bin/chromium"  # Debian's: playwright's own browser download fails offline
# Without the background-networking flags Chromium floods a closed network with requests.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EVERY = 4  # every 4th flight of the year: real results in about a minute per retrain
VIEWPORT = {"width": 1600, "height": 1000}


def _cli(h: Home, *args: str) -> str:
    """Run ``retrainer *args`` against the temporary home; its output."""
    env = {k: v for k, v in os.environ.items() if k not in {"PREFECT_API_URL", "PREFECT_HOME"}}
    env |= {"RETRAINER_HOME": str(h.root), "MLFLOW_TRACKING_URI": f"sqlite:///{h.mlflow_db}"}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("retrainer")), *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"retrainer {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _take(out: Path, urls: stack.StackUrls, run_id: str, version: str) -> list[Path]:
    """Photograph the pages a new user looks at first."""
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(30_000)

        def shot(name: str) -> None:
            page.wait_for_timeout(1500)  # let charts and fonts settle before the picture
            path = out / f"{name}.png"
            page.screenshot(path=path)
            shots.append(path)

        page.goto(f"{urls.prefect_ui}/runs/flow-run/{run_id}")
        page.get_by_text("Artifacts", exact=True).click()
        page.get_by_text("summary-flights", exact=True).wait_for()
        shot("prefect-run")
        page.get_by_text("summary-flights", exact=True).click()
        page.get_by_role("heading", name=re.compile(r"flights-delay v\d+: ")).wait_for()
        shot("prefect-summary")
        docs = page.get_by_role("link", name="training table in Data Docs").get_attribute("href")
        page.goto(f"{urls.prefect_ui}/deployments")
        page.get_by_text("At 06:00 AM, only on Monday").wait_for()
        shot("prefect-deployments")
        ui = urls.mlflow_ui
        page.goto(
            f"{ui}/#/experiments/1/runs?workflowType=machine_learning&viewStateShareKey=retrainer"
        )
        page.get_by_text(re.compile(r"retrain-flights-2013-12 #2")).first.wait_for()
        close = page.get_by_role("button", name="Close")
        if close.count():
            close.first.click()  # the assistant panel a new browser opens with
        shot("mlflow-runs")
        page.goto(f"{ui}/#/models/flights-delay/versions/{version}?workflowType=machine_learning")
        page.get_by_text(re.compile(r"@\s*champion")).first.wait_for()
        shot("mlflow-model")
        page.goto(docs)
        page.get_by_text("Expectation Validation Result").first.wait_for()
        shot("data-docs")
        browser.close()
    return shots


def _champion(urls: stack.StackUrls) -> str:
    """The version the ``champion`` alias points to, from the MLflow server."""
    import httpx

    answer = httpx.get(
        f"{urls.mlflow_ui}/api/2.0/mlflow/registered-models/alias",
        params={"name": "flights-delay", "alias": "champion"},
        timeout=10,
    )
    return str(answer.json()["model_version"]["version"])


def take_screenshots(out: Path) -> list[Path]:
    """Land, run twice, photograph; the stack and its home are gone afterwards."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="retrainer-screenshots-") as tmp:
        h = Home(Path(tmp) / "home")
        for month in demo.MONTHS:
            demo.land_month(h.landing, month, every=EVERY)
        options = stack.StackOptions(
            configs=bundled_configs(),
            prefect_port=processes.free_port(),
            mlflow_port=processes.free_port(),
            data_docs_port=processes.free_port(),
            env={"PREFECT_HOME": str(h.prefect), "MLFLOW_TRACKING_URI": f"sqlite:///{h.mlflow_db}"},
        )
        try:
            urls = stack.up(h, options, echo=print)
            _cli(h, "trigger", "--wait", "-p", "model.params.max_iter=30")
            second = _cli(h, "trigger", "--wait")
            run_id = re.search(r"\(([0-9a-f-]{36})\)", second)[1]
            print(_cli(h, "status"))
            return _take(out, urls, run_id, _champion(urls))
        finally:
            stack.down(h, echo=print)


def main() -> None:
    """Write the screenshots into the folder given on the command line."""
    for path in take_screenshots(Path(sys.argv[1])):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
