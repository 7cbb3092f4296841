"""Storage contract of the session repository: the same cases on SQLite and on PostgreSQL.

The repository takes a different path per engine (one statement with CTEs, or a read in the same
statement, on PostgreSQL; separate statements elsewhere); both paths must leave the same rows and give
the same answers. Each pass of the suite runs these on its engine.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select

from garrison.db import Database, insert_rows
from garrison.models import BuiltinRole, RefreshToken, Session
from garrison.sessions.repository import SessionRepository
from tests.fixtures.factories import make_user

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


async def _open(database: Database, token_hash: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A user (two roles) with a session whose first refresh token hashes to ``token_hash``."""
    async with database.transaction(write=True) as db:
        user = await make_user(db, roles=(BuiltinRole.ORG_ADMIN, BuiltinRole.USER))
        session_id, rows = SessionRepository(db).new_session(
            user_id=user.id,
            organisation_id=user.organisation_id,
            now=NOW,
            expires_at=NOW + timedelta(days=30),
            ip="203.0.113.9",
            user_agent="Contract/1.0",
            device_label="Contract on Linux",
            refresh_token_hash=token_hash,
        )
        await insert_rows(db, rows)
        return user.id, session_id


async def test_a_new_session_reads_back_with_its_user_and_sorted_roles(app: FastAPI) -> None:
    database: Database = app.state.services.database
    user_id, session_id = await _open(database, "hash-read")
    async with database.transaction() as db:
        record = await SessionRepository(db).get_record(session_id)
        stored = await db.get(Session, session_id)
    assert record is not None
    assert stored is not None
    assert (record.id, record.user_id) == (session_id, user_id)
    assert record.roles == ("org_admin", "user")
    assert record.expires_at == NOW + timedelta(days=30)
    assert record.last_seen_at == NOW
    assert (stored.ip, stored.device_label, stored.ended_at) == ("203.0.113.9", "Contract on Linux", None)


async def test_a_refresh_token_is_claimed_once_and_the_claim_returns_its_session(app: FastAPI) -> None:
    database: Database = app.state.services.database
    _, session_id = await _open(database, "hash-claim")
    async with database.transaction(write=True) as db:
        repository = SessionRepository(db)
        claimed = await repository.claim_refresh_token("hash-claim", NOW + timedelta(minutes=1))
        expected = await repository.get_record(session_id)
        again = await repository.claim_refresh_token("hash-claim", NOW + timedelta(minutes=2))
        unknown = await repository.claim_refresh_token("no-such-hash", NOW)
    assert claimed is not None
    assert claimed == expected
    assert again is None
    assert unknown is None
    async with database.transaction() as db:
        token = await db.scalar(select(RefreshToken).where(RefreshToken.token_hash == "hash-claim"))
    assert token is not None
    assert token.rotated_at == NOW + timedelta(minutes=1)


async def test_the_next_refresh_token_touches_the_session_only_when_asked(app: FastAPI) -> None:
    database: Database = app.state.services.database
    _user_id, session_id = await _open(database, "hash-first")
    later, latest = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    async with database.transaction(write=True) as db:
        repository = SessionRepository(db)
        record = await repository.get_record(session_id)
        assert record is not None
        await repository.insert_refresh_token(session_id, record.organisation_id, "hash-quiet", later)
        untouched = await repository.get_record(session_id)
        await repository.insert_refresh_token(
            session_id, record.organisation_id, "hash-touch", latest, touch_session=True
        )
        touched = await repository.get_record(session_id)
        found = await repository.find_refresh_token("hash-touch")
        current = await repository.current_refresh_session("hash-quiet")
    assert untouched is not None
    assert untouched.last_seen_at == NOW
    assert touched is not None
    assert touched.last_seen_at == latest
    assert found == (session_id, record.organisation_id)
    assert current == session_id


async def test_ending_sessions_ends_only_active_ones_and_says_which(app: FastAPI) -> None:
    database: Database = app.state.services.database
    user_id, first = await _open(database, "hash-end-1")
    async with database.transaction(write=True) as db:
        repository = SessionRepository(db)
        assert await repository.active_ids(user_id) == [first]
        assert await repository.count_active(user_id, NOW) == 1
        assert await repository.end([first, uuid.uuid4()], NOW, "logout") == [first]
        assert await repository.end([first], NOW, "logout") == []
        assert await repository.end([], NOW, "logout") == []
        assert await repository.active_ids(user_id) == []
        ended = await db.get(Session, first)
    assert ended is not None
    assert (ended.ended_at, ended.end_reason) == (NOW, "logout")
