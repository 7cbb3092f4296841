"""The application factory: middleware, routers and the one error mapping, assembled in one place."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from garrison import __version__
from garrison.agents.router import router as agents_router
from garrison.analytics.admin_router import overview_router as admin_overview_router
from garrison.analytics.admin_router import router as admin_analytics_router
from garrison.apikeys.admin_router import router as admin_api_keys_router
from garrison.audit.admin_router import router as admin_audit_router
from garrison.cache import Cache, create_cache
from garrison.config import Settings
from garrison.console.router import router as console_router
from garrison.db import Database
from garrison.errors import install_error_handlers
from garrison.identity.admin_router import router as admin_users_router
from garrison.identity.router import auth_router as identity_auth_router
from garrison.identity.router import me_router
from garrison.keys.router import router as keys_router
from garrison.kit.clock import Clock, SystemClock
from garrison.metrics import HttpMetrics
from garrison.middleware import REQUEST_ID_HEADER, BodyLimitMiddleware, EdgeMiddleware, ProxyHeadersMiddleware
from garrison.ops.router import router as ops_router
from garrison.security.admin_router import router as admin_anomalies_router
from garrison.services import Services
from garrison.sessions.admin_router import router as admin_sessions_router
from garrison.sessions.router import me_sessions_router
from garrison.sessions.router import router as auth_router

log = structlog.get_logger("garrison.app")


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    cache: Cache | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build a Garrison ASGI app. ``settings`` must come from :func:`garrison.config.load_settings`.

    The schema is not touched here: ``garrison serve`` migrates and bootstraps once before workers start.
    The app starts even when the database is down (``/readyz`` then says so).
    """
    clock = clock or SystemClock()
    database = database or Database(settings, clock)
    database.clock = clock
    services = Services.build(settings, database, cache or create_cache(settings), clock)
    keys, session_cache, hasher = services.keys, services.session_cache, services.hasher

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await keys.reload()
        except Exception:  # the database may be down at start; keys load on first use
            log.warning("signing_keys_not_loaded", exc_info=True)
        await session_cache.start()
        await hasher.warm_up()
        # Everything made at start-up lives as long as the process: keep it out of the collector's
        # full passes, which otherwise stall the event loop for tens of milliseconds.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await session_cache.stop()
            await services.cache.close()
            await services.database.dispose()

    app = FastAPI(
        title="Garrison",
        version=__version__,
        description="Identity, access and session governance.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.provided = services.by_type()

    install_error_handlers(app)
    app.include_router(ops_router)
    app.include_router(keys_router)
    app.include_router(auth_router)
    app.include_router(identity_auth_router)
    app.include_router(me_router)
    app.include_router(me_sessions_router)
    app.include_router(admin_users_router)
    app.include_router(admin_sessions_router)
    app.include_router(admin_audit_router)
    app.include_router(admin_anomalies_router)
    app.include_router(admin_analytics_router)
    app.include_router(admin_overview_router)
    app.include_router(admin_api_keys_router)
    app.include_router(agents_router)
    app.include_router(console_router)

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
    app.add_middleware(
        EdgeMiddleware, metrics=HttpMetrics(services.registry), hsts_max_age=settings.hsts_max_age
    )
    # Outermost: every layer inside sees the client's address and scheme as the proxies reported them.
    app.add_middleware(ProxyHeadersMiddleware, trusted=settings.trusted_proxies)
    return app
