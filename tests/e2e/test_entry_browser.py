"""Quick entry on a phone (390×844): a rep logs a visit and an order, and an executive watching
the overview in another browser sees the revenue tile move within its refresh interval.

Tiny fixture, "today" 31 March 2026. March revenue is ¥10,200 (¥1.02万); the rep's order of
30 × green tea at ¥10.00 adds ¥300, so the tile must read ¥1.05万.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import DESKTOP, PHONE, TIMEOUT, sign_in

pytestmark = pytest.mark.browser
REFRESH = 10  # seconds: the executive's overview checks for new data this often


def settled(page) -> None:
    """Wait until the app has finished the run the last input started (the running icon is gone)."""
    page.wait_for_timeout(200)
    page.get_by_test_id("stStatusWidgetRunningIcon").wait_for(state="detached", timeout=TIMEOUT)


def pick(page, label: str, text: str) -> None:
    """Open the select box labelled ``label``, type ``text`` and take the first match. A run still
    redrawing the form (a tab just switched) can close the list under the click: then again."""
    settled(page)
    for attempt in range(3):
        box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
        box.click()
        page.keyboard.type(text)
        try:
            page.get_by_role("option").first.click(timeout=10_000 if attempt < 2 else TIMEOUT)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            settled(page)
    settled(page)


def revenue_tile(page) -> str:
    return page.get_by_test_id("stMetric").filter(has_text="销售收入").first.inner_text()


def test_a_rep_logs_a_visit_and_an_order_and_the_overview_moves(shared_server: str, browser) -> None:
    boss = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(boss, f"{shared_server}/?refresh={REFRESH}", "boss")
    boss.get_by_test_id("stMetric").nth(10).wait_for(timeout=TIMEOUT)
    assert "¥1.02万" in revenue_tile(boss)

    rep = browser.new_context(viewport=PHONE).new_page()
    sign_in(rep, shared_server, "rep")  # a rep lands on quick entry
    rep.get_by_role("heading", name="快速录入").wait_for(timeout=TIMEOUT)

    started = time.monotonic()
    pick(rep, "客户", "华润")
    pick(rep, "拜访目的", "跟进")
    pick(rep, "拜访结果", "积极")
    rep.get_by_role("button", name="保存").click()
    rep.get_by_test_id("stAlert").filter(has_text="已保存拜访").wait_for(timeout=TIMEOUT)
    visit_seconds = time.monotonic() - started

    rep.get_by_role("button", name="记录下一条").click()
    rep.get_by_test_id("stButtonGroup").get_by_text("订单", exact=True).click()
    pick(rep, "客户", "华润")
    pick(rep, "产品", "绿茶")
    quantity = rep.get_by_role("spinbutton", name="数量")
    quantity.fill("30")
    quantity.press("Tab")
    rep.get_by_text("¥300").wait_for(timeout=TIMEOUT)  # 30 × ¥10.00, shown before saving
    settled(rep)
    rep.get_by_role("button", name="保存").click()
    rep.get_by_test_id("stAlert").filter(has_text="已保存订单").wait_for(timeout=TIMEOUT)
    assert rep.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    saved_at = time.monotonic()

    # the executive's page refreshes itself: no reload, no click
    boss.get_by_test_id("stMetric").filter(has_text="¥1.05万").wait_for(timeout=(REFRESH + 15) * 1000)
    seen_after = time.monotonic() - saved_at
    assert seen_after <= REFRESH + 15, seen_after
    assert visit_seconds < 60, visit_seconds  # the bar: a visit in under a minute
