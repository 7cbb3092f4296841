"""The JSON Web Key Set (RFC 7517 §5) that relying parties verify access tokens with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> JSONResponse:
    """Public signing keys, current and recently retired (tokens they signed may still be in flight)."""
    keys: dict[str, Any] = await request.app.state.keys.jwks()
    return JSONResponse(
        keys, media_type="application/jwk-set+json", headers={"Cache-Control": "public, max-age=300"}
    )
