"""Base model for request bodies (unknown fields refused, text free of NUL characters) and shared types.

PostgreSQL cannot store NUL in text (SQLite can), so a NUL must be refused at the edge with a 422,
never reach a query and fail there as a 500.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


def printable(value: str | None, limit: int) -> str | None:
    """A header value fit to store: control characters replaced, length capped; None if empty."""
    if not value:
        return None
    cleaned = "".join(ch if ch.isprintable() else "\ufffd" for ch in value[:limit])
    return cleaned or None


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time zone offset is required (RFC 3339 §5.6: 'Z' or '+hh:mm')")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time is out of range once converted to UTC") from None


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
"""A date-time with an explicit offset (RFC 3339 §5.6 ``date-time``), normalised to UTC.

Every date-time Garrison accepts, in a body or a query, uses this type: a naive one cannot be
compared with the stored, aware instants, so it is refused with a 422 that states the rule.
"""

JSON_MAX_DEPTH = 8
JSON_MAX_BYTES = 16 * 1024


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value (a scalar is 0), without recursing past ``limit``."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _bounded_object(value: dict[str, Any]) -> dict[str, Any]:
    if json_depth(value, JSON_MAX_DEPTH) > JSON_MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {JSON_MAX_DEPTH} levels")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > JSON_MAX_BYTES:
        raise ValueError(f"JSON takes {size} bytes; the limit is {JSON_MAX_BYTES} (keys count)")
    return value


BoundedJsonObject = Annotated[dict[str, Any], AfterValidator(_bounded_object)]
"""A free-form JSON object (RFC 8259 §4) of at most ``JSON_MAX_DEPTH`` levels and ``JSON_MAX_BYTES``
bytes serialised (keys and values count), so no input can make rendering or storage recurse or swell.
"""


def unrenderable(reason: str) -> dict[str, Any]:
    """What a stored JSON value that cannot be shown is shown as, instead of failing its whole page."""
    return {"unrenderable": True, "reason": reason}


def lenient_json_loads(text: str | bytes) -> Any:
    """Decode a stored JSON value (RFC 8259); one that cannot be decoded becomes :func:`unrenderable`.

    The database's JSON columns are decoded with this, so a single row written around the API (not
    JSON at all, or nested past the decoder's recursion limit) cannot make a listing or an export fail.
    """
    try:
        return json.loads(text)
    except RecursionError:
        return unrenderable("nested too deeply to decode")
    except ValueError:
        return unrenderable("not valid JSON")
