"""``/api/v1/admin/audit-events``: the audit trail, searchable and exportable (read only)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import Select

from garrison.audit.repository import AuditRepository, audit_query
from garrison.audit.schemas import AuditEventOut
from garrison.authz.deps import Admin, AuditRead
from garrison.deps import AppDatabase, DbSession
from garrison.kit.pagination import Page, Paging
from garrison.kit.schemas import AwareDatetime, json_depth, unrenderable
from garrison.models import AuditEvent

router = APIRouter(prefix="/api/v1/admin/audit-events", tags=["admin: audit"])
_EXPORT_BATCH = 1000
# Deep enough for any state Garrison records, shallow enough for every JSON encoder on the way out.
_RENDER_DEPTH = 64

log = structlog.get_logger("garrison.audit")


class ExportFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


def _renderable(value: Any) -> dict[str, Any] | None:
    """A stored before/after as it can be shown: one that cannot is shown as ``unrenderable``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return unrenderable("not a JSON object")
    if json_depth(value, _RENDER_DEPTH) > _RENDER_DEPTH:
        return unrenderable(f"nested deeper than {_RENDER_DEPTH} levels")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return unrenderable("not serialisable as JSON")
    return value


def _out(event: AuditEvent) -> AuditEventOut:
    """One event as the API shows it; a row written around the API cannot break its page or export."""
    fields = {name: getattr(event, name) for name in AuditEventOut.model_fields}
    fields["before"], fields["after"] = _renderable(event.before), _renderable(event.after)
    return AuditEventOut.model_validate(fields)


class AuditQuery:
    """The filters both the listing and the export accept."""

    def __init__(
        self,
        actor: Annotated[str | None, Query(max_length=64, description="Actor id (a user id)")] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        target: Annotated[str | None, Query(max_length=64, description="Target id")] = None,
        outcome: Annotated[str | None, Query(max_length=16)] = None,
        from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
        to: AwareDatetime | None = None,
        org_id: uuid.UUID | None = None,
    ) -> None:
        self.actor, self.action, self.target, self.outcome = actor, action, target, outcome
        self.since, self.until, self.org_id = from_, to, org_id

    def build(self, admin: Admin) -> Select[AuditEvent]:
        return audit_query(
            admin.scope.narrow(self.org_id),
            actor_id=self.actor,
            action=self.action,
            target_id=self.target,
            outcome=self.outcome,
            since=self.since,
            until=self.until,
        )


@router.get("", response_model=Page[AuditEventOut])
async def list_audit_events(
    admin: AuditRead, db: DbSession, paging: Paging, filters: Annotated[AuditQuery, Depends()]
) -> Page[AuditEventOut]:
    """Audit events newest first; an organisation administrator sees their organisation's only."""
    repo = AuditRepository(db)
    rows, total = await repo.page(filters.build(admin), limit=paging.page_size, offset=paging.offset)
    return Page(items=[_out(row) for row in rows], total=total, page=paging.page, page_size=paging.page_size)


def _csv_cell(value: object) -> object:
    """Flatten a value for CSV and defuse spreadsheet formulas (CSV injection, OWASP)."""
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"))
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _export_failed(count: int) -> str:
    # The status line went out with the first bytes: a failure can only be said at the end of the file.
    return f"export failed after {count} events; this file is incomplete"


@router.get("/export")
async def export_audit_events(
    admin: AuditRead,
    database: AppDatabase,
    filters: Annotated[AuditQuery, Depends()],
    format: ExportFormat = ExportFormat.NDJSON,
) -> StreamingResponse:
    """Stream the filtered events, newest first, as CSV or NDJSON (one JSON object per line)."""
    query = filters.build(admin).execution_options(yield_per=_EXPORT_BATCH)

    async def events() -> AsyncIterator[AuditEventOut]:
        # Its own session: the response outlives the request's, and rows go out as they are read.
        async with database.sessions() as db:
            async for row in await db.stream_scalars(query):
                yield _out(row)

    async def ndjson() -> AsyncIterator[str]:
        count = 0
        try:
            async for event in events():
                yield event.model_dump_json() + "\n"
                count += 1
        except Exception:
            log.exception("audit export failed", written=count)
            yield json.dumps({"error": _export_failed(count), "complete": False}) + "\n"

    async def as_csv() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(AuditEventOut.model_fields))
        writer.writeheader()
        count = 0
        try:
            async for event in events():
                writer.writerow({k: _csv_cell(v) for k, v in event.model_dump(mode="json").items()})
                count += 1
                if buffer.tell() > 65536:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        except Exception:
            log.exception("audit export failed", written=count)
            buffer.write(f"# ERROR: {_export_failed(count)}\r\n")
        yield buffer.getvalue()

    if format is ExportFormat.CSV:
        headers = {"Content-Disposition": 'attachment; filename="audit-events.csv"'}
        return StreamingResponse(as_csv(), media_type="text/csv; charset=utf-8", headers=headers)
    headers = {"Content-Disposition": 'attachment; filename="audit-events.ndjson"'}
    return StreamingResponse(ndjson(), media_type="application/x-ndjson", headers=headers)
