"""The Great Expectations Data Docs over HTTP, working offline: ``make up`` runs this server.

Browsers refuse ``file://`` links from an ``http://`` page such as the Prefect UI, so the
docs are served. Their pages load Bootstrap, jQuery, Font Awesome and Vega from public
CDNs; offline they render unstyled and the index (a table drawn by a script) stays empty.
The server answers those pages with each CDN address replaced by the same file installed
from the npm registry (``vendor/data-docs``, by ``make install``), under ``/_vendor/``.
GX's own files are left as it wrote them.

Run as ``python -m retrainer.operations.docs_server --root SITE --port N``.
"""

import argparse
import re
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from retrainer.boundaries.settings import PROJECT_ROOT

VENDOR = PROJECT_ROOT / "vendor" / "data-docs" / "node_modules"
PREFIX = "/_vendor/"
HEALTH = "/_health"

_BOOTSTRAP_TABLE = "bootstrap-table/dist"
_FILTER_CONTROL = f"{_BOOTSTRAP_TABLE}/extensions/filter-control/bootstrap-table-filter-control"
# Every CDN address in GX 1.24's page templates, and the npm file that is the same asset.
# tests/unit/test_docs_server.py fails when a GX upgrade adds an address not listed here.
CDN_FILES = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free/css/all.min.css"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js/dist/umd/popper.min.js"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/dist/js/bootstrap.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        f"{_BOOTSTRAP_TABLE}/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        f"{_BOOTSTRAP_TABLE}/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": f"{_FILTER_CONTROL}.min.js",
    # GX asks for the filter-control styles of 1.19.0 beside the 1.19.1 script.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": f"{_FILTER_CONTROL}.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": f"{_FILTER_CONTROL}.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
}
# Subresource-integrity and CORS attributes name the CDN copy; the local one is served
# from the page's own origin.
_INTEGRITY = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"')
# GX's logo comes from its web-assets bucket, tagged with the context's id; GX also copies
# the same images into the site's own static/images/.
_GX_ASSET = re.compile(r'"https://great-expectations-web-assets\.[^"/]+/([\w.-]+)(?:\?[^"]*)?"')
NO_DOCS_YET = (
    "<!doctype html><title>Data Docs</title><h1>No Data Docs yet</h1><p>They are written "
    "when data is first validated: <code>retrainer land --month 1</code>, then "
    "<code>retrainer run</code> or <code>retrainer trigger</code>.</p>"
)


def offline_html(page: str) -> str:
    """A Data Docs page with every CDN address pointing at this server's own copy."""
    for url, path in CDN_FILES.items():
        page = page.replace(f'"{url}"', f'"{PREFIX}{path}"')
    page = _GX_ASSET.sub(r'"/static/images/\1"', page)
    return _INTEGRITY.sub("", page)


def cdn_addresses(page: str) -> set[str]:
    """The external script and stylesheet addresses a page or template loads."""
    return set(re.findall(r'(?:src|href)="(https?://[^"]+\.(?:js|css)|https?://[^"]+@\d+)"', page))


class DocsHandler(SimpleHTTPRequestHandler):
    """Serves the site, its pages made offline, the vendored assets and a health check."""

    vendor: Path = VENDOR

    def do_GET(self) -> None:
        """Answer a GET: health, a vendored asset, a page (rewritten) or a static file."""
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == HEALTH:
            self._send(HTTPStatus.OK, b"ok", "text/plain")
        elif path.startswith(PREFIX):
            self._vendored(path.removeprefix(PREFIX))
        elif path.endswith((".html", "/")):
            self._page(path)
        else:
            super().do_GET()

    def _page(self, path: str) -> None:
        local = Path(self.translate_path(path))
        if local.is_dir():
            local = local / "index.html"
        if not local.is_file():
            if path == "/":
                self._send(HTTPStatus.OK, NO_DOCS_YET.encode(), "text/html; charset=utf-8")
            else:
                self.send_error(HTTPStatus.NOT_FOUND)
            return
        page = offline_html(local.read_text(encoding="utf-8"))
        self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")

    def _vendored(self, relative: str) -> None:
        root = self.vendor.resolve()
        local = (root / relative).resolve()
        if not local.is_file() or not local.is_relative_to(root):
            self.send_error(HTTPStatus.NOT_FOUND, "not vendored: run `make install`")
            return
        self._send(HTTPStatus.OK, local.read_bytes(), self.guess_type(str(local)))

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(root: Path, host: str, port: int, vendor: Path = VENDOR) -> None:
    """Serve ``root`` (the Data Docs site) at ``host:port`` until stopped."""
    root.mkdir(parents=True, exist_ok=True)
    handler = type("Handler", (DocsHandler,), {"vendor": vendor})
    with ThreadingHTTPServer((host, port), partial(handler, directory=str(root))) as server:
        server.serve_forever()


def main() -> None:
    """Command line: ``--root SITE --host H --port N [--vendor DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--vendor", type=Path, default=VENDOR)
    args = parser.parse_args()
    serve(args.root, args.host, args.port, args.vendor)


if __name__ == "__main__":
    main()
