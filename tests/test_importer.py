"""Import and export (issue 8): every kind, every format, every problem by row and column, atomic
and idempotent imports, and a round trip that keeps the KPIs the user sees."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from mktsales import funnel, importer, kpis
from mktsales.db import Database
from mktsales.scope import Scope
from tests.conftest import MARCH, TESTER, write_sql


def _table(text: str, name: str = "f.csv") -> importer.Table:
    return importer.read(text.encode("utf-8"), name)


def load(db: Database, kind: str, text: str, **options) -> importer.Result:
    """Import ``text`` (CSV) as ``kind`` with the suggested mapping."""
    table = _table(text)
    return importer.run(
        db, kind, table, importer.suggest_mapping(db, kind, table.headers), by=TESTER, **options
    )


def problems(db: Database, kind: str, text: str, **options) -> list[tuple[int, str, str]]:
    """The dry run's (row, column, reason) list."""
    table = _table(text)
    plan = importer.check(db, kind, table, importer.suggest_mapping(db, kind, table.headers), **options)
    return [(p.row, p.column, p.reason) for p in plan.problems.itertuples()]


def counts(db: Database) -> dict[str, int]:
    return {name: db.scalar(f"SELECT count(*) FROM {name}") for name in (*importer.KINDS, "external_keys")}


@pytest.fixture
def empty() -> Database:
    with Database(":memory:") as db:
        yield db


