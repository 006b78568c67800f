"""The audit trail: every write says who made it, and what changed, in the same transaction.

``Database.write`` hands its work a ``Tx``: the transaction's cursor plus ``audit()``. A write
that records nothing is rolled back, so no change can land without a trace. The log is
append-only: statements through a Tx may not touch it, and the app offers no way to edit it.

Audit rows, rows added with ``Tx.append`` and summary increments (``Tx.increment``) wait in the
transaction's ``Pending`` and are written with one statement per table: before the next statement
that names one of their tables, and at the latest just before the commit. Several works committed
together (Database.write's group commit) share one Pending, so N entries cost one INSERT per table.
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
# The tables a statement may change (a superset is harmless: it only makes summaries be rebuilt).
_WRITTEN = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY"
    r"|ALTER\s+TABLE|DROP\s+TABLE)\s+(?:\w+\.)?(\w+)",
    re.IGNORECASE,
)


OPERATOR_KINDS = frozenset({"cli", "system"})


@dataclass(frozen=True)
class Actor:
    """Who is writing: a signed-in user, or the system/CLI operator by name."""

    name: str  # username, or "system:demo", "cli:<os user>"
    user_id: int | None = None
    ip: str | None = None  # the client's address, for writes made from the web app (when known)

    @property
    def operator(self) -> bool:
        """True for the system and the command line: whoever runs them holds the database file
        itself, so account administration needs no admin account ("cli:<os user>", "system...")."""
        return self.user_id is None and self.name.split(":", 1)[0] in OPERATOR_KINDS


class AuditMissing(RuntimeError):
    """A write that recorded no audit entry; it is rolled back."""


class AuditReadOnly(PermissionError):
    """Something tried to change the audit log."""


def _clean(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    shown = {k: ("***" if k in SECRET_COLUMNS and v is not None else v) for k, v in values.items()}
    return json.dumps(shown, ensure_ascii=False, default=str, sort_keys=True)


class Pending:
    """Rows to insert and counters to add, kept until a statement needs them or the commit.

    ``append``: one row for ``table``. ``increment``: add ``amounts`` to the row of ``table``
    whose key columns hold ``key`` (inserted when missing), merged with other increments of the
    same row first, so each row is written once per flush.
    """

    def __init__(self) -> None:
        self.rows: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = {}
        self.sums: dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], dict[str, Any]]] = {}

    def append(self, table: str, values: dict[str, Any]) -> None:
        _check(table, *values)
        self.rows.setdefault((table, tuple(values)), []).append(tuple(values.values()))

    def increment(self, table: str, key: dict[str, Any], amounts: dict[str, Any]) -> None:
        _check(table, *key, *amounts)
        row = self.sums.setdefault((table, tuple(key)), {}).setdefault(tuple(key.values()), {})
        for column, amount in amounts.items():
            row[column] = row.get(column, 0) + amount

    def tables(self) -> set[str]:
        return {table for table, _ in self.rows} | {table for table, _ in self.sums}

    def needed_by(self, sql: str) -> bool:
        """True when ``sql`` names a table with pending rows (by substring: a superset is safe)."""
        lowered = sql.lower()
        return any(table in lowered for table in self.tables())

    def flush(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Write everything pending: one INSERT per table and column list."""
        rows, self.rows = self.rows, {}
        sums, self.sums = self.sums, {}
        for (table, columns), values in rows.items():
            marks = "(" + ", ".join("?" for _ in columns) + ")"
            cur.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(marks for _ in values)}",
                [v for row in values for v in row],
            )
        for (table, keys), by_key in sums.items():
            where = " AND ".join(f"{k} = ?" for k in keys)
            for key, amounts in by_key.items():
                amounts = {c: a for c, a in amounts.items() if a != 0}
                if not amounts:
                    continue
                # UPDATE, and INSERT only when the row is new: measured 1 ms against 2-3 ms for
                # INSERT ... ON CONFLICT DO UPDATE (DuckDB 2.0, 10M activities)
                sets = ", ".join(f"{c} = {c} + ?" for c in amounts)
                if not cur.execute(
                    f"UPDATE {table} SET {sets} WHERE {where} RETURNING 1", [*amounts.values(), *key]
                ).fetchall():
                    columns = (*keys, *amounts)
                    marks = ", ".join("?" for _ in columns)
                    cur.execute(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                        [*key, *amounts.values()],
                    )


def written_tables(sql: str) -> set[str]:
    """The tables a statement may change, lower case."""
    return {name.lower() for name in _WRITTEN.findall(sql)}


