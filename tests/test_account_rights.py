"""Who may change accounts, what single sign-on trusts, and where a change came from (issue 23)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from mktsales import accounts
from mktsales.accounts import ANONYMOUS, AccountError
from mktsales.audit import Actor
from mktsales.db import Database
from tests.conftest import TESTER, load_tiny

PW = "s3cret-enough"
T0 = dt.datetime(2026, 3, 31, 9, 0)
NORA, ROOT = Actor("nora", 1), Actor("root", 2)  # user_ids in the order created below


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "r.duckdb") as opened:
        load_tiny(opened)
        accounts.create_user(opened, TESTER, "nora", "Nora Li", "sales_head", regions=["north"], password=PW)
        accounts.create_user(opened, TESTER, "root", "Root", "admin", password=PW)
        yield opened


def refused(call) -> str:
    with pytest.raises(AccountError) as refusal:
        call()
    return refusal.value.key


def test_only_an_admin_or_the_operator_may_change_accounts(db: Database) -> None:
    before = db.scalar("SELECT count(*) FROM audit_log")
    strangers = (NORA, ANONYMOUS, Actor("mallory"), Actor("root"), Actor("system-ish", 1))
    for who in strangers:  # a non-admin, the sign-in form, names without an account or id
        assert refused(lambda who=who: accounts.create_user(db, who, "eve", "Eve", "admin", password=PW)) == (
            "account.not_admin"
        )
        assert (
            refused(lambda who=who: accounts.update_user(db, who, "nora", role="admin"))
            == "account.not_admin"
        )
        assert refused(lambda who=who: accounts.set_password(db, who, "root", "taken-over-1")) == (
            "account.not_admin"
        )
        assert refused(lambda who=who: accounts.unlock(db, who, "nora")) == "account.not_admin"
    assert db.scalar("SELECT count(*) FROM users") == 2
    assert db.scalar("SELECT role FROM users WHERE username = 'nora'") == "sales_head"
    assert db.scalar("SELECT count(*) FROM audit_log") == before  # nothing was written

    accounts.create_user(db, ROOT, "eve", "Eve", "sales_rep", regions=["east"])  # an admin may
    accounts.update_user(db, Actor("cli:ops"), "eve", display_name="Eve A.")  # so may the command line
    accounts.unlock(db, Actor("system:demo"), "eve")  # and the system
    assert accounts.find_user(db, "eve").display_name == "Eve A."


def test_an_admin_who_lost_the_role_may_no_longer_change_accounts(db: Database) -> None:
    accounts.create_user(db, ROOT, "ada", "Ada", "admin", password=PW)
    ada = Actor("ada", accounts.find_user(db, "ada").user_id)
    accounts.update_user(db, ada, "nora", display_name="Nora L.")
    accounts.update_user(db, ROOT, "ada", role="executive")
    assert refused(lambda: accounts.update_user(db, ada, "nora", display_name="x")) == "account.not_admin"
    accounts.update_user(db, ROOT, "ada", role="admin", active=False)
    assert refused(lambda: accounts.unlock(db, ada, "nora")) == "account.not_admin"


def test_a_user_still_changes_their_own_password_with_the_current_one(db: Database) -> None:
    nora = accounts.find_user(db, "nora")
    accounts.change_own_password(db, nora, PW, "new-password-1")
    assert accounts.sign_in(db, "nora", "new-password-1", now=T0)[0].username == "nora"


def test_single_sign_on_refuses_an_address_the_provider_did_not_verify(db: Database) -> None:
    accounts.update_user(db, TESTER, "root", email="root@example.cn")
    sessions = db.scalar("SELECT count(*) FROM sessions")
    with pytest.raises(AccountError) as unverified:
        accounts.sign_in_sso(db, "root@example.cn", verified=False, now=T0)
    assert (unverified.value.key, unverified.value.params) == (
        "signin.sso_unverified",
        {"email": "root@example.cn"},
    )
    assert db.scalar("SELECT count(*) FROM sessions") == sessions
    user, _ = accounts.sign_in_sso(db, "root@example.cn", verified=True, now=T0, client="198.51.100.9")
    assert user.username == "root"


def test_sign_in_attempts_and_web_writes_record_the_client_address(db: Database) -> None:
    with pytest.raises(AccountError):
        accounts.sign_in(db, "nora", "wrong-password", now=T0, client="203.0.113.7")
    user, _ = accounts.sign_in(db, "nora", PW, now=T0, client="198.51.100.2")
    admin, _ = accounts.sign_in(db, "root", PW, now=T0)  # a local connection: no address
    web_admin = dataclasses.replace(admin, client_ip="2001:db8::5")  # as the web app hands it on
    accounts.update_user(db, accounts.actor(web_admin), "nora", display_name="Nora L.")
    accounts.set_password(db, Actor("cli:ops"), "nora", "another-password")
    rows = db.rows(
        "SELECT actor, entity, action, client_ip FROM audit_log"
        " WHERE entity = 'sessions' OR actor IN ('anonymous', 'root', 'cli:ops') ORDER BY audit_id"
    )
    assert rows == [
        ("anonymous", "users", "sign_in_attempt", "203.0.113.7"),
        ("anonymous", "users", "sign_in_failed", "203.0.113.7"),
        ("anonymous", "users", "sign_in_attempt", "198.51.100.2"),
        ("nora", "sessions", "sign_in", "198.51.100.2"),
        ("anonymous", "users", "sign_in_attempt", None),
        ("root", "sessions", "sign_in", None),
        ("root", "users", "update", "2001:db8::5"),
        ("cli:ops", "users", "set_password", None),
    ]
    assert user.client_ip is None  # the User from the database knows no request
