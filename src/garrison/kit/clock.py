"""Time, injected: services ask a Clock, so tests move time instead of sleeping (STYLE rule 11)."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


# The clock of the application whose transaction this task runs: rows stamped by model defaults read it.
_current: ContextVar[Clock | None] = ContextVar("garrison_clock", default=None)


def use_clock(clock: Clock) -> None:
    """Make ``clock`` the one :func:`current_time` reads in this task (its database transactions set it)."""
    _current.set(clock)


def current_time() -> datetime:
    """Now, by the clock of the application this task works for (the system clock outside one)."""
    clock = _current.get()
    return clock.now() if clock is not None else datetime.now(UTC)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until told to move; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)
