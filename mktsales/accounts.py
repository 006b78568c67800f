"""Accounts: passwords (argon2id), sign-in with lockout, server-side sessions, administration.

Nothing here trusts the browser. The browser keeps a random session token in a cookie; the
database keeps only its SHA-256, the expiry and whether it was revoked, and every request
resolves the token to the account afresh, so a deactivated user or a changed role takes effect
on the next click. Failed sign-ins lock the account for a while, and the one message a failure
shows is the same whether the username exists, the password is wrong or the account is locked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from typing import Any

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mktsales import config, lockout, ratelimit
from mktsales.access import ALL_REGION_ROLES, ROLES, User
from mktsales.audit import Actor, Tx
from mktsales.db import Database

_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters (64 MiB each)
# Verified against when the username is unknown, so a failure takes as long either way.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 8
ANONYMOUS = Actor("anonymous")
log = logging.getLogger(__name__)


class AccountError(ValueError):
    """A refusal a person can act on: ``key`` is its message in the translation table."""

    def __init__(self, key: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.params = params or {}

    def __str__(self) -> str:
        from mktsales.i18n import t

        return t(self.key, "en", **self.params)


def _now() -> dt.datetime:
    return dt.datetime.now()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; the clear text is never stored)."""
    _check_password(password)
    try:
        with ratelimit.hashing().hold():
            return _HASHER.hash(password)
    except ratelimit.Busy:
        raise AccountError("account.busy") from None


def _verify(stored: str | None, password: str) -> bool:
    """Check ``password`` against ``stored`` (None: against a dummy hash, as long, never true),
    in a slot of the hashing gate; ratelimit.Busy when none is to be had."""
    with ratelimit.hashing().hold():
        try:
            return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("account.password_short", {"n": MIN_PASSWORD})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- reading accounts ---------------------------------------------------------------------------
_USER_COLUMNS = "user_id, username, display_name, role, all_regions, person_id, email"


def _user(db: Database | Tx, row: tuple[Any, ...]) -> User:
    user_id, username, name, role, all_regions, person_id, email = row
    sql = "SELECT region_id FROM user_regions WHERE user_id = ? ORDER BY region_id"
    if isinstance(db, Tx):
        regions = [r for (r,) in db.execute(sql, [user_id]).fetchall()]
    else:
        regions = [r for (r,) in db.rows(sql, [user_id])]
    return User(user_id, username, name, role, tuple(regions), bool(all_regions), person_id, email)


def find_user(db: Database, username: str) -> User | None:
    """The active account called ``username`` (any case), or None."""
    rows = db.rows(
        f"SELECT {_USER_COLUMNS} FROM users WHERE username = ? AND active", [username.strip().lower()]
    )
    return _user(db, rows[0]) if rows else None


def find_by_email(db: Database, email: str) -> User | None:
    """The active account with this e-mail address (any case), for single sign-on; None if not one."""
    rows = db.rows(
        f"SELECT {_USER_COLUMNS} FROM users WHERE lower(email) = ? AND active", [email.strip().lower()]
    )
    return _user(db, rows[0]) if len(rows) == 1 else None


def list_users(db: Database) -> pd.DataFrame:
    """Every account with its regions (codes), newest last; no password hashes."""
    return db.query(
        """
        SELECT u.user_id, u.username, u.display_name, u.email, u.role, u.all_regions,
               coalesce(list(r.code ORDER BY r.region_id) FILTER (WHERE r.code IS NOT NULL), []) AS regions,
               u.person_id, u.active, u.locked_until, u.failed_attempts, u.demo, u.created_at
        FROM users u
        LEFT JOIN user_regions ur USING (user_id)
        LEFT JOIN regions r USING (region_id)
        GROUP BY ALL
        ORDER BY u.user_id
        """
    )


def has_accounts(db: Database) -> bool:
    return bool(db.scalar("SELECT count(*) FROM users WHERE active"))


