"""The sign-in form under pressure: the too-many message, and that it is not the failure message."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ENTRY


def submit(at: AppTest, username: str, password: str) -> str:
    """Fill the form, press the button, return the one error shown."""
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    at.button[0].click().run()
    assert not at.exception and len(at.error) == 1
    return at.error[0].value


def test_a_flood_of_failed_sign_ins_is_told_to_wait_a_minute(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MKTSALES_SIGNIN_PER_NAME", "2")
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    first = submit(at, "rep", "not-the-password")
    assert first.startswith("登录失败") and submit(at, "rep", "still-not-it") == first
    # the third in the minute is refused before any password check, with the right one too
    assert submit(at, "rep", "tiny-fixture-pw") == "登录尝试过多，请一分钟后再试。"
    assert submit(at, "nobody", "not-the-password") == first  # another name is not limited by it