# -- every kind ------------------------------------------------------------------------------------
def test_every_kind_imports_into_an_empty_database(empty: Database) -> None:
    db = empty
    load(db, "regions", "code,name_zh,name_en\nnorth,华北,North China\nEAST,华东,East China\n")
    load(db, "categories", "code,中文名称,英文名称\nbev,饮料,Beverages\n")
    assert db.rows("SELECT * FROM regions ORDER BY 1") == [
        (1, "north", "华北", "North China"),
        (2, "EAST", "华东", "East China"),
    ]
    assert db.rows("SELECT * FROM categories") == [(1, "bev", "饮料", "Beverages")]

    load(db, "people", "id,name,department,title,region\nP1,王芳,市场部,head,华北\nP2,李强,sales,销售代表,\n")
    assert db.rows("SELECT * FROM people ORDER BY 1") == [
        (1, "王芳", "marketing", "head", 1),
        (2, "李强", "sales", "rep", None),  # blank region: national
    ]
    load(
        db,
        "customers",
        "id,name,channel,region,account_manager,credit_days\n"
        "C1,华润万家,重点客户,north,P2,60\nC2,联华,supermarket,East China,,\n",
    )
    assert db.rows("SELECT * FROM customers ORDER BY 1") == [
        (1, "华润万家", "key_account", 1, 2, 60),
        (2, "联华", "supermarket", 2, None, 30),  # credit days default to 30
    ]
    load(db, "products", "id,name_zh,category,unit_price,unit_cost\nG1,绿茶,饮料,10,6\n")
    assert db.rows("SELECT * FROM products") == [(1, 1, "绿茶", "绿茶", Decimal("10.00"), Decimal("6.00"))]

    load(
        db,
        "promotions",
        "id,title_zh,kind,status,category,start_date,end_date,budget,owner,regions,"
        'requested_at,decided_at\nPR1,华北买赠,tactical,已批准,bev,2026-03-10,2026-03-20,"5,000",P1,'
        '"north; 华东",2026-03-01 08:00,2026-03-02\n',
    )
    assert db.rows("SELECT * FROM promotions") == [
        (
            1,
            "华北买赠",
            "华北买赠",
            "tactical",
            "marketing",
            "approved",
            1,
            dt.date(2026, 3, 10),
            dt.date(2026, 3, 20),
            Decimal("5000.00"),
            1,
            dt.datetime(2026, 3, 1, 8),
            dt.datetime(2026, 3, 2),
        )
    ]
    assert db.rows("SELECT * FROM promotion_regions ORDER BY 2") == [(1, 1), (1, 2)]

    load(
        db,
        "activities",
        "id,activity_date,track,kind,region,category,owner,advisor,promotion,reach,engaged,cost\n"
        "A1,2026-03-05,marketing,ad,north,bev,P1,李强,PR1,1000,100,500\nA2,2026-03-06,销售部,拜访,east,bev,P2,,,,,\n",
    )
    assert db.rows("SELECT * EXCLUDE (campaign_id) FROM activities ORDER BY 1") == [
        (1, dt.date(2026, 3, 5), "marketing", "ad", 1, 1, 1, 2, 1, 1000, 100, Decimal("500.00")),
        (2, dt.date(2026, 3, 6), "sales", "visit", 2, 1, 2, None, None, 0, 0, Decimal("0.00")),  # defaults
    ]
    load(
        db,
        "leads",
        "id,region,category,source,activity,owner,created_at,mql_at,sal_at,opportunity_at,"
        "closed_at,outcome,value\nL1,north,bev,ad,A1,P2,2026-03-02 09:00,2026-03-03 09:00,2026-03-03 21:00,"
        "2026-03-10,2026-03-20 10:00,won,5000\n",
    )
    assert db.rows(
        "SELECT lead_id, region_id, category_id, source, activity_id, owner_id, created_at, sal_at,"
        " opportunity_at, outcome, value, campaign_id FROM leads"
    ) == [
        (
            1,
            1,
            1,
            "ad",
            1,
            2,
            dt.datetime(2026, 3, 2, 9),
            dt.datetime(2026, 3, 3, 21),
            dt.datetime(2026, 3, 10),
            "won",
            Decimal("5000.00"),
            None,
        )
    ]
    load(
        db,
        "orders",
        "id,order_date,customer,product,quantity,amount,lead,promotion,rep\n"
        "O1,2026-03-20,C1,G1,500,5000,L1,PR1,P2\n",
    )
    # region and category come from the customer (north) and the product (bev)
    assert db.rows("SELECT * FROM orders") == [
        (1, dt.date(2026, 3, 20), 1, 1, 1, 1, 500, Decimal("5000.00"), 1, 1, 2)
    ]
    load(db, "payments", "id,order,paid_on,amount\nPay1,O1,2026-03-25,5000\n")
    assert db.rows("SELECT * FROM payments") == [(1, 1, dt.date(2026, 3, 25), Decimal("5000.00"), "transfer")]
    load(
        db,
        "targets",
        "month,region,category,revenue_target\n2026-03,north,bev,5000\n2026年4月,east,饮料,3000\n"
        "2026-05-17,north,bev,1000\n",
    )
    assert db.rows("SELECT * FROM targets ORDER BY 1") == [
        (dt.date(2026, 3, 1), 1, 1, Decimal("5000.00")),
        (dt.date(2026, 4, 1), 2, 1, Decimal("3000.00")),
        (dt.date(2026, 5, 1), 1, 1, Decimal("1000.00")),  # any day of the month is the month
    ]
    load(
        db,
        "brand_surveys",
        "survey_date,region,awareness_pct,sample_size\n2026-03-15,north,45%,400\n2026-03-15,east,38.5,200\n",
    )
    assert db.rows("SELECT * FROM brand_surveys ORDER BY 2") == [
        (dt.date(2026, 3, 15), 1, 45.0, 400),  # "45%" is 45 percent
        (dt.date(2026, 3, 15), 2, 38.5, 200),
    ]
    assert db.rows("SELECT kind, external_id, internal_id FROM external_keys ORDER BY 1, 2") == [
        ("activities", "A1", 1),
        ("activities", "A2", 2),
        ("customers", "C1", 1),
        ("customers", "C2", 2),
        ("leads", "L1", 1),
        ("orders", "O1", 1),
        ("payments", "Pay1", 1),
        ("people", "P1", 1),
        ("people", "P2", 2),
        ("products", "G1", 1),
        ("promotions", "PR1", 1),
    ]
    # one audit entry per import
    assert db.scalar("SELECT count(*) FROM audit_log WHERE entity = 'import'") == 12


