"""Pure-ASGI middleware: request id, access log, metrics, security headers, last-resort 500, body limit,
proxy headers."""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Iterable

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from garrison.console.service import BASE_PATH as CONSOLE_PATH
from garrison.console.service import content_security_policy
from garrison.errors import BadRequest, ContentTooLarge, InternalError, problem_response
from garrison.metrics import HttpMetrics

REQUEST_ID_HEADER = "X-Request-ID"
# Accepted from clients only when it cannot smuggle anything into logs or headers.
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# The longest textual IPv6 address (an IPv4-mapped one); the database columns hold this many.
MAX_ADDRESS_LENGTH = 45

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

log = structlog.get_logger("garrison.http")


def _request_id(scope: Scope) -> str:
    supplied = Headers(scope=scope).get(REQUEST_ID_HEADER)
    if supplied and _REQUEST_ID_RE.fullmatch(supplied):
        return supplied
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


def security_headers(scope: Scope, content_type: str | None, hsts_max_age: int) -> Iterable[tuple[str, str]]:
    """OWASP secure-headers defaults; HTML gets a CSP that still lets the API docs load.

    The console (``/admin``) has its own strict policy; its page adds a per-request style nonce.
    """
    yield "X-Content-Type-Options", "nosniff"
    yield "Referrer-Policy", "no-referrer"
    yield "X-Frame-Options", "DENY"
    yield "Cross-Origin-Opener-Policy", "same-origin"
    path = scope.get("path", "")
    if path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/"):
        yield "Content-Security-Policy", content_security_policy(None)
    elif content_type and content_type.startswith("text/html"):
        yield "Content-Security-Policy", "frame-ancestors 'none'"
    else:
        yield "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
    if scope.get("scheme") == "https" and hsts_max_age > 0:
        yield "Strict-Transport-Security", f"max-age={hsts_max_age}; includeSubDomains"


class EdgeMiddleware:
    """The outermost layer every request passes: identity, headers, timing, logs, metrics, 500s."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, hsts_max_age: int) -> None:
        self.app = app
        self.metrics = metrics
        self.hsts_max_age = hsts_max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                for name, value in security_headers(scope, headers.get("content-type"), self.hsts_max_age):
                    headers.setdefault(name, value)
                # Identity responses must not be cached by intermediaries (RFC 6749 §5.1).
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled_exception", method=scope["method"], path=scope["path"])
            if not response_started:
                error = InternalError(f"An unexpected error occurred; quote request id {request_id}.")
                response = problem_response(error, instance=scope["path"], request_id=request_id)
                await response(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], _route_template(scope), status, elapsed)
            quiet = scope["path"] in _QUIET_PATHS and status < 400
            (log.debug if quiet else log.info)(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client=scope["client"][0] if scope.get("client") else None,
            )
            structlog.contextvars.unbind_contextvars("request_id")


class BodyLimitMiddleware:
    """Refuse request bodies over the limit (413) before reading them, and while streaming them."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        error: BadRequest | ContentTooLarge | None = None
        if declared is not None:
            if not declared.isdigit():
                error = BadRequest("Content-Length must be a non-negative integer.")
            elif int(declared) > self.max_body_bytes:
                error = self._too_large()
        if error is not None:
            request_id = scope.get("state", {}).get("request_id")
            await problem_response(error, instance=scope["path"], request_id=request_id)(scope, receive, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Raised inside the route, so the app's handler renders it like any other error.
                    raise HTTPException(413, self._too_large().detail)
            return message

        await self.app(scope, limited_receive, send)

    def _too_large(self) -> ContentTooLarge:
        return ContentTooLarge(f"The request body exceeds the limit of {self.max_body_bytes} bytes.")


def _address(value: str) -> IPAddress | None:
    """One hop of X-Forwarded-For as an address, or ``None`` when it is not one (a port, a name...)."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return address if len(str(address)) <= MAX_ADDRESS_LENGTH else None


class ProxyHeadersMiddleware:
    """The client's address and scheme behind trusted proxies (``X-Forwarded-For``/``-Proto``).

    Only a peer in ``trusted`` (addresses or networks; ``*`` trusts any) is believed. The hops of
    X-Forwarded-For are read from the right, as each proxy appends the address it saw (RFC 7239 §5.2
    describes the same chain for ``Forwarded``): trusted proxies are skipped, and the first untrusted
    hop is the client. Every hop read is parsed with :mod:`ipaddress`; when one is not an address the
    header is ignored and the peer stays the client. Hops left of the client are never read: they are
    whatever the client wrote, and junk there must not turn the proxy's own address into the client
    (which would pool every client's rate limit). A peer that is not an address (a Unix socket, or a
    server that already rewrote it) becomes no address at all, so nothing unparsed is ever stored.
    """

    def __init__(self, app: ASGIApp, *, trusted: Iterable[str]) -> None:
        self.app = app
        entries = list(trusted)
        self.trust_all = "*" in entries
        self.networks = [ipaddress.ip_network(entry, strict=False) for entry in entries if entry != "*"]

    def _trusted(self, address: IPAddress) -> bool:
        return self.trust_all or any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            self._rewrite(scope)
        await self.app(scope, receive, send)

    def _rewrite(self, scope: Scope) -> None:
        client = scope.get("client")
        peer = _address(client[0]) if client else None
        if peer is None:
            scope["client"] = None
            return
        scope["client"] = (str(peer), client[1] if client else 0)
        if not self._trusted(peer):
            return
        headers = Headers(scope=scope)
        proto = headers.get("x-forwarded-proto", "").rsplit(",", 1)[-1].strip().lower()
        if proto in ("http", "https"):
            scope["scheme"] = ("wss" if proto == "https" else "ws") if scope["type"] == "websocket" else proto
        hops = ",".join(headers.getlist("x-forwarded-for")).split(",")
        if not "".join(hops).strip():
            return
        chosen: IPAddress | None = None
        for hop in reversed(hops):
            chosen = _address(hop)
            if chosen is None:
                return  # not an address: the header is ignored, the peer stays the client
            if not self._trusted(chosen):
                break
        if chosen is not None:
            scope["client"] = (str(chosen), 0)
