"""Tenant scope as a value: the organisations a decision lets its subject reach.

An :class:`OrgScope` is either exactly one organisation or every organisation. Repositories take one
and apply it as SQL (``scope.clause(Model.organisation_id)``); rows already loaded are checked with
``scope.covers(row.organisation_id)``. There is no "None means everything": the scope of every
organisation exists only as :func:`garrison.authz.service.decide` hands it to a subject whose role
applies everywhere, because building it takes a key that only that module holds.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from sqlalchemy import BindParameter, ColumnElement, Uuid, bindparam, true
from sqlalchemy.orm import QueryableAttribute

from garrison.errors import NotFound


class _Key:
    """The capability to build the scope of every organisation; its one instance is ``_KEY``."""

    __slots__ = ()


# Imported by garrison.authz.service alone (tests/test_authz_scope.py checks that nothing else does).
_KEY: Final = _Key()


class OrgScope:
    """Exactly one organisation (``OrgScope.of(id)``), or every organisation (root subjects only)."""

    __slots__ = ("_organisation_id",)

    def __init__(self, organisation_id: uuid.UUID | None = None, *, key: object = None) -> None:
        if organisation_id is None and key is not _KEY:
            raise TypeError("The scope of every organisation is granted by a decision, not built.")
        self._organisation_id = organisation_id

    @classmethod
    def of(cls, organisation_id: uuid.UUID) -> OrgScope:
        return cls(organisation_id)

    @property
    def everywhere(self) -> bool:
        return self._organisation_id is None

    def covers(self, organisation_id: uuid.UUID | None) -> bool:
        """Whether a record of ``organisation_id`` is in scope; records of none are for "every" only."""
        return self._organisation_id is None or self._organisation_id == organisation_id

    def clause(self, column: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[bool]:
        """The SQL condition confining ``column`` (an organisation id column) to this scope."""
        if self._organisation_id is None:
            return true()
        return column == self._organisation_id

    def text_clause(
        self, column: str, name: str = "scope_organisation"
    ) -> tuple[str, list[BindParameter[Any]]]:
        """The condition for textual SQL: ``" AND <column> = :name"`` and its parameter, or nothing."""
        if self._organisation_id is None:
            return "", []
        return f" AND {column} = :{name}", [bindparam(name, self._organisation_id, type_=Uuid())]

    def narrow(self, requested: uuid.UUID | None) -> OrgScope:
        """The scope of a request filtered to ``requested`` (if given); outside this scope: 404."""
        if requested is None:
            return self
        if not self.covers(requested):
            raise NotFound("No such organisation.")
        return OrgScope.of(requested)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OrgScope) and other._organisation_id == self._organisation_id

    def __hash__(self) -> int:
        return hash(("OrgScope", self._organisation_id))

    def __repr__(self) -> str:
        return (
            "OrgScope(every organisation)"
            if self._organisation_id is None
            else f"OrgScope.of({self._organisation_id})"
        )
