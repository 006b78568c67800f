"""Sign-in, roles and regions in a real browser: refused pages, region scope, the session cookie.

The tests share one server (``shared_server``); each opens its own browser context, so cookies and
Streamlit sessions are separate. The first-session test starts a server of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import (
    COOKIE,
    DESKTOP,
    TIMEOUT,
    nav_links,
    serving,
    sign_in,
    sign_in_form,
    submit_sign_in,
)

pytestmark = pytest.mark.browser
REFUSED_OVERVIEW = "您的角色无权打开“经营总览”页面。"
REGIONS = ["华北", "华东", "华南"]  # tiny.sql's north, east and south


def new_page(browser) -> object:
    """A tab in a browser context of its own (no cookies shared with other tests)."""
    return browser.new_context(viewport=DESKTOP).new_page()


def session_cookie(page) -> str | None:
    values = [c["value"] for c in page.context.cookies() if c["name"] == COOKIE]
    return values[0] if values else None


def wait_for_overview(page) -> None:
    page.get_by_test_id("stMetric").nth(10).wait_for(timeout=TIMEOUT)
    page.get_by_test_id("stDataFrame").locator("tbody tr").last.wait_for(state="attached", timeout=TIMEOUT)


def region_rows(page) -> list[str]:
    """The first column of the region table, from the grid's accessible (hidden) table."""
    return page.get_by_test_id("stDataFrame").locator("tbody tr td:first-child").all_text_contents()


def region_filter(page) -> tuple[str, list[str]]:
    """The sidebar's region multiselect: its placeholder, and the regions its menu offers."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first
    placeholder = box.locator("input").get_attribute("placeholder") or box.inner_text()
    box.locator("input").click()
    menu = page.get_by_role("option")
    menu.first.wait_for(timeout=TIMEOUT)
    options = menu.all_inner_texts()
    page.keyboard.press("Escape")
    return placeholder, options


def expect_overview_refused(page) -> None:
    """The overview's address shows only the refusal: an error alert, no tiles, no table."""
    alert = page.get_by_test_id("stAlert").filter(has_text=REFUSED_OVERVIEW)
    alert.wait_for(timeout=TIMEOUT)
    assert page.get_by_test_id("stAlert").all_inner_texts() == [f"block\n\n{REFUSED_OVERVIEW}"]
    assert page.get_by_test_id("stMetric").count() == 0
    assert page.get_by_test_id("stDataFrame").count() == 0
    assert page.get_by_test_id("stPlotlyChart").count() == 0


# -- roles: which pages, which regions ----------------------------------------------------------------
def test_a_rep_is_refused_the_overview_by_address_and_does_not_see_it_listed(shared_server: str, browser):
    page = new_page(browser)
    sign_in(page, shared_server, "rep")
    page.get_by_role("heading", name="快速录入").wait_for(timeout=TIMEOUT)  # the rep's landing page
    assert nav_links(page) == ["快速录入", "信息共享", "促销管理", "指标口径", "我的账户"]

    page.goto(f"{shared_server}/overview")
    expect_overview_refused(page)
    assert page.evaluate("location.href") == f"{shared_server}/overview"
    assert nav_links(page) == ["快速录入", "信息共享", "促销管理", "指标口径", "我的账户"]
    assert page.get_by_test_id("stSidebarNav").get_by_text("经营总览").count() == 0

    page.goto(f"{shared_server}/overview?lang=en")
    refused = page.get_by_test_id("stAlert").filter(has_text="Your role may not open the page")
    refused.wait_for(timeout=TIMEOUT)
    assert page.get_by_test_id("stMetric").count() == 0
    assert nav_links(page) == [
        "Quick entry",
        "Shared information",
        "Promotions",
        "KPI definitions",
        "My account",
    ]


def test_the_executive_sees_every_region(shared_server: str, browser) -> None:
    page = new_page(browser)
    sign_in(page, shared_server, "boss")
    wait_for_overview(page)
    assert page.get_by_test_id("stMetric").count() == 13  # 11 KPI tiles + 2 collaboration counts
    assert region_rows(page) == [*REGIONS, "合计"]
    placeholder, options = region_filter(page)
    assert placeholder == "全部区域"
    assert [o for o in options if o in REGIONS] == REGIONS


