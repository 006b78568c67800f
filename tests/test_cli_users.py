"""The command line's accounts (users ...) and reports as an account sees them (kpis --as-user)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from mktsales import accounts, cli
from mktsales.cli import main
from mktsales.db import Database
from tests.conftest import write_sql

MARCH = ("--from", "2026-03-01", "--to", "2026-04-01")
MARCH_DATES = ("2026-03-01", "2026-04-01")
# March's previous period: South has a lead and an activity in it, so leads and reach differ there.
BEFORE = ("--from", "2026-01-29", "--to", "2026-03-01")
BEFORE_DATES = ("2026-01-29", "2026-03-01")
NORTH_EAST = (1, 2)  # region_id of 'north' and 'east' in tests/fixtures/tiny.sql
EVERY_REGION = (1, 2, 3)


class Terminal(io.StringIO):
    """A stdin that says it is a terminal, so the CLI prompts (getpass is patched in the test)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default stdin is empty and not a terminal, as in a script; tests feed it when they need to."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def feed(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def users(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> tuple[int, str, str]:
    """``users SUBCOMMAND ...`` on the file at ``path``."""
    return run(capsys, "users", *argv, "--db", str(path))


def listed(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, dict]:
    code, out, _ = users(capsys, path, "list", "--json")
    assert code == 0
    return {row["username"]: row for row in json.loads(out)}


def file_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, if any, as they lie on disk."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}.wal")) if p.exists())


