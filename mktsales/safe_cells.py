"""Cells a spreadsheet shows but never runs (issue 23, point 8: formula injection in downloads).

Excel and LibreOffice read a CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP's list), so a competitor named ``=HYPERLINK("http://…","x")`` becomes a live
link in whoever opens the file. Every CSV the app writes puts a ``'`` before such a text cell (the
spreadsheet's own "this is text" mark); numbers are left as they are (-5 stays the number -5). A text
that already starts with quotes before such a character gets one quote more, so ``unquote`` gives back
exactly the text that was written. Excel files write text as text cells (``XLSX_OPTIONS``), which no
spreadsheet runs, so they need no quote.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_STARTS = "=+-@\t\r"  # a cell starting with one of these is a formula to a spreadsheet
QUOTE = "'"
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")  # quotes first, then a formula start: quoted once more
# The same test in DuckDB's regular expressions (RE2 reads \t and \r); SQL keeps backslashes as typed.
_SQL_PATTERN = r"^''*[=+\-@\t\r]"
# The quote ``neutral`` added, before a formula start (RE2, for pyarrow): dropped by ``unquote_column``.
_UNQUOTE_PATTERN = r"^'('*[=+\-@\t\r])"
# xlsxwriter: write every string as a text cell, never as a formula or a link.
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def needs_quote(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (or it could be mistaken for a quoted one)."""
    return _NEEDS_QUOTE.match(text) is not None


def neutral(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet shows as text: a quote before a formula; others unchanged."""
    if isinstance(value, str) and needs_quote(value):
        return QUOTE + value
    return value


def unquote(value: str) -> str:
    """The text ``neutral`` was given: a reader of the app's own CSV files drops the quote it added."""
    if value.startswith(QUOTE) and needs_quote(value[1:]):
        return value[1:]
    return value


def unquote_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """``unquote`` on every cell of a text column read from a CSV (the import reads the app's own
    exports back as they were written, and a person's ``'+86 …`` as the ``+86 …`` they meant)."""
    return pc.replace_substring_regex(column, pattern=_UNQUOTE_PATTERN, replacement=r"\1")


def neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell and header made ``neutral``; numeric columns are not touched."""
    out = frame.copy()
    for i in range(out.shape[1]):
        values = out.iloc[:, i]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out.isetitem(i, values.map(neutral, na_action="ignore"))
    out.columns = [neutral(c) for c in out.columns]
    return out


def sql_neutral(expression: str) -> str:
    """SQL that makes the text ``expression`` neutral (for a COPY that writes CSV in the database).

    ``expression`` comes from the schema (a quoted column name), never from what a user typed."""
    test = f"regexp_matches({expression}, '{_SQL_PATTERN}')"
    return f"CASE WHEN {test} THEN '''' || {expression} ELSE {expression} END"