# -- signing in -----------------------------------------------------------------------------------
def sign_in(
    db: Database,
    username: str,
    password: str,
    *,
    now: dt.datetime | None = None,
    client: str | None = None,
) -> tuple[User, str]:
    """Check a password and open a session; returns the user and the token for the cookie.

    Every failure raises the same AccountError("signin.failed"): unknown name, wrong password,
    inactive or locked account look alike, and cost the same password check. ``lockout_attempts()``
    failures in a row lock the account for ``lockout_minutes()``; a correct password does not open
    a locked account, and parallel attempts cannot get more tries than that (mktsales.lockout).

    ``client`` is the address the attempt came from (None when unknown): it goes into the audit
    trail, and failed attempts per name and per address are limited (mktsales.ratelimit), as is the
    number of password checks at once; those refusals raise AccountError("signin.too_many"), which
    is about the client, not the account.
    """
    now = now or _now()
    name = username.strip().lower()
    ticket = ratelimit.sign_in_limits().admit(name, client)
    if ticket is None:
        log.warning("sign-in refused: too many failed attempts for %r or from %s", name, client)
        raise AccountError("signin.too_many")
    try:
        opened = _check_and_open(db, name, password, now, client)
    except ratelimit.Busy:
        log.warning("sign-in refused: every password-check slot is busy (%r from %s)", name, client)
        raise AccountError("signin.too_many") from None
    ratelimit.sign_in_limits().forgive(ticket)
    return opened


def _check_and_open(
    db: Database, name: str, password: str, now: dt.datetime, client: str | None
) -> tuple[User, str]:
    """sign_in's work, once admitted: count the attempt, check the password, open a session."""
    found = db.rows("SELECT user_id FROM users WHERE username = ? AND active", [name])
    attempt = lockout.reserve(db, found[0][0], now, Actor(ANONYMOUS.name, ip=client)) if found else None
    if attempt is None:  # unknown, inactive or locked
        _verify(None, password)  # the same work as a real check
        raise AccountError("signin.failed")
    try:
        correct = _verify(attempt.stored, password)
    except ratelimit.Busy:  # counted but not checked: a failure, as a lost connection would be
        correct = None
    if not correct:
        lockout.failed(db, attempt, now, Actor(ANONYMOUS.name, ip=client))
        if correct is None:
            raise ratelimit.Busy("no slot to check the password")
        raise AccountError("signin.failed")
    rehashed = None
    if _HASHER.check_needs_rehash(attempt.stored):  # hashed outside the write lock
        try:
            with ratelimit.hashing().hold():
                rehashed = _HASHER.hash(password)
        except ratelimit.Busy:
            pass  # another time
    user_id = attempt.user_id

    def work(tx: Tx) -> tuple[User, str]:
        user = _user(
            tx, tx.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = ?", [user_id]).fetchone()
        )
        lockout.clear(tx, user_id)
        if rehashed is not None:
            tx.execute("UPDATE users SET password_hash = ? WHERE user_id = ?", [rehashed, user_id])
        return user, _open_session(tx, user_id, "password", now)

    return db.write(work, by=Actor(name, user_id, client), data=False)


