"""Every page renders in both languages; a page script run on its own is stopped by its guard."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mktsales.i18n import t
from mktsales.ui.nav import PAGES
from tests.app.conftest import open_app, page_path

ROOT = Path(__file__).parent.parent.parent


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_every_page_renders_in_both_languages(app_env: Path, page: str, lang: str) -> None:
    app = open_app("duo" if page == "app_pages/entry.py" else "admin")  # quick entry is for sales only
    app.segmented_control(key="lang").set_value(lang).run()
    app.switch_page(page_path(page)).run()
    assert not app.exception
    assert app.title, page
    guard = {t("nav.guard", "zh"), t("nav.guard", "en")}
    assert not [w for w in app.warning if w.value in guard]  # the guard let it through


def test_definitions_page_lists_every_kpi_with_its_definition(app: AppTest) -> None:
    app.switch_page(page_path("app_pages/definitions.py")).run()
    app.segmented_control(key="lang").set_value("en").run()
    text = " ".join(str(v) for table in app.table for v in table.value.to_numpy().ravel())
    assert "Won ÷ (won + lost) among opportunities closed in the period." in text
    assert "accept_hours" in text


@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_a_page_run_outside_the_navigation_is_stopped(app_env: Path, page: str) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=30).run()
    assert not at.exception
    assert not at.metric and not at.dataframe and not at.table
    assert at.warning and "导航" in at.warning[0].value


def test_first_session_after_start_shows_only_the_overview(app_env: Path) -> None:
    """The first session after a server start runs app.py like every later one (no pages/ folder)."""
    at = open_app("boss", ROOT / "app.py")
    assert not at.exception
    assert len(at.metric) == 13  # 11 KPI tiles + overdue answers and unacknowledged plans
    assert not at.warning


def test_an_admin_signs_in_to_a_database_with_no_regions_yet(tmp_path, monkeypatch) -> None:
    """A company's own database before its first import has no regions: the sidebar's region list
    is empty, and the filters must still draw (the region frame once lost its columns)."""
    import streamlit as st

    from mktsales import accounts, demo
    from mktsales.db import Database
    from tests.app.conftest import PASSWORD, ROOT, TESTER, open_app

    path = tmp_path / "own.duckdb"
    with Database(path) as db:
        demo.mark_own(db, TESTER)  # as `init` does: the app never fills it with demo data
        accounts.create_user(db, TESTER, "ops", "Ops", "admin", password=PASSWORD)
        assert db.scalar("SELECT count(*) FROM regions") == 0
    monkeypatch.setenv("MKTSALES_DB", str(path))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        at = open_app("ops")
        assert not at.exception
        assert [s.label for s in at.sidebar.multiselect] == ["区域", "品类"]
    finally:
        st.cache_resource.clear()
