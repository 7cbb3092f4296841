"""Every time Garrison records comes from the injected clock, never from the system's (STYLE rule 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from garrison.db import Database
from garrison.kit.clock import FrozenClock
from garrison.models import AuditEvent, LoginAttempt, Session, User
from tests.conftest import Accounts, bearer

START = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    """A time far from the real one, so that a row stamped by the system clock stands out."""
    return FrozenClock(START)


async def test_rows_are_stamped_by_the_injected_clock(
    app: FastAPI, accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="timely")
    tokens = await accounts.login("timely")
    clock.advance(minutes=5)
    later = START + timedelta(minutes=5)
    changed = await client.patch("/api/v1/me", json={"full_name": "Tim Ely"}, headers=bearer(tokens))
    assert changed.status_code == 200, changed.text
    me = (await client.get("/api/v1/me", headers=bearer(tokens))).json()
    assert datetime.fromisoformat(me["created_at"]) == START
    assert datetime.fromisoformat(me["updated_at"]) == later

    database: Database = app.state.services.database
    async with database.transaction() as db:
        user = await db.scalar(select(User).where(User.username == "timely"))
        sessions = list(await db.scalars(select(Session)))
        attempts = list(await db.scalars(select(LoginAttempt)))
        events = list(await db.scalars(select(AuditEvent)))
    assert user is not None
    assert user.password_changed_at == START
    assert [s.created_at for s in sessions] == [START]
    assert [a.created_at for a in attempts] == [START]
    assert events
    assert {e.created_at for e in events} <= {START, later}
