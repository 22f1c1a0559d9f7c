"""The HTTP API through FastAPI's TestClient: every status (200, 404, 422, 503), cold start, fold-in,
title search with quotes and SQL metacharacters, and the warehouse rebuilt while serving."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from movierec.server import create_app
from movierec.serving import Service
from tests.conftest import query
from tests.serving_warehouse import Writer, can_open_for_writing, hand_example


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return hand_example(tmp_path_factory.mktemp("http") / "hand.duckdb")


@pytest.fixture(scope="module")
def client(warehouse):
    with TestClient(create_app(Service(warehouse, preload=True))) as c:
        yield c


def test_user_recommendations(client):
    response = client.get("/users/1/recommendations", params={"k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == 1 and body["model_name"] == "biased_mf" and body["cold_start"] is False
    assert [(i["rank"], i["movie_id"], i["reason_movie_id"]) for i in body["items"]] == [
        (1, 20, 10),
        (2, 40, 10),
        (3, 60, None),
    ]
    assert body["items"][0]["title"] == "Beta" and body["items"][0]["reason"] == "because you rated Alpha (2001) 5/5"
    assert len(client.get("/users/1/recommendations").json()["items"]) == 3  # default k: serving_config


@pytest.mark.parametrize("user_id", [424242, -1, 0, 10**30])
def test_unknown_user_gets_popularity_marked_cold_start(client, user_id):
    response = client.get(f"/users/{user_id}/recommendations", params={"k": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["cold_start"] is True and body["model_name"] == "popularity"
    assert [i["movie_id"] for i in body["items"]] == [10, 20]


@pytest.mark.parametrize("params", [{"k": 0}, {"k": 101}, {"k": -3}, {"k": "ten"}, {"k": 2.5}, {"model": "x" * 201}])
def test_invalid_k_is_422(client, params):
    for path in ("/users/1/recommendations", "/movies/10/similar"):
        assert client.get(path, params=params).status_code == 422
    assert client.post("/recommendations", params=params, json={"ratings": {}}).status_code == 422


def test_invalid_path_and_unknown_model_are_422(client):
    assert client.get("/users/abc/recommendations").status_code == 422
    assert client.get("/movies/1.5/similar").status_code == 422
    response = client.get("/users/1/recommendations", params={"model": "nope"})
    assert response.status_code == 422 and "unknown model 'nope'" in response.json()["detail"]


def test_similar_movies(client):
    response = client.get("/movies/10/similar", params={"k": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Alpha" and [i["movie_id"] for i in body["items"]] == [20, 40]
    assert body["items"][0]["similarity"] == pytest.approx(1.0)
    no_factors = client.get("/movies/80/similar").json()  # in the catalog, not in the model
    assert no_factors["items"] == [] and no_factors["note"]


@pytest.mark.parametrize("movie_id", [12345, -7, 10**30])
def test_unknown_movie_is_404(client, movie_id):
    assert client.get(f"/movies/{movie_id}/similar").status_code == 404
    response = client.get(f"/movies/{movie_id}")
    assert response.status_code == 404 and "not in the catalog" in response.json()["detail"]


def test_new_user_fold_in(client):
    response = client.post("/recommendations", params={"k": 3}, json={"ratings": {"40": 4, "50": 1, "70": 5}})
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] is None and body["cold_start"] is False and body["model_name"] == "biased_mf"
    assert not {40, 50, 70} & {i["movie_id"] for i in body["items"]}
    assert [i["rank"] for i in body["items"]] == [1, 2, 3]


def test_new_user_with_too_few_ratings_is_cold_start(client):
    body = client.post("/recommendations", params={"k": 2}, json={"ratings": {"10": 5}}).json()
    assert body["cold_start"] is True and [i["movie_id"] for i in body["items"]] == [20, 30]
    body = client.post("/recommendations", json={"ratings": {}}).json()
    assert body["cold_start"] is True


@pytest.mark.parametrize(
    "payload",
    [
        {"ratings": {"10": 6}},  # above the scale
        {"ratings": {"10": 0}},  # below it
        {"ratings": {"10": "five"}},
        {"ratings": {"ten": 4}},  # key not an id
        {"ratings": {"10": None}},
        {"ratings": [[10, 4]]},  # not an object
        {"ratings": {"12345": 4, "10": 5}},  # unknown movie
        {"ratings": {"99999999999999999999999": 4}},
        {"rating": {"10": 4}},  # misspelt field
        {"ratings": {"10": 4}, "extra": 1},
        {},
        [],
        "ratings",
    ],
)
def test_invalid_body_is_422(client, payload):
    response = client.post("/recommendations", json=payload)
    assert response.status_code == 422, response.text


def test_unknown_movie_ids_in_the_body_are_named(client):
    response = client.post("/recommendations", json={"ratings": {"12345": 4, "10": 5, "777": 3}})
    assert response.status_code == 422
    assert response.json()["detail"] == "unknown movie ids (not in the catalog): [777, 12345]"


@pytest.mark.parametrize(
    "raw", [b"not json", b'{"ratings": {"10": NaN}}', b'{"ratings": {"10": Infinity}}', b'{"ratings": {"10": 4}', b""]
)
def test_malformed_json_is_422(client, raw):
    response = client.post("/recommendations", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "search, expected",
    [
        ("ALPHA", [10]),
        ("it's", [80]),
        ('"Wonderful"', [80]),
        ("%", [90]),
        ("%_", []),
        ("'; drop table dim_movies; --", [95]),
        ("'; drop table x; --", []),
        ("' OR 1=1 --", []),
        ("amélie", [99]),
    ],
)
def test_title_search_with_quotes_and_sql_metacharacters(client, warehouse, search, expected):
    response = client.get("/movies", params={"search": search})
    assert response.status_code == 200
    assert [m["movie_id"] for m in response.json()] == expected
    assert query(warehouse, "select count(*) from dim_movies") == [(11,)]


def test_title_search_needs_text_and_a_sane_limit(client):
    assert client.get("/movies").status_code == 422
    assert client.get("/movies", params={"search": ""}).status_code == 422
    assert client.get("/movies", params={"search": "a", "limit": 0}).status_code == 422
    assert client.get("/movies", params={"search": "a" * 201}).status_code == 422
    assert len(client.get("/movies", params={"search": "a", "limit": 2}).json()) == 2


def test_health_and_openapi(client, warehouse):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["model_name"] == "biased_mf" and body["stale"] is False
    assert body["warehouse"] == str(warehouse) and body["mode"] == "preload"
    spec = client.get("/openapi.json").json()
    assert {
        "/users/{user_id}/recommendations",
        "/movies/{movie_id}/similar",
        "/recommendations",
        "/movies",
        "/health",
    } <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


# --- the warehouse rebuilt while serving -------------------------------------------------------------


def test_server_started_while_the_warehouse_is_locked_is_503_until_released(tmp_path):
    path = hand_example(tmp_path / "locked.duckdb")
    app = create_app(Service(path, preload=True))
    with Writer(path):  # dbt build holding the write lock
        with TestClient(app) as c:
            for response in (
                c.get("/health"),
                c.get("/users/1/recommendations"),
                c.get("/movies/10/similar"),
                c.get("/movies", params={"search": "a"}),
                c.post("/recommendations", json={"ratings": {"10": 5}}),
            ):
                assert response.status_code == 503
                assert "locked by another process" in response.json()["detail"]
                assert response.headers["retry-after"] == "5"
    with TestClient(app) as c:  # the same server once the build has released the file
        assert c.get("/users/1/recommendations").status_code == 200
        assert c.get("/health").status_code == 200


def test_rebuild_while_serving_keeps_answering_then_swaps(tmp_path):
    path = hand_example(tmp_path / "rebuild.duckdb")
    service = Service(path, preload=True, reload_interval=0.0)
    with TestClient(create_app(service)) as c:
        before = c.get("/users/1/recommendations", params={"k": 3})
        assert [i["movie_id"] for i in before.json()["items"]] == [20, 40, 60]
        assert "x-warehouse-stale" not in before.headers
        assert can_open_for_writing(path)  # the server holds no lock: dbt build can start
        with Writer(path, "update movie_factors set bias = -5 where model_name = 'biased_mf' and movie_id = 20"):
            during = c.get("/users/1/recommendations", params={"k": 3})
            assert during.status_code == 200 and during.json() == before.json()  # the loaded snapshot
            assert during.headers["x-warehouse-stale"] == "true"
            assert c.get("/health").json()["stale"] is True
        service.refresh()  # what the background reload does once the file is free
        after = c.get("/users/1/recommendations", params={"k": 3})
        assert [i["movie_id"] for i in after.json()["items"]] == [40, 60, 70]
        assert "x-warehouse-stale" not in after.headers


def test_background_reload_after_a_rebuild(tmp_path):
    import time

    path = hand_example(tmp_path / "background.duckdb")
    service = Service(path, preload=True, reload_interval=0.0, settle_seconds=0.3)
    with TestClient(create_app(service)) as c:
        assert c.get("/users/1/recommendations", params={"k": 1}).json()["items"][0]["movie_id"] == 20
        Writer(path, "update movie_factors set bias = -5 where model_name = 'biased_mf' and movie_id = 20").release()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # requests see the change, wait for it to settle, reload
            items = c.get("/users/1/recommendations", params={"k": 1}).json()["items"]
            if items[0]["movie_id"] == 40:
                break
            time.sleep(0.05)
        assert items[0]["movie_id"] == 40


def test_warehouse_not_built_is_503(tmp_path):
    import duckdb

    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with TestClient(create_app(Service(tmp_path / "empty.duckdb", preload=True))) as c:
        response = c.get("/users/1/recommendations")
        assert response.status_code == 503 and "dbt build" in response.json()["detail"]
    with TestClient(create_app(Service(tmp_path / "missing.duckdb", preload=True))) as c:
        assert c.get("/health").status_code == 503


def test_every_fitted_model_answers_while_a_rebuild_holds_the_warehouse(tmp_path):
    """`?model=` for a model other than the serving one is answered from the loaded snapshot during a
    rebuild, not 503: every fitted model is loaded with the snapshot."""
    path = hand_example(tmp_path / "models.duckdb")
    service = Service(path, preload=True, reload_interval=0.0)
    with TestClient(create_app(service)) as c:
        assert c.get("/health").status_code == 200  # the snapshot is loaded; no other model asked for yet
        with Writer(path, "update movie_factors set bias = -5 where model_name = 'bias_only'"):
            response = c.get("/users/1/recommendations", params={"k": 3, "model": "bias_only"})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["model_name"] == "bias_only" and response.headers["x-warehouse-stale"] == "true"
            # bias_only ranks by movie bias (0.7, 0.6, ...): user 1 rated 10 and 30, so 20, 40, 50
            assert [i["movie_id"] for i in body["items"]] == [20, 40, 50]
            similar = c.get("/movies/10/similar", params={"model": "biased_mf"})
            assert similar.status_code == 200, similar.text
