"""File widgets only for signed-in users whose role may upload (issue 23). These pin what was
already so; that a signed-out session cannot PUT a file at all is in tests/e2e/test_uploads_server.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import open_app, page_path


def _uploaders(at: AppTest) -> int:
    return len(at.get("file_uploader"))


def test_the_sign_in_page_has_no_file_widget(app_env: Path) -> None:
    at = open_app(None)
    assert at.text_input and _uploaders(at) == 0


@pytest.mark.parametrize("page", ["board", "promotions"])
def test_an_executive_who_may_upload_nothing_gets_no_file_widget(app_env: Path, page: str) -> None:
    at = open_app("boss")
    at.switch_page(page_path(f"app_pages/{page}.py")).run()
    assert not at.exception and _uploaders(at) == 0
