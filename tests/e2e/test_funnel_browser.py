"""The funnel page in a real browser: a click on a region's bar narrows the page; it fits a phone.

Tiny fixture, March 2026 ("today" is 31 March), signed in as the executive ("boss").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, TIMEOUT, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).parent.parent.parent / "screenshots"
BREAKDOWN_CHART = 1  # the funnel is chart 0, the breakdown by region chart 1


def open_funnel(browser, url: str, viewport: dict, lang: str = "zh") -> object:
    page = browser.new_context(viewport=viewport).new_page()
    sign_in(page, f"{url}/funnel" + ("?lang=en" if lang == "en" else ""), "boss")
    page.get_by_test_id("stMetric").nth(4).wait_for(timeout=TIMEOUT)  # the five handoff tiles
    page.get_by_test_id("stPlotlyChart").nth(BREAKDOWN_CHART).locator(".barlayer .point path").first.wait_for(
        timeout=TIMEOUT
    )
    return page


def metric_texts(page) -> list[str]:
    """Every tile's text, read in one step: tile by tile, a rerun could remove one between the count
    and the read (a stale tile of the previous run is dropped as the new ones arrive)."""
    return page.eval_on_selector_all('[data-testid="stMetric"]', "tiles => tiles.map(t => t.innerText)")


def test_clicking_a_region_bar_narrows_the_whole_page_to_it(shared_server: str, browser) -> None:
    page = open_funnel(browser, shared_server, DESKTOP)
    assert any("接受率" in t and "80.0%" in t for t in metric_texts(page))  # all regions: 4 of 5
    bars = page.get_by_test_id("stPlotlyChart").nth(BREAKDOWN_CHART).locator(".barlayer .point path")
    assert bars.count() == 3  # north 25%, east 0%, south none (no March leads): one bar each
    bars.first.scroll_into_view_if_needed()
    box = bars.first.bounding_box()  # the highest rate first: north (1 won of 4 leads)
    # plotly's drag layer lies over the bars and turns a click at a bar's place into a selection
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    page.wait_for_function("location.href.includes('region=north')", timeout=TIMEOUT)
    region_filter = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first
    region_filter.get_by_text("华北").wait_for(timeout=TIMEOUT)
    # north alone: leads 1 and 2 accepted in March, none rejected
    page.get_by_test_id("stMetric").filter(has_text="100.0%").first.wait_for(timeout=TIMEOUT)
    assert any("接受率" in t and "100.0%" in t for t in metric_texts(page))
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "funnel-zh-desktop-north.png"), full_page=True)


def test_the_funnel_page_fits_a_phone(shared_server: str, browser) -> None:
    page = open_funnel(browser, shared_server, PHONE, lang="en")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.get_by_test_id("stException").count() == 0
    assert any("Accept rate" in t and "80.0%" in t for t in metric_texts(page))
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "funnel-en-phone.png"), full_page=True)
