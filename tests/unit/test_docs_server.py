"""Data Docs served offline: every CDN address GX's pages load is served from the vendored copy."""

import threading
from pathlib import Path

import great_expectations
import httpx
import pytest

from retrainer.operations.docs_server import (
    CDN_FILES,
    HEALTH,
    NO_DOCS_YET,
    DocsHandler,
    cdn_addresses,
    offline_html,
)
from retrainer.operations.processes import free_port

TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"


def test_every_cdn_address_in_the_gx_templates_has_a_local_copy():
    used = set().union(*(cdn_addresses(t.read_text()) for t in TEMPLATES.glob("*.j2")))

    assert used, "the templates moved: update TEMPLATES"
    assert used - set(CDN_FILES) == set()


def test_pages_point_at_the_local_copies_without_cdn_integrity_checks():
    page = (
        '<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" '
        'integrity="sha384-abc" crossorigin="anonymous"></script>'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/'
        'logo-long.png?d=20261124&dataContextId=85eb">'
    )

    assert offline_html(page) == (
        '<script src="/_vendor/bootstrap/dist/js/bootstrap.min.js"></script>'
        '<img src="/static/images/logo-long.png">'
    )


@pytest.fixture
def served(tmp_path: Path):
    from functools import partial
    from http.server import ThreadingHTTPServer

    site, vendor = tmp_path / "site", tmp_path / "vendor"
    (vendor / "jquery" / "dist").mkdir(parents=True)
    (vendor / "jquery" / "dist" / "jquery.min.js").write_text("/* jquery */")
    site.mkdir()
    handler = type("Handler", (DocsHandler,), {"vendor": vendor})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), partial(handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_server_rewrites_pages_and_serves_vendored_files(served):
    site, url = served
    assert httpx.get(f"{url}/").text == NO_DOCS_YET
    (site / "index.html").write_text('<script src="https://code.jquery.com/jquery-3.7.1.min.js">')

    page = httpx.get(f"{url}/").text
    asset = httpx.get(f"{url}/_vendor/jquery/dist/jquery.min.js")

    assert page == '<script src="/_vendor/jquery/dist/jquery.min.js">'
    assert asset.status_code == 200 and asset.text == "/* jquery */"
    assert httpx.get(f"{url}/_vendor/../site/index.html").status_code == 404
    assert httpx.get(f"{url}{HEALTH}").text == "ok"