def test_natural_keys_update_regions_targets_and_surveys(tiny: Database) -> None:
    load(tiny, "regions", "code,name_zh,name_en\nNORTH,华北,North China\nwest,西部,West China\n")
    # NORTH is north (case ignored, stored code kept); west is new
    assert tiny.rows("SELECT * FROM regions ORDER BY 1") == [
        (1, "north", "华北", "North China"),
        (2, "east", "华东", "East China"),
        (3, "south", "华南", "South China"),
        (4, "west", "西部", "West China"),
    ]
    result = load(tiny, "targets", "month,region,category,revenue_target\n2026-03-01,north,beverages,6000\n")
    assert (result.inserted, result.updated) == (0, 1)
    assert tiny.scalar(
        "SELECT revenue_target FROM targets WHERE month = '2026-03-01' AND region_id = 1 AND category_id = 1"
    ) == Decimal("6000.00")
    result = load(
        tiny, "brand_surveys", "survey_date,region,awareness_pct,sample_size\n2026-03-15,north,55,420\n"
    )
    assert (result.inserted, result.updated) == (0, 1)
    assert tiny.rows(
        "SELECT awareness_pct, sample_size FROM brand_surveys WHERE survey_date = '2026-03-15'"
    ) == [(55.0, 420)]


def test_a_promotion_reimported_with_other_regions_keeps_the_listed_ones(tiny: Database) -> None:
    text = (
        "id,title_zh,title_en,kind,status,category,start_date,end_date,regions\n"
        "4,春季品牌推广,Spring brand campaign,major,approved,snacks,2026-05-01,2026-05-31,north|south\n"
    )
    result = load(tiny, "promotions", text)
    assert (result.inserted, result.updated) == (0, 1)  # "4": promotion 4, which has no external key
    assert tiny.rows("SELECT region_id FROM promotion_regions WHERE promotion_id = 4 ORDER BY 1") == [
        (1,),
        (3,),
    ]
    assert tiny.scalar("SELECT status FROM promotions WHERE promotion_id = 4") == "approved"


# -- formats ---------------------------------------------------------------------------------------
FORMATS = (
    "id,order_date,customer,product,quantity,amount\n"
    'F1,2024-03-01,1,1,1,"1,234.50"\n'  # ISO; thousands separator
    'F2,2024/3/1,1,1,1,"¥1,234"\n'  # slashes; currency sign
    "F3,3/1/2024,1,1,1,1 234 元\n"  # year last: the stated order decides; space separator and unit
    "F4,45352,1,1,1, 12.5 \n"  # an Excel serial day as text
    'F5,2024年3月1日,1,1,"1,200",0\n'  # Chinese date; a quantity with a separator
)


def test_dates_and_numbers_as_people_write_them(tiny: Database) -> None:
    load(tiny, "orders", FORMATS, day_first=False)
    assert tiny.rows("SELECT order_date, quantity, amount FROM orders WHERE order_id > 13 ORDER BY 3") == [
        (dt.date(2024, 3, 1), 1200, Decimal("0.00")),
        (dt.date(2024, 3, 1), 1, Decimal("12.50")),
        (dt.date(2024, 3, 1), 1, Decimal("1234.00")),
        (dt.date(2024, 3, 1), 1, Decimal("1234.00")),
        (dt.date(2024, 3, 1), 1, Decimal("1234.50")),
    ]


def test_the_stated_order_reads_3_1_2024_as_the_3rd_of_january(tiny: Database) -> None:
    load(tiny, "orders", FORMATS, day_first=True)
    assert tiny.scalar(
        "SELECT order_date FROM orders o JOIN external_keys k ON k.internal_id = o.order_id"
        " AND k.kind = 'orders' WHERE k.external_id = 'F3'"
    ) == dt.date(2024, 1, 3)


def test_an_unstated_order_is_refused_not_guessed(tiny: Database) -> None:
    assert problems(tiny, "orders", FORMATS) == [(4, "order_date", "ambiguous_date")]


def test_a_negative_amount_in_brackets_is_refused(tiny: Database) -> None:
    text = "id,order_date,customer,product,quantity,amount\nN1,2026-03-01,1,1,1,(500)\n"
    assert problems(tiny, "orders", text) == [(2, "amount", "negative")]


