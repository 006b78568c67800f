"""The overview in a real browser: tiles and the funnel draw, the language switches, links keep filters.

Every test signs in as the executive ("boss"), who sees every region, on a fresh server.
"""

import signal
from pathlib import Path

import pytest

from tests.app.conftest import PASSWORD
from tests.e2e.conftest import DESKTOP, PHONE, TIMEOUT, nav_links, sign_in, sign_in_form, wait_signed_in

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).parent.parent.parent / "screenshots"


def open_overview(browser, url: str, viewport: dict) -> object:
    """A new tab (its own cookies) at ``url``, signed in as the executive, the overview drawn."""
    page = browser.new_page(viewport=viewport)
    sign_in(page, url, "boss")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=TIMEOUT)
    page.get_by_test_id("stMetric").nth(10).wait_for(timeout=TIMEOUT)
    return page


def tile_texts(page) -> list[str]:
    """Every tile's text in one step (tile by tile, a rerun could drop one between count and read)."""
    return page.eval_on_selector_all('[data-testid="stMetric"]', "tiles => tiles.map(t => t.innerText)")


def test_overview_shows_tiles_and_funnel_then_switches_to_english(server: str, browser) -> None:
    page = open_overview(browser, server, DESKTOP)
    texts = tile_texts(page)
    assert len(texts) == 13  # 11 KPI tiles + overdue answers and unacknowledged plans
    assert any("销售收入" in t and "¥1.02万" in t for t in texts)
    assert page.get_by_test_id("stPlotlyChart").count() == 3
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "overview-zh-desktop.png"), full_page=True)

    page.get_by_text("English", exact=True).click()
    page.get_by_text("Executive overview").first.wait_for(timeout=TIMEOUT)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=TIMEOUT)
    assert any("Revenue" in t and "¥10.2K" in t for t in tile_texts(page))
    # page.url is only refreshed while Playwright talks to the browser; ask the page itself.
    assert "lang=en" in page.evaluate("location.href")
    page.screenshot(path=str(SHOTS / "overview-en-desktop.png"), full_page=True)


def test_a_copied_link_opens_the_same_view(server: str, browser) -> None:
    page = open_overview(browser, f"{server}/?lang=en&region=north&region=east", DESKTOP)
    assert any("Revenue" in t and "¥7,000" in t for t in tile_texts(page))  # North 6,000 + East 1,000


def test_the_landing_page_has_its_own_address_and_the_root_leads_there(server: str, browser) -> None:
    """Streamlit calls the default page's own address "not found" (in English) unless the root
    is a step to it: /overview and / both open the overview, with the link's filters."""
    page = open_overview(browser, f"{server}/overview?lang=en&region=north", DESKTOP)
    assert any("Revenue" in t and "¥6,000" in t for t in tile_texts(page))  # North alone
    assert page.get_by_text("Page not found").count() == 0
    page.goto(f"{server}/?lang=en&region=east")
    page.wait_for_function("location.pathname === '/overview'", timeout=TIMEOUT)
    page.get_by_test_id("stMetric").filter(has_text="Revenue").get_by_text("¥1,000").wait_for(timeout=TIMEOUT)
    assert page.get_by_text("Page not found").count() == 0
    assert page.evaluate("location.search") == "?lang=en&region=east"


def test_overview_on_a_phone(server: str, browser) -> None:
    page = open_overview(browser, server, PHONE)
    assert len(tile_texts(page)) == 13
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"horizontal scrolling: page is {width}px wide"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "overview-zh-phone.png"), full_page=True)


def test_the_overview_refreshes_itself_on_its_interval(server: str, browser) -> None:
    page = open_overview(browser, f"{server}/?lang=en&refresh=10", DESKTOP)
    stamp = page.get_by_text("Data as of").first
    first = stamp.inner_text()
    assert "checks for new data every 10 s" in first
    page.wait_for_function(
        "first => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        ".some(e => e.innerText.startsWith('Data as of') && e.innerText !== first)",
        arg=first,
        timeout=25_000,
    )


def test_the_first_session_after_start_lists_only_the_app_pages(server: str, browser) -> None:
    page = open_overview(browser, server, DESKTOP)
    # the executive's pages only: not users.py and audit.py, which are in app_pages/ too
    assert nav_links(page) == ["经营总览", "漏斗分析", "信息共享", "促销管理", "指标口径", "我的账户"]


def test_the_server_releases_the_database_when_it_stops(tiny_file: Path) -> None:
    from mktsales.db import Database
    from tests.e2e.conftest import free_port, start_server

    process = start_server(tiny_file, free_port())
    process.terminate()
    # serve.py runs under uvicorn (st.App), which shuts down gracefully on SIGTERM and then raises
    # the signal again, as a process killed by it would: -SIGTERM is its clean exit; a timeout is not
    assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    with Database(tiny_file) as db:  # would raise DatabaseLocked if the lock were still held
        assert db.scalar("SELECT count(*) FROM regions") == 3


def test_a_deep_link_works_in_the_first_session_after_start(server: str, browser) -> None:
    """A deep link opens its page in the server's very first session too (no legacy pages/ mode).

    Signed out, the link shows the sign-in form at the same address; signing in there opens the page.
    """
    definition = "Won ÷ (won + lost) among opportunities closed in the period."
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{server}/definitions?lang=en")
    sign_in_form(page)
    assert page.get_by_role("heading", name="Sign in", exact=True).count() == 1
    assert page.get_by_text(definition).count() == 0 and page.get_by_test_id("stMetric").count() == 0
    assert page.evaluate("location.href") == f"{server}/definitions?lang=en"

    page.get_by_role("textbox", name="Username", exact=True).fill("boss")
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    wait_signed_in(page)
    page.get_by_text(definition).wait_for(timeout=TIMEOUT)
    assert page.get_by_test_id("stAlert").count() == 0  # no "open this page from the menu"
    assert page.evaluate("location.href") == f"{server}/definitions?lang=en"
    page.get_by_test_id("stSidebarNav").get_by_text("Executive overview").click()
    page.get_by_test_id("stMetric").nth(10).wait_for(timeout=TIMEOUT)
    assert any("Revenue" in t for t in tile_texts(page))  # English kept while moving between pages
