"""Sign-in under pressure: parallel attempts against the lockout, the hashing gate, the rate limits.

argon2 is replaced by a stand-in that sleeps instead of hashing (so a race is certain, not
likely) and counts how many checks run at once and how many were against a real account's hash.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2.exceptions import VerifyMismatchError

from mktsales import accounts, config, ratelimit
from mktsales.accounts import AccountError
from mktsales.db import Database
from tests.conftest import TESTER, load_tiny

PW = "s3cret-enough"
T0 = dt.datetime(2026, 3, 31, 9, 0)


class SlowHasher:
    """Stands in for argon2's PasswordHasher: ``pause`` seconds per check, right only for PW
    against a real account's hash. Counts the checks running at once and the real ones."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.cond = threading.Condition()
        self.running = self.most = self.real_checks = self.checks = 0

    def verify(self, stored: str, password: str) -> bool:
        with self.cond:
            self.running += 1
            self.checks += 1
            self.most = max(self.most, self.running)
            self.real_checks += stored != accounts._DUMMY_HASH
            self.cond.notify_all()
        try:
            time.sleep(self.pause)
            if stored == accounts._DUMMY_HASH or password != PW:
                raise VerifyMismatchError("no")
            return True
        finally:
            with self.cond:
                self.running -= 1

    def wait_real_checks(self, n: int, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.real_checks >= n, timeout=timeout)

    def check_needs_rehash(self, stored: str) -> bool:
        return False


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "g.duckdb") as opened:
        load_tiny(opened)
        accounts.create_user(opened, TESTER, "nora", "Nora Li", "sales_head", regions=["north"], password=PW)
        yield opened


def attempt_all(db: Database, tries: list[tuple[str, str]], results: dict[int, str], start: int = 0) -> list:
    """Start one thread per (username, password) at once; each result is "in" or the refusal's key."""
    gate = threading.Barrier(len(tries))

    def one(i: int, username: str, password: str) -> None:
        gate.wait()
        try:
            accounts.sign_in(db, username, password, now=T0)
            results[i] = "in"
        except AccountError as refused:
            results[i] = refused.key

    threads = [threading.Thread(target=one, args=(start + i, u, p)) for i, (u, p) in enumerate(tries)]
    for thread in threads:
        thread.start()
    return threads


