"""The app on a damaged database file (issue 23): a translated message, never a traceback, to
signed-out visitors and signed-in users alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ENTRY, PASSWORD, open_app, page_path
from tests.damaged import cut_short, zero_middle

DAMAGED_ZH = "数据库文件已损坏或不完整，无法读取。请联系管理员用备份恢复（python -m mktsales restore）。"
DAMAGED_EN = (
    "The database file is damaged or incomplete and cannot be read. "
    "Ask your administrator to restore it from a backup (python -m mktsales restore)."
)


def _signed_out(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    return at.run()


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@pytest.mark.parametrize("lang, message", [(None, DAMAGED_ZH), ("en", DAMAGED_EN)])
def test_a_file_cut_short_tells_a_signed_out_visitor(
    app_env: Path, tmp_path: Path, lang: str | None, message: str
) -> None:
    cut_short(app_env, tmp_path / "tenth.duckdb", 0.1).replace(app_env)
    at = _signed_out(lang)
    assert not at.exception
    assert _errors(at) == [message]
    assert not at.text_input  # no sign-in form on a file that cannot be read


def test_a_block_that_fails_its_checksum_on_a_page_tells_the_user(app_env: Path, tmp_path: Path) -> None:
    """The file opens and the sign-in works; the overview's queries then meet the damaged blocks."""
    zero_middle(app_env, tmp_path / "zeroed.duckdb").replace(app_env)
    at = open_app("boss")
    assert not at.exception
    assert DAMAGED_ZH in _errors(at)
    at.switch_page(page_path("app_pages/board.py")).run()
    assert not at.exception
    assert DAMAGED_ZH in _errors(at)


def test_a_file_cut_in_half_fails_at_sign_in_with_the_message(app_env: Path, tmp_path: Path) -> None:
    """Half a file still draws the sign-in page; signing in reads the damaged part."""
    cut_short(app_env, tmp_path / "half.duckdb").replace(app_env)
    at = _signed_out()
    assert not at.exception and not _errors(at)
    at.text_input(key="signin_username").input("boss")
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert _errors(at) == [DAMAGED_ZH]