def _open_session(tx: Tx, user_id: int, method: str, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(hours=config.session_hours())
    tx.execute(
        "INSERT INTO sessions (token_hash, user_id, method, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        [_token_hash(token), user_id, method, now, expires],
    )
    tx.audit("sessions", user_id, "sign_in", after={"method": method, "expires_at": expires})
    return token


def sign_in_sso(
    db: Database,
    email: str,
    *,
    verified: bool,
    now: dt.datetime | None = None,
    client: str | None = None,
) -> tuple[User, str] | None:
    """Open a session for the account matching a single-sign-on identity's e-mail, if exactly one.

    Only an address the identity provider says it verified (the OIDC ``email_verified`` claim)
    is trusted: anyone can put someone else's address on an account at many providers.
    Unverified raises AccountError("signin.sso_unverified").
    """
    if not verified:
        raise AccountError("signin.sso_unverified", {"email": email})
    user = find_by_email(db, email)
    if user is None:
        return None
    now = now or _now()
    token = db.write(
        lambda tx: _open_session(tx, user.user_id, "sso", now),
        by=Actor(user.username, user.user_id, client),
        data=False,
    )
    return user, token


def resolve(db: Database, token: str | None, *, now: dt.datetime | None = None) -> User | None:
    """The account a session token belongs to, while the session and the account are valid."""
    if not token:
        return None
    rows = db.rows(
        f"""
        SELECT {", ".join("u." + c.strip() for c in _USER_COLUMNS.split(","))}
        FROM sessions s JOIN users u USING (user_id)
        WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.active
        """,
        [_token_hash(token), now or _now()],
    )
    return _user(db, rows[0]) if rows else None


def sign_out(db: Database, token: str | None, *, now: dt.datetime | None = None) -> None:
    """Revoke a session so its cookie no longer signs anyone in."""
    if not token:
        return
    digest = _token_hash(token)
    rows = db.rows(
        "SELECT user_id, username FROM sessions JOIN users USING (user_id) WHERE token_hash = ?", [digest]
    )
    if not rows:
        return
    user_id, username = rows[0]

    def work(tx: Tx) -> None:
        tx.execute("UPDATE sessions SET revoked_at = ? WHERE token_hash = ?", [now or _now(), digest])
        tx.audit("sessions", user_id, "sign_out")

    db.write(work, by=Actor(username, user_id), data=False)


# -- administration -------------------------------------------------------------------------------
def _region_ids(tx: Tx, codes: list[str] | tuple[str, ...]) -> list[int]:
    wanted = list(dict.fromkeys(c.strip().lower() for c in codes))
    found = dict(
        tx.execute(
            "SELECT code, region_id FROM regions WHERE code IN (SELECT unnest(?))", [wanted]
        ).fetchall()
    )
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise AccountError("account.unknown_region", {"codes": ", ".join(unknown)})
    return [found[c] for c in wanted]


def _check_role_regions(role: str, regions: list[int], all_regions: bool) -> None:
    if role not in ROLES:
        raise AccountError("account.unknown_role", {"role": role, "roles": ", ".join(ROLES)})
    if role not in ALL_REGION_ROLES and not all_regions and not regions:
        raise AccountError("account.regions_required")


def _set_regions(tx: Tx, user_id: int, region_ids: list[int]) -> None:
    before = [
        r
        for (r,) in tx.execute(
            "SELECT region_id FROM user_regions WHERE user_id = ? ORDER BY region_id", [user_id]
        ).fetchall()
    ]
    after = sorted(region_ids)
    if before == after:
        return
    tx.execute("DELETE FROM user_regions WHERE user_id = ?", [user_id])
    tx.executemany("INSERT INTO user_regions VALUES (?, ?)", [[user_id, r] for r in after])
    tx.audit("user_regions", user_id, "set", {"regions": before}, {"regions": after})


def _id_of(tx: Tx, username: str) -> int:
    found = tx.execute("SELECT user_id FROM users WHERE username = ?", [username.strip().lower()]).fetchone()
    if found is None:
        raise AccountError("account.unknown_user", {"username": username})
    return found[0]


def _require_admin(db: Database | Tx, by: Actor) -> None:
    """Refuse account administration by anyone but an active admin, or the operator (the command
    line and the system, who hold the database file itself: Actor.operator). Checked inside the
    write too, so a role taken away a moment ago counts."""
    if by.operator:
        return
    sql = "SELECT count(*) FROM users WHERE user_id = ? AND role = 'admin' AND active"
    if by.user_id is not None:
        found = (
            db.execute(sql, [by.user_id]).fetchone()[0]
            if isinstance(db, Tx)
            else db.scalar(sql, [by.user_id])
        )
        if found:
            return
    raise AccountError("account.not_admin")


def create_user(
    db: Database,
    by: Actor,
    username: str,
    display_name: str,
    role: str,
    *,
    regions: list[str] | tuple[str, ...] = (),
    all_regions: bool = False,
    password: str | None = None,
    email: str | None = None,
    person_id: int | None = None,
    demo: bool = False,
) -> int:
    """Create an account; regions are codes. Returns the new user_id. Admins and the operator only."""
    _require_admin(db, by)
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise AccountError("account.bad_username")
    if not display_name.strip():
        raise AccountError("account.name_required")
    password_hash = hash_password(password) if password is not None else None
    email = (email or "").strip() or None

    def work(tx: Tx) -> int:
        _require_admin(tx, by)
        region_ids = _region_ids(tx, regions)
        _check_role_regions(role, region_ids, all_regions)
        if tx.execute("SELECT count(*) FROM users WHERE username = ?", [name]).fetchone()[0]:
            raise AccountError("account.username_taken", {"username": name})
        _check_email(tx, email, None)
        user_id = tx.insert(
            "users",
            {
                "username": name,
                "display_name": display_name.strip(),
                "email": email,
                "role": role,
                "all_regions": all_regions or role in ALL_REGION_ROLES,
                "person_id": person_id,
                "password_hash": password_hash,
                "demo": demo,
                "password_changed_at": _now() if password_hash else None,
            },
            "user_id",
        )
        _set_regions(tx, user_id, region_ids)
        return user_id

    return db.write(work, by=by, data=False)


def _check_email(tx: Tx, email: str | None, user_id: int | None) -> None:
    if email is None:
        return
    if "@" not in email:
        raise AccountError("account.bad_email", {"email": email})
    clash = tx.execute(
        "SELECT username FROM users WHERE lower(email) = lower(?) AND user_id IS DISTINCT FROM ?",
        [email, user_id],
    ).fetchone()
    if clash:
        raise AccountError("account.email_taken", {"email": email, "username": clash[0]})


def _active_admins(tx: Tx) -> int:
    return tx.execute("SELECT count(*) FROM users WHERE role = 'admin' AND active").fetchone()[0]


def update_user(
    db: Database,
    by: Actor,
    username: str,
    *,
    role: str | None = None,
    regions: list[str] | tuple[str, ...] | None = None,
    all_regions: bool | None = None,
    display_name: str | None = None,
    email: str | None = None,
    active: bool | None = None,
) -> None:
    """Change an account's role, regions, name, e-mail or active flag; None leaves a field as it is.

    The last active admin cannot lose the role or be deactivated (nobody could manage accounts).
    Deactivating also ends the account's open sessions. Admins and the operator only.
    """

    def work(tx: Tx) -> None:
        _require_admin(tx, by)
        user_id = _id_of(tx, username)
        current = tx.row("users", "user_id", user_id)
        new_role = role or current["role"]
        new_all = current["all_regions"] if all_regions is None else all_regions
        if all_regions is None and current["role"] in ALL_REGION_ROLES and new_role not in ALL_REGION_ROLES:
            new_all = False  # an executive made a head sees only the regions now given
        new_all = new_all or new_role in ALL_REGION_ROLES
        if regions is None:
            region_ids = [
                r
                for (r,) in tx.execute(
                    "SELECT region_id FROM user_regions WHERE user_id = ?", [user_id]
                ).fetchall()
            ]
        else:
            region_ids = _region_ids(tx, regions)
        _check_role_regions(new_role, region_ids, new_all)
        losing_admin = (
            current["role"] == "admin" and current["active"] and (new_role != "admin" or active is False)
        )
        if losing_admin and _active_admins(tx) <= 1:
            raise AccountError("account.last_admin")
        changes: dict[str, Any] = {"role": new_role, "all_regions": new_all}
        if display_name is not None:
            if not display_name.strip():
                raise AccountError("account.name_required")
            changes["display_name"] = display_name.strip()
        if email is not None:
            changes["email"] = email.strip() or None
            _check_email(tx, changes["email"], user_id)
        if active is not None:
            changes["active"] = active
        changes = {k: v for k, v in changes.items() if current[k] != v}
        if changes:
            tx.update("users", "user_id", user_id, changes)
        if regions is not None:
            _set_regions(tx, user_id, region_ids)
        if active is False:
            tx.execute(
                "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                [_now(), user_id],
            )
        if not tx.entries:
            tx.audit("users", user_id, "unchanged")

    db.write(work, by=by, data=False)


def set_password(
    db: Database, by: Actor, username: str, password: str, *, keep_token: str | None = None
) -> None:
    """An admin's (or the operator's) reset of someone's password: unlocks the account and ends
    its open sessions, except ``keep_token``. A user's own change is change_own_password."""
    _require_admin(db, by)
    _store_password(db, by, username, hash_password(password), keep_token, admin=True)


def _store_password(
    db: Database, by: Actor, username: str, password_hash: str, keep_token: str | None, *, admin: bool
) -> None:
    def work(tx: Tx) -> None:
        if admin:
            _require_admin(tx, by)
        user_id = _id_of(tx, username)
        tx.update(
            "users",
            "user_id",
            user_id,
            {"password_hash": password_hash, "password_changed_at": _now(), "failed_attempts": 0,
             "locked_until": None},
            "set_password",
        )  # fmt: skip
        tx.execute(
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
            " AND token_hash IS DISTINCT FROM ?",
            [_now(), user_id, _token_hash(keep_token) if keep_token else None],
        )

    db.write(work, by=by, data=False)


def change_own_password(db: Database, user: User, current: str, new: str, token: str | None = None) -> None:
    """A signed-in user's own change: the current password must be right. Other sessions end."""
    stored = db.scalar("SELECT password_hash FROM users WHERE user_id = ?", [user.user_id])
    try:
        right = _verify(stored, current)
    except ratelimit.Busy:
        raise AccountError("account.busy") from None
    if not right:
        raise AccountError("account.current_password_wrong")
    _store_password(db, actor(user), user.username, hash_password(new), token, admin=False)


def unlock(db: Database, by: Actor, username: str) -> None:
    """Lift a lockout before it expires. Admins and the operator only."""

    def work(tx: Tx) -> None:
        _require_admin(tx, by)
        tx.update(
            "users", "user_id", _id_of(tx, username), {"failed_attempts": 0, "locked_until": None}, "unlock"
        )

    db.write(work, by=by, data=False)


def actor(user: User) -> Actor:
    """The audit trail's name for a signed-in user, with the address of the request if known."""
    return Actor(user.username, user.user_id, user.client_ip)


# -- demo accounts --------------------------------------------------------------------------------
DEMO_PASSWORD = "demo1234"  # published in the README: demo databases only


def add_demo_accounts(db: Database) -> list[str]:
    """One account per role on a demo database (password DEMO_PASSWORD); returns the usernames.

    Heads, staff and reps are linked to the demo's people of their region.
    """

    def person(department: str, title: str, region: str | None) -> int | None:
        return db.scalar(
            "SELECT min(person_id) FROM people LEFT JOIN regions USING (region_id) "
            "WHERE department = ? AND title = ? AND code IS NOT DISTINCT FROM ?",
            [department, title, region],
        )

    accounts = [
        ("admin", "演示管理员 Demo admin", "admin", (), None),
        ("ceo", "演示总经理 Demo executive", "executive", (), None),
        (
            "mkt.head",
            "演示市场总监 Demo marketing head",
            "marketing_head",
            (),
            person("marketing", "head", None),
        ),
        (
            "sales.north",
            "演示北方销售总监 Demo sales head North",
            "sales_head",
            ("north", "northeast"),
            person("sales", "head", "north"),
        ),
        (
            "sales.east",
            "演示华东销售经理 Demo sales head East",
            "sales_head",
            ("east",),
            person("sales", "head", "east"),
        ),
        (
            "mkt.south",
            "演示华南市场专员 Demo marketing staff South",
            "marketing_staff",
            ("south",),
            person("marketing", "staff", "south"),
        ),
        (
            "rep.east",
            "演示华东销售代表 Demo sales rep East",
            "sales_rep",
            ("east",),
            person("sales", "rep", "east"),
        ),
    ]
    by = Actor("system:demo")
    for username, name, role, regions, person_id in accounts:
        create_user(
            db,
            by,
            username,
            name,
            role,
            regions=regions,
            all_regions=role == "marketing_head",
            password=DEMO_PASSWORD,
            person_id=person_id,
            demo=True,
        )
    return [a[0] for a in accounts]