def test_parallel_wrong_passwords_get_no_more_tries_than_the_lockout_allows(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 23, point 5: 8 forms within 2 s, 7 wrong then the right one: the right one must be
    refused (the account is locked by then), and only lockout_attempts() passwords are checked."""
    hasher = SlowHasher(pause=0.4)
    monkeypatch.setattr(accounts, "_HASHER", hasher)
    limit = config.lockout_attempts()
    assert limit == 5
    results: dict[int, str] = {}
    threads = attempt_all(db, [("nora", f"wrong-{i}") for i in range(7)], results)
    # the last allowed try is being checked and none has finished: the account must count as locked
    assert hasher.wait_real_checks(limit, timeout=20)
    threads += attempt_all(db, [("nora", PW)], results, start=7)
    for thread in threads:
        thread.join(timeout=30)
    assert results[7] == "signin.failed"  # the right password, refused: locked
    assert sorted(results.values()) == ["signin.failed"] * 8
    assert hasher.real_checks == limit  # never more checks against nora's hash than allowed
    assert hasher.checks == 8  # the refused ones cost a (dummy) check all the same
    assert db.scalar("SELECT locked_until FROM users WHERE username = 'nora'") == T0 + dt.timedelta(
        minutes=15
    )
    actions = [a for (a,) in db.rows("SELECT action FROM audit_log WHERE entity = 'users' AND actor = "
                                     "'anonymous' ORDER BY audit_id")]  # fmt: skip
    assert sorted(actions) == sorted(["sign_in_attempt"] * 5 + ["sign_in_failed"] * 4 + ["locked"]
                                     + ["sign_in_refused"] * 3)  # fmt: skip


def test_an_earlier_allowed_try_with_the_right_password_still_signs_in(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The right password among the first lockout_attempts() signs in and ends the series."""
    monkeypatch.setattr(accounts, "_HASHER", SlowHasher(pause=0.2))
    results: dict[int, str] = {}
    tries = [("nora", PW)] + [("nora", f"wrong-{i}") for i in range(3)]
    for thread in attempt_all(db, tries, results):
        thread.join(timeout=30)
    assert results[0] == "in" and sorted(results.values()) == ["in"] + ["signin.failed"] * 3
    assert db.scalar("SELECT locked_until FROM users WHERE username = 'nora'") is None


def test_at_most_two_password_checks_run_at_once(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23, point 6: 40 parallel sign-ins with unknown names (64 MiB of argon2 each) used
    2.7 GB. Now two checks run at once (≤ 128 MiB), 16 wait, and the rest are told to retry."""
    hasher = SlowHasher(pause=0.5)
    monkeypatch.setattr(accounts, "_HASHER", hasher)
    results: dict[int, str] = {}
    for thread in attempt_all(db, [(f"nobody{i}", "guess-guess") for i in range(40)], results):
        thread.join(timeout=60)
    assert (config.hashing_slots(), config.hashing_queue()) == (2, 16)
    assert hasher.most == 2
    assert set(results.values()) == {"signin.failed", "signin.too_many"}
    assert list(results.values()).count("signin.failed") >= 2 + 16  # every one admitted was checked
    assert list(results.values()).count("signin.failed") == hasher.checks


def test_the_gate_refuses_beyond_its_queue_and_frees_slots_after_an_error() -> None:
    gate = ratelimit.Gate(slots=1, queue=0, wait=1)
    with gate.hold(), pytest.raises(ratelimit.Busy), gate.hold():
        pass
    with pytest.raises(KeyError), gate.hold():
        raise KeyError("a failing check")
    with gate.hold():  # the slot came back
        pass
    waited = ratelimit.Gate(slots=1, queue=1, wait=0.05)
    with waited.hold(), pytest.raises(ratelimit.Busy), waited.hold():  # waited; no turn came
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_sign_ins_per_name_are_limited_and_the_window_slides(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "_HASHER", SlowHasher(pause=0))
    clock = Clock()
    monkeypatch.setattr(ratelimit, "_limits", ratelimit.Limits(per_name=3, per_client=5, clock=clock))
    for _ in range(3):
        with pytest.raises(AccountError) as wrong:
            accounts.sign_in(db, "nora", "wrong-password", now=T0, client="203.0.113.7")
        assert wrong.value.key == "signin.failed"
    with pytest.raises(AccountError) as limited:  # the fourth in the minute: even the right one
        accounts.sign_in(db, "NORA", PW, now=T0, client="198.51.100.2")
    assert limited.value.key == "signin.too_many"
    keys = []  # the same for a name that does not exist
    for _ in range(4):
        with pytest.raises(AccountError) as unknown:
            accounts.sign_in(db, "nobody", "x-password", now=T0)
        keys.append(unknown.value.key)
    assert keys == ["signin.failed"] * 3 + ["signin.too_many"]
    clock.now += 59
    with pytest.raises(AccountError) as still:
        accounts.sign_in(db, "nora", PW, now=T0)
    assert still.value.key == "signin.too_many"
    clock.now += 1.5  # the first failures are more than a minute old
    user, _ = accounts.sign_in(db, "nora", PW, now=T0)
    assert user.username == "nora"


def test_failed_sign_ins_per_client_are_limited_and_successes_do_not_count(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "_HASHER", SlowHasher(pause=0))
    clock = Clock()
    monkeypatch.setattr(ratelimit, "_limits", ratelimit.Limits(per_name=3, per_client=5, clock=clock))
    for _ in range(10):  # right passwords never use up a window
        accounts.sign_in(db, "nora", PW, now=T0, client="203.0.113.7")
    for i in range(5):
        with pytest.raises(AccountError) as wrong:
            accounts.sign_in(db, f"guess{i}", "x-password", now=T0, client="203.0.113.7")
        assert wrong.value.key == "signin.failed"
    with pytest.raises(AccountError) as limited:
        accounts.sign_in(db, "nora", PW, now=T0, client="203.0.113.7")
    assert limited.value.key == "signin.too_many"
    assert accounts.sign_in(db, "nora", PW, now=T0, client="198.51.100.2")[0].username == "nora"
    clock.now += 61
    assert accounts.sign_in(db, "nora", PW, now=T0, client="203.0.113.7")[0].username == "nora"


def test_the_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("SIGNIN_PER_NAME", "4"), ("SIGNIN_PER_CLIENT", "6"), ("HASHING_SLOTS", "3"),
                        ("HASHING_QUEUE", "5")):  # fmt: skip
        monkeypatch.setenv(f"MKTSALES_{name}", value)
    ratelimit.reset()
    limits, gate = ratelimit.sign_in_limits(), ratelimit.hashing()
    assert (limits.per_name, limits.per_client, gate.slots, gate.queue) == (4, 6, 3, 5)
    monkeypatch.setenv("MKTSALES_HASHING_SLOTS", "0")
    ratelimit.reset()
    with pytest.raises(ValueError, match="MKTSALES_HASHING_SLOTS must be positive"):
        ratelimit.hashing()
