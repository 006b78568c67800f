"""AppTest fixtures: the app on the tiny fixture file, with "today" fixed at 31 March 2026."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).parent.parent.parent


@pytest.fixture
def app_env(tiny_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the app at the tiny fixture; clear Streamlit's caches before and after."""
    monkeypatch.setenv("MKTSALES_DB", str(tiny_file))
    monkeypatch.setenv("MKTSALES_TODAY", "2026-03-31")  # "this month" is then all of March
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tiny_file
    st.cache_data.clear()
    st.cache_resource.clear()  # closes the connection and releases the file


ENTRY = Path(__file__).parent / "entry.py"  # runs app.py; see its docstring for why


@pytest.fixture
def app(app_env: Path) -> AppTest:
    """The whole app, run once (landing on the overview)."""
    return AppTest.from_file(str(ENTRY), default_timeout=60).run()


def page_path(relative: str) -> str:
    """A page's path as AppTest.switch_page wants it."""
    return str(ROOT / relative)
