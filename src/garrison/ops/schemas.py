"""Shapes of the operations endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class Check(BaseModel):
    status: Literal["up", "down", "disabled"]
    backend: str | None = None
    error: str | None = None
    latency_ms: float | None = None


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, Check]
