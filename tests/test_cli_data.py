"""The data commands (issue 8): init, import (dry run, good rows, all or nothing, --map, date order,
--problems, --json), export (period, region, CSV and Excel, and back in without duplicates),
template, and a database held by another process. Run in-process on the tiny fixture.

Hand-checked numbers, from tests/fixtures/tiny.sql: 9 orders, ids 1-6 and 11-13, none with an
external id (so a file names them by their internal id as text). March 2026 orders: 1 (north),
2 (east), 3 (south), 11 (north), 12 (south); north's are 1 and 11.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mktsales import demo, importer
from mktsales.cli import main
from mktsales.db import Database
from tests.conftest import ALL_ORDERS, ORDERS_FILE, ORDERS_HEADER

ROOT = Path(__file__).parent.parent
HEADER, ORDERS = ORDERS_HEADER, ORDERS_FILE


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(db_path: Path, sql: str = ALL_ORDERS, params: list | None = None) -> list[tuple]:
    with Database(db_path) as db:
        return db.rows(sql, params)


def import_orders(capsys, db: Path, file: Path, *options: str) -> tuple[int, str, str]:
    return run(capsys, "import", "--db", db, "--kind", "orders", file, *options)


# -- init ----------------------------------------------------------------------------------------
def test_init_creates_an_empty_database_of_ones_own(tmp_path: Path, capsys) -> None:
    path = tmp_path / "own.duckdb"
    code, out, _ = run(capsys, "init", "--db", path)
    assert code == 0 and out.startswith(f"created {path}: empty")
    with Database(path) as db:
        assert demo.is_own(db) and db.is_empty()
        assert db.scalar("SELECT count(*) FROM orders") == 0


def test_init_refuses_a_database_with_data(tiny_file: Path, capsys) -> None:
    code, out, err = run(capsys, "init", "--db", tiny_file)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "already has data" in err
    with Database(tiny_file) as db:
        assert not demo.is_own(db)


# -- import --------------------------------------------------------------------------------------
def test_a_dry_run_prints_counts_and_problems_by_row_and_changes_nothing(
    tiny_file: Path, tmp_path: Path, capsys
) -> None:
    before = rows(tiny_file)
    code, out, _ = import_orders(capsys, tiny_file, write(tmp_path, ORDERS), "--dry-run")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "orders.csv: 3 rows of orders: 1 new, 1 to update, 1 with problems"
    assert lines[1].startswith("  row 4, “客户”: ") and "“不存在”" in lines[1]
    assert lines[2:] == ["dry run: nothing was changed"]
    assert rows(tiny_file) == before
    assert rows(tiny_file, "SELECT count(*) FROM external_keys") == [(0,)]


def test_import_writes_the_good_rows_and_skips_the_bad_one(tiny_file: Path, tmp_path: Path, capsys) -> None:
    code, out, _ = import_orders(capsys, tiny_file, write(tmp_path, ORDERS))
    assert code == 0
    assert out.splitlines()[0] == "orders.csv: 3 rows of orders: 1 new, 1 to update, 1 with problems"
    assert "1 inserted, 1 updated, 1 rows with problems skipped" in out.splitlines()[-1]
    # order 1: only the amount changed; the new order is 14 (the highest id was 13), in east (its
    # customer's region) and beverages (its product's category); row 4's date 26 March is nowhere
    assert rows(tiny_file, "SELECT amount FROM orders WHERE order_id = 1") == [(1500,)]
    new = "SELECT order_id, order_date::VARCHAR, customer_id, product_id, region_id, category_id,"
    new += " quantity, amount FROM orders WHERE order_id > 13"
    assert rows(tiny_file, new) == [(14, "2026-03-25", 2, 1, 2, 1, 5, 50)]
    assert rows(tiny_file, "SELECT count(*) FROM orders WHERE order_date = DATE '2026-03-26'") == [(0,)]
    # both ids the file used are kept as the rows' external ids from now on
    keys = rows(tiny_file, "SELECT * FROM external_keys ORDER BY internal_id")
    assert keys == [("orders", "1", 1), ("orders", "N1", 14)]


def test_all_or_nothing_with_a_bad_row_imports_nothing_and_exits_1(
    tiny_file: Path, tmp_path: Path, capsys
) -> None:
    before = rows(tiny_file)
    code, out, _ = import_orders(capsys, tiny_file, write(tmp_path, ORDERS), "--all-or-nothing")
    assert code == 1
    assert out.splitlines()[-1].startswith("nothing imported: --all-or-nothing")
    assert rows(tiny_file) == before


def test_all_or_nothing_with_good_rows_imports_them(tiny_file: Path, tmp_path: Path, capsys) -> None:
    good = HEADER + "N1,2026-03-25,2,1,5,50\nN2,2026-03-26,3,2,1,20\n"
    code, out, _ = import_orders(capsys, tiny_file, write(tmp_path, good), "--all-or-nothing")
    assert code == 0 and "2 inserted, 0 updated, 0 rows with problems skipped" in out
    assert rows(tiny_file, "SELECT order_id, amount FROM orders WHERE order_id > 13") == [(14, 50), (15, 20)]


BUYER = "订单编号,订单日期,买家,产品,数量,金额\nN1,2026-03-25,2,1,5,50\n"  # 买家 matches no field


def test_map_names_a_column_by_hand_and_is_remembered(tiny_file: Path, tmp_path: Path, capsys) -> None:
    file = write(tmp_path, BUYER)
    code, out, err = import_orders(capsys, tiny_file, file)
    assert code == 2 and out == ""
    assert "no column for the required field(s) customer" in err and '--map "HEADER=FIELD"' in err
    assert rows(tiny_file, "SELECT count(*) FROM orders") == [(9,)]

    code, out, _ = import_orders(capsys, tiny_file, file, "--map", "买家=customer")
    assert code == 0 and "1 inserted, 0 updated" in out
    assert rows(tiny_file, "SELECT customer_id FROM orders WHERE order_id = 14") == [(2,)]
    # the next file with that header needs no --map: the same row is found by its id and updated
    code, out, _ = import_orders(capsys, tiny_file, file)
    assert code == 0 and "0 inserted, 1 updated" in out


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("Nope=customer", "--map 'Nope=customer': the file has no column 'Nope'"),
        ("买家=buyer", "--map '买家=buyer': orders has no field 'buyer'; fields: amount, customer,"),
        ("买家", "--map '买家': write it as HEADER=FIELD"),
    ],
)
def test_map_with_an_unknown_column_or_field_exits_2(
    tiny_file: Path, tmp_path: Path, capsys, pair: str, message: str
) -> None:
    before = rows(tiny_file)
    code, out, err = import_orders(capsys, tiny_file, write(tmp_path, BUYER), "--map", pair)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err
    assert rows(tiny_file) == before


SLASHED = HEADER + "D1,3/1/2026,1,1,1,10\n"  # 3 January or 1 March?


def test_a_slashed_date_without_an_order_is_a_problem(tiny_file: Path, tmp_path: Path, capsys) -> None:
    code, out, _ = import_orders(capsys, tiny_file, write(tmp_path, SLASHED), "--dry-run", "--json")
    assert code == 0
    (problem,) = json.loads(out)["plan"]["problems"]
    assert (problem["row"], problem["column"], problem["reason"]) == (2, "订单日期", "ambiguous_date")


@pytest.mark.parametrize(("flag", "stored"), [("--month-first", "2026-03-01"), ("--day-first", "2026-01-03")])
def test_day_first_and_month_first_read_a_slashed_date(
    tiny_file: Path, tmp_path: Path, capsys, flag: str, stored: str
) -> None:
    code, out, _ = import_orders(capsys, tiny_file, write(tmp_path, SLASHED), flag)
    assert code == 0 and "1 inserted" in out
    assert rows(tiny_file, "SELECT order_date::VARCHAR FROM orders WHERE order_id = 14") == [(stored,)]


def test_problems_file_lists_every_problem_past_the_printed_fifty(
    tiny_file: Path, tmp_path: Path, capsys
) -> None:
    # 60 rows (rows 2-61), each with an unknown customer; row 62 also has a bad date and a zero
    # quantity: 63 problems on 61 rows. The screen shows 50; the file has all 63.
    text = HEADER + "".join(f"B{n},2026-03-10,C{n},1,1,10\n" for n in range(60))
    text += "B60,2026-02-30,C60,1,0,10\n"
    out_file = tmp_path / "problems.csv"
    code, out, _ = import_orders(
        capsys, tiny_file, write(tmp_path, text), "--dry-run", "--problems", out_file
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "orders.csv: 61 rows of orders: 0 new, 0 to update, 61 with problems"
    assert len([line for line in lines if line.startswith("  row ")]) == 50
    assert "  … and 13 more (--problems FILE lists them all)" in lines
    listed = pd.read_csv(out_file, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(listed.columns) == ["row", "column", "field", "reason", "value", "detail", "text"]
    assert len(listed) == 63
    last = listed[listed["row"] == "62"]
    assert list(last["reason"]) == ["bad_date", "unknown_ref", "negative"]  # "negative" with detail ">0"
    assert list(last["detail"]) == ["", "customers", ">0"]
    assert list(last["column"]) == ["订单日期", "客户", "数量"]
    quantity = last[last["column"] == "数量"]["text"].iloc[0]
    assert quantity == "row 62, “数量”: Quantity must be more than 0 (0)"  # the field's label


def test_the_problems_file_shows_a_formula_in_a_value_as_text(
    tiny_file: Path, tmp_path: Path, capsys
) -> None:
    # issue 23: the value a file held is written back; a spreadsheet must not run it
    evil = '=HYPERLINK(""http://evil.example"",""x"")'  # doubled quotes: CSV quoting
    text = HEADER + f'B1,2026-03-10,"{evil}",1,1,10\n'
    out_file = tmp_path / "problems.csv"
    code, _, _ = import_orders(capsys, tiny_file, write(tmp_path, text), "--dry-run", "--problems", out_file)
    assert code == 0
    with out_file.open(encoding="utf-8-sig", newline="") as source:
        (header, problem) = list(csv.reader(source))
    assert problem[header.index("reason")] == "unknown_ref"
    assert problem[header.index("value")] == '\'=HYPERLINK("http://evil.example","x")'


def test_json_output_keys_and_counts(tiny_file: Path, tmp_path: Path, capsys) -> None:
    code, out, _ = import_orders(capsys, tiny_file, write(tmp_path, ORDERS), "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"file", "dry_run", "imported", "inserted", "updated", "skipped", "seconds", "plan"}
    assert (report["file"], report["dry_run"], report["imported"]) == ("orders.csv", False, True)
    assert (report["inserted"], report["updated"], report["skipped"]) == (1, 1, 1)
    plan = report["plan"]
    assert set(plan) == {
        "kind", "rows", "inserts", "updates", "bad_rows", "missing_fields", "problems",
        "problems_total", "truncated",
    }  # fmt: skip
    assert (plan["kind"], plan["rows"], plan["inserts"], plan["updates"], plan["bad_rows"]) == (
        "orders", 3, 1, 1, 1,
    )  # fmt: skip
    assert (plan["missing_fields"], plan["problems_total"], plan["truncated"]) == ([], 1, False)
    (problem,) = plan["problems"]
    assert set(problem) == {"row", "column", "field", "reason", "value", "detail", "text"}
    assert (problem["row"], problem["column"], problem["field"], problem["reason"], problem["value"]) == (
        4, "客户", "customer", "unknown_ref", "不存在",
    )  # fmt: skip
    assert problem["text"].startswith("row 4, “客户”: ")


# -- export --------------------------------------------------------------------------------------
MARCH = ("--from", "2026-03-01", "--to", "2026-04-01")
# north's March orders, as the export writes them (ids and references as text, amounts with cents)
NORTH_MARCH = [
    ["1", "2026-03-03", "1", "1", "100", "1000.00", "", "", "2"],
    ["11", "2026-03-20", "1", "1", "500", "5000.00", "1", "", "2"],
]
FIELDS = ["id", "order_date", "customer", "product", "quantity", "amount", "lead", "promotion", "rep"]


def test_export_writes_the_orders_of_a_period_and_region(tiny_file: Path, tmp_path: Path, capsys) -> None:
    out_file = tmp_path / "north.csv"
    argv = ("export", "--db", tiny_file, "--kind", "orders", "--out", out_file, *MARCH, "--region", "north")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith(f"wrote 2 rows of orders to {out_file}")
    assert out_file.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads Chinese right
    back = pd.read_csv(out_file, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == FIELDS
    assert back.values.tolist() == NORTH_MARCH


def test_export_without_a_period_writes_all_time(tiny_file: Path, tmp_path: Path, capsys) -> None:
    out_file = tmp_path / "north-all.csv"
    argv = ("export", "--db", tiny_file, "--kind", "orders", "--out", out_file, "--region", "north")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("wrote 3 rows")  # north's orders 1 (March), 4 (April), 11 (March)
    back = pd.read_csv(out_file, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert sorted(back["id"], key=int) == ["1", "4", "11"]


def test_export_help_says_a_period_left_out_is_all_time(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "first day (default: the earliest)" in text
    assert "(default: after the latest)" in text and "this month" not in text


def test_export_as_excel_with_chinese_headers(tiny_file: Path, tmp_path: Path, capsys) -> None:
    out_file = tmp_path / "north.data"  # --format decides, not the suffix
    argv = ("export", "--db", tiny_file, "--kind", "orders", "--out", out_file, "--format", "xlsx")
    code, out, _ = run(capsys, *argv, *MARCH, "--region", "华北", "--lang", "zh")
    assert code == 0 and out.startswith("wrote 2 rows")
    table = importer.read(out_file.read_bytes(), "north.xlsx")
    assert table.headers == [
        "订单编号",
        "订单日期",
        "客户",
        "产品",
        "数量",
        "金额",
        "线索",
        "促销方案",
        "销售代表",
    ]
    cells = table.preview(10).fillna("").values.tolist()
    assert [row[:5] for row in cells] == [r[:5] for r in NORTH_MARCH]
    assert [float(row[5]) for row in cells] == [1000.0, 5000.0]


def test_export_without_a_format_refuses_an_unknown_suffix(tiny_file: Path, tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "export", "--db", tiny_file, "--kind", "orders", "--out", tmp_path / "x.txt")
    assert code == 2 and out == "" and "say --format csv or xlsx" in err
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize(("name", "fmt"), [("x.csv", "xlsx"), ("x.xlsx", "csv"), ("X.CSV", "xlsx")])
def test_export_refuses_a_format_that_does_not_match_the_file_ending(
    tiny_file: Path, tmp_path: Path, capsys, name: str, fmt: str
) -> None:
    out_file = tmp_path / name
    code, out, err = run(
        capsys, "export", "--db", tiny_file, "--kind", "orders", "--out", out_file, "--format", fmt
    )
    ending = name.rsplit(".", 1)[1].lower()
    assert code == 2 and out == ""
    assert err == (
        f"error: {out_file}: --format {fmt} does not match the file's .{ending} ending; "
        f"name the file .{fmt}, or leave --format out to write {ending}\n"
    )
    assert list(tmp_path.iterdir()) == [tiny_file]  # nothing written


@pytest.mark.parametrize(
    ("name", "given"), [("x.xlsx", None), ("x.xlsx", "xlsx"), ("x.csv", None), ("x.csv", "csv")]
)
def test_export_takes_the_format_from_the_file_ending(
    tiny_file: Path, tmp_path: Path, capsys, name: str, given: str | None
) -> None:
    out_file = tmp_path / name
    code, out, _ = run(
        capsys,
        "export",
        "--db",
        tiny_file,
        "--kind",
        "orders",
        "--out",
        out_file,
        *(["--format", given] if given else []),
    )
    assert code == 0 and out.startswith("wrote 9 rows")
    excel = out_file.read_bytes()[:2] == b"PK"  # an .xlsx is a zip file
    assert excel == name.endswith(".xlsx")
    if not excel:
        assert out_file.read_bytes().startswith(b"\xef\xbb\xbfid,order_date,")


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_an_export_imported_back_updates_every_row_and_adds_none(
    tiny_file: Path, tmp_path: Path, capsys, suffix: str
) -> None:
    before = rows(tiny_file)
    out_file = tmp_path / f"all.{suffix}"
    code, out, _ = run(capsys, "export", "--db", tiny_file, "--kind", "orders", "--out", out_file)
    assert code == 0 and out.startswith("wrote 9 rows")  # no period: every order
    code, out, _ = import_orders(capsys, tiny_file, out_file)
    assert code == 0
    assert out.splitlines()[0] == f"all.{suffix}: 9 rows of orders: 0 new, 9 to update, 0 with problems"
    assert "0 inserted, 9 updated, 0 rows with problems skipped" in out
    assert rows(tiny_file) == before


# -- templates -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", importer.KINDS)
def test_a_template_maps_every_field_when_read_back(tmp_path: Path, capsys, kind: str) -> None:
    out_file = tmp_path / f"{kind}.csv"
    code, out, _ = run(capsys, "template", "--kind", kind, "--out", out_file)
    assert code == 0 and out == f"wrote the {kind} template to {out_file}\n"
    headers = importer.read(out_file.read_bytes() + b"\n" + b"x," * 30, out_file.name).headers
    with Database(":memory:") as db:
        mapping = importer.suggest_mapping(db, kind, headers)
    assert sorted(v for v in mapping.values() if v) == sorted(f.name for f in importer.fields(kind))


def test_the_orders_template_header_row(tmp_path: Path, capsys) -> None:
    out_file = tmp_path / "orders.csv"
    assert run(capsys, "template", "--kind", "orders", "--out", out_file)[0] == 0
    text = out_file.read_bytes().decode("utf-8-sig")
    # required fields first, each "中文 / English"
    assert text == (
        "订单编号 / Order ID,订单日期 / Order date,客户 / Customer,产品 / Product,数量 / Quantity,"
        "金额 / Amount,线索 / Lead,促销方案 / Promotion,销售代表 / Sales rep\r\n"
    )


# -- a database in use ---------------------------------------------------------------------------
HOLD = "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)"


def test_a_database_held_by_another_process_is_reported_as_in_use(
    tiny_file: Path, tmp_path: Path, capsys
) -> None:
    file = write(tmp_path, ORDERS)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tiny_file)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        code, out, err = import_orders(capsys, tiny_file, file)
        assert code == 2 and out == ""
        assert err.startswith("error: ") and "in use by another process" in err
        assert "Traceback" not in err
        out_file = tmp_path / "x.csv"
        code, _, err = run(capsys, "export", "--db", tiny_file, "--kind", "orders", "--out", out_file)
        assert code == 2 and "in use by another process" in err
        assert not out_file.exists()
    finally:
        holder.kill()
        holder.wait(timeout=20)
    assert rows(tiny_file, "SELECT amount FROM orders WHERE order_id = 1") == [(1000,)]  # unchanged


def test_import_of_a_missing_file_exits_2(tiny_file: Path, tmp_path: Path, capsys) -> None:
    code, _, err = import_orders(capsys, tiny_file, tmp_path / "none.csv")
    assert code == 2 and f"no file at {tmp_path / 'none.csv'}" in err


def test_problem_text_in_the_json_names_a_field_by_its_label(tiny_file: Path, tmp_path: Path, capsys) -> None:
    text = HEADER + "N1,2026-03-25,2,1,5,-50\n"
    code, out, _ = import_orders(capsys, tiny_file, write(tmp_path, text), "--dry-run", "--json")
    assert code == 0
    (problem,) = json.loads(out)["plan"]["problems"]
    assert problem["text"] == "row 2, “金额”: Amount cannot be negative (-50)"
