"""The upload gate (issue 23): only signed-in users whose role has a file widget may PUT a file.

Streamlit 1.67's upload endpoint (``PUT /_stcore/upload_file/<session>/<file id>``) checks the
XSRF header against the XSRF cookie (the client picks both), that the session is connected, and
``server.maxUploadSize``; it keeps the file in memory until the browser deletes it or the session
ends. So a visitor who never signs in could fill the server's memory. ``UploadGate`` is a plain
ASGI middleware that serve.py puts in front of Streamlit (``st.App(..., middleware=...)``); it
reads only the request's headers and answers before any of the body is read:

- 403 unless the ``mktsales_session`` cookie resolves, in the database, to an active account's
  open session (mktsales.accounts.resolve, the check every script run makes: a signed-out,
  expired, revoked or deactivated session is refused from the next request on);
- 403 unless the role may use a file widget (the import page, or photos on the board or in an
  execution report);
- 411 without a Content-Length, 413 over the role's largest file (import or photo) plus framing;
- 429 once the account has sent its budget within the window (mktsales.uploads).

DELETE (which frees a file) and OPTIONS (a preflight) pass: they hold nothing. Every other
method on the upload path is gated like PUT. No Streamlit internals are used: the database comes
from mktsales.ui.data, which attaches the process's one connection here when it opens it.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterable

from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mktsales import accounts, uploads
from mktsales.access import can
from mktsales.db import Database

log = logging.getLogger(__name__)

UPLOAD_PATH = "/_stcore/upload_file/"  # after server.baseUrlPath, if one is set
COOKIE = "mktsales_session"  # = mktsales.ui.session.COOKIE (that module imports Streamlit)
FREE_METHODS = frozenset({"DELETE", "OPTIONS"})

_db: Database | None = None
_sent: dict[int, collections.deque[tuple[float, int]]] = {}  # user id -> (time, bytes) in window
_lock = threading.Lock()


def attach(db: Database) -> None:
    """The database sessions are resolved against (the app's one connection)."""
    global _db
    _db = db


def detach(db: Database) -> None:
    """Forget ``db`` (it is being closed); uploads are refused until another is attached."""
    global _db
    if _db is db:
        _db = None


def forget_budgets() -> None:
    """Clear what every account has sent (tests)."""
    with _lock:
        _sent.clear()


def is_upload(path: str) -> bool:
    return UPLOAD_PATH in path + "/"


def largest_file_mb(role: str) -> int | None:
    """The largest file ``role`` has a widget for, in MB; None when it has no file widget."""
    if can(role, uploads.IMPORT_PERMISSION):
        return uploads.IMPORT_MB
    if any(can(role, p) for p in uploads.PHOTO_PERMISSIONS):
        return uploads.PHOTO_MB
    return None


def _budget_bytes(role: str) -> int:
    mb = uploads.IMPORT_BUDGET_MB if can(role, uploads.IMPORT_PERMISSION) else uploads.PHOTO_BUDGET_MB
    return mb * uploads.MB


def _spend(user_id: int, size: int, budget: int, now: float) -> bool:
    """Count ``size`` bytes against the account's budget; False (nothing counted) when over."""
    with _lock:
        sent = _sent.setdefault(user_id, collections.deque())
        while sent and sent[0][0] <= now - uploads.WINDOW_SECONDS:
            sent.popleft()
        if sum(n for _, n in sent) + size > budget:
            return False
        sent.append((now, size))
        return True


def refusal(
    token: str | None, content_length: str | None, *, now: float | None = None
) -> tuple[int, str] | None:
    """Why an upload with this session token and Content-Length is refused, as (status, reason);
    None when it may go on to Streamlit. Reads the database: call it off the event loop."""
    db = _db
    if not token or db is None:
        return 403, "sign in to upload files"
    try:
        user = accounts.resolve(db, token)
    except Exception:  # a damaged or closed database: nobody is signed in
        log.exception("upload gate: the session could not be resolved")
        return 403, "sign in to upload files"
    if user is None:
        return 403, "sign in to upload files"
    largest = largest_file_mb(user.role)
    if largest is None:
        return 403, "this account has no file upload"
    if content_length is None:
        return 411, "Content-Length required"
    try:
        size = int(content_length)
    except ValueError:
        return 400, "invalid Content-Length"
    if size < 0:
        return 400, "invalid Content-Length"
    if size > largest * uploads.MB + uploads.FRAMING_BYTES:
        return 413, f"file too large (at most {largest} MB)"
    if not _spend(user.user_id, size, _budget_bytes(user.role), time.monotonic() if now is None else now):
        return 429, "too many uploads; try again in a few minutes"
    return None


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in headers if k.lower() == name]
    return "; ".join(values) if values else None


class UploadGate:
    """ASGI middleware: refuse uploads that ``refusal`` refuses; pass everything else unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in FREE_METHODS or not is_upload(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        cookies = cookie_parser(_header(headers, b"cookie") or "")
        length = _header(headers, b"content-length")
        refused = await run_in_threadpool(refusal, cookies.get(COOKIE), length)
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, reason = refused
        log.info("upload refused (%s %s): %s", status, scope.get("client"), reason)
        answer = PlainTextResponse(reason, status_code=status, headers={"Connection": "close"})
        await answer(scope, receive, send)
