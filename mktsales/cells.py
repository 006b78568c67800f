"""Reading the cells of a spreadsheet or CSV as people write them (groundwork for issue 8's import).

Dates come as 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日, an Excel serial day number (45352), or
3/1/2024 and 1/3/2024, whose order the importer states (``day_first``): a slashed date with the
year last is ambiguous, so it is never guessed. Numbers come with thousands separators (1,234.50,
1 234, 1，234), currency signs and units (¥, ￥, $, RMB, CNY, 元), a percent sign, or in
parentheses for a negative amount. Headers match whatever their case, spacing, punctuation or
full-width forms. A cell that cannot be read raises CellError with a reason code, so the dry run
can list it by row and column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

# Excel's day 1 is 1900-01-01, and it counts a 29 February 1900 that never was: serial 60.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_FIRST, _EXCEL_LAST = 1, 2_958_465  # 1900-01-01 .. 9999-12-31
_YEAR_FIRST = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_YEAR_LAST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_CHINESE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$")
_CURRENCY = re.compile(r"(?i)^(?:rmb|cny|[¥￥$])|(?:rmb|cny|元|[¥￥$])$")
_GROUPING = re.compile(r"^[+-]?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?$")


class CellError(ValueError):
    """A cell that cannot be read: ``reason`` is a code (bad_date, ambiguous_date, bad_number)."""

    def __init__(self, reason: str, value: Any) -> None:
        super().__init__(f"{reason}: {value!r}")
        self.reason = reason
        self.value = value


def blank(value: Any) -> bool:
    """True for an empty cell: None, NaN, or only spaces."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: Any) -> str:
    """A cell as text, full-width digits and punctuation folded to their plain forms."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_date(value: Any, *, day_first: bool | None = None) -> dt.date | None:
    """A date cell as a date (None when blank). ``day_first`` states the order of 3/1/2024:
    False for month/day/year, True for day/month/year, None to refuse such dates as ambiguous."""
    if blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel(value)
    text = _text(value)
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return _excel(float(text))
    for pattern in (_YEAR_FIRST, _CHINESE):
        found = pattern.match(text)
        if found:
            return _date(value, *(int(found.group(i)) for i in (1, 2, 3)))
    found = _YEAR_LAST.match(text)
    if found:
        first, second, year = (int(found.group(i)) for i in (1, 2, 3))
        if day_first is None:
            raise CellError("ambiguous_date", value)
        day, month = (first, second) if day_first else (second, first)
        return _date(value, year, month, day)
    raise CellError("bad_date", value)


def _date(value: Any, year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError("bad_date", value) from None


def _excel(serial: float) -> dt.date:
    """An Excel serial day number (the time of day, the fraction, is dropped)."""
    if not _EXCEL_FIRST <= serial <= _EXCEL_LAST or serial == 60:  # 60 is the 29 Feb 1900 Excel invents
        raise CellError("bad_date", serial)
    days = int(serial)
    return _EXCEL_EPOCH + dt.timedelta(days=days + (1 if days < 60 else 0))


def parse_number(value: Any) -> Decimal | None:
    """A number cell as a Decimal (None when blank): 1,234.50 · ¥1,234 · 1 234 元 · (500) · 12%."""
    if blank(value):
        return None
    if isinstance(value, bool):
        raise CellError("bad_number", value)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = _text(value)
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    text = _CURRENCY.sub("", text).strip()
    text = _CURRENCY.sub("", text).strip()  # a sign in front and a unit behind: ¥1,234元
    if "," in text or " " in text:
        if not _GROUPING.match(text):
            raise CellError("bad_number", value)
        text = text.replace(",", "").replace(" ", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError("bad_number", value) from None
    if not number.is_finite():
        raise CellError("bad_number", value)
    if percent:
        number /= 100
    return -number if negative else number


def header_key(name: Any) -> str:
    """A column header as a matching key: case, spaces, punctuation and full-width forms ignored,
    so "Order Date", "order_date", "ORDER-DATE" and "订单 日期" each match their own kind."""
    text = _text(name).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def match_headers(headers: list[Any], known: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Which column holds each known field: ``known`` maps a field to the names it may go by
    (English and Chinese). Returns field -> column index for the fields found; a header matching
    no field, or a field whose name appears twice, is left for the user to map by hand."""
    wanted = {header_key(alias): field for field, aliases in known.items() for alias in (field, *aliases)}
    found: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        field = wanted.get(header_key(header))
        if field is not None:
            found.setdefault(field, []).append(index)
    return {field: columns[0] for field, columns in found.items() if len(columns) == 1}