class Tx:
    """One write transaction: execute statements, and record what they changed.

    ``written`` collects the tables this work's statements may have changed, so that
    Database.write can keep the summary tables current after a write that does not itself.
    """

    def __init__(self, cur: duckdb.DuckDBPyConnection, actor: Actor, pending: Pending | None = None) -> None:
        self.cur = cur
        self.actor = actor
        self.entries = 0
        self.pending = pending if pending is not None else Pending()
        self.written: set[str] = set()

    def _ready(self, sql: str) -> None:
        """Note what ``sql`` writes, and write pending rows it may read first."""
        self.written |= written_tables(sql)
        if self.pending.needed_by(sql):
            self.pending.flush(self.cur)

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        if _AUDIT_TABLE.search(sql):
            raise AuditReadOnly("the audit log is append-only; use Tx.audit()")
        self._ready(sql)
        return self.cur.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> duckdb.DuckDBPyConnection:
        if _AUDIT_TABLE.search(sql):
            raise AuditReadOnly("the audit log is append-only; use Tx.audit()")
        self._ready(sql)
        return self.cur.executemany(sql, params)

    def append(self, table: str, values: dict[str, Any]) -> None:
        """Insert one row, batched: written before the next statement naming ``table``, or the commit.

        For rows nothing in the same work reads back by another way; a failing row fails the commit.
        """
        if _AUDIT_TABLE.search(table):
            raise AuditReadOnly("the audit log is append-only; use Tx.audit()")
        self.written.add(table)
        self.pending.append(table, values)

    def increment(self, table: str, key: dict[str, Any], amounts: dict[str, Any]) -> None:
        """Add ``amounts`` to one row of a summary table (created when missing), batched as append."""
        self.written.add(table)
        self.pending.increment(table, key, amounts)

    def flush(self) -> None:
        """Write what is pending now (Database.write does before committing)."""
        self.pending.flush(self.cur)

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
        """Record one change by this transaction's actor (written with the transaction, see Pending).

        The client's address goes in only when known, so a write on a schema older than migration
        009 (a test that stops the migrations early) still works."""
        row = {
            "logged_at": dt.datetime.now(),
            "user_id": self.actor.user_id,
            "actor": self.actor.name,
            "entity": entity,
            "entity_id": None if entity_id is None else str(entity_id),
            "action": action,
            "before": _clean(before),
            "after": _clean(after),
        }
        if self.actor.ip:
            row["client_ip"] = self.actor.ip
        self.pending.append("audit_log", row)
        self.entries += 1

    # -- row helpers that audit themselves -------------------------------------------------------
    def row(self, table: str, key: str, value: Any) -> dict[str, Any] | None:
        """One row of ``table`` by its key column, as a dict (None when absent)."""
        _check(table, key)
        sql = f"SELECT * FROM {table} WHERE {key} = ?"
        self._ready(sql)
        cur = self.cur.execute(sql, [value])
        found = cur.fetchone()
        if found is None:
            return None
        return dict(zip([d[0] for d in cur.description], found, strict=True))

    def insert(self, table: str, values: dict[str, Any], key: str, action: str = "create") -> Any:
        """Insert one row and audit it; returns the new row's key."""
        _check(table, key, *values)
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {key}"
        self._ready(sql)
        new_key = self.cur.execute(sql, list(values.values())).fetchone()[0]
        self.audit(table, new_key, action, after=self.row(table, key, new_key))
        return new_key

    def update(
        self, table: str, key: str, value: Any, changes: dict[str, Any], action: str = "update"
    ) -> dict[str, Any]:
        """Update one row and audit the columns that changed (before and after); returns the new row."""
        return self.change(table, key, value, changes, action)[1]

    def change(
        self, table: str, key: str, value: Any, changes: dict[str, Any], action: str = "update"
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """As update(), returning the row before and after."""
        _check(table, key, *changes)
        before = self.row(table, key, value)
        if before is None:
            raise KeyError(f"{table}: no row with {key} = {value!r}")
        sets = ", ".join(f"{c} = ?" for c in changes)
        sql = f"UPDATE {table} SET {sets} WHERE {key} = ?"
        self._ready(sql)
        self.cur.execute(sql, [*changes.values(), value])
        after = self.row(table, key, value)
        assert after is not None
        changed = [c for c in after if before[c] != after[c]]
        self.audit(table, value, action, {c: before[c] for c in changed}, {c: after[c] for c in changed})
        return before, after


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
        SELECT audit_id, logged_at, actor, client_ip, entity, entity_id, action,
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
