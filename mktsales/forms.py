"""What every form of the app shares (quick entry, the board, promotions): a Problem names a field
and a message; FormInvalid carries all of a form's problems at once; a Checker collects them while
the form is checked, inside or outside the write transaction (Read)."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb

from mktsales.audit import Actor, Tx
from mktsales.db import Database, WriteFailed
from mktsales.i18n import t

T = TypeVar("T")
log = logging.getLogger(__name__)

# Problem values that are codes, shown in the reader's language: value name -> key prefix.
CODE_VALUES = {"state": "lead_state."}

# Reads for the checks: Database.rows outside the write lock, the transaction's cursor inside.
Read = Callable[[str, list[Any]], list[tuple[Any, ...]]]


def tx_read(tx: Tx) -> Read:
    return lambda query, params: tx.execute(query, params).fetchall()


def new_key() -> str:
    """A fresh idempotency key: one per form display."""
    return uuid.uuid4().hex


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a form: the field it belongs to and its message key with values.

    Values are raw: amounts are numbers (the message formats them, ¥1,234.50), a lead's state is
    its code; ``message(lang)`` renders the text.
    """

    field: str
    key: str
    values: dict[str, Any] = dataclasses.field(default_factory=dict)

    def message(self, lang: str) -> str:
        """The message in ``lang``, its code values translated."""
        shown = {
            name: t(CODE_VALUES[name] + value, lang) if name in CODE_VALUES else value
            for name, value in self.values.items()
        }
        return t(self.key, lang, **shown)


class FormInvalid(ValueError):
    """A form the user can fix: every problem found, each naming its field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        return "; ".join(f"{p.field}: {p.message('en')}" for p in self.problems)

    def fields(self) -> dict[str, list[Problem]]:
        """The problems by field, for showing each next to its input."""
        found: dict[str, list[Problem]] = {}
        for problem in self.problems:
            found.setdefault(problem.field, []).append(problem)
        return found


class Checker:
    """Collects the problems of one form while it is checked; done() raises them all at once."""

    def __init__(self, prefix: str, error: type[FormInvalid]) -> None:
        self.prefix = prefix  # of the message keys, e.g. "entry.error."
        self.error = error
        self.problems: list[Problem] = []

    def add(self, field: str, name: str, **values: Any) -> None:
        self.problems.append(Problem(field, self.prefix + name, values))

    def done(self) -> None:
        if self.problems:
            raise self.error(self.problems)


def write(
    db: Database,
    work: Callable[[Tx], T],
    *,
    by: Actor,
    failed: Callable[..., Exception],
    name: str,
    attempts: int,
    pause: float,
    data: bool = True,
    maintained: bool = False,  # the work keeps the summary tables itself (summaries.changed)
    on_constraint: Callable[[], T | None] | None = None,
    retry_constraint: bool = False,
    before_retry: Callable[[], None] | None = None,
) -> T:
    """Database.write for a form's save: conflicts retried (``attempts`` times, ``pause`` seconds
    times the attempt between them), any other database failure raised as ``failed`` (the form is
    kept; the transaction was rolled back). A file that could not be written (a full disk) is not
    retried: ``failed`` then carries the WriteFailed's message key.

    A constraint violation is first an idempotency key's: ``on_constraint`` answers with what was
    saved under it. Otherwise, with ``retry_constraint``, a new id was taken by another writer:
    ``before_retry`` forgets what was counted on and the write is tried again.
    """
    options: dict[str, bool] = {"maintained": True} if maintained else {"data": data}
    for attempt in range(1, attempts + 1):
        try:
            return db.write(work, by=by, **options)
        except WriteFailed as exc:  # a full disk is no conflict: trying again cannot help (issue 23)
            log.error("%s write failed: %s", name, exc)
            raise failed(str(exc), key=exc.key) from exc
        except duckdb.TransactionException as exc:
            log.warning("%s write conflict (attempt %d of %d): %s", name, attempt, attempts, exc)
            if attempt == attempts:
                raise failed(str(exc)) from exc
            time.sleep(pause * attempt)
        except duckdb.ConstraintException as exc:
            found = on_constraint() if on_constraint is not None else None
            if found is not None:
                return found
            log.warning("%s write refused (attempt %d of %d): %s", name, attempt, attempts, exc)
            if not retry_constraint or on_constraint is None or attempt == attempts:
                raise failed(str(exc)) from exc
            if before_retry is not None:
                before_retry()
        except duckdb.Error as exc:
            log.exception("%s write failed", name)
            raise failed(str(exc)) from exc
    raise AssertionError("unreachable")
