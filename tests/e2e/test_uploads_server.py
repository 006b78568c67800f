"""Streamlit's upload endpoint on a real server, as an attacker who never signs in would use it.

Streamlit accepts a PUT to /_stcore/upload_file/<session>/<any id> from any live session, signed in
or not, and checks only server.maxUploadSize (issue 23). The session here is a bare websocket that
asks for one script run (the sign-in page); no browser, no cookie of the app.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
import requests
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from mktsales import uploads

pytestmark = pytest.mark.browser  # a real server: with the browser tests, not in `make test-fast`

# Streamlit's XSRF check compares a header with a cookie; the client picks both (v2 token format).
XSRF = "2|00000000|" + "ab" * 16 + "|1"


@contextlib.contextmanager
def signed_out_session(url: str) -> Iterator[str]:
    """A session that never signs in: a websocket that asks for one run (the sign-in page); yields
    its id while connected (Streamlit refuses uploads for a session whose websocket closed)."""
    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    with connect(stream, subprotocols=["streamlit"], max_size=None, open_timeout=30) as ws:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        ws.send(rerun.SerializeToString())
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=60))
            if msg.WhichOneof("type") == "new_session":
                yield str(msg.new_session.initialize.session_id)
                return


def _put(url: str, session: str, megabytes: float) -> int:
    """PUT a file of ``megabytes`` as the upload of a signed-out session; the HTTP status."""
    body = os.urandom(int(megabytes * uploads.MB))
    answer = requests.put(
        f"{url}/_stcore/upload_file/{session}/{uuid.uuid4()}",
        files={"file": ("orders.csv", body)},
        headers={"X-Xsrftoken": XSRF},
        cookies={"_streamlit_xsrf": XSRF},
        timeout=60,
    )
    return answer.status_code


def test_a_signed_out_upload_larger_than_any_feature_needs_is_refused(shared_server: str) -> None:
    with signed_out_session(shared_server) as session:
        assert _put(shared_server, session, uploads.SERVER_MB + 1) == 413


def test_the_remaining_exposure_is_one_import_sized_file_per_request(shared_server: str) -> None:
    """What public configuration cannot close (docs/security-notes/server.md): a file within the cap
    is still held for a session that has no file widget; the reverse proxy must limit this."""
    with signed_out_session(shared_server) as session:
        assert _put(shared_server, session, 1) == 204
        assert _put(shared_server, session, uploads.SERVER_MB + 0.5) == 413
