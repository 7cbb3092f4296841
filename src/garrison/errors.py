"""One error hierarchy, rendered once as RFC 9457 ``application/problem+json``.

Feature packages subclass :class:`AppError` (in their own ``errors.py``) and raise; the handlers
installed by :func:`install_error_handlers` are the only place errors become HTTP responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types are URNs (RFC 9457 §3.1.1 allows non-dereferenceable URIs); the suffix is stable API.
PROBLEM_TYPE_BASE = "urn:garrison:problem:"

log = structlog.get_logger("garrison.errors")


class AppError(Exception):
    """Base of every error Garrison reports to a client (RFC 9457 §3)."""

    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class BadRequest(AppError):
    status = 400
    type = "bad-request"
    title = "Bad request"


class NotFound(AppError):
    status = 404
    type = "not-found"
    title = "Not found"


class MethodNotAllowed(AppError):
    status = 405
    type = "method-not-allowed"
    title = "Method not allowed"


class Conflict(AppError):
    status = 409
    type = "conflict"
    title = "Conflict"


class ContentTooLarge(AppError):
    status = 413
    type = "content-too-large"
    title = "Content too large"


class ValidationFailed(AppError):
    status = 422
    type = "validation-failed"
    title = "Request validation failed"


class Unauthenticated(AppError):
    status = 401
    type = "unauthenticated"
    title = "Authentication required"


class Forbidden(AppError):
    status = 403
    type = "forbidden"
    title = "Forbidden"


class InternalError(AppError):
    status = 500
    type = "internal-error"
    title = "Internal server error"


# Framework-raised HTTP errors mapped onto the hierarchy so every body has the same shape.
_BY_STATUS: dict[int, type[AppError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: ContentTooLarge,
    422: ValidationFailed,
}


def problem_response(error: AppError, *, instance: str, request_id: str | None) -> JSONResponse:
    """Render ``error`` as an RFC 9457 §3.1 problem details object."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + error.type,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "instance": instance,
    }
    if request_id:
        body["request_id"] = request_id
    body.update(error.extra)
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type=PROBLEM_CONTENT_TYPE
    )


def _request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def render(request: Request, error: AppError) -> JSONResponse:
    return problem_response(error, instance=request.url.path, request_id=_request_id(request))


def from_http_exception(exc: StarletteHTTPException) -> AppError:
    cls = _BY_STATUS.get(exc.status_code)
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = "Error"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    if cls is not None:
        return cls(detail, headers=exc.headers)
    error = AppError(detail or phrase, headers=exc.headers)
    error.status, error.type, error.title = exc.status_code, f"http-{exc.status_code}", phrase
    return error


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Echo where and why, never the offending input: it may be a password.
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Map every error the framework can raise onto problem+json (unexpected ones: see middleware)."""

    async def on_app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return render(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return render(request, from_http_exception(exc))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc']) or 'request'}: {first['msg']}"
        return render(request, ValidationFailed(detail, extra={"errors": errors}))

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