def _xlsx(
    rows: list[list[object]], *, sheets: tuple[str, ...] = ("Sheet1",), dated: int | None = None
) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name in sheets:
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def test_an_xlsx_with_excel_dates_serial_numbers_and_blank_rows(tiny: Database) -> None:
    data = _xlsx(
        [
            [None],  # a blank row above the header
            ["订单编号", "订单日期", "客户", "产品", "数量", "金额"],
            ["X1", dt.date(2024, 3, 1), 1, 1, 2, 1234.5],  # a date cell
            [None],
            ["X2", 45352, "华润万家(北京)", "Green tea", 3, "¥99"],  # a serial number cell; names
            [None, None, None, None, None, None, None, None],
        ]
    )
    table = importer.read(data, "orders.xlsx")
    assert (table.headers, table.rows, table.row_numbers()) == (
        ["订单编号", "订单日期", "客户", "产品", "数量", "金额"],
        2,
        [3, 5],
    )
    assert table.preview().to_dict("records")[0] == {
        "订单编号": "X1",
        "订单日期": "2024-03-01",
        "客户": "1",
        "产品": "1",
        "数量": "2",
        "金额": "1234.5",
    }
    importer.run(tiny, "orders", table, importer.suggest_mapping(tiny, "orders", table.headers), by=TESTER)
    assert tiny.rows(
        "SELECT order_date, customer_id, product_id, quantity, amount FROM orders"
        " WHERE order_id > 13 ORDER BY 1, 4"
    ) == [
        (dt.date(2024, 3, 1), 1, 1, 2, Decimal("1234.50")),
        (dt.date(2024, 3, 1), 1, 1, 3, Decimal("99.00")),
    ]


def test_an_xlsx_sheet_named_like_a_kind_is_read_before_the_first() -> None:
    data = _xlsx([["id"], ["x"]], sheets=("说明", "订单"))
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names == ["说明", "订单"]
    assert importer.read(data, "book.xlsx").headers == ["id"]


def test_csv_in_gbk_with_semicolons_and_blank_lines_keeps_the_row_numbers() -> None:
    data = "\n编号;名称\n\nA;华北\n\nB;华东\n\n".encode("gbk")
    table = importer.read(data, "r.csv")
    assert (table.headers, table.rows, table.row_numbers()) == (["编号", "名称"], 2, [4, 6])
    assert table.preview()["名称"].tolist() == ["华北", "华东"]
    bom = "\ufeffid\tname\r\n1\t王芳\r\n".encode()
    assert importer.read(bom, "p.csv").headers == ["id", "name"]


def test_unreadable_files_raise_a_file_error_with_a_message() -> None:
    with pytest.raises(importer.ImportFileError) as raised:
        importer.read(b"x", "data.pdf")
    assert raised.value.reason == "unknown_format"
    assert raised.value.message("en") == "unknown file type “.pdf”; upload a .csv or .xlsx file"
    with pytest.raises(importer.ImportFileError) as raised:
        importer.read(b"id,name\n,\n", "empty.csv")
    assert (raised.value.reason, raised.value.message("zh")) == ("empty", "文件中没有数据行")
    with pytest.raises(importer.ImportFileError) as raised:
        importer.read(b"not a zip", "broken.xlsx")
    assert raised.value.reason == "unreadable"


