"""No download runs a formula (issue 23, point 8): the page tables' CSV and Excel files, the Data
page's and the command line's exports. A text cell starting with = + - @ (or a tab, a carriage
return) gets a leading quote in a CSV and is a text cell in an Excel file; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from mktsales import importer, safe_cells
from mktsales.db import Database
from mktsales.ui import widgets
from tests.conftest import TESTER, write_sql

# What a user typed as a competitor's or customer's name, and what the CSV must hold for each.
EVIL = '=HYPERLINK("http://evil.example","x")'
TYPED = [EVIL, "+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"]
QUOTED = ["'" + text for text in TYPED]
HARMLESS = ["华润万家", "a=b", "'already quoted", "1-2", " =1"]  # left exactly as typed


def test_a_text_a_spreadsheet_would_run_gets_one_quote_and_nothing_else_does() -> None:
    assert [safe_cells.neutral(text) for text in TYPED] == QUOTED
    assert [safe_cells.neutral(text) for text in HARMLESS] == HARMLESS
    assert [safe_cells.neutral(v) for v in (-5, -2.5, None)] == [-5, -2.5, None]
    # a text that already looks quoted gets one quote more, so reading it back is exact
    assert safe_cells.neutral("'=1") == "''=1"
    for text in [*TYPED, *HARMLESS, "'=1", "''+2", "'"]:
        assert safe_cells.unquote(safe_cells.neutral(text)) == text


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"competitor": [*TYPED, "华润万家"], "amount": [-5, 1, 2, 3, 4, 5, -0.5]})


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx_cells(data: bytes | Path) -> list[list[openpyxl.cell.Cell]]:
    book = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [list(row) for row in book.worksheets[0].iter_rows()]


def test_a_page_tables_csv_quotes_formulas_and_keeps_negative_numbers() -> None:
    rows = _csv_rows(widgets.csv_bytes(_frame()))
    assert rows[0] == ["competitor", "amount"]
    assert [r[0] for r in rows[1:]] == [*QUOTED, "华润万家"]
    assert [r[1] for r in rows[1:]] == ["-5.0", "1.0", "2.0", "3.0", "4.0", "5.0", "-0.5"]


def test_a_page_tables_excel_file_holds_text_not_formulas_and_numbers_as_numbers() -> None:
    cells = _xlsx_cells(widgets.excel_bytes(_frame()))
    assert all(c.data_type != "f" for row in cells for c in row)
    # text cells, exactly as typed (openpyxl reads the carriage return as Excel stores it: _x000D_)
    assert [row[0].value for row in cells[1:]] == [*TYPED[:5], "_x000D_=1", "华润万家"]
    assert all(row[0].data_type == "s" for row in cells[1:])
    assert cells[1][1].value == -5 and cells[1][1].data_type == "n"
    assert cells[1][0].hyperlink is None


def test_a_header_a_spreadsheet_would_run_is_quoted_too() -> None:
    rows = _csv_rows(widgets.csv_bytes(pd.DataFrame({"=1+1": ["x"]})))
    assert rows[0] == ["'=1+1"]


@pytest.fixture
def evil_customers(tiny: Database) -> Database:
    """Customers 1 and 2 renamed to formulas; customer 3 owed -5 days of credit (a number)."""
    write_sql(tiny, f"UPDATE customers SET name = '{EVIL}' WHERE customer_id = 1")
    write_sql(tiny, "UPDATE customers SET name = '-2+3' WHERE customer_id = 2")
    write_sql(tiny, "UPDATE customers SET credit_days = -5 WHERE customer_id = 3")
    return tiny


def test_the_csv_export_quotes_formulas_and_keeps_numbers(evil_customers: Database, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    assert importer.export_file(evil_customers, "customers", path, "csv") == 3
    rows = _csv_rows(path.read_bytes())
    name, days = rows[0].index("name"), rows[0].index("credit_days")
    assert [r[name] for r in rows[1:]] == ["'" + EVIL, "'-2+3", "广州粤华经销"]
    assert [r[days] for r in rows[1:]] == ["60", "30", "-5"]


def test_the_excel_export_holds_text_not_formulas(evil_customers: Database, tmp_path: Path) -> None:
    path = tmp_path / "customers.xlsx"
    assert importer.export_file(evil_customers, "customers", path, "xlsx") == 3
    cells = _xlsx_cells(path)
    headers = [c.value for c in cells[0]]
    name, days = headers.index("name"), headers.index("credit_days")
    assert all(c.data_type != "f" for row in cells for c in row)
    assert [r[name].value for r in cells[1:]] == [
        EVIL,
        "-2+3",
        "广州粤华经销",
    ]
    assert [r[days].value for r in cells[1:]] == [60, 30, -5]


def test_a_csv_export_imported_back_keeps_the_names_as_typed(
    evil_customers: Database, tmp_path: Path
) -> None:
    """The quote an export adds is the spreadsheet's text mark: reading the file back drops it, so an
    export → edit → import round trip does not grow a ' on every formula-like name."""
    write_sql(evil_customers, "UPDATE customers SET name = '''=x' WHERE customer_id = 3")  # typed '=x
    path = tmp_path / "customers.csv"
    importer.export_file(evil_customers, "customers", path, "csv")
    table = importer.read(path.read_bytes(), "customers.csv")
    importer.run(
        evil_customers,
        "customers",
        table,
        importer.suggest_mapping(evil_customers, "customers", table.headers),
        by=TESTER,
    )
    names = [n for (n,) in evil_customers.rows("SELECT name FROM customers ORDER BY customer_id")]
    assert names == [EVIL, "-2+3", "'=x"]
    assert evil_customers.scalar("SELECT count(*) FROM customers") == 3  # updated, not added


def test_a_persons_own_csv_with_the_text_mark_reads_as_what_they_meant() -> None:
    table = importer.read(b"id,name\n1,'+86 138 0000\n2,'plain\n", "c.csv")
    assert table.preview()["name"].tolist() == ["+86 138 0000", "'plain"]
