"""Streamlit's upload endpoint on a real server (`streamlit run serve.py`), used the way an attacker
would: a bare websocket session (no browser) and hand-made PUTs to /_stcore/upload_file/<session>/<id>.

Streamlit itself accepts such a PUT from any live session, signed in or not, and checks only
server.maxUploadSize (issue 23); the upload gate in front of it (mktsales/upload_gate.py) lets
through only signed-in users whose role has a file widget.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from bench.browser import free_port, start_server
from mktsales import accounts
from mktsales.db import Database
from tests.app.conftest import PASSWORD, accounts_template  # noqa: F401 (a fixture, used below)
from tests.e2e.conftest import SIGN_OUT, sign_in, sign_in_form

pytestmark = pytest.mark.browser  # a real server: with the browser tests, not in `make test-fast`

MB = 1024 * 1024
# Streamlit's XSRF check compares a header with a cookie; the client picks both (v2 token format).
XSRF = "2|00000000|" + "ab" * 16 + "|1"


@dataclass
class Served:
    url: str
    pid: int
    tokens: dict[str, str]  # username -> a session token opened before the server started


@pytest.fixture(scope="module")
def served(accounts_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:  # noqa: F811
    db = tmp_path_factory.mktemp("uploads") / "tiny.duckdb"
    shutil.copy(accounts_template, db)
    with Database(db) as opened:  # the server will hold the file: sessions are opened first
        tokens = {name: accounts.sign_in(opened, name, PASSWORD)[1] for name in ("admin", "rep", "boss")}
    port = free_port()
    process = start_server(db, port, MKTSALES_TODAY="2026-03-31")
    try:
        yield Served(f"http://127.0.0.1:{port}", process.pid, tokens)
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextlib.contextmanager
def live_session(url: str, first: list[ForwardMsg] | None = None) -> Iterator[str]:
    """A websocket session that asks for one script run (the sign-in page: no cookie) and waits for
    it to finish; yields its id while connected (Streamlit refuses uploads once it closes). The
    messages up to the end of the run go to ``first``."""
    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    with connect(stream, subprotocols=["streamlit"], max_size=None, open_timeout=30) as ws:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        ws.send(rerun.SerializeToString())
        session = None
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=60))
            if first is not None:
                first.append(msg)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                session = str(msg.new_session.initialize.session_id)
            elif kind == "script_finished" and session:
                yield session
                return


def put(
    url: str, session: str, body: bytes, cookie: str | None = None, *, xsrf: bool = True
) -> requests.Response:
    """PUT ``body`` as an upload to ``session``, with the app's session cookie when given."""
    cookies = {"_streamlit_xsrf": XSRF} | ({"mktsales_session": cookie} if cookie else {})
    return requests.put(
        f"{url}/_stcore/upload_file/{session}/{uuid.uuid4()}",
        files={"file": ("orders.csv", body)},
        headers={"X-Xsrftoken": XSRF} if xsrf else {},
        cookies=cookies,
        timeout=60,
    )


def rss_mb(pid: int) -> float:
    """The server's resident memory now, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_signed_out_session_cannot_upload_even_a_small_file(served: Served) -> None:
    with live_session(served.url) as session:
        answer = put(served.url, session, os.urandom(MB))
        assert (answer.status_code, answer.text) == (403, "sign in to upload files")


def put_headers_first(url: str, session: str, size: int) -> int:
    """An attacker's PUT of ``size`` bytes without a session cookie, the way a careful client sends
    one: the headers, then the answer (the gate answers from the headers alone), then the body all
    the same. Returns the status; the body meets a closed connection, as it should."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.putrequest("PUT", f"/_stcore/upload_file/{session}/{uuid.uuid4()}")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(size))
    connection.putheader("X-Xsrftoken", XSRF)
    connection.putheader("Cookie", f"_streamlit_xsrf={XSRF}")
    connection.endheaders()
    status = connection.getresponse().status
    with contextlib.suppress(OSError):  # refused: the server does not read it
        connection.send(b"\0" * size)
    connection.close()
    return status


def test_twelve_signed_out_uploads_of_fifty_mb_leave_the_servers_memory_flat(served: Served) -> None:
    """The attack of issue 23: before the gate all twelve were accepted and kept (+600 MB)."""
    with live_session(served.url) as session:
        before = rss_mb(served.pid)
        statuses = [put_headers_first(served.url, session, 50 * MB - 4096) for _ in range(12)]
        after = rss_mb(served.pid)
    assert statuses == [403] * 12
    assert after - before < 50, (before, after)  # not even one file's worth


def test_a_signed_in_admin_can_upload_until_signing_out(served: Served, browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, served.url, "admin")
    cookie = next(c["value"] for c in context.cookies() if c["name"] == "mktsales_session")
    with live_session(served.url) as session:
        assert put(served.url, session, os.urandom(MB), cookie).status_code == 204
        page.get_by_role("button", name=SIGN_OUT).click()
        sign_in_form(page)  # drawn after the session was revoked in the database
        answer = put(served.url, session, os.urandom(MB), cookie)
        assert (answer.status_code, answer.text) == (403, "sign in to upload files")
    context.close()


def test_each_role_sends_only_the_files_its_widgets_take(served: Served) -> None:
    with live_session(served.url) as session:
        rep, admin = served.tokens["rep"], served.tokens["admin"]
        assert put(served.url, session, os.urandom(5 * MB), rep).status_code == 204  # a photo
        assert put(served.url, session, os.urandom(6 * MB), rep).status_code == 413
        assert put(served.url, session, os.urandom(51 * MB), admin).status_code == 413
        executive = put(served.url, session, os.urandom(MB), served.tokens["boss"])
        assert (executive.status_code, executive.text) == (403, "this account has no file upload")


def test_a_signed_in_upload_still_needs_streamlits_xsrf_token(served: Served) -> None:
    with live_session(served.url) as session:
        answer = put(served.url, session, os.urandom(MB), served.tokens["admin"], xsrf=False)
        assert answer.status_code == 403 and "XSRF" in answer.text  # Streamlit's refusal, not the gate's


def test_serve_py_reads_the_apps_config(served: Served) -> None:
    """.streamlit/config.toml applies when Streamlit runs serve.py: the viewer toolbar and the theme."""
    messages: list[ForwardMsg] = []
    with live_session(served.url, messages):
        pass
    new = next(m.new_session for m in messages if m.WhichOneof("type") == "new_session")
    assert new.config.toolbar_mode == new.config.ToolbarMode.Value("VIEWER")
    assert new.custom_theme.primary_color == "#2563EB"