# -- problems --------------------------------------------------------------------------------------
def test_every_problem_is_reported_by_row_and_column(tiny: Database) -> None:
    write_sql(
        tiny, "INSERT INTO customers VALUES (4, '华润万家(北京)', 'supermarket', 1, NULL, 30)"
    )  # a twin name
    text = (
        "订单编号,订单日期,客户,产品,数量,金额,销售代表\n"
        "X1,,1,1,1,1,\n"  # 2: missing date
        "X2,2026-02-30,1,1,1,1,\n"  # 3: no such day
        "X3,3/4/2026,1,1,1,1,\n"  # 4: day or month first?
        "X4,2026-03-01,nobody,1,1,1,\n"  # 5: unknown customer
        "X5,2026-03-01,1,1,abc,1,\n"  # 6: not a number
        "X6,2026-03-01,1,1,0,1,\n"  # 7: quantity must be > 0
        "X7,2026-03-01,1,1,1,-1,\n"  # 8: negative amount
        "X8,2026-03-01,1,1,1,1,\n"  # 9: X8 twice: both flagged
        "X8,2026-03-01,1,1,1,1,\n"  # 10
        "1,2026-03-03,2,1,100,1000,2\n"  # 11: order 1 has payments: its customer cannot change
        "X9,2026-03-01,华润万家(北京),1,1,1,\n"  # 12: that name is two customers
        "X10,2026-03-01,1,1,1,1,李强\n"  # 13: good (a rep by name)
    )
    assert problems(tiny, "orders", text) == [
        (2, "订单日期", "missing"),
        (3, "订单日期", "bad_date"),
        (4, "订单日期", "ambiguous_date"),
        (5, "客户", "unknown_ref"),
        (6, "数量", "bad_number"),
        (7, "数量", "negative"),
        (8, "金额", "negative"),
        (9, "订单编号", "duplicate_id"),
        (10, "订单编号", "duplicate_id"),
        (11, "客户", "fixed_reference"),
        (12, "客户", "ambiguous_ref"),
    ]
    plan = importer.check(
        tiny, "orders", _table(text), importer.suggest_mapping(tiny, "orders", _table(text).headers)
    )
    assert (plan.rows, plan.inserts, plan.updates, plan.bad_rows, plan.truncated) == (12, 1, 0, 11, False)
    texts = plan.texts("en")
    assert texts[3] == "row 5, “客户”: “nobody” is not among the customers"
    assert texts[9] == (
        "row 11, “客户”: this row of Orders is already referenced by other records, "
        "so its Customer cannot be changed by import"
    )
    assert plan.texts("zh")[3] == "第 5 行「客户」：客户「nobody」不存在"


def test_choice_text_and_lead_stage_problems(tiny: Database) -> None:
    long_name = "名" * 501
    assert problems(
        tiny, "people", f"id,name,department,title\nQ1,{long_name},市场部,head\nQ2,x,finance,rep\n"
    ) == [
        (2, "name", "too_long"),
        (3, "department", "bad_choice"),
    ]
    leads = (
        "id,region,category,source,created_at,mql_at,sal_at,rejected_at,opportunity_at,closed_at,outcome\n"
        "M1,north,beverages,ad,2026-03-02,2026-03-01,,,,,\n"  # 2: MQL before created
        "M2,north,beverages,ad,2026-03-02,2026-03-03,2026-03-02 12:00,,,,\n"  # 3: SAL before MQL
        "M3,north,beverages,ad,2026-03-02,,,2026-03-04,,,\n"  # 4: rejected without MQL
        "M4,north,beverages,ad,2026-03-02,2026-03-03,2026-03-04,,2026-03-05,2026-03-06,\n"  # 5: no outcome
        "M5,north,beverages,ad,2026-03-02,2026-03-03,2026-03-04,,,,won\n"  # 6: outcome without closing
        "M6,north,beverages,ad,2026-03-02,2026-03-03,,,2026-03-05,,\n"  # 7: opportunity without SAL
        "M7,north,beverages,ad,2026-03-02,2026-03-03,2026-03-04,,2026-03-05,2026-03-06,lost\n"  # good
    )
    assert problems(tiny, "leads", leads) == [
        (2, "mql_at", "out_of_order"),
        (3, "sal_at", "out_of_order"),
        (4, "rejected_at", "out_of_order"),
        (5, "closed_at", "out_of_order"),
        (6, "outcome", "out_of_order"),
        (7, "opportunity_at", "out_of_order"),
    ]


