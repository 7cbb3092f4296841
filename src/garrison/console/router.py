"""``/admin``: the console's files, and its page for every other path (deep links of the SPA)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from garrison.console.service import Console, content_security_policy, new_nonce, not_built_page
from garrison.deps import provide
from garrison.errors import NotFound

router = APIRouter(include_in_schema=False)
_IMMUTABLE = "public, max-age=31536000, immutable"  # Vite puts a content hash in these names


def _page(body: str, nonce: str, status: int = 200) -> HTMLResponse:
    headers = {"Content-Security-Policy": content_security_policy(nonce), "Cache-Control": "no-store"}
    return HTMLResponse(body, status_code=status, headers=headers)


@router.api_route("/admin", methods=["GET", "HEAD"])
@router.api_route("/admin/{path:path}", methods=["GET", "HEAD"])
async def console(
    request: Request, service: Annotated[Console, Depends(provide(Console))], path: str = ""
) -> Response:
    """A file of the build when ``path`` names one; otherwise the app's page."""
    nonce = new_nonce()
    if not service.built:
        if path.startswith("assets/"):
            raise NotFound("The console is not built.")
        return _page(not_built_page(nonce), nonce, status=503)
    found = service.file(path) if path and path != "index.html" else None
    if found is not None:
        cache = _IMMUTABLE if path.startswith("assets/") else "no-cache"
        return FileResponse(found, headers={"Cache-Control": cache})
    if path.startswith("assets/"):
        raise NotFound("No such file in the console's build.")
    return _page(service.index(nonce), nonce)