# -- users: the round trip ------------------------------------------------------------------------------
def test_add_list_set_password_deactivate_unlock_round_trip(
    tiny_file: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = "Erste-Geheim-1", "Zweite-Geheim-2"
    feed(monkeypatch, first + "\n")
    argv = ("add", "Alice", "--role", "sales_head", "--region", "north", "--region", "East China")
    code, out, err = users(
        capsys, tiny_file, *argv, "--name", "王芳", "--email", "a@x.cn", "--password-stdin"
    )
    assert (code, err) == (0, "")
    assert out == "created alice (王芳): sales_head, regions north, east; password set\n"

    code, out, _ = users(capsys, tiny_file, "list")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["username", "name", "role", "regions", "active", "locked", "until"]
    assert row.split() == ["alice", "王芳", "sales_head", "north,", "east", "yes", "-"]

    rows = listed(capsys, tiny_file)
    alice = rows["alice"]
    assert (alice["role"], alice["regions"], alice["all_regions"], alice["email"]) == (
        "sales_head",
        ["north", "east"],
        False,
        "a@x.cn",
    )
    assert not [key for key in alice if "hash" in key or "password" in key]

    argv = ("set", "alice", "--role", "marketing_staff", "--region", "south", "--name", "Alice Wang")
    code, out, _ = users(capsys, tiny_file, *argv)
    assert (code, out) == (0, "updated alice (Alice Wang): marketing_staff, regions south\n")
    code, out, _ = users(capsys, tiny_file, "set", "alice", "--all-regions")
    assert code == 0 and "all regions" in out
    code, out, _ = users(capsys, tiny_file, "set", "alice", "--no-all-regions")
    assert code == 0 and out.endswith("marketing_staff, regions south\n")

    feed(monkeypatch, second + "\n")
    code, out, _ = users(capsys, tiny_file, "set-password", "alice", "--password-stdin")
    assert (code, out) == (0, "password set for alice; any lockout is lifted\n")

    with Database(tiny_file) as db:  # lock the account as five wrong passwords would
        write_sql(db, "UPDATE users SET locked_until = TIMESTAMP '2999-01-01 10:30' WHERE username = 'alice'")
    code, out, _ = users(capsys, tiny_file, "list")
    assert "2999-01-01 10:30" in out
    code, out, _ = users(capsys, tiny_file, "unlock", "alice")
    assert (code, out) == (0, "unlocked alice\n")
    assert listed(capsys, tiny_file)["alice"]["locked_until"] is None

    code, out, _ = users(capsys, tiny_file, "deactivate", "alice")
    assert (code, out) == (0, "deactivated alice; its open sessions are ended\n")
    assert listed(capsys, tiny_file)["alice"]["active"] is False
    with Database(tiny_file) as db:
        assert accounts.find_user(db, "alice") is None
    code, out, _ = users(capsys, tiny_file, "set", "alice", "--activate")
    assert code == 0 and "inactive" not in out

    with Database(tiny_file) as db:
        user, _ = accounts.sign_in(db, "alice", second)  # stdin's line, without its newline
        assert user.role == "marketing_staff"
        stored = db.scalar("SELECT password_hash FROM users WHERE username = 'alice'")
    assert stored.startswith("$argon2id$")
    raw = file_bytes(tiny_file)
    for secret in (first, second):
        assert secret.encode() not in raw
        assert secret.encode("utf-16-le") not in raw


def test_list_json_never_contains_a_hash(tiny_file: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    feed(monkeypatch, "Geheim-Passwort\n")
    assert users(capsys, tiny_file, "add", "root", "--role", "admin", "--password-stdin")[0] == 0
    code, out, _ = users(capsys, tiny_file, "list", "--json")
    assert code == 0
    assert "$argon2" not in out and "hash" not in out and "Geheim" not in out
    (row,) = json.loads(out)
    assert row["all_regions"] is True and row["regions"] == []


def test_add_without_a_password_in_a_script_is_single_sign_on_only(tiny_file: Path, capsys) -> None:
    code, out, _ = users(capsys, tiny_file, "add", "sso.user", "--role", "executive", "--email", "s@x.cn")
    assert code == 0
    assert out.startswith("created sso.user (sso.user): executive, all regions; no password: single sign-on")
    with Database(tiny_file) as db:
        assert db.scalar("SELECT password_hash FROM users WHERE username = 'sso.user'") is None


def test_set_password_needs_stdin_or_a_terminal(tiny_file: Path, capsys) -> None:
    users(capsys, tiny_file, "add", "bob", "--role", "executive")
    code, out, err = users(capsys, tiny_file, "set-password", "bob")
    assert code == 2 and out == ""
    assert err.startswith("error: no password given") and "--password-stdin" in err


def test_password_stdin_that_is_empty_is_refused(tiny_file: Path, capsys) -> None:
    code, _, err = users(capsys, tiny_file, "add", "bob", "--role", "executive", "--password-stdin")
    assert code == 2 and "nothing to read on stdin" in err
    assert "bob" not in listed(capsys, tiny_file)


def test_a_short_password_is_refused_and_nothing_is_created(
    tiny_file: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed(monkeypatch, "short\n")
    code, out, err = users(capsys, tiny_file, "add", "bob", "--role", "executive", "--password-stdin")
    assert (code, out) == (2, "")
    assert err == "error: A password needs at least 8 characters.\n"
    assert "bob" not in listed(capsys, tiny_file)


def test_a_terminal_is_asked_twice_and_a_mismatch_changes_nothing(
    tiny_file: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    users(capsys, tiny_file, "add", "bob", "--role", "executive")
    monkeypatch.setattr(sys, "stdin", Terminal(""))
    prompts: list[str] = []

    def answers(*typed: str) -> Iterator[str]:
        replies = iter(typed)
        monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: prompts.append(prompt) or next(replies))
        return replies

    answers("Richtig-Passwort", "Falsch-Passwort")
    code, _, err = users(capsys, tiny_file, "set-password", "bob")
    assert code == 2 and "do not match" in err
    assert len(prompts) == 2
    with Database(tiny_file) as db:
        assert db.scalar("SELECT password_hash FROM users WHERE username = 'bob'") is None

    answers("Richtig-Passwort", "Richtig-Passwort")
    code, out, _ = users(capsys, tiny_file, "set-password", "bob")
    assert (code, out) == (0, "password set for bob; any lockout is lifted\n")
    with Database(tiny_file) as db:
        assert accounts.sign_in(db, "bob", "Richtig-Passwort")[0].username == "bob"


def test_a_password_is_never_taken_from_the_command_line(tiny_file: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["users", "add", "bob", "--role", "admin", "--password", "Geheim-123", "--db", str(tiny_file)])
    assert exit_.value.code == 2


def test_a_cli_write_is_audited_as_the_operating_system_user(
    tiny_file: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.getpass, "getuser", lambda: "operator")
    users(capsys, tiny_file, "add", "carol", "--role", "sales_head", "--region", "east")
    with Database(tiny_file) as db:
        rows = db.rows("SELECT actor, entity, action, after FROM audit_log WHERE entity = 'users'")
    assert [(actor, entity, action) for actor, entity, action, _ in rows] == [
        ("cli:operator", "users", "create")
    ]
    assert rows[0][0].startswith("cli:")
    assert json.loads(rows[0][3])["password_hash"] is None  # no terminal, no stdin: a single-sign-on account


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "bob", "--role", "king"], "Unknown role: king"),
        (["add", "bob", "--role", "sales_head"], "needs at least one region"),
        (["add", "bob", "--role", "sales_head", "--region", "mars"], "unknown region 'mars'"),
        (["add", "Bob Smith", "--role", "admin"], "A username is"),
        (["add", "bob", "--role", "admin", "--email", "not-an-address"], "Not an e-mail address"),
        (["set", "ghost", "--role", "admin"], "There is no account called ghost."),
        (["set", "root"], "nothing to change"),
        (["deactivate", "ghost"], "There is no account called ghost."),
        (["unlock", "ghost"], "There is no account called ghost."),
        (["deactivate", "root"], "last active admin"),
        (["set", "root", "--role", "executive"], "last active admin"),
    ],
)
def test_refusals_are_one_line_and_exit_2(tiny_file: Path, capsys, argv: list[str], message: str) -> None:
    assert users(capsys, tiny_file, "add", "root", "--role", "admin")[0] == 0
    code, out, err = users(capsys, tiny_file, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


def test_users_on_a_missing_file_creates_nothing(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "none.duckdb"
    code, _, err = users(capsys, missing, "list")
    assert code == 2 and "python -m mktsales demo" in err
    assert not missing.exists()


# -- kpis --as-user -----------------------------------------------------------------------------------
def independent(path: Path, period: tuple[str, str], regions: tuple[int, ...]) -> dict[str, float]:
    """Revenue, collections, leads, MQLs and reach over ``regions``, by SQL of this test's own."""
    start, end = period
    within = f"IN ({', '.join(str(int(r)) for r in regions)})"  # e.g. IN (1, 2)
    queries = {
        "revenue": f"""SELECT coalesce(sum(amount), 0) FROM orders
            WHERE order_date >= $start::DATE AND order_date < $end::DATE AND region_id {within}""",
        "collections": f"""SELECT coalesce(sum(p.amount), 0)
            FROM payments p JOIN orders o ON o.order_id = p.order_id
            WHERE p.paid_on >= $start::DATE AND p.paid_on < $end::DATE AND o.region_id {within}""",
        "leads": f"""SELECT count(*) FROM leads
            WHERE created_at >= $start::DATE AND created_at < $end::DATE AND region_id {within}""",
        "mql": f"""SELECT count(*) FROM leads
            WHERE mql_at >= $start::DATE AND mql_at < $end::DATE AND region_id {within}""",
        "reach": f"""SELECT coalesce(sum(reach), 0) FROM activities WHERE track = 'marketing'
            AND activity_date >= $start::DATE AND activity_date < $end::DATE AND region_id {within}""",
    }
    params = {"start": start, "end": end}
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: float(con.execute(sql, params).fetchone()[0]) for name, sql in queries.items()}


def reported(report: dict) -> dict[str, float]:
    """The same five numbers from ``kpis --json``."""
    marketing, sales = report["marketing"], report["sales"]
    return {
        "revenue": sales["revenue"],
        "collections": sales["collections"],
        "leads": marketing["leads"],
        "mql": marketing["mql"],
        "reach": marketing["reach"],
    }


@pytest.fixture
def staffed(tiny_file: Path, capsys) -> Path:
    """The tiny file with accounts (no passwords, so no hashing): one per case the tests need."""
    for argv in (
        ("add", "nora", "--role", "sales_head", "--region", "north", "east"),
        ("add", "rep", "--role", "sales_rep", "--region", "east"),
        ("add", "gone", "--role", "marketing_staff", "--region", "north"),
        ("add", "boss", "--role", "executive"),
        ("deactivate", "gone"),
    ):
        assert users(capsys, tiny_file, *argv)[0] == 0
    return tiny_file


def kpis_json(capsys, path: Path, *argv: str) -> dict:
    code, out, err = run(capsys, "kpis", "--db", str(path), *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def test_independent_sql_agrees_with_the_hand_checked_numbers(tiny_file: Path) -> None:
    expected = independent(tiny_file, MARCH_DATES, NORTH_EAST)  # tests/test_kpis.py, regions 1 and 2
    assert (expected["revenue"], expected["collections"], expected["leads"]) == (7000.0, 10700.0, 7.0)
    assert expected["reach"] == 1500.0


@pytest.mark.parametrize(
    ("period", "dates", "differ"),
    [
        (MARCH, MARCH_DATES, ("revenue", "collections")),  # South sold and was paid in March
        (BEFORE, BEFORE_DATES, ("leads", "mql", "reach")),  # South's lead 6 and activity 7
    ],
)
def test_kpis_as_a_user_cover_only_their_regions(staffed: Path, capsys, period, dates, differ) -> None:
    report = kpis_json(capsys, staffed, *period, "--as-user", "nora")
    mine = reported(report)
    assert mine == pytest.approx(independent(staffed, dates, NORTH_EAST))
    everyone = reported(kpis_json(capsys, staffed, *period))
    assert everyone == pytest.approx(independent(staffed, dates, EVERY_REGION))
    for name in differ:
        assert mine[name] != pytest.approx(everyone[name]), name
    assert report["as_user"] == {
        "username": "nora",
        "role": "sales_head",
        "all_regions": False,
        "regions": ["north", "east"],
    }


def test_kpis_as_a_user_for_one_of_their_regions(staffed: Path, capsys) -> None:
    mine = reported(kpis_json(capsys, staffed, *MARCH, "--as-user", "NORA", "--region", "华北"))
    assert mine == pytest.approx(independent(staffed, MARCH_DATES, (1,)))
    assert mine["revenue"] == pytest.approx(6000.0)


def test_kpis_as_an_executive_see_everything(staffed: Path, capsys) -> None:
    report = kpis_json(capsys, staffed, *MARCH, "--as-user", "boss")
    assert reported(report) == pytest.approx(reported(kpis_json(capsys, staffed, *MARCH)))
    assert report["sales"]["revenue"] == pytest.approx(10200.0)
    assert report["as_user"]["all_regions"] is True


def test_kpis_table_says_whose_view_it_is(staffed: Path, capsys) -> None:
    code, out, _ = run(capsys, "kpis", "--db", str(staffed), *MARCH, "--as-user", "nora")
    assert code == 0
    assert out.splitlines()[0] == "as nora (sales_head): regions north, east"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--as-user", "nora", "--region", "south"],
            "--region south is outside nora's regions (north, east)",
        ),
        (["--as-user", "nora", "--region", "north", "South China"], "--region south is outside nora's"),
        (["--as-user", "ghost"], "no active account called ghost"),
        (["--as-user", "gone"], "no active account called gone"),
        (["--as-user", "rep"], "rep is a sales_rep; that role may not see the dashboard"),
    ],
)
def test_kpis_as_a_user_refusals(staffed: Path, capsys, argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "kpis", "--db", str(staffed), *MARCH, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err
