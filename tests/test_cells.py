"""Cells as people write them: each date and number format of issue 8, and header matching.
Expected values are written out by hand (Excel's serial 45292 is 1 January 2024, 45352 is
1 March 2024: 31 days of January and 29 of February later)."""

import datetime as dt
from decimal import Decimal

import pytest

from mktsales.cells import CellError, header_key, match_headers, parse_date, parse_number

MARCH_1 = dt.date(2024, 3, 1)


@pytest.mark.parametrize(
    "cell",
    ["2024-03-01", "2024/3/1", "2024.3.1", "2024-3-1 09:30", "2024年3月1日", "2024 年 3 月 1 日",
     "2024年3月1号", "２０２４年３月１日", 45352, 45352.75, "45352", dt.date(2024, 3, 1),
     dt.datetime(2024, 3, 1, 18)],
)  # fmt: skip
def test_every_common_date_format_reads_as_1_march_2024(cell: object) -> None:
    assert parse_date(cell) == MARCH_1


def test_a_year_last_date_needs_its_stated_order() -> None:
    assert parse_date("3/1/2024", day_first=False) == MARCH_1  # month first (US)
    assert parse_date("1/3/2024", day_first=True) == MARCH_1  # day first (UK)
    with pytest.raises(CellError) as caught:
        parse_date("3/1/2024")  # not guessed
    assert caught.value.reason == "ambiguous_date"


def test_excel_serials_around_its_invented_29_february_1900() -> None:
    assert parse_date(1) == dt.date(1900, 1, 1)
    assert parse_date(59) == dt.date(1900, 2, 28)
    assert parse_date(61) == dt.date(1900, 3, 1)
    assert parse_date(45292) == dt.date(2024, 1, 1)
    for impossible in (60, 0, -3, 3_000_000):
        with pytest.raises(CellError):
            parse_date(impossible)


@pytest.mark.parametrize("cell", ["2024-02-30", "2024/13/1", "next Friday", "31/12", "2024年2月30日"])
def test_a_date_that_is_not_one_is_refused_with_its_reason(cell: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_date(cell, day_first=True)
    assert caught.value.reason == "bad_date"


def test_blank_cells_are_none() -> None:
    for cell in (None, "", "   ", float("nan")):
        assert parse_date(cell) is None and parse_number(cell) is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("1,234.50", "1234.50"), ("¥1,234.50", "1234.50"), ("￥1234", "1234"), ("1 234 元", "1234"),
     ("RMB 2,000", "2000"), ("CNY2000", "2000"), ("$12.5", "12.5"), ("¥1,234元", "1234"), ("1，234", "1234"),
     ("(500)", "-500"), ("-42", "-42"), ("12%", "0.12"), ("12.5 %", "0.125"), (1234, "1234"), (0.1, "0.1"),
     ("1,234,567", "1234567")],
)  # fmt: skip
def test_numbers_with_separators_signs_and_units(cell: object, expected: str) -> None:
    assert parse_number(cell) == Decimal(expected)


@pytest.mark.parametrize("cell", ["12,34", "1,2345", "abc", "1.2.3", "¥", "NaN", "inf", True])
def test_a_number_that_is_not_one_is_refused(cell: object) -> None:
    with pytest.raises(CellError) as caught:
        parse_number(cell)
    assert caught.value.reason == "bad_number"


def test_headers_match_in_either_language_whatever_their_case_and_spacing() -> None:
    assert header_key("Order Date") == header_key("order_date") == header_key("ORDER-DATE") == "orderdate"
    assert header_key("订单 日期") == header_key("订单日期")
    known = {"order_date": ("订单日期", "date"), "amount": ("金额", "order amount"), "region": ("区域",)}
    headers = ["Order-Date", "金额", "Notes", "区域", "REGION"]
    # region's name appears twice: left for the user to map by hand, like Notes
    assert match_headers(headers, known) == {"order_date": 0, "amount": 1}