def test_a_two_region_head_sees_only_their_regions(shared_server: str, browser) -> None:
    page = new_page(browser)
    sign_in(page, shared_server, "duo")
    wait_for_overview(page)
    assert region_rows(page) == ["华北", "华东", "合计"]
    placeholder, options = region_filter(page)
    assert placeholder == "我负责的全部区域"
    assert "华南" not in options and [o for o in options if o in REGIONS] == ["华北", "华东"]
    assert any("¥7,000" in t for t in page.get_by_test_id("stMetric").all_inner_texts())  # north + east


def test_a_link_naming_another_region_leaves_it_out(shared_server: str, browser) -> None:
    page = new_page(browser)
    sign_in(page, f"{shared_server}/?region=south", "duo")
    wait_for_overview(page)
    page.get_by_test_id("stAlert").filter(has_text="south").wait_for(timeout=TIMEOUT)
    assert region_rows(page) == ["华北", "华东", "合计"]
    assert "region=south" not in page.evaluate("location.href")


# -- the session: reloads, sign-out, failed sign-ins ---------------------------------------------------
def test_a_reload_keeps_the_user_signed_in_until_they_sign_out(shared_server: str, browser) -> None:
    page = new_page(browser)
    sign_in(page, shared_server, "boss")
    wait_for_overview(page)
    assert session_cookie(page)

    page.reload()
    wait_for_overview(page)
    assert page.get_by_role("textbox", name="用户名").count() == 0

    page.get_by_test_id("stSidebar").get_by_role("button", name="退出登录").click()
    sign_in_form(page)
    page.wait_for_function(f"!document.cookie.includes('{COOKIE}=')", timeout=TIMEOUT)
    assert session_cookie(page) is None
    assert page.get_by_test_id("stMetric").count() == 0

    page.reload()
    sign_in_form(page)
    assert page.get_by_role("button", name="退出登录").count() == 0
    assert page.get_by_test_id("stMetric").count() == 0
    assert page.get_by_test_id("stAlert").count() == 0  # not even "your session has ended"


def failed_sign_in(browser, base_url: str, username: str, password: str) -> str:
    """Try to sign in on a new tab; returns the failure message (and checks nothing was opened)."""
    page = new_page(browser)
    page.goto(base_url)
    submit_sign_in(page, username, password)
    alert = page.get_by_test_id("stAlert")
    alert.wait_for(timeout=TIMEOUT)
    assert alert.count() == 1
    sign_in_form(page)
    assert page.get_by_role("button", name="退出登录").count() == 0
    assert page.get_by_test_id("stSidebarNav").count() == 0
    assert session_cookie(page) is None
    return alert.inner_text()


def test_a_wrong_password_and_an_unknown_user_fail_alike(shared_server: str, browser) -> None:
    wrong = failed_sign_in(browser, shared_server, "mkt", "not-the-password")
    assert "登录失败" in wrong
    assert failed_sign_in(browser, shared_server, "nobody", "not-the-password") == wrong


# -- the first session after a server start -----------------------------------------------------------
def test_the_first_session_after_start_refuses_the_rep_the_overview(
    accounts_template: Path, tmp_path: Path, browser
) -> None:
    with serving(accounts_template, tmp_path) as server:
        page = new_page(browser)
        page.goto(f"{server}/overview")  # the first session of this server, signed out, deep-linked
        sign_in_form(page)
        assert page.get_by_test_id("stMetric").count() == 0
        sign_in(page, f"{server}/overview", "rep")
        expect_overview_refused(page)
        assert nav_links(page) == ["快速录入", "信息共享", "促销管理", "指标口径", "我的账户"]

        page.goto(f"{server}/overview")  # a second session, signed in by the cookie
        expect_overview_refused(page)
        assert nav_links(page) == ["快速录入", "信息共享", "促销管理", "指标口径", "我的账户"]