def test_range_problems(tiny: Database) -> None:
    assert problems(
        tiny,
        "activities",
        "id,activity_date,track,kind,region,category,reach,engaged,cost\n"
        "B1,2026-03-01,marketing,ad,north,beverages,10,20,5\n"
        "B2,2026-03-01,marketing,ad,north,beverages,10,5,-5\n",
    ) == [
        (2, "engaged", "out_of_range"),
        (3, "cost", "negative"),
    ]
    assert problems(
        tiny,
        "brand_surveys",
        "survey_date,region,awareness_pct,sample_size\n"
        "2026-05-01,north,120,10\n2026-05-01,east,50%,0\n2026-05-01,华南,x,5\n",
    ) == [
        (2, "awareness_pct", "out_of_range"),
        (3, "sample_size", "out_of_range"),
        (4, "awareness_pct", "bad_number"),
    ]
    assert problems(
        tiny,
        "promotions",
        "id,title_zh,kind,status,category,start_date,end_date,regions\n"
        "Z1,试,tactical,live,snacks,2026-05-02,2026-05-01,north;nowhere\n"
        "Z2,试,tactical,live,snacks,2026-05-02,2026-05-01,north\n",
    ) == [
        (2, "regions", "unknown_ref"),
        (3, "end_date", "out_of_range"),
    ]
    assert problems(tiny, "regions", "code,name_zh,name_en\nwest,华北,West\n") == [
        (2, "name_zh", "duplicate_id")
    ]


def test_a_required_field_not_mapped_is_a_file_problem(tiny: Database) -> None:
    table = _table("id,order_date,customer,product,quantity\nQ,2026-03-01,1,1,1\n")
    mapping = importer.suggest_mapping(tiny, "orders", table.headers)
    assert importer.missing_fields("orders", mapping) == ["amount"]
    for attempt in (
        lambda: importer.check(tiny, "orders", table, mapping),
        lambda: importer.run(tiny, "orders", table, mapping, by=TESTER),
    ):
        with pytest.raises(importer.ImportFileError) as raised:
            attempt()
        assert raised.value.reason == "missing_fields"
        assert raised.value.message("en") == "these required fields have no column: Amount (amount)"
        assert raised.value.message("zh") == "以下必填字段没有对应的列：金额 (amount)"


def test_orders_without_a_customer_column_are_refused_before_any_row_is_read(tiny: Database) -> None:
    table = _table("id,order_date,product,quantity,amount\nQ,2026-03-01,1,1,10\n")
    mapping = importer.suggest_mapping(tiny, "orders", table.headers)
    with pytest.raises(importer.ImportFileError) as raised:
        importer.check(tiny, "orders", table, mapping)
    assert raised.value.message("en") == "these required fields have no column: Customer (customer)"


# -- headers ---------------------------------------------------------------------------------------
def test_headers_match_in_either_language_and_a_hand_mapping_is_remembered(tiny: Database) -> None:
    headers = [
        "Order ID",
        "  ORDER   date ",
        "客户",
        "产品 / Product",
        "数量 / Quantity",
        "amount",
        "备注",
        "单号",
    ]
    assert importer.suggest_mapping(tiny, "orders", headers) == {
        0: "id",
        1: "order_date",
        2: "customer",
        3: "product",
        4: "quantity",
        5: "amount",
        6: None,
        7: None,
    }
    table = _table("单号,日期,客户,产品,数量,金额\nH1,2026-03-01,1,1,1,1\n")
    mapping = importer.suggest_mapping(tiny, "orders", table.headers)
    assert mapping[0] is None  # 单号 is no known name
    importer.run(tiny, "orders", table, {**mapping, 0: "id"}, by=TESTER)
    assert importer.suggest_mapping(tiny, "orders", ["单号", "日期"]) == {0: "id", 1: "order_date"}


# -- idempotent, atomic ----------------------------------------------------------------------------
NEW_ORDERS = (
    "id,order_date,customer,product,quantity,amount\n"
    "N1,2026-03-10,1,1,10,100\n"  # north beverages
    "N2,2026-03-11,2,2,20,400\n"  # east snacks
)


