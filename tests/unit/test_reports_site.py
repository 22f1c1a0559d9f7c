"""The static server of the built reports (movierec.reports_site) on a handwritten site."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from movierec.reports_site import main, serve_in_background, url_of
from tests.conftest import write_files


@pytest.fixture
def site(tmp_path):
    root = write_files(
        tmp_path / "build",
        {
            "index.html": "<p>home</p>",
            "popularity.html": "<p>popularity</p>",
            "users/index.html": "<p>users</p>",
            "_app/duckdb-eh.wasm": b"\0asm\1\0\0\0",
            "data/movierec/overview.parquet": b"PAR1",
        },
    )
    (tmp_path / "secret.txt").write_text("outside the site")
    server = serve_in_background(root)
    yield url_of(server)
    server.shutdown()
    server.server_close()


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_clean_urls_map_to_the_pages(site):
    assert get(site + "/")[2] == b"<p>home</p>"
    assert get(site + "/popularity")[2] == b"<p>popularity</p>"
    assert get(site + "/users")[2] == b"<p>users</p>"
    assert get(site + "/users/")[2] == b"<p>users</p>"


def test_wasm_and_parquet_get_their_types(site):
    status, content_type, body = get(site + "/_app/duckdb-eh.wasm")
    assert (status, content_type, body[:4]) == (200, "application/wasm", b"\0asm")
    assert get(site + "/data/movierec/overview.parquet")[1] == "application/vnd.apache.parquet"


def test_unknown_paths_are_404_and_nothing_outside_the_site_is_served(site):
    assert get(site + "/no-such-page")[0] == 404
    assert get(site + "/%2e%2e/secret.txt")[0] == 404
    assert get(site + "/users/%2e%2e/%2e%2e/secret")[0] == 404


def test_serving_a_folder_without_a_site_says_so(tmp_path, capsys):
    assert main([str(tmp_path), "--port", "0"]) == 1
    assert "no index.html" in capsys.readouterr().err
