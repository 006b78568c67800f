"""Settings from the environment, with the embedded defaults `make run` relies on."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "mktsales.duckdb"
DEFAULT_REFRESH_SECONDS = 30
REFRESH_CHOICES = (0, 10, 30, 60, 300)  # seconds; 0 = off


def db_path() -> Path:
    """The database file: $MKTSALES_DB, else data/mktsales.duckdb beside the app."""
    return Path(os.environ.get("MKTSALES_DB") or DEFAULT_DB)


def today() -> dt.date:
    """Today, or $MKTSALES_TODAY (YYYY-MM-DD) for reproducible tests and screenshots."""
    fixed = os.environ.get("MKTSALES_TODAY")
    return dt.date.fromisoformat(fixed) if fixed else dt.date.today()


def refresh_seconds() -> int:
    """The overview's default auto-refresh interval: $MKTSALES_REFRESH_SECONDS, else 30."""
    return int(os.environ.get("MKTSALES_REFRESH_SECONDS") or DEFAULT_REFRESH_SECONDS)


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    value = float(raw)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


def session_hours() -> float:
    """How long a sign-in lasts, reloads included: $MKTSALES_SESSION_HOURS, else 12."""
    return _positive("MKTSALES_SESSION_HOURS", 12)


def lockout_attempts() -> int:
    """Failed sign-ins in a row that lock an account: $MKTSALES_LOCKOUT_ATTEMPTS, else 5."""
    return int(_positive("MKTSALES_LOCKOUT_ATTEMPTS", 5))


def lockout_minutes() -> float:
    """How long a locked account stays locked: $MKTSALES_LOCKOUT_MINUTES, else 15."""
    return _positive("MKTSALES_LOCKOUT_MINUTES", 15)


def handoff_target_hours() -> float:
    """The MQL → SAL response-time target: $MKTSALES_HANDOFF_TARGET_HOURS, else 48."""
    return _positive("MKTSALES_HANDOFF_TARGET_HOURS", 48)


def promotion_decision_hours() -> float:
    """The target for deciding a promotion request: $MKTSALES_PROMOTION_DECISION_HOURS, else 48."""
    return _positive("MKTSALES_PROMOTION_DECISION_HOURS", 48)


def consultation_hours() -> float:
    """The target for a region's answer to a consultation: $MKTSALES_CONSULTATION_HOURS, else 48."""
    return _positive("MKTSALES_CONSULTATION_HOURS", 48)


def now() -> dt.datetime:
    """Now (for ages and the cohort's "by now"); with $MKTSALES_TODAY, the end of that day."""
    if os.environ.get("MKTSALES_TODAY"):
        return dt.datetime.combine(today() + dt.timedelta(days=1), dt.time())
    return dt.datetime.now().replace(microsecond=0)


def backup_dir(db: str | Path | None = None) -> Path:
    """Where the app's backups go (the data page's, and the only place a backup request may name):
    $MKTSALES_BACKUP_DIR, else backups/ beside the database (``db``, default db_path())."""
    raw = os.environ.get("MKTSALES_BACKUP_DIR")
    return Path(raw) if raw else Path(db if db is not None else db_path()).parent / "backups"


# -- sign-in protection (mktsales.ratelimit) ---------------------------------------------------------
def signin_per_name() -> int:
    """Failed sign-ins one username may have in a minute: $MKTSALES_SIGNIN_PER_NAME, else 10."""
    return int(_positive("MKTSALES_SIGNIN_PER_NAME", 10))


def signin_per_client() -> int:
    """Failed sign-ins one client address may have in a minute: $MKTSALES_SIGNIN_PER_CLIENT, else 30."""
    return int(_positive("MKTSALES_SIGNIN_PER_CLIENT", 30))


def hashing_slots() -> int:
    """Password hashes (64 MiB of argon2 each) computed at once: $MKTSALES_HASHING_SLOTS, else 2."""
    return int(_positive("MKTSALES_HASHING_SLOTS", 2))


def hashing_queue() -> int:
    """Password checks that may wait for a slot; more are refused: $MKTSALES_HASHING_QUEUE, else 16."""
    return int(_positive("MKTSALES_HASHING_QUEUE", 16))


def client_ip_header() -> str | None:
    """The header a reverse proxy puts the client's address in (e.g. X-Forwarded-For):
    $MKTSALES_CLIENT_IP_HEADER, else None (the connection's own address). Set it only behind a
    proxy that overwrites the header, or anyone can claim any address."""
    return os.environ.get("MKTSALES_CLIENT_IP_HEADER") or None
