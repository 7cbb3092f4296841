"""Base model for request bodies (unknown fields refused, text free of NUL characters) and shared types.

PostgreSQL cannot store NUL in text (SQLite can), so a NUL must be refused at the edge with a 422,
never reach a query and fail there as a 500.
"""

from __future__ import annotations

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
