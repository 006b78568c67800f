"""Accounts, sign-in, sessions and the audit trail, without the UI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mktsales import accounts
from mktsales.access import PERMISSIONS, ROLES, AccessDenied, User, can
from mktsales.accounts import AccountError
from mktsales.audit import Actor, AuditMissing, AuditReadOnly
from mktsales.db import Database
from tests.conftest import TESTER, load_tiny

PW = "s3cret-enough"
T0 = dt.datetime(2026, 3, 31, 9, 0)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "a.duckdb") as opened:
        load_tiny(opened)
        accounts.create_user(
            opened, TESTER, "Nora", "Nora Li", "sales_head", regions=["north", "east"], password=PW
        )
        accounts.create_user(opened, TESTER, "root", "Root", "admin", password=PW)
        yield opened


def audit_rows(db: Database, action: str) -> list[tuple]:
    return db.rows(
        "SELECT actor, entity, entity_id, before, after FROM audit_log WHERE action = ? ORDER BY 1", [action]
    )


def test_the_password_is_stored_only_as_an_argon2id_hash(db: Database, tmp_path: Path) -> None:
    stored = db.scalar("SELECT password_hash FROM users WHERE username = 'nora'")
    assert stored.startswith("$argon2id$") and PW not in stored
    created = audit_rows(db, "create")
    assert all(PW not in json.dumps(row, default=str) and "$argon2" not in str(row) for row in created)
    db.close()
    raw = (tmp_path / "a.duckdb").read_bytes()
    assert PW.encode() not in raw and PW.encode("utf-16-le") not in raw


def test_sign_in_is_case_insensitive_on_the_username_and_opens_a_session(db: Database) -> None:
    user, token = accounts.sign_in(db, "  NORA ", PW, now=T0)
    assert (user.username, user.role, user.regions, user.allowed_regions) == (
        "nora",
        "sales_head",
        (1, 2),
        (1, 2),
    )
    assert accounts.resolve(db, token, now=T0 + dt.timedelta(hours=1)) == user
    # only the token's hash is kept
    assert db.scalar("SELECT count(*) FROM sessions WHERE token_hash = ?", [token]) == 0


def test_every_failure_looks_the_same(db: Database) -> None:
    keys = []
    for username, password in (("nora", "wrong-password"), ("nobody", PW), ("nobody", "x")):
        with pytest.raises(AccountError) as failed:
            accounts.sign_in(db, username, password, now=T0)
        keys.append((failed.value.key, failed.value.params))
    assert keys == [("signin.failed", {})] * 3


def test_five_failures_lock_the_account_for_fifteen_minutes(db: Database) -> None:
    for _ in range(4):
        with pytest.raises(AccountError):
            accounts.sign_in(db, "nora", "wrong-password", now=T0)
    assert db.scalar("SELECT failed_attempts FROM users WHERE username = 'nora'") == 4
    with pytest.raises(AccountError):
        accounts.sign_in(db, "nora", "wrong-password", now=T0)  # the fifth
    assert db.scalar("SELECT locked_until FROM users WHERE username = 'nora'") == T0 + dt.timedelta(
        minutes=15
    )
    with pytest.raises(AccountError) as locked:  # the right password does not open a locked account
        accounts.sign_in(db, "nora", PW, now=T0 + dt.timedelta(minutes=14))
    assert locked.value.key == "signin.failed"
    user, _ = accounts.sign_in(db, "nora", PW, now=T0 + dt.timedelta(minutes=15, seconds=1))
    assert user.username == "nora"
    assert db.scalar("SELECT failed_attempts FROM users WHERE username = 'nora'") == 0
    assert [r[:3] for r in audit_rows(db, "locked")] == [("anonymous", "users", "1")]


def test_lockout_settings_come_from_the_environment(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MKTSALES_LOCKOUT_ATTEMPTS", "2")
    monkeypatch.setenv("MKTSALES_LOCKOUT_MINUTES", "1")
    for _ in range(2):
        with pytest.raises(AccountError):
            accounts.sign_in(db, "nora", "wrong-password", now=T0)
    assert db.scalar("SELECT locked_until FROM users WHERE username = 'nora'") == T0 + dt.timedelta(minutes=1)


def test_a_session_expires_after_twelve_hours_and_sign_out_ends_it(db: Database) -> None:
    _, token = accounts.sign_in(db, "nora", PW, now=T0)
    assert accounts.resolve(db, token, now=T0 + dt.timedelta(hours=11, minutes=59)) is not None
    assert accounts.resolve(db, token, now=T0 + dt.timedelta(hours=12)) is None
    _, other = accounts.sign_in(db, "nora", PW, now=T0)
    accounts.sign_out(db, other)
    assert accounts.resolve(db, other, now=T0) is None
    assert accounts.resolve(db, "forged-token", now=T0) is None


def test_session_lifetime_is_configurable(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MKTSALES_SESSION_HOURS", "1")
    _, token = accounts.sign_in(db, "nora", PW, now=T0)
    assert accounts.resolve(db, token, now=T0 + dt.timedelta(minutes=61)) is None


def test_deactivation_and_a_password_reset_end_open_sessions(db: Database) -> None:
    _, first = accounts.sign_in(db, "nora", PW, now=T0)
    _, second = accounts.sign_in(db, "nora", PW, now=T0)
    user = accounts.resolve(db, first, now=T0)
    accounts.change_own_password(db, user, PW, "new-password-1", token=first)
    assert accounts.resolve(db, first, now=T0) is not None  # the tab that changed it stays in
    assert accounts.resolve(db, second, now=T0) is None
    accounts.update_user(db, TESTER, "nora", active=False)
    assert accounts.resolve(db, first, now=T0) is None
    with pytest.raises(AccountError):
        accounts.sign_in(db, "nora", "new-password-1", now=T0)


def test_own_password_change_needs_the_current_one(db: Database) -> None:
    user = accounts.find_user(db, "nora")
    with pytest.raises(AccountError) as wrong:
        accounts.change_own_password(db, user, "not-it", "new-password-1")
    assert wrong.value.key == "account.current_password_wrong"
    with pytest.raises(AccountError) as short:
        accounts.change_own_password(db, user, PW, "short")
    assert short.value.key == "account.password_short"


def test_role_and_region_rules(db: Database) -> None:
    with pytest.raises(AccountError) as no_regions:
        accounts.create_user(db, TESTER, "rep1", "Rep", "sales_rep")
    assert no_regions.value.key == "account.regions_required"
    with pytest.raises(AccountError) as unknown:
        accounts.create_user(db, TESTER, "rep1", "Rep", "sales_rep", regions=["atlantis"])
    assert unknown.value.params == {"codes": "atlantis"}
    with pytest.raises(AccountError) as taken:
        accounts.create_user(db, TESTER, "NORA", "Again", "sales_rep", regions=["north"])
    assert taken.value.key == "account.username_taken"
    accounts.create_user(db, TESTER, "boss", "Boss", "executive")
    assert accounts.find_user(db, "boss").allowed_regions is None
    with pytest.raises(AccountError):  # an executive made a head must be given regions
        accounts.update_user(db, TESTER, "boss", role="sales_head")
    accounts.update_user(db, TESTER, "boss", role="sales_head", regions=["south"])
    assert accounts.find_user(db, "boss").allowed_regions == (3,)


def test_the_last_admin_stays(db: Database) -> None:
    with pytest.raises(AccountError) as last:
        accounts.update_user(db, TESTER, "root", active=False)
    assert last.value.key == "account.last_admin"
    with pytest.raises(AccountError):
        accounts.update_user(db, TESTER, "root", role="executive")
    accounts.create_user(db, TESTER, "root2", "Root 2", "admin", password=PW)
    accounts.update_user(db, TESTER, "root", active=False)
    assert accounts.find_user(db, "root") is None


def test_an_update_audits_who_and_exactly_what_changed(db: Database) -> None:
    accounts.update_user(db, Actor("root", 2), "nora", role="sales_rep", regions=["east"])
    rows = db.rows("SELECT actor, user_id, entity, entity_id, action, before, after FROM audit_log "
                   "WHERE actor = 'root' ORDER BY audit_id")  # fmt: skip
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ("root", 2, "users", "1", "update"),
        ("root", 2, "user_regions", "1", "set"),
    ]
    assert (json.loads(rows[0][5]), json.loads(rows[0][6])) == ({"role": "sales_head"}, {"role": "sales_rep"})
    assert (json.loads(rows[1][5]), json.loads(rows[1][6])) == ({"regions": [1, 2]}, {"regions": [2]})


def test_a_write_without_an_audit_entry_is_rolled_back(db: Database) -> None:
    version = db.version()
    with pytest.raises(AuditMissing):
        db.write(lambda tx: tx.execute("INSERT INTO categories VALUES (9, 'tea', '茶', 'Tea')"), by=TESTER)
    assert db.scalar("SELECT count(*) FROM categories WHERE category_id = 9") == 0
    assert db.version() == version


def test_the_audit_log_cannot_be_changed_through_the_write_path(db: Database) -> None:
    before = db.scalar("SELECT count(*) FROM audit_log")
    for sql in ("DELETE FROM audit_log", "UPDATE audit_log SET actor = 'x'", "DROP TABLE Audit_Log"):
        with pytest.raises(AuditReadOnly):
            db.write(lambda tx, sql=sql: (tx.audit("x", None, "x"), tx.execute(sql)), by=TESTER)
    assert db.scalar("SELECT count(*) FROM audit_log") == before


def test_permissions_table_is_complete_and_roles_are_known() -> None:
    assert all(set(roles) <= set(ROLES) for roles in PERMISSIONS.values())
    assert can("marketing_head", "promotion.decide") and not can("sales_head", "promotion.decide")
    assert can("admin", "users.manage") and not can("executive", "users.manage")
    assert not can("admin", "no.such.permission")
    rep = User(1, "r", "R", "sales_rep", (1,), False)
    with pytest.raises(AccessDenied):
        rep.require("page.overview")
    with pytest.raises(AccessDenied):
        rep.require_region(2)
    rep.require_region(1)


def test_single_sign_on_matches_one_active_account_by_email(db: Database) -> None:
    accounts.update_user(db, TESTER, "nora", email="Nora.Li@Example.cn")
    user, token = accounts.sign_in_sso(db, "nora.li@example.CN", verified=True, now=T0)
    assert user.username == "nora" and accounts.resolve(db, token, now=T0) == user
    assert accounts.sign_in_sso(db, "stranger@example.cn", verified=True, now=T0) is None
    with pytest.raises(AccountError) as clash:
        accounts.update_user(db, TESTER, "root", email="nora.li@example.cn")
    assert clash.value.key == "account.email_taken"
