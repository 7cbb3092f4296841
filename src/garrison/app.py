"""The application factory: middleware, routers and the one error mapping, assembled in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CollectorRegistry

from garrison import __version__
from garrison.cache import Cache, create_cache
from garrison.config import Settings
from garrison.db import Database
from garrison.errors import install_error_handlers
from garrison.metrics import HttpMetrics
from garrison.middleware import REQUEST_ID_HEADER, BodyLimitMiddleware, EdgeMiddleware
from garrison.ops.router import router as ops_router


def create_app(
    settings: Settings, *, database: Database | None = None, cache: Cache | None = None
) -> FastAPI:
    """Build a Garrison ASGI app. ``settings`` must come from :func:`garrison.config.load_settings`.

    The schema is not touched here: ``garrison serve`` migrates and bootstraps once before workers start.
    """
    database = database or Database(settings)
    cache = cache or create_cache(settings)
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await cache.close()
            await database.dispose()

    app = FastAPI(
        title="Garrison",
        version=__version__,
        description="Identity, access and session governance.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.cache = cache
    app.state.registry = registry

    install_error_handlers(app)
    app.include_router(ops_router)

    # Added innermost first: the edge middleware sees every request and every response.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
        )
    app.add_middleware(EdgeMiddleware, metrics=HttpMetrics(registry), hsts_max_age=settings.hsts_max_age)
    return app
