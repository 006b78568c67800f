"""The upload gate (issue 23): who may PUT a file, how large, how much; what passes untouched.

On a copy of the tiny fixture with one account per persona; the gate resolves session tokens made
by mktsales.accounts against it, as the server does. The real server is in
tests/e2e/test_uploads_server.py.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mktsales import accounts, upload_gate
from mktsales.db import Database
from tests.app.conftest import PASSWORD, accounts_template  # noqa: F401 (a fixture, used below)
from tests.conftest import TESTER

MB = 1024 * 1024
FRAMING = 64 * 1024  # what the gate allows for multipart framing around the file


@pytest.fixture
def db(accounts_template: Path, tmp_path: Path) -> Iterator[Database]:  # noqa: F811 (the fixture)
    shutil.copy(accounts_template, tmp_path / "tiny.duckdb")
    with Database(tmp_path / "tiny.duckdb") as opened:
        upload_gate.attach(opened)
        upload_gate.forget_budgets()
        yield opened
        upload_gate.detach(opened)
        upload_gate.forget_budgets()


def token(db: Database, username: str) -> str:
    return accounts.sign_in(db, username, PASSWORD)[1]


def status(db_token: str | None, size: int | None, now: float = 1000.0) -> int | None:
    refused = upload_gate.refusal(db_token, None if size is None else str(size), now=now)
    return None if refused is None else refused[0]


def test_no_session_or_an_unknown_one_is_refused(db: Database) -> None:
    assert status(None, MB) == 403
    assert status("", MB) == 403
    assert status("not-a-token-anyone-was-given", MB) == 403


def test_nothing_is_accepted_before_the_app_opened_its_database(db: Database) -> None:
    admin = token(db, "admin")
    upload_gate.detach(db)
    assert status(admin, MB) == 403


# role -> the largest file its widgets take: admin imports (50 MB), the roles that post photos
# on the board or in an execution report (5 MB); the executive has no file widget.
@pytest.mark.parametrize(
    ("username", "largest_mb"),
    [("admin", 50), ("rep", 5), ("duo", 5), ("mkt", 5), ("mkthead", 5), ("boss", None)],
)
def test_each_role_may_send_the_largest_file_its_widgets_take_and_no_more(
    db: Database, username: str, largest_mb: int | None
) -> None:
    signed_in = token(db, username)
    if largest_mb is None:
        assert status(signed_in, 1) == 403
        return
    assert status(signed_in, largest_mb * MB + FRAMING) is None
    assert status(signed_in, largest_mb * MB + FRAMING + 1) == 413


def test_a_request_without_a_length_is_refused(db: Database) -> None:
    admin = token(db, "admin")
    assert status(admin, None) == 411
    assert upload_gate.refusal(admin, "12, 12")[0] == 400  # two Content-Length headers
    assert upload_gate.refusal(admin, "-1")[0] == 400


def test_signing_out_expiry_and_deactivation_refuse_the_same_cookie_at_once(db: Database) -> None:
    rep, duo, mkt = token(db, "rep"), token(db, "duo"), token(db, "mkt")
    assert status(rep, MB) is None and status(duo, MB) is None and status(mkt, MB) is None
    accounts.sign_out(db, rep)
    assert status(rep, MB) == 403
    expire = (
        "UPDATE sessions SET expires_at = TIMESTAMP '2000-01-01'"
        " WHERE user_id = (SELECT user_id FROM users WHERE username = 'duo')"
    )
    db.write(lambda tx: (tx.execute(expire), tx.audit("sessions", None, "expire")), by=TESTER, data=False)
    assert status(duo, MB) == 403
    assert status(mkt, MB) is None
    accounts.update_user(db, TESTER, "mkt", active=False)
    assert status(mkt, MB) == 403


def test_a_photo_role_may_send_twelve_photos_in_ten_minutes(db: Database) -> None:
    rep = token(db, "rep")
    photo = 5 * MB
    for minute in range(12):
        assert status(rep, photo, now=1000.0 + 30 * minute) is None
    assert status(rep, photo, now=1400.0) == 429
    assert status(rep, 1, now=1400.0) == 429  # the budget is full
    another_tab = token(db, "rep")  # a second session of the same account shares the budget
    assert status(another_tab, 1, now=1400.0) == 429
    assert status(rep, photo, now=1000.0 + 600.0) is None  # the first photo left the window
    assert status(token(db, "duo"), photo, now=1400.0) is None  # another account has its own


def test_an_admin_may_send_four_import_sized_files_in_ten_minutes(db: Database) -> None:
    admin = token(db, "admin")
    for n in range(4):
        assert status(admin, 50 * MB, now=1000.0 + n) is None
    assert status(admin, 50 * MB, now=1010.0) == 429
    assert status(admin, 50 * MB, now=1600.0) is None  # ten minutes after the first


def test_a_refused_request_does_not_use_the_budget(db: Database) -> None:
    rep = token(db, "rep")
    for _ in range(30):
        assert status(rep, 6 * MB) == 413
    for _ in range(12):
        assert status(rep, 5 * MB) is None


# -- as ASGI middleware ---------------------------------------------------------------------------
def _call(method: str, path: str, cookie: str | None = None, kind: str = "http") -> tuple[bool, int | None]:
    """Send one request through the gate: (whether Streamlit behind it saw it, the gate's status)."""
    seen: list[str] = []
    sent: list[dict[str, Any]] = []

    async def streamlit(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", b"1024")]
    if cookie:
        headers.append((b"cookie", f"_streamlit_xsrf=x; mktsales_session={cookie}".encode()))
    scope = {"type": kind, "method": method, "path": path, "headers": headers, "query_string": b""}
    asyncio.run(upload_gate.UploadGate(streamlit)(scope, receive, send))
    starts = [m["status"] for m in sent if m["type"] == "http.response.start"]
    return bool(seen), (starts[0] if starts else None)


UPLOAD = "/_stcore/upload_file/7d3c6f1e-session/9a1b-file"


def test_the_middleware_refuses_a_signed_out_put_before_streamlit_sees_it(db: Database) -> None:
    assert _call("PUT", UPLOAD) == (False, 403)
    assert _call("PUT", "/mktsales" + UPLOAD) == (False, 403)  # under server.baseUrlPath
    assert _call("POST", UPLOAD) == (False, 403)
    assert _call("PUT", UPLOAD, cookie=token(db, "boss")) == (False, 403)


def test_the_middleware_lets_a_signed_in_upload_through(db: Database) -> None:
    assert _call("PUT", UPLOAD, cookie=token(db, "rep")) == (True, None)


def test_deleting_a_file_preflights_and_everything_else_pass_untouched(db: Database) -> None:
    assert _call("DELETE", UPLOAD) == (True, None)  # frees memory; holds nothing
    assert _call("OPTIONS", UPLOAD) == (True, None)
    assert _call("GET", "/overview") == (True, None)
    assert _call("GET", "/_stcore/health") == (True, None)
    assert _call("GET", "/_stcore/stream", kind="websocket") == (True, None)
