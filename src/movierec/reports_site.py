"""Serve the built Evidence reports (reports/build) over HTTP on this machine: `make reports-serve`.

The build is a static site: SvelteKit pages (`popularity.html` or `popularity/index.html` for
`/popularity`), JavaScript, the DuckDB-WASM files and the query results as parquet. The pages
run their queries in the browser, so a plain file server is all they need, provided that it maps
clean URLs to those files and sends `.wasm` as `application/wasm` (browsers refuse to stream-compile
WebAssembly served as anything else). Used by the browser test too (tests/reports_browser).
"""

from __future__ import annotations

import argparse
import functools
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CONTENT_TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".parquet": "application/vnd.apache.parquet",
    ".arrow": "application/vnd.apache.arrow.file",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
}


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files of one folder, `/page` served from `page.html` or `page/index.html`; 404 for
    anything else, including any path that tries to leave the folder."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

    def translate_path(self, path: str) -> str:
        root = Path(self.directory)
        relative = unquote(urlsplit(path).path).lstrip("/")
        if ".." in Path(relative).parts:
            return str(root / ".." / ".not-served")  # a path that does not exist: 404
        target = root / relative
        for candidate in (target, target.with_name(target.name + ".html"), target / "index.html"):
            if candidate.is_file():
                return str(candidate)
        return str(target)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        if not getattr(self.server, "quiet", False):
            super().log_message(format, *args)


def make_server(
    directory: str | Path, host: str = "127.0.0.1", port: int = 3000, quiet: bool = False
) -> ThreadingHTTPServer:
    """A server for the site in `directory` (not started); port 0 picks a free port."""
    directory = Path(directory)
    if not (directory / "index.html").is_file():
        raise FileNotFoundError(f"{directory}: no index.html; build the site first (make reports)")
    server = ThreadingHTTPServer((host, port), functools.partial(SiteHandler, directory=str(directory)))
    server.quiet = quiet
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def serve_in_background(directory: str | Path, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Start a quiet server on a free port in a daemon thread; call `.shutdown()` to stop it."""
    server = make_server(directory, host, 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m movierec.reports_site", description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default="reports/build", help="the built site (default reports/build)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="port (default 3000; 0 picks a free one)")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.directory, args.host, args.port)
    except (FileNotFoundError, OSError) as error:
        print(f"reports-serve: {error}", file=sys.stderr)
        return 1
    print(f"Serving the reports in {args.directory} at {url_of(server)}/  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
