"""The HTTP API: a FastAPI app over a preloaded `movierec.serving.Service`; OpenAPI docs at /docs.

    GET  /users/{user_id}/recommendations?k=&model=   top-k for a user (cold start: popularity)
    GET  /movies/{movie_id}/similar?k=&model=         the most similar movies
    POST /recommendations?k=&model=                   top-k for a new user: {"ratings": {"<movie_id>": rating}}
    GET  /movies?search=&limit=                       title search, case-insensitive
    GET  /movies/{movie_id}                           one movie
    GET  /health                                      what is loaded, and whether the file changed since

Statuses: 200; 404 for a movie that is not in the catalog; 422 for an invalid k, path, query or
body (ratings off the dataset's scale, unknown movie ids, unknown model); 503 with Retry-After
when the warehouse cannot be read (missing, not built, or locked by a writer before anything
could be loaded). Bad input never gets a 500.

While `dbt build` rebuilds the warehouse the server keeps answering from the snapshot it loaded
(it holds no lock between reloads, so dbt is never blocked by it), marks responses with
`X-Warehouse-Stale: true`, and swaps in the new data once the build has released the file.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from movierec.serving import (
    MAX_FOLD_IN_RATINGS,
    MAX_K,
    InvalidRequest,
    Service,
    UnknownMovie,
    WarehouseUnavailable,
)

log = logging.getLogger("movierec.server")
RETRY_AFTER_SECONDS = 5


class RecommendationOut(BaseModel):
    rank: int
    movie_id: int
    title: str | None
    release_year: int | None
    score: float = Field(description="Predicted rating (model) or share of users who rated it (popularity).")
    reason: str | None
    reason_movie_id: int | None


class RecommendationsOut(BaseModel):
    user_id: int | None = Field(description="Null for a new user (POST /recommendations).")
    model_name: str = Field(description="The serving model, or 'popularity' for the cold-start fallback.")
    cold_start: bool
    cold_start_reason: str | None
    rating_count: int
    items: list[RecommendationOut]
    ignored_movie_ids: list[int] = Field(description="Rated movies the model has no factors for (not used).")


class SimilarMovieOut(BaseModel):
    rank: int
    movie_id: int
    title: str | None
    release_year: int | None
    similarity: float


class SimilarMoviesOut(BaseModel):
    movie_id: int
    title: str | None
    release_year: int | None
    model_name: str | None
    items: list[SimilarMovieOut]
    note: str | None = Field(description="Why the list is empty, when it is.")


class MovieOut(BaseModel):
    movie_id: int
    title: str | None
    release_year: int | None
    rating_count: int


class NewUser(BaseModel):
    """A new user's ratings. Keys are movie ids (JSON object keys are strings: "123"); values are on the
    dataset's scale (serving_config.rating_min .. rating_max, e.g. 1-5 for Netflix)."""

    model_config = ConfigDict(extra="forbid")
    ratings: Annotated[
        dict[int, Annotated[float, Field(allow_inf_nan=False)]],
        Field(max_length=MAX_FOLD_IN_RATINGS, examples=[{"1": 5, "28": 4, "30": 1}]),
    ]


class ErrorOut(BaseModel):
    detail: str


K = Annotated[
    int | None, Query(ge=1, le=MAX_K, description="List length (default: var recommendations_k / similar_movies_k).")
]
MODEL = Annotated[str | None, Query(max_length=200, description="A fitted model (default: serving_config.model_name).")]
ERRORS = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}}


def create_app(service: Service | None = None, warehouse=None) -> FastAPI:
    """The app. `service` defaults to a preloaded `Service` on `warehouse` ($MOVIEREC_WAREHOUSE)."""
    service = service or Service(warehouse, preload=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            info = service.health()
            log.info("serving %s from %s", info["model_name"], info["warehouse"])
        except WarehouseUnavailable as exc:  # keep running: requests get 503 until it can be loaded
            log.warning("warehouse not available yet: %s", exc)
        yield

    app = FastAPI(
        title="movierec",
        version="0.1.0",
        lifespan=lifespan,
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    app.state.service = service

    @app.exception_handler(WarehouseUnavailable)
    async def unavailable(request: Request, exc: WarehouseUnavailable):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(UnknownMovie)
    async def unknown_movie(request: Request, exc: UnknownMovie):
        return JSONResponse({"detail": str(exc.args[0] if exc.args else exc)}, status_code=404)

    @app.exception_handler(RequestValidationError)
    async def invalid_input(request: Request, exc: RequestValidationError):
        # FastAPI's own handler echoes the input back, and an input of NaN or Infinity (which Python's
        # JSON parser accepts) then fails to serialize: a 500. Type, location and message are enough.
        errors = [{key: error[key] for key in ("type", "loc", "msg") if key in error} for error in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(InvalidRequest)
    async def invalid(request: Request, exc: InvalidRequest):
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.middleware("http")
    async def stale_header(request: Request, call_next):
        response = await call_next(request)
        if service.is_stale():
            response.headers["X-Warehouse-Stale"] = "true"
        return response

    @app.get(
        "/users/{user_id}/recommendations",
        response_model=RecommendationsOut,
        responses=ERRORS,
        summary="Top-k movies for a user",
    )
    def user_recommendations(
        user_id: Annotated[int, Path(description="The user's id.")], k: K = None, model: MODEL = None
    ):
        """The user's top-k unrated movies by the serving model, with the reason for each. Unknown users,
        users with too few ratings or without factors get the most popular movies, `cold_start: true`."""
        return service.recommend(user_id, k, model).to_dict()

    @app.post(
        "/recommendations",
        response_model=RecommendationsOut,
        responses=ERRORS,
        summary="Top-k movies for a new user (fold-in)",
    )
    def new_user_recommendations(body: NewUser, k: K = None, model: MODEL = None):
        """Solves the new user's factors against the fixed movie factors from their ratings (no
        retraining) and ranks the movies they have not rated. Unknown movie ids: 422 naming them."""
        return service.fold_in(body.ratings, k, model).to_dict()

    @app.get(
        "/movies/{movie_id}/similar",
        response_model=SimilarMoviesOut,
        responses=ERRORS,
        summary="Movies similar to a movie",
    )
    def similar_movies(movie_id: int, k: K = None, model: MODEL = None):
        """Cosine similarity of the model's movie factors, among movies with enough ratings."""
        return service.similar(movie_id, k, model).to_dict()

    @app.get("/movies", response_model=list[MovieOut], responses=ERRORS, summary="Search titles")
    def search_movies(
        search: Annotated[str, Query(min_length=1, max_length=200, description="Text in the title, any case.")],
        limit: Annotated[int, Query(ge=1, le=MAX_K)] = 20,
    ):
        return [m.to_dict() for m in service.search_movies(search, limit)]

    @app.get("/movies/{movie_id}", response_model=MovieOut, responses=ERRORS, summary="One movie")
    def movie(movie_id: int):
        return service.movie(movie_id).to_dict()

    @app.get("/health", responses={503: {"model": ErrorOut}}, summary="Status")
    def health():
        """200 with what is loaded (`stale` when the file changed since), 503 when nothing can be served."""
        return service.health()

    return app


def serve(warehouse=None, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Run the API with uvicorn (one process; requests run on its thread pool)."""
    import uvicorn

    uvicorn.run(create_app(warehouse=warehouse), host=host, port=port, log_level=log_level)