def test_importing_the_same_file_twice_updates_instead_of_duplicating(tiny: Database) -> None:
    first = load(tiny, "orders", NEW_ORDERS)
    assert (first.inserted, first.updated) == (2, 0)
    before, report = counts(tiny), kpis.report(tiny, Scope(*MARCH))
    # tiny's March revenue is 1000 + 1000 + 200 + 5000 + 3000 = 10,200; plus 100 + 400
    assert report["sales"]["revenue"] == 10_700
    again = load(tiny, "orders", NEW_ORDERS)
    assert (again.inserted, again.updated, again.skipped) == (0, 2, 0)
    assert counts(tiny) == before
    assert kpis.report(tiny, Scope(*MARCH)) == report
    changed = load(tiny, "orders", NEW_ORDERS.replace(",400\n", ",450\n"))
    assert (changed.inserted, changed.updated) == (0, 2)
    assert kpis.report(tiny, Scope(*MARCH))["sales"]["revenue"] == 10_750


def test_a_failure_half_way_leaves_the_database_as_it_was(tiny: Database, monkeypatch) -> None:
    before, version = counts(tiny), tiny.version()

    def broken(stage) -> None:  # after the orders were inserted, before their external keys
        assert stage.rows("SELECT count(*) FROM orders")[0][0] == 11
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_save_keys", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        load(tiny, "orders", NEW_ORDERS)
    assert (counts(tiny), tiny.version()) == (before, version)
    assert tiny.scalar("SELECT count(*) FROM audit_log WHERE entity = 'import'") == 0


def test_all_or_nothing_refuses_a_file_with_problems(tiny: Database) -> None:
    before, version = counts(tiny), tiny.version()
    with pytest.raises(importer.ImportRefused) as refused:
        load(tiny, "orders", NEW_ORDERS + "N3,2026-03-12,9,1,1,1\n", skip_bad=False)
    assert (refused.value.plan.bad_rows, refused.value.plan.inserts) == (1, 2)
    assert (counts(tiny), tiny.version()) == (before, version)
    skipped = load(tiny, "orders", NEW_ORDERS + "N3,2026-03-12,9,1,1,1\n")
    assert (skipped.inserted, skipped.skipped) == (2, 1)


def test_an_order_without_payments_may_change_customer_and_follows_its_region(tiny: Database) -> None:
    # order 3 (customer 3, south) has no payments: moving it to customer 2 moves it to east
    load(tiny, "orders", "id,order_date,customer,product,quantity,amount\n3,2026-03-31,2,2,10,250\n")
    assert tiny.rows("SELECT customer_id, region_id, amount FROM orders WHERE order_id = 3") == [
        (2, 2, Decimal("250.00"))
    ]


def test_the_check_changes_nothing_and_reports_progress(tiny: Database) -> None:
    before, version = counts(tiny), tiny.version()
    steps: list[tuple[float, str]] = []
    table = _table(NEW_ORDERS)
    plan = importer.check(
        tiny,
        "orders",
        table,
        importer.suggest_mapping(tiny, "orders", table.headers),
        progress=lambda fraction, step: steps.append((fraction, step)),
    )
    assert (plan.inserts, plan.updates, plan.bad_rows, len(plan.problems)) == (2, 0, 0, 0)
    assert (counts(tiny), tiny.version()) == (before, version)
    assert [s for _, s in steps][:3] == ["import.step.read", "import.step.parse", "import.step.check"]
    assert [f for f, _ in steps] == sorted(f for f, _ in steps) and steps[-1][0] == 1.0


# -- export and round trip -------------------------------------------------------------------------
def test_export_then_import_into_an_empty_database_keeps_the_kpis(tiny: Database, tmp_path: Path) -> None:
    with Database(":memory:") as fresh:
        for kind in importer.KINDS:
            path = tmp_path / f"{kind}.csv"
            written = importer.export_file(tiny, kind, path, "csv")
            assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
            table = importer.read(path, path.name)
            mapping = importer.suggest_mapping(fresh, kind, table.headers)
            assert None not in mapping.values()
            result = importer.run(fresh, kind, table, mapping, by=TESTER, skip_bad=False)
            assert (result.inserted, result.updated) == (written, 0), kind
        march = Scope(*MARCH)
        assert kpis.report(fresh, march) == kpis.report(tiny, march)
        as_of = dt.datetime(2026, 4, 1)
        assert funnel.report(fresh, march, as_of=as_of, target_hours=24) == funnel.report(
            tiny, march, as_of=as_of, target_hours=24
        )
        # and exporting again from the copy gives the same files
        for kind in ("orders", "leads", "promotions"):
            assert importer.export_frame(fresh, kind).equals(importer.export_frame(tiny, kind))


