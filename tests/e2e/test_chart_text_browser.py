"""A region named with HTML reads, in a real browser's chart, exactly as it was typed (issue 23,
point 7): Plotly draws no link and no bold from it, on the axis or in the hover text, and a click on
its bar still narrows the funnel page to that region.

Tiny fixture, March 2026, signed in as the executive ("boss"); north (华北) renamed below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mktsales import accounts
from mktsales.db import Database
from tests.app.conftest import PASSWORD, PERSONAS
from tests.conftest import FIXTURES, TESTER, write_sql
from tests.e2e.conftest import DESKTOP, TIMEOUT, serving, sign_in

pytestmark = pytest.mark.browser
HOSTILE = '<a href="http://evil.example/x">bad</a><b>bold</b>'
BREAKDOWN_CHART = 1  # the funnel is chart 0, the breakdown by region chart 1
# an <a> Plotly draws carries its address as xlink:href (an SVG link) or href
LINKS_AWAY = """els => els.filter(a => [a.getAttribute('href'), a.getAttributeNS('http://www.w3.org/1999/xlink',
    'href')].some(h => (h || '').includes('evil'))).length"""


def seeded(path: Path) -> Path:
    """The tiny fixture with north (华北) named HOSTILE, and the test personas. Written before the
    rows that refer to it: DuckDB refuses to change a unique column of a row a foreign key uses."""
    script = (FIXTURES / "tiny.sql").read_text(encoding="utf-8")
    assert script.count("(1, 'north', '华北',") == 1
    with Database(path) as db:
        write_sql(db, script.replace("(1, 'north', '华北',", f"(1, 'north', '{HOSTILE}',"))
        for name, (role, regions) in PERSONAS.items():
            if name == "boss":
                accounts.create_user(db, TESTER, name, name.title(), role, regions=regions, password=PASSWORD)
    return path


def test_a_region_named_with_html_reads_as_typed_in_the_funnel_charts(
    tmp_path: Path,
    browser,
) -> None:
    template = seeded(tmp_path / "seeded.duckdb")
    (tmp_path / "served").mkdir()
    with serving(template, tmp_path / "served") as url:
        page = browser.new_context(viewport=DESKTOP).new_page()
        sign_in(page, f"{url}/funnel", "boss")
        chart = page.get_by_test_id("stPlotlyChart").nth(BREAKDOWN_CHART)
        bars = chart.locator(".barlayer .point path")
        bars.first.wait_for(timeout=TIMEOUT)
        page.locator(".js-plotly-plot .ytick text").first.wait_for(timeout=TIMEOUT)

        # the axis label of north's bar (highest rate first, so on top) holds the typed text
        ticks = chart.locator(".ytick text").all_text_contents()
        assert HOSTILE in ticks
        # no link to evil.example and no bold anywhere in any chart on the page (time in stage too)
        assert page.locator(".js-plotly-plot a").evaluate_all(LINKS_AWAY) == 0
        # no bold from the name (the theme's titles are bold: look at the axis labels)
        assert page.locator(".js-plotly-plot .ytick tspan[style*='bold']").count() == 0
        everywhere = page.locator(".js-plotly-plot .ytick text").all_text_contents()
        assert everywhere.count(HOSTILE) == 2  # the breakdown and the time-in-stage chart

        # the hover text too
        bars.first.scroll_into_view_if_needed()
        box = bars.first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        hover = chart.locator(".hoverlayer .hovertext")
        hover.first.wait_for(timeout=TIMEOUT)
        assert hover.first.text_content().startswith(HOSTILE + ": ")
        assert chart.locator(".hoverlayer a").count() == 0
        assert chart.locator(".hoverlayer tspan[style*='bold']").count() == 0

        # a click on its bar still narrows the page to north
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function("location.href.includes('region=north')", timeout=TIMEOUT)
