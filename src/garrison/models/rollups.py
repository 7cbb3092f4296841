"""Login rollups: the rows each login attempt adds to ``login_rollups``, which analytics read instead of
every attempt.

Two kinds of row:

* ``quarter``: per organisation and UTC quarter hour, the number of successful and failed attempts.
  Every time zone in use is a whole number of quarter hours from UTC and changes its offset on a
  quarter hour (Asia/Kolkata +05:30, Asia/Kathmandu +05:45, Australia/Lord_Howe's half-hour DST), so a
  local hour, day, week or month is an exact sum of quarter hours.
* ``day``, ``week`` and ``month``: per organisation, user and UTC day, calendar week (from Monday)
  or month, the quarter hours in which the user logged in successfully, from the day before the
  period to the day after it: ``head`` has one bit per quarter hour of the day before and the first
  day, ``days`` one bit per day of the period, ``tail`` one bit per quarter hour of the last day and
  the day after. Local midnight is less than a day from UTC midnight, so one row tells whether the
  user logged in during the local day, week or month of the same date; a user belongs to one
  organisation for good, so the distinct users of a bucket are its matching rows, counted without
  DISTINCT.

Counts add up and bits are OR-ed, so concurrent upserts commute and the rollups stay exact whatever
order transactions commit in. Periods are UTC day numbers (days since 1970-01-01); quarters are UTC
quarter-hour numbers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

QUARTER = timedelta(minutes=15)
QUARTERS_PER_DAY = 96
EDGE_BITS = 2 * QUARTERS_PER_DAY  # head and tail: two days of quarter hours
WORD_BITS = 64
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = EPOCH.date()
# Attempts of no organisation (an unknown username) and the quarter rows, which belong to no user.
NO_ORGANISATION = uuid.UUID(int=0)
NO_USER = uuid.UUID(int=0)


class Kind(StrEnum):
    QUARTER = "quarter"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def quarter_of(at: datetime) -> int:
    """The UTC quarter-hour number holding ``at``."""
    return (at.astimezone(UTC) - EPOCH) // QUARTER


def day_number(day: date) -> int:
    return (day - EPOCH_DATE).days


def period_of(kind: Kind, day: int) -> tuple[int, int]:
    """The UTC day, week (Monday to Sunday) or month holding ``day``, as [first day, day after the last)."""
    if kind is Kind.DAY:
        return day, day + 1
    if kind is Kind.WEEK:
        start = day - (day + 3) % 7  # day 0, 1970-01-01, was a Thursday
        return start, start + 7
    first = (EPOCH_DATE + timedelta(days=day)).replace(day=1)
    following = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )
    return day_number(first), day_number(following)


def to_words(value: int, count: int) -> list[int]:
    """``value`` as ``count`` signed 64-bit words, least significant first (BIGINT on both engines)."""
    words = []
    for _ in range(count):
        word = value & ((1 << WORD_BITS) - 1)
        words.append(word - (1 << WORD_BITS) if word >> (WORD_BITS - 1) else word)
        value >>= WORD_BITS
    return words


def bit_range(low: int, high: int) -> int:
    """Bits ``low`` to ``high - 1`` set."""
    return (1 << high) - (1 << low) if high > low else 0


@dataclass(frozen=True, slots=True)
class RollupRow:
    kind: Kind
    period: int
    organisation_id: uuid.UUID
    user_id: uuid.UUID
    success: int = 0
    failure: int = 0
    head: int = 0
    days: int = 0
    tail: int = 0

    @property
    def key(self) -> tuple[str, int, uuid.UUID, uuid.UUID]:
        return (self.kind, self.period, self.organisation_id, self.user_id)

    def columns(self) -> dict[str, Any]:
        head, tail = to_words(self.head, 3), to_words(self.tail, 3)
        return {
            "kind": str(self.kind),
            "period": self.period,
            "organisation_id": self.organisation_id,
            "user_id": self.user_id,
            "success": self.success,
            "failure": self.failure,
            "head0": head[0],
            "head1": head[1],
            "head2": head[2],
            "days": to_words(self.days, 1)[0],
            "tail0": tail[0],
            "tail1": tail[1],
            "tail2": tail[2],
        }


def _activity(
    kind: Kind, period: tuple[int, int], organisation_id: uuid.UUID, user_id: uuid.UUID, quarter: int
) -> RollupRow:
    start, end = period
    head_bit = quarter - (start - 1) * QUARTERS_PER_DAY
    tail_bit = quarter - (end - 1) * QUARTERS_PER_DAY
    day_bit = quarter // QUARTERS_PER_DAY - start
    return RollupRow(
        kind,
        start,
        organisation_id,
        user_id,
        head=1 << head_bit if 0 <= head_bit < EDGE_BITS else 0,
        days=1 << day_bit if 0 <= day_bit < end - start else 0,
        tail=1 << tail_bit if 0 <= tail_bit < EDGE_BITS else 0,
    )


def rows_for_attempt(
    *, organisation_id: uuid.UUID | None, user_id: uuid.UUID | None, success: bool, at: datetime
) -> list[RollupRow]:
    """What one login attempt adds: its quarter's count and, for a success, the user's activity bits."""
    organisation = organisation_id or NO_ORGANISATION
    quarter = quarter_of(at)
    rows = [
        RollupRow(
            Kind.QUARTER, quarter, organisation, NO_USER, success=int(success), failure=int(not success)
        )
    ]
    if success and user_id is not None:
        day = quarter // QUARTERS_PER_DAY
        for kind in (Kind.DAY, Kind.WEEK, Kind.MONTH):
            start, end = period_of(kind, day)
            periods = [(start, end)]
            if day == start:  # also the tail of the period before
                periods.insert(0, period_of(kind, start - 1))
            if day == end - 1:  # also the head of the period after
                periods.append(period_of(kind, end))
            rows.extend(_activity(kind, period, organisation, user_id, quarter) for period in periods)
    return rows


class Totals:
    """Rows added up in memory, for filling the rollups from many attempts at once."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, int, uuid.UUID, uuid.UUID], list[int]] = {}

    def add(self, rows: list[RollupRow]) -> None:
        for row in rows:
            sums = self._sums.get(row.key)
            if sums is None:
                self._sums[row.key] = [row.success, row.failure, row.head, row.days, row.tail]
            else:
                sums[0] += row.success
                sums[1] += row.failure
                sums[2] |= row.head
                sums[3] |= row.days
                sums[4] |= row.tail

    def rows(self) -> list[RollupRow]:
        """Every row, in key order (a period's rows end up together on disk)."""
        return [
            RollupRow(Kind(kind), period, organisation, user, *self._sums[kind, period, organisation, user])
            for kind, period, organisation, user in sorted(self._sums)
        ]


@dataclass(frozen=True, slots=True)
class ActivityMasks:
    head: int
    days: int
    tail: int


def activity_masks(period: tuple[int, int], low: int, high: int) -> ActivityMasks | None:
    """The bits of a ``week``/``month`` row that fall in quarters [low, high); None when that range is
    not within a day of the period's bounds (the row cannot answer for it)."""
    start, end = period
    window_start, window_end = (start - 1) * QUARTERS_PER_DAY, (end + 1) * QUARTERS_PER_DAY
    head_end, tail_start = (start + 1) * QUARTERS_PER_DAY, (end - 1) * QUARTERS_PER_DAY
    if not (window_start <= low <= head_end and tail_start <= high <= window_end and low < high):
        return None
    head = bit_range(max(low, window_start) - window_start, min(high, head_end) - window_start)
    tail = bit_range(max(low, tail_start) - tail_start, min(high, window_end) - tail_start)
    days = 0
    for day in range(start, end):
        if day * QUARTERS_PER_DAY >= low and (day + 1) * QUARTERS_PER_DAY <= high:
            days |= 1 << (day - start)
    return ActivityMasks(head, days, tail)
