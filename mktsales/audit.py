"""The audit trail: every write says who made it, and what changed, in the same transaction.

``Database.write`` hands its work a ``Tx``: the transaction's cursor plus ``audit()``. A write
that records nothing is rolled back, so no change can land without a trace. The log is
append-only: statements through a Tx may not touch it, and the app offers no way to edit it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import duckdb

# Values never copied into the log.
SECRET_COLUMNS = frozenset({"password_hash", "token_hash"})
_AUDIT_TABLE = re.compile(r"\baudit_log\b", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Actor:
    """Who is writing: a signed-in user, or the system/CLI operator by name."""

    name: str  # username, or "system:demo", "cli:<os user>"
    user_id: int | None = None


class AuditMissing(RuntimeError):
    """A write that recorded no audit entry; it is rolled back."""


class AuditReadOnly(PermissionError):
    """Something tried to change the audit log."""


def _clean(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    shown = {k: ("***" if k in SECRET_COLUMNS and v is not None else v) for k, v in values.items()}
    return json.dumps(shown, ensure_ascii=False, default=str, sort_keys=True)


class Tx:
    """One write transaction: execute statements, and record what they changed."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, actor: Actor) -> None:
        self.cur = cur
        self.actor = actor
        self.entries = 0

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        if _AUDIT_TABLE.search(sql):
            raise AuditReadOnly("the audit log is append-only; use Tx.audit()")
        return self.cur.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> duckdb.DuckDBPyConnection:
        if _AUDIT_TABLE.search(sql):
            raise AuditReadOnly("the audit log is append-only; use Tx.audit()")
        return self.cur.executemany(sql, params)

    def register(self, name: str, frame: Any) -> None:
        self.cur.register(name, frame)

    def unregister(self, name: str) -> None:
        self.cur.unregister(name)

    def audit(
        self,
        entity: str,
        entity_id: Any,
        action: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Record one change by this transaction's actor."""
        self.cur.execute(
            "INSERT INTO audit_log (logged_at, user_id, actor, entity, entity_id, action, before, after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                dt.datetime.now(),
                self.actor.user_id,
                self.actor.name,
                entity,
                None if entity_id is None else str(entity_id),
                action,
                _clean(before),
                _clean(after),
            ],
        )
        self.entries += 1

    # -- row helpers that audit themselves -------------------------------------------------------
    def row(self, table: str, key: str, value: Any) -> dict[str, Any] | None:
        """One row of ``table`` by its key column, as a dict (None when absent)."""
        _check(table, key)
        cur = self.cur.execute(f"SELECT * FROM {table} WHERE {key} = ?", [value])
        found = cur.fetchone()
        if found is None:
            return None
        return dict(zip([d[0] for d in cur.description], found, strict=True))

    def insert(self, table: str, values: dict[str, Any], key: str, action: str = "create") -> Any:
        """Insert one row and audit it; returns the new row's key."""
        _check(table, key, *values)
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        new_key = self.cur.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {key}", list(values.values())
        ).fetchone()[0]
        self.audit(table, new_key, action, after=self.row(table, key, new_key))
        return new_key

    def update(
        self, table: str, key: str, value: Any, changes: dict[str, Any], action: str = "update"
    ) -> dict[str, Any]:
        """Update one row and audit the columns that changed (before and after); returns the new row."""
        _check(table, key, *changes)
        before = self.row(table, key, value)
        if before is None:
            raise KeyError(f"{table}: no row with {key} = {value!r}")
        sets = ", ".join(f"{c} = ?" for c in changes)
        self.cur.execute(f"UPDATE {table} SET {sets} WHERE {key} = ?", [*changes.values(), value])
        after = self.row(table, key, value)
        changed = [c for c in after if before[c] != after[c]]
        self.audit(table, value, action, {c: before[c] for c in changed}, {c: after[c] for c in changed})
        return after


def _check(*identifiers: str) -> None:
    """Table and column names come from code, never from users; refuse anything else."""
    for name in identifiers:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not an identifier: {name!r}")


def search(
    db: Any,
    start: dt.date,
    end: dt.date,
    *,
    actor: str | None = None,
    entity: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> Any:
    """Audit entries logged in [start, end), newest first, optionally by actor (substring, any
    case), entity and action. Returns a frame; ``limit`` caps the rows (None = all)."""
    return db.query(
        """
        SELECT audit_id, logged_at, actor, entity, entity_id, action,
               CAST(before AS VARCHAR) AS before, CAST(after AS VARCHAR) AS after
        FROM audit_log
        WHERE logged_at >= $start AND logged_at < $end
          AND ($actor IS NULL OR contains(lower(actor), lower($actor)))
          AND ($entity IS NULL OR entity = $entity)
          AND ($action IS NULL OR action = $action)
        ORDER BY audit_id DESC
        LIMIT $limit
        """,
        {
            "start": start,
            "end": end,
            "actor": actor or None,
            "entity": entity or None,
            "action": action or None,
            "limit": limit,
        },
    )


def count(db: Any, start: dt.date, end: dt.date) -> int:
    """How many entries were logged in [start, end)."""
    return int(
        db.scalar("SELECT count(*) FROM audit_log WHERE logged_at >= ? AND logged_at < ?", [start, end])
    )


def choices(db: Any) -> tuple[list[str], list[str]]:
    """The entities and actions that occur in the log, for the page's filters."""
    entities = [e for (e,) in db.rows("SELECT DISTINCT entity FROM audit_log ORDER BY 1")]
    actions = [a for (a,) in db.rows("SELECT DISTINCT action FROM audit_log ORDER BY 1")]
    return entities, actions
