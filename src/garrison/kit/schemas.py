"""Base model for request bodies: unknown fields refused, text free of NUL characters.

PostgreSQL cannot store NUL in text (SQLite can), so a NUL must be refused at the edge with a 422,
never reach a query and fail there as a 500.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


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
