"""AppTest fixtures: the app on the tiny fixture file, with "today" fixed at 31 March 2026.

The file also holds one account per test persona (built once per test run: hashing passwords
takes a while). Tests sign in the way a browser's cookie does: with a session token from
mktsales.accounts.sign_in, handed to the app in session state.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from mktsales import accounts, config
from mktsales.db import Database
from mktsales.ui import data, session
from tests.conftest import TESTER, load_tiny

ROOT = Path(__file__).parent.parent.parent
PASSWORD = "tiny-fixture-pw"
# username -> (role, regions); tiny.sql has regions north (1), east (2) and south (3)
PERSONAS = {
    "boss": ("executive", ()),
    "admin": ("admin", ()),
    "duo": ("sales_head", ("north", "east")),
    "rep": ("sales_rep", ("north",)),
    "mkt": ("marketing_staff", ("south",)),
    "mkthead": ("marketing_head", ("east",)),
}


@pytest.fixture(scope="session")
def accounts_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tiny.duckdb"
    with Database(path) as db:
        load_tiny(db)
        for name, (role, regions) in PERSONAS.items():
            accounts.create_user(db, TESTER, name, name.title(), role, regions=regions, password=PASSWORD)
    return path


@pytest.fixture
def app_env(accounts_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the app at a copy of the tiny fixture; clear Streamlit's caches before and after."""
    path = tmp_path / "tiny.duckdb"
    shutil.copy(accounts_template, path)
    monkeypatch.setenv("MKTSALES_DB", str(path))
    monkeypatch.setenv("MKTSALES_TODAY", "2026-03-31")  # "this month" is then all of March
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield path
    st.cache_data.clear()
    st.cache_resource.clear()  # closes the connection and releases the file


ENTRY = ROOT / "app.py"  # the whole app, as the server runs it


def app_db() -> Database:
    """The app's own connection (AppTest runs the app in this process)."""
    return data.database(str(config.db_path()))


def signed_in(at: AppTest, username: str) -> AppTest:
    """Sign ``username`` in, as a browser presenting its session cookie would, and run."""
    _, token = accounts.sign_in(app_db(), username, PASSWORD)
    at.session_state[session._TOKEN] = token
    return at.run()


def open_app(username: str | None, script: Path = ENTRY) -> AppTest:
    """The whole app, signed in as ``username`` (None: signed out)."""
    at = AppTest.from_file(str(script), default_timeout=60)
    return signed_in(at, username) if username else at.run()


@pytest.fixture
def app(app_env: Path) -> AppTest:
    """The whole app as the executive, landing on the overview."""
    return open_app("boss")


def page_path(relative: str) -> str:
    """A page's path as AppTest.switch_page wants it."""
    return str(ROOT / relative)
