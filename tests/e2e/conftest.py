"""A real server on a free loopback port, and headless Debian Chromium driven by Playwright.

The server runs on a copy of the accounts template (tests/app/conftest.py): the tiny fixture
with one account per test persona, every one with the password PASSWORD.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.browser import free_port, start_server
from tests.app.conftest import PASSWORD, accounts_template  # noqa: F401 (a fixture, used below)

ROOT = Path(__file__).parent.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}


@contextlib.contextmanager
def serving(template: Path, directory: Path) -> Iterator[str]:
    """The app on a copy of ``template`` in ``directory``, today fixed at 31 March 2026; yields its URL."""
    db = directory / "tiny.duckdb"
    shutil.copy(template, db)
    port = free_port()
    process = start_server(db, port, MKTSALES_TODAY="2026-03-31")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def server(accounts_template: Path, tmp_path: Path) -> Iterator[str]:  # noqa: F811 (the fixture)
    """A fresh server for this test alone (its first session is the first after a start)."""
    with serving(accounts_template, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def shared_server(accounts_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    """One server for a module's tests; each test must use its own browser context (own cookies)."""
    with serving(accounts_template, tmp_path_factory.mktemp("served")) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless Chromium from Debian (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's browser with "
            "`apt-get install chromium fonts-noto-cjk` (as .ci/run does), or run `make test-fast`",
            pytrace=False,
        )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


# -- signing in ---------------------------------------------------------------------------------
USERNAME = re.compile(r"^(用户名|Username)$")
PASSWORD_BOX = re.compile(r"^(密码|Password)$")  # a textbox: get_by_label also finds the eye button
SUBMIT = re.compile(r"^(登录|Sign in)$")
SIGN_OUT = re.compile(r"(退出登录|Sign out)$")  # after the icon's name
COOKIE = "mktsales_session"
TIMEOUT = 30_000  # the first session after a start reruns once, and a cold server is slow


def sign_in_form(page) -> object:
    """Wait for the sign-in form; returns its username box."""
    box = page.get_by_role("textbox", name=USERNAME)
    box.wait_for(timeout=TIMEOUT)
    return box


def submit_sign_in(page, username: str, password: str) -> None:
    """Fill the sign-in form on ``page`` and submit it (does not wait for the outcome)."""
    sign_in_form(page).fill(username)
    page.get_by_role("textbox", name=PASSWORD_BOX).fill(password)
    page.get_by_role("button", name=SUBMIT).click()


def wait_signed_in(page) -> None:
    """Wait until the app is past the sign-in form: sign-out button shown, form gone, cookie set."""
    # attached, not visible: on a phone the sidebar that holds the button starts collapsed
    page.get_by_role("button", name=SIGN_OUT).wait_for(state="attached", timeout=TIMEOUT)
    page.get_by_role("textbox", name=USERNAME).wait_for(state="detached", timeout=TIMEOUT)
    page.wait_for_function(
        f"document.cookie.split('; ').some(c => c.startsWith('{COOKIE}=') && c.length > {len(COOKIE) + 1})",
        timeout=TIMEOUT,
    )


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Open ``base_url`` (any address of the app), sign in there and wait until signed in."""
    page.goto(base_url)
    submit_sign_in(page, username, password)
    wait_signed_in(page)


def nav_links(page) -> list[str]:
    """The page titles the sidebar navigation lists, in order (each link's text after its icon name)."""
    nav = page.get_by_test_id("stSidebarNav")
    nav.wait_for(state="attached", timeout=TIMEOUT)
    return [text.split("\n")[-1].strip() for text in nav.get_by_role("link").all_inner_texts()]
