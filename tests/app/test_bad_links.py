"""Links a person can type or edit (issue 23): dates out of range and record numbers that name
nothing get a message in the page's language, never a traceback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ENTRY, page_path, signed_in

# today is fixed at 2026-03-31 (app_env): the picker offers 1900-01-01 to a year and a day ahead
RANGE_REFUSED = "链接中的日期超出可选范围（1900-01-01 至 2027-04-01），已改为显示本月。"
NO_PROMOTION = "找不到这个促销，或它不在您的区域内。"
NO_POST = "找不到这条帖子，或它不在您的区域内。"


def _open(page: str | None, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    signed_in(at, "boss")
    if page is not None:  # the link's parameters again, for the page switched to
        for name, value in params.items():
            at.query_params[name] = value
        at.switch_page(page_path(f"app_pages/{page}.py")).run()
    return at


@pytest.mark.parametrize(
    "first, last",
    [("2026-01-01", "2030-01-01"), ("0001-01-01", "2026-01-01"), ("0001-01-01", "9999-12-31")],
)
def test_a_custom_range_outside_the_picker_is_refused_and_this_month_shown(
    app_env: Path, first: str, last: str
) -> None:
    at = _open(None, {"period": "custom", "from": first, "to": last})
    assert not at.exception
    assert [w.value for w in at.sidebar.warning] == [RANGE_REFUSED]
    assert at.session_state["range"] == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))  # this month


@pytest.mark.parametrize("number", ["99999999999999999999", "99999", "²", "-1"])
def test_a_promotion_link_that_names_nothing_says_not_found(app_env: Path, number: str) -> None:
    at = _open("promotions", {"promotion": number})
    assert not at.exception
    assert NO_PROMOTION in [w.value for w in at.warning]


@pytest.mark.parametrize("number", ["99999999999999999999", "99999", "²"])
def test_a_post_link_that_names_nothing_says_not_found(app_env: Path, number: str) -> None:
    at = _open("board", {"post": number})
    assert not at.exception
    assert NO_POST in [e.value for e in [*at.warning, *at.error]]
