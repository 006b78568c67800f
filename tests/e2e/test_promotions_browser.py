"""A promotion request from a phone (390×844) and its approval on a desktop: the sales head of
north and east (duo) asks for a promotion in the east from quick entry's link; the east's
marketing head (mkthead) finds it in the approval queue at once and approves it.
Tiny fixture, "today" 31 March 2026."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, TIMEOUT, sign_in
from tests.e2e.test_entry_browser import pick, settled

pytestmark = pytest.mark.browser


def test_a_request_from_a_phone_is_approved_from_the_queue(shared_server: str, browser) -> None:
    phone = browser.new_context(viewport=PHONE).new_page()
    sign_in(phone, f"{shared_server}/entry", "duo")  # a sales head lands on the overview
    phone.get_by_role("heading", name="快速录入").wait_for(timeout=TIMEOUT)
    started = time.monotonic()
    phone.get_by_role("link", name="申请促销").click()
    phone.get_by_role("textbox", name="标题").wait_for(timeout=TIMEOUT)
    settled(phone)
    phone.get_by_role("textbox", name="标题").fill("华东饮料应对竞品降价")
    pick(phone, "区域", "华东")
    pick(phone, "品类", "饮料")
    phone.get_by_test_id("stButtonGroup").get_by_text("竞争对手动作", exact=True).click()
    settled(phone)
    phone.get_by_role("textbox", name="具体情况").fill("竞品在华东超市降价 15%")
    phone.get_by_test_id("stButtonGroup").get_by_text("折扣/特价", exact=True).click()
    settled(phone)
    budget = phone.get_by_role("spinbutton", name="申请预算（元）")
    budget.fill("20000")
    budget.press("Tab")
    settled(phone)
    phone.get_by_role("button", name="提交申请").click()
    phone.get_by_test_id("stAlert").filter(has_text="申请已提交").wait_for(timeout=TIMEOUT)
    seconds = time.monotonic() - started
    assert seconds < 60, seconds  # the bar: a request from a phone in under a minute
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    desk = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(desk, f"{shared_server}/promotions", "mkthead")
    desk.get_by_role("heading", name="促销管理", exact=True).wait_for(timeout=TIMEOUT)
    desk.get_by_test_id("stButtonGroup").get_by_text("待审批", exact=True).click()
    desk.get_by_text("华东饮料应对竞品降价").first.wait_for(timeout=TIMEOUT)
    desk.get_by_role("button", name="查看并决策").first.click()
    desk.get_by_role("heading", name="华东饮料应对竞品降价").wait_for(timeout=TIMEOUT)
    settled(desk)
    desk.get_by_role("button", name="批准", exact=True).click()
    desk.get_by_test_id("stAlert").filter(has_text="已批准").wait_for(timeout=TIMEOUT)
    settled(desk)
    assert desk.get_by_test_id("stMarkdown").filter(has_text="已批准").count() >= 1  # the status badge