def test_export_applies_the_scope_and_the_language(tiny: Database, tmp_path: Path) -> None:
    north_march = Scope(*MARCH, regions=(1,))
    frame = importer.export_frame(tiny, "orders", north_march)
    assert frame["id"].tolist() == ["1", "11"]  # orders 4 (April) and 12 (south) are out
    assert importer.export_frame(tiny, "payments", north_march)["id"].tolist() == ["1", "6"]
    assert importer.export_frame(tiny, "promotions", Scope(*MARCH, regions=(2,)))["id"].tolist() == ["2"]
    labels = importer.export_frame(tiny, "targets", Scope(*MARCH, categories=(2,)), lang="zh")
    assert list(labels.columns) == ["月份", "区域", "品类", "销售目标"]
    assert labels["区域"].tolist() == ["north", "east", "south"]
    path = tmp_path / "orders.xlsx"
    assert importer.export_file(tiny, "orders", path, "xlsx", north_march) == 2
    table = importer.read(path, path.name)
    assert (table.headers[:3], table.rows) == (["id", "order_date", "customer"], 2)
    assert table.preview()["amount"].tolist() == ["1000", "5000"]


def test_export_refuses_more_rows_than_excel_holds(tiny: Database, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(importer, "XLSX_MAX_ROWS", 5)
    with pytest.raises(importer.ImportFileError) as raised:
        importer.export_file(tiny, "orders", tmp_path / "o.xlsx", "xlsx")
    assert raised.value.reason == "too_many_rows"


def test_templates_carry_both_languages_and_map_back_to_every_field(empty: Database) -> None:
    data = importer.template("orders", "csv", "zh")
    assert data.decode("utf-8-sig").splitlines()[0] == (
        "订单编号 / Order ID,订单日期 / Order date,客户 / Customer,产品 / Product,数量 / Quantity,"
        "金额 / Amount,线索 / Lead,促销方案 / Promotion,销售代表 / Sales rep"
    )
    for kind in importer.KINDS:
        book = CalamineWorkbook.from_filelike(io.BytesIO(importer.template(kind, "xlsx", "en")))
        assert book.sheet_names == [kind, "说明 Guide"]
        headers = book.get_sheet_by_index(0).to_python()[0]
        assert set(importer.suggest_mapping(empty, kind, headers).values()) == {
            f.name for f in importer.fields(kind)
        }
        guide = book.get_sheet_by_name("说明 Guide").to_python()
        assert guide[0] == ["Field", "Chinese header", "English header", "Required", "Format / example"]
        assert len(guide) == 1 + len(importer.fields(kind))


# -- size ------------------------------------------------------------------------------------------
def test_fifty_thousand_orders_import(tiny: Database) -> None:
    lines = ["id,order_date,customer,product,quantity,amount"]
    # i % 3 + 1 customers, i % 2 + 1 products, amount 1.00 .. 100.00
    lines += [f"B{i},2026-03-{1 + i % 28:02d},{1 + i % 3},{1 + i % 2},1,{1 + i % 100}" for i in range(50_000)]
    result = load(tiny, "orders", "\n".join(lines) + "\n")
    assert (result.inserted, result.skipped) == (50_000, 0)
    # each run of 100 rows adds 1 + 2 + ... + 100 = 5050; 500 runs
    assert tiny.scalar("SELECT sum(amount) FROM orders WHERE order_id > 13") == Decimal("2525000.00")
    assert tiny.scalar("SELECT count(*) FROM external_keys WHERE kind = 'orders'") == 50_000
    assert tiny.scalar("SELECT sum(orders) FROM daily_orders") == 50_009  # summaries rebuilt once
