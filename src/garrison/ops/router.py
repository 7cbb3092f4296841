"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from garrison import __version__
from garrison.deps import AppCache, AppDatabase, AppSettings, provide
from garrison.ops import service
from garrison.ops.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers. Touches nothing else, so it never flaps with a dependency."""
    return Health(version=__version__)


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(database: AppDatabase, cache: AppCache, settings: AppSettings) -> Response:
    """Readiness: the database (and Redis, when configured) answer within the timeout; 503 otherwise."""
    report = await service.readiness(database, cache, settings.readiness_timeout)
    return JSONResponse(
        report.model_dump(exclude_none=True), status_code=200 if report.status == "ready" else 503
    )


@router.get("/metrics", response_class=Response)
async def metrics(registry: Annotated[CollectorRegistry, Depends(provide(CollectorRegistry))]) -> Response:
    """Prometheus text exposition of this process's metrics."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
