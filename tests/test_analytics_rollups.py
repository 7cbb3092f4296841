"""The login rollups answer exactly what the attempts say.

Series and heatmap are compared with a brute-force count over the raw attempts (Python's zoneinfo
deciding every local bucket) across DST changes, in half- and quarter-hour zones, for ranges that do
and do not start on a quarter hour, per organisation scope; the migration fills the rollups from
attempts recorded before it.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from garrison import migrate
from garrison.analytics import repository as analytics_sql
from garrison.analytics import service as analytics
from garrison.analytics.buckets import BUCKET_FORMAT, truncate
from garrison.db import Database
from garrison.models import BuiltinRole, LoginAttempt, LoginRollup, Organisation
from garrison.models.rollups import (
    QUARTERS_PER_DAY,
    Kind,
    Totals,
    activity_masks,
    day_number,
    period_of,
    quarter_of,
    rows_for_attempt,
)
from garrison.models.security import ACTIVITY_WORDS
from tests.conftest import Accounts, bearer, make_settings
from tests.fixtures.backends import DatabaseFactory
from tests.fixtures.factories import make_org, make_user, root_org
from tests.test_admin_analytics import attempt

ZONES = [
    "UTC",
    "Europe/Paris",  # DST: 2026-03-29 01:00Z and 2026-10-25 01:00Z
    "America/New_York",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # +10:30, half an hour of DST
    "America/Santiago",  # clocks go back at local midnight
]
# Instants where some zone's bucket starts, and the instants either side of a quarter hour.
EDGES = [
    "2026-03-28T23:00:00",
    "2026-03-29T00:59:59.999999",
    "2026-03-29T01:00:00",
    "2026-03-29T18:30:00",
    "2026-03-29T18:14:59.999999",
    "2026-03-29T18:15:00",
    "2026-03-30T22:00:00",
    "2026-03-31T23:59:59.999999",
    "2026-04-01T00:00:00",
    "2026-04-05T03:00:00",
    "2026-04-05T04:00:00",
    "2026-10-25T00:59:59",
    "2026-10-25T01:00:00",
    "2026-10-31T23:00:00",
    "2026-11-01T00:00:00",
]
RANGES = [
    ("2026-03-01T00:00:00Z", "2026-12-01T00:00:00Z"),
    ("2026-03-18T07:13:21.5Z", "2026-04-07T10:52:00Z"),
    ("2026-10-19T23:59:59Z", "2026-11-03T00:00:01Z"),
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


@dataclass
class Dataset:
    root: Organisation
    other: Organisation
    chief: dict[str, str]
    acme_admin: dict[str, str]


@pytest.fixture
async def dataset(app: FastAPI, accounts: Accounts) -> Dataset:
    database: Database = app.state.services.database
    async with database.transaction() as db:
        root, other = await root_org(db), await make_org(db, name="Acme")
        people = [await make_user(db, org=root) for _ in range(4)]
        people += [await make_user(db, org=other) for _ in range(3)]
    await accounts.create(username="chief", org=root, roles=(BuiltinRole.ROOT_ADMIN,))
    await accounts.create(username="acme_admin", org=other, roles=(BuiltinRole.ORG_ADMIN,))
    chief, acme_admin = bearer(await accounts.login("chief")), bearer(await accounts.login("acme_admin"))

    rng = random.Random(2026)
    times = [at(edge) for edge in EDGES]
    for first, last in [("2026-03-20", "2026-04-08"), ("2026-10-18", "2026-11-04")]:
        begin, span = at(first), (at(last) - at(first)).total_seconds()
        times += [begin + timedelta(seconds=rng.uniform(0, span)) for _ in range(120)]
    async with database.transaction() as db:
        for when in times:
            user = rng.choice([*people, None])
            await attempt(db, user, when, success=user is not None and rng.random() < 0.75)
    return Dataset(root, other, chief, acme_admin)


async def raw_attempts(app: FastAPI) -> list[LoginAttempt]:
    database: Database = app.state.services.database
    async with database.sessions() as db:
        return list((await db.scalars(select(LoginAttempt))).all())


def brute_series(
    attempts: list[LoginAttempt],
    unit: str,
    tz: str,
    start: datetime,
    end: datetime,
    org: uuid.UUID | None,
) -> dict[str, tuple[int, int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    users: dict[str, set[uuid.UUID]] = defaultdict(set)
    for row in attempts:
        if not start <= row.created_at < end or (org is not None and row.organisation_id != org):
            continue
        key = truncate(row.created_at.astimezone(ZoneInfo(tz)), unit).strftime(BUCKET_FORMAT)
        counts[key][0 if row.success else 1] += 1
        if row.success and row.user_id is not None:
            users[key].add(row.user_id)
    return {key: (ok, failed, len(users[key])) for key, (ok, failed) in counts.items()}


def brute_heatmap(
    attempts: list[LoginAttempt], tz: str, start: datetime, end: datetime, org: uuid.UUID | None
) -> list[list[int]]:
    cells = [[0] * 24 for _ in range(7)]
    for row in attempts:
        if row.success and start <= row.created_at < end and (org is None or row.organisation_id == org):
            local = row.created_at.astimezone(ZoneInfo(tz))
            cells[local.weekday()][local.hour] += 1
    return cells


async def api_series(
    client: httpx.AsyncClient, auth: dict[str, str], **params: str
) -> dict[str, tuple[int, int, int]]:
    response = await client.get("/api/v1/admin/analytics/logins", params=params, headers=auth)
    assert response.status_code == 200, response.text
    buckets: list[dict[str, Any]] = response.json()["buckets"]
    return {
        datetime.fromisoformat(b["start"]).strftime(BUCKET_FORMAT): (
            b["success"],
            b["failure"],
            b["distinct_users"],
        )
        for b in buckets
    }


def assert_same(got: dict[str, tuple[int, int, int]], expected: dict[str, tuple[int, int, int]]) -> None:
    assert set(expected) <= set(got), "an attempt fell outside every bucket"
    assert {key: value for key, value in got.items() if value != (0, 0, 0)} == expected


@pytest.mark.parametrize("tz", ZONES)
async def test_series_equal_a_brute_force_count(
    app: FastAPI, client: httpx.AsyncClient, dataset: Dataset, tz: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = await raw_attempts(app)
    read_directly: list[timedelta] = []
    attempt_buckets = analytics_sql.attempt_buckets

    async def spy(*args: Any, **kwargs: Any) -> analytics_sql.Counts:
        read_directly.extend(high - low for low, high in args[3])
        return await attempt_buckets(*args, **kwargs)

    monkeypatch.setattr(analytics, "attempt_buckets", spy)
    for first, last in RANGES:
        for unit in ("day", "week", "month", "hour"):
            if unit == "hour" and at(last) - at(first) > timedelta(days=60):
                continue
            read_directly.clear()
            got = await api_series(client, dataset.chief, interval=unit, tz=tz, **{"from": first, "to": last})
            assert_same(got, brute_series(attempts, unit, tz, at(first), at(last), None))
            if unit != "hour":  # served by the rollups: only minutes short of a quarter hour are read
                assert all(span < timedelta(minutes=15) for span in read_directly), (unit, first)


@pytest.mark.parametrize("tz", ["Europe/Paris", "Asia/Kolkata"])
async def test_series_and_heatmap_keep_to_the_organisation(
    app: FastAPI, client: httpx.AsyncClient, dataset: Dataset, tz: str
) -> None:
    attempts = await raw_attempts(app)
    first, last = RANGES[1]
    window = {"from": first, "to": last, "tz": tz}
    scopes = [
        (dataset.chief, {}, None),
        (dataset.chief, {"org_id": str(dataset.root.id)}, dataset.root.id),
        (dataset.chief, {"org_id": str(dataset.other.id)}, dataset.other.id),
        (dataset.acme_admin, {}, dataset.other.id),
    ]
    totals = []
    for auth, scope, org in scopes:
        for unit in ("day", "week", "month"):
            got = await api_series(client, auth, interval=unit, **window, **scope)
            assert_same(got, brute_series(attempts, unit, tz, at(first), at(last), org))
        response = await client.get(
            "/api/v1/admin/analytics/heatmap", params={**window, **scope}, headers=auth
        )
        assert response.status_code == 200, response.text
        assert response.json()["counts"] == brute_heatmap(attempts, tz, at(first), at(last), org)
        totals.append(sum(map(sum, response.json()["counts"])))
    assert totals[0] > totals[1] > 0
    assert totals[2] == totals[3] > 0
    refused = await client.get(
        "/api/v1/admin/analytics/logins",
        params={**window, "org_id": str(dataset.root.id)},
        headers=dataset.acme_admin,
    )
    assert refused.status_code == 404


@pytest.mark.parametrize("tz", ZONES)
async def test_heatmap_equals_a_brute_force_count(
    app: FastAPI, client: httpx.AsyncClient, dataset: Dataset, tz: str
) -> None:
    attempts = await raw_attempts(app)
    for first, last in RANGES:
        response = await client.get(
            "/api/v1/admin/analytics/heatmap",
            params={"from": first, "to": last, "tz": tz},
            headers=dataset.chief,
        )
        assert response.json()["counts"] == brute_heatmap(attempts, tz, at(first), at(last), None)


def test_every_zone_tested_is_served_by_the_rollups() -> None:
    low, high = quarter_of(at("2026-01-01T00:00:00")), quarter_of(at("2027-01-01T00:00:00"))
    for tz in ZONES:
        steps = analytics_sql.quarter_offsets(ZoneInfo(tz), low, high)
        assert steps is not None, tz
    paris = analytics_sql.quarter_offsets(ZoneInfo("Europe/Paris"), low, high)
    assert paris == [
        (low, 4),
        (quarter_of(at("2026-03-29T01:00:00")), 8),
        (quarter_of(at("2026-10-25T01:00:00")), 4),
    ]
    # Local mean time (Amsterdam until 1937: +00:19:32) is not a whole number of quarter hours.
    lmt = (quarter_of(at("1930-06-01T00:00:00")), quarter_of(at("1930-07-01T00:00:00")))
    assert analytics_sql.quarter_offsets(ZoneInfo("Europe/Amsterdam"), *lmt) is None


def test_an_attempt_marks_the_neighbouring_periods_it_borders() -> None:
    user, org = uuid.uuid4(), uuid.uuid4()
    sunday_night = at("2026-03-29T23:45:00")  # the last quarter of a UTC week, and of March's 29th
    rows = {
        row.key: row
        for row in rows_for_attempt(organisation_id=org, user_id=user, success=True, at=sunday_night)
    }
    monday = day_number(at("2026-03-30T00:00:00").date())
    this_week, next_week = period_of(Kind.WEEK, monday - 1), period_of(Kind.WEEK, monday)
    assert next_week == (monday, monday + 7)
    assert rows[(Kind.WEEK, this_week[0], org, user)].tail == 1 << (QUARTERS_PER_DAY - 1)
    assert rows[(Kind.WEEK, next_week[0], org, user)].head == 1 << (QUARTERS_PER_DAY - 1)
    assert (Kind.MONTH, day_number(at("2026-03-01T00:00:00").date()), org, user) in rows
    assert (Kind.DAY, monday - 1, org, user) in rows
    assert len(rows) == 7  # the quarter, three days, two weeks, one month
    failure = rows_for_attempt(organisation_id=None, user_id=None, success=False, at=sunday_night)
    assert [(row.kind, row.success, row.failure) for row in failure] == [(Kind.QUARTER, 0, 1)]


def test_activity_masks_cover_a_local_period_or_refuse() -> None:
    march = period_of(Kind.MONTH, day_number(at("2026-03-10T00:00:00").date()))
    start, end = march
    kolkata = activity_masks(march, start * QUARTERS_PER_DAY - 22, end * QUARTERS_PER_DAY - 22)
    assert kolkata is not None
    assert kolkata.days == (1 << (end - start - 1)) - 1  # whole UTC days: the 1st to the 30th
    assert activity_masks(march, (start + 2) * QUARTERS_PER_DAY, end * QUARTERS_PER_DAY) is None


async def test_the_migration_rolls_up_existing_attempts(databases: DatabaseFactory, tmp_path: Path) -> None:
    database = Database(make_settings(await databases.create(), tmp_path))
    rng = random.Random(7)
    try:
        await migrate.upgrade(database, "0003")
        async with database.transaction() as db:
            org = await make_org(db, name="Before rollups", is_root=True)
            users = [await make_user(db, org=org) for _ in range(3)]
            begin = at("2026-03-25T00:00:00")
            for _ in range(400):
                user = rng.choice([*users, None])
                db.add(
                    LoginAttempt(
                        organisation_id=user.organisation_id if user else None,
                        user_id=user.id if user else None,
                        username_tried=user.username if user else "nobody",
                        success=user is not None and rng.random() < 0.8,
                        created_at=begin + timedelta(seconds=rng.uniform(0, 12 * 86400)),
                    )
                )
        await migrate.upgrade(database)
        async with database.sessions() as db:
            attempts = list((await db.scalars(select(LoginAttempt))).all())
            stored = list((await db.scalars(select(LoginRollup))).all())
    finally:
        await database.dispose()
    totals = Totals()  # what the login path would have added, attempt by attempt
    for row in attempts:
        totals.add(
            rows_for_attempt(
                organisation_id=row.organisation_id,
                user_id=row.user_id,
                success=row.success,
                at=row.created_at,
            )
        )
    names = ("kind", "period", "organisation_id", "user_id", "success", "failure", *ACTIVITY_WORDS)
    assert sorted(tuple(getattr(r, name) for name in names) for r in stored) == sorted(
        tuple(row.columns()[name] for name in names) for row in totals.rows()
    )
    assert sum(r.success + r.failure for r in stored if r.kind == Kind.QUARTER) == len(attempts) == 400
