"""Both UIs and the Data Docs in a real browser (Debian's chromium), against the running stack.

Named to run after test_trigger.py, whose retrain it looks at; run alone, it starts one.
"""

import re
from pathlib import Path

import pytest

from retrainer.operations.screenshots import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; the tests skip (saying why) without one."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no {CHROMIUM}: `make browser` installs Debian's chromium (root and apt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh page that records every request leaving this machine."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    opened.outside = []
    opened.on(
        "request",
        lambda r: (
            opened.outside.append(r.url)
            if not re.match(r"(https?://127\.0\.0\.1[:/]|data:|blob:)", r.url)
            else None
        ),
    )
    yield opened
    context.close()


@pytest.fixture(scope="module")
def retrained(running_stack: Stack) -> dict:
    """A completed retrain run: the latest there is, or a new one."""
    done = running_stack.runs({"state": {"type": {"any_": ["COMPLETED"]}}})
    if not done:
        result = running_stack.cli("trigger", "--wait")
        assert result.returncode == 0, result.stdout + result.stderr
        done = running_stack.runs({"state": {"type": {"any_": ["COMPLETED"]}}})
    return done[-1]


def _open_summary(page, running_stack: Stack, run: dict) -> None:
    page.goto(f"{running_stack.urls.prefect_ui}/runs/flow-run/{run['id']}")
    page.get_by_text("Artifacts", exact=True).click()


def test_the_prefect_run_page_shows_the_summary_first(page, running_stack: Stack, retrained):
    _open_summary(page, running_stack, retrained)

    summary = page.get_by_text("summary-flights", exact=True)
    summary.wait_for()
    task_runs = page.get_by_text("Task runs", exact=True)
    assert summary.bounding_box()["y"] < task_runs.bounding_box()["y"]  # above every task's
    summary.click()
    heading = page.get_by_role("heading", name=re.compile(r"flights-delay v\d+: "))
    heading.wait_for()
    assert re.search(r"(promoted|rejected), now (champion|challenger)", heading.inner_text())
    assert page.get_by_text("(gate)", exact=False).first.is_visible()


def test_the_mlflow_model_page_shows_the_champion_alias(page, running_stack: Stack, retrained):
    alias = running_stack.http.get(
        f"{running_stack.urls.mlflow_ui}/api/2.0/mlflow/registered-models/alias",
        params={"name": "flights-delay", "alias": "champion"},
    ).json()["model_version"]
    version = alias["version"]

    page.goto(
        f"{running_stack.urls.mlflow_ui}/#/models/flights-delay/versions/{version}"
        "?workflowType=machine_learning"
    )

    page.get_by_text(f"Version {version}", exact=True).first.wait_for()
    page.get_by_text(re.compile(r"@\s*champion")).first.wait_for()  # the alias badge
    assert page.outside == []


def test_a_data_docs_link_opens_a_validation_result_offline(page, running_stack: Stack, retrained):
    _open_summary(page, running_stack, retrained)
    page.get_by_text("summary-flights", exact=True).click()
    link = page.get_by_role("link", name="training table in Data Docs")
    href = link.get_attribute("href")
    assert href.startswith(f"{running_stack.urls.data_docs}/validations/")

    stylesheets = []
    page.on("response", lambda r: stylesheets.append(r) if r.url.endswith(".css") else None)
    page.goto(href)

    page.get_by_text("Expectation Validation Result").first.wait_for()
    bootstrap = [r for r in stylesheets if "/_vendor/bootstrap/" in r.url]
    assert bootstrap and all(r.status == 200 for r in stylesheets), [r.url for r in stylesheets]
    assert page.outside == []  # styles, scripts and images all came from the stack
