"""The lockout counter: an attempt is counted before its password is checked, never after.

The race this closes (issue 23): sign-in used to read "locked?" and "failures so far", then spend
half a second on argon2, then record the failure. Eight forms sent within two seconds all read
"not locked, 0 failures" before any failure was written, so the eighth, with the right password,
got in after seven wrong ones although the limit is five.

Now each attempt first *reserves* its place in one write (writes are serialised, see
mktsales.db): it reads the lock and the count and, unless the account is locked, adds one to
``failed_attempts`` in the same transaction. The attempt that brings the count to
``lockout_attempts()`` also sets ``locked_until`` at once, provisionally, so every attempt after
it is refused without a password check while the ones already counted are still being checked.
Only then is the password checked, outside the write lock (argon2 inside it would stall every
writer of the app for half a second per attempt). Afterwards:

- wrong: ``failed`` records it; the attempt that was the last one allowed confirms the lock
  (audited as "locked") and sets the count back to 0, as before;
- right: the caller clears the count and any lock in the transaction that opens the session
  (``clear``). A correct password among the allowed attempts signs in even if a later attempt
  has set the provisional lock meanwhile: it was one of the allowed tries.

So however many attempts run at once against one account, at most ``lockout_attempts()``
passwords are checked between two locks. A process that dies between the reservation and the
check leaves the attempt counted as failed, which errs on the safe side; a provisional lock
expires like any other. A lock that has run out starts a new series at the next attempt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mktsales import config
from mktsales.audit import Actor, Tx
from mktsales.db import Database


@dataclass(frozen=True)
class Attempt:
    """A counted attempt: the account, its stored hash, and which attempt of the series it is."""

    user_id: int
    stored: str | None
    number: int


def reserve(db: Database, user_id: int, now: dt.datetime, by: Actor) -> Attempt | None:
    """Count an attempt on ``user_id``; None when the account is locked or inactive (then
    nothing is counted, and no password may be checked)."""

    def work(tx: Tx) -> Attempt | None:
        stored, active, failed, locked_until = tx.execute(
            "SELECT password_hash, active, failed_attempts, locked_until FROM users WHERE user_id = ?",
            [user_id],
        ).fetchone()
        if not active or (locked_until is not None and locked_until > now):
            tx.audit("users", user_id, "sign_in_refused", after={"locked_until": locked_until})
            return None
        number = (0 if locked_until is not None else failed) + 1  # a lock that ran out: a new series
        changes: dict[str, object] = {"failed_attempts": number, "locked_until": None}
        if number >= config.lockout_attempts():  # the last try allowed: nobody else until it is done
            changes["locked_until"] = now + dt.timedelta(minutes=config.lockout_minutes())
        tx.update("users", "user_id", user_id, changes, "sign_in_attempt")
        return Attempt(user_id, stored, number)

    return db.write(work, by=by, data=False)


def failed(db: Database, attempt: Attempt, now: dt.datetime, by: Actor) -> None:
    """Record that a counted attempt had the wrong password (its count stays)."""

    def work(tx: Tx) -> None:
        locked_until = tx.execute(
            "SELECT locked_until FROM users WHERE user_id = ?", [attempt.user_id]
        ).fetchone()[0]
        if attempt.number >= config.lockout_attempts() and locked_until is not None and locked_until > now:
            tx.update("users", "user_id", attempt.user_id, {"failed_attempts": 0}, "locked")
        else:
            tx.audit("users", attempt.user_id, "sign_in_failed", after={"attempt": attempt.number})

    db.write(work, by=by, data=False)


def clear(tx: Tx, user_id: int) -> None:
    """A right password: the series ends (count 0, no lock). Part of the write opening the session."""
    tx.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE user_id = ?", [user_id])
