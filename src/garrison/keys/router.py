"""The JSON Web Key Set (RFC 7517 §5) that relying parties verify access tokens with."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from garrison.deps import provide
from garrison.keys.service import KeyStore

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json")
async def jwks(store: Annotated[KeyStore, Depends(provide(KeyStore))]) -> JSONResponse:
    """Public signing keys, current and recently retired (tokens they signed may still be in flight)."""
    keys: dict[str, Any] = await store.jwks()
    return JSONResponse(
        keys, media_type="application/jwk-set+json", headers={"Cache-Control": "public, max-age=300"}
    )
