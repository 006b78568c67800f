"""The import & export page (issue 8) in the running app: the import wizard (upload, column mapping,
dry run, import, import nothing), the export tab in the sidebar's scope, and a backup taken now.

Tiny fixture (tests/fixtures/tiny.sql), "today" 31 March 2026. Its 9 orders are 1-6 and 11-13, none
with an external id, so a file names them by their internal id as text. March's orders: 1 (north),
2 (east), 3 (south), 11 (north), 12 (south); east's orders of all time: 2, 5 and 13.
"""

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import app_db, open_app
from tests.app.test_access import visit
from tests.conftest import ALL_ORDERS, ORDERS_FILE, ORDERS_HEADER

KINDS_ZH = [
    "区域",
    "品类",
    "人员",
    "客户",
    "产品",
    "促销方案",
    "市场与销售活动",
    "线索",
    "订单",
    "回款",
    "销售目标",
    "品牌调研",
]
KINDS_EN = [
    "Regions", "Categories", "People", "Customers", "Products", "Promotions", "Activities", "Leads",
    "Orders", "Payments", "Targets", "Brand surveys",
]  # fmt: skip
HEADER, ORDERS = ORDERS_HEADER, ORDERS_FILE


@pytest.fixture
def backups(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "backups"
    monkeypatch.setenv("MKTSALES_BACKUP_DIR", str(folder))
    return folder


def data_page(username: str = "admin", lang: str = "zh") -> AppTest:
    at = open_app(username)
    if lang == "en":
        at.segmented_control(key="lang").set_value("en").run()
    visit(at, "data")
    assert not at.exception
    return at


def upload(at: AppTest, text: str, name: str = "orders.csv", kind: str = "orders") -> AppTest:
    at.selectbox(key="data.import.kind").set_value(kind).run()
    (uploader,) = at.file_uploader
    uploader.set_value((name, text.encode("utf-8"), "text/csv")).run()
    assert not at.exception
    return at


def check(at: AppTest) -> AppTest:
    at.button(key="data.import.check").click().run()
    assert not at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def problems(at: AppTest) -> list[str]:
    """The problems written out above the table, as the page shows them."""
    return [m.value.removeprefix("- ").replace("\\", "") for m in at.markdown if m.value.startswith("- ")]


def mapping_box(at: AppTest, header: str):
    """The field chosen for the file's column ``header``."""
    return next(s for s in at.selectbox if str(s.key).startswith("data.import.map.") and s.label == header)


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


# -- the page ------------------------------------------------------------------------------------
def test_the_page_is_refused_to_an_executive(app_env: Path) -> None:
    at = data_page("boss")
    assert at.error and "无权打开" in at.error[0].value
    assert not at.tabs and not at.file_uploader


@pytest.mark.parametrize(
    ("lang", "tabs", "kinds"),
    [("zh", ["导入", "导出", "备份"], KINDS_ZH), ("en", ["Import", "Export", "Backups"], KINDS_EN)],
)
def test_an_admin_sees_three_tabs_and_the_twelve_kinds_in_order(
    backups: Path, lang: str, tabs: list[str], kinds: list[str]
) -> None:
    at = data_page(lang=lang)
    assert [t.label for t in at.tabs] == tabs
    assert at.selectbox(key="data.import.kind").options == kinds
    assert at.selectbox(key="data.export.kind").options == kinds


# -- import --------------------------------------------------------------------------------------
def test_check_then_import_writes_the_good_rows_and_empties_the_upload(backups: Path) -> None:
    before = app_db().rows(ALL_ORDERS)
    at = check(upload(data_page(), ORDERS))
    assert metrics(at) == {"数据行": "3", "新增": "1", "更新": "1", "有问题的行": "1"}
    assert at.warning[0].value.startswith("1 行有问题，2 行可以导入。")
    assert problems(at) == ["第 4 行「客户」：客户「不存在」不存在"]
    assert app_db().rows(ALL_ORDERS) == before  # the check saved nothing

    at.button(key="data.import.go").click().run()
    assert not at.exception
    assert at.success[0].value.startswith(
        "已导入 orders.csv（订单）：新增 1 行，更新 1 行，跳过有问题的 1 行，用时 "
    )
    db = app_db()
    assert db.rows("SELECT amount FROM orders WHERE order_id = 1") == [(1500,)]
    new = "SELECT order_id, order_date::VARCHAR, customer_id, product_id, region_id, amount"
    assert db.rows(new + " FROM orders WHERE order_id > 13") == [(14, "2026-03-25", 2, 1, 2, 50)]
    assert db.scalar("SELECT count(*) FROM orders") == 10  # 9 + the new one; row 4 is not there
    assert db.scalar("SELECT count(*) FROM orders WHERE order_date = DATE '2026-03-26'") == 0
    (uploader,) = at.file_uploader
    assert uploader.value is None and uploader.key == "data.import.upload.1"
    assert not at.metric and not any(c.startswith("已读取") for c in captions(at))


def test_a_problem_names_the_field_by_its_label(backups: Path) -> None:
    at = check(upload(data_page(), HEADER + "N1,2026-03-25,2,1,5,-50\n"))
    assert problems(at) == ["第 2 行「金额」：金额不能为负数（-50）"]
    assert at.button(key="data.import.go").disabled  # no good row to import


# Six headers no field goes by: each column is chosen by hand.
FOREIGN = "单据,开单日,买方,货品,个数,价税合计\n"
CHOICES = {"单据": "id", "开单日": "order_date", "买方": "customer", "货品": "product", "个数": "quantity"}


def test_unmatched_columns_are_mapped_by_hand_and_remembered_for_the_next_file(backups: Path) -> None:
    at = upload(data_page(), FOREIGN + "N1,2026-03-25,2,1,5,50\n")
    assert "6 列没有按列名对应上，请选择它们导入为哪个字段（或不导入）：" in captions(at)
    for header in FOREIGN.strip().split(","):
        assert mapping_box(at, header).value == "__ignore__"
    for header, name in CHOICES.items():
        mapping_box(at, header).set_value(name).run()
    assert at.warning[0].value.startswith("缺少必填字段的列：金额。")
    assert at.button(key="data.import.check").disabled
    mapping_box(at, "价税合计").set_value("amount").run()
    assert not at.warning and not at.button(key="data.import.check").disabled

    check(at)
    assert metrics(at) == {"数据行": "1", "新增": "1", "更新": "0", "有问题的行": "0"}
    at.button(key="data.import.go").click().run()
    assert app_db().rows("SELECT customer_id, quantity, amount FROM orders WHERE order_id = 14") == [
        (2, 5, 50)
    ]

    at = upload(at, FOREIGN + "N2,2026-03-26,3,2,1,20\n", name="next.csv")
    assert not any("没有按列名对应上" in c for c in captions(at))
    for header, name in {**CHOICES, "价税合计": "amount"}.items():
        assert mapping_box(at, header).value == name, header
    assert metrics(check(at)) == {"数据行": "1", "新增": "1", "更新": "0", "有问题的行": "0"}


def test_a_missing_required_field_warns_and_disables_the_check(backups: Path) -> None:
    at = upload(data_page(), "订单编号,订单日期,客户,产品,数量\nN1,2026-03-25,2,1,5\n")
    (warning,) = at.warning
    assert warning.value.startswith("缺少必填字段的列：金额。")  # the one missing field, by its label
    assert at.button(key="data.import.check").disabled


def test_one_of_two_names_is_enough(backups: Path) -> None:
    """A product needs its Chinese or its English name: the English alone enables the check."""
    text = "id,name_en,category,unit_price,unit_cost\nP9,Cola,beverages,3,2\n"
    at = upload(data_page(), text, name="products.csv", kind="products")
    assert not at.warning and not at.button(key="data.import.check").disabled
    assert metrics(check(at)) == {"数据行": "1", "新增": "1", "更新": "0", "有问题的行": "0"}
    at.button(key="data.import.go").click().run()
    assert app_db().rows("SELECT name_zh, name_en FROM products WHERE product_id = 3") == [("Cola", "Cola")]


SLASHED = HEADER + "D1,3/1/2026,1,1,1,10\n"  # 3 January or 1 March?


def test_a_slashed_date_is_a_problem_until_the_order_is_said(backups: Path) -> None:
    at = check(upload(data_page(), SLASHED))
    assert metrics(at)["有问题的行"] == "1"
    assert problems(at) == ["第 2 行「订单日期」：「3/1/2026」无法判断是月/日/年还是日/月/年，请指定日期顺序"]
    assert at.button(key="data.import.go").disabled
    at.selectbox(key="data.import.date_order").set_value("month_first").run()
    assert not at.metric  # the check was for the other order: check again
    assert metrics(check(at))["有问题的行"] == "0"


@pytest.mark.parametrize(("order", "stored"), [("month_first", "2026-03-01"), ("day_first", "2026-01-03")])
def test_the_date_order_decides_the_stored_date(backups: Path, order: str, stored: str) -> None:
    at = data_page()
    at.selectbox(key="data.import.date_order").set_value(order).run()
    at = check(upload(at, SLASHED))
    assert metrics(at) == {"数据行": "1", "新增": "1", "更新": "0", "有问题的行": "0"}
    at.button(key="data.import.go").click().run()
    assert app_db().rows("SELECT order_date::VARCHAR FROM orders WHERE order_id = 14") == [(stored,)]


def test_import_nothing_clears_the_wizard_and_writes_nothing(backups: Path) -> None:
    at = data_page()  # signing in writes to the audit log: count after it
    before = app_db().rows(ALL_ORDERS)
    audit = app_db().scalar("SELECT count(*) FROM audit_log")
    at = check(upload(at, ORDERS))
    assert at.metric
    at.button(key="data.import.cancel").click().run()
    assert not at.exception
    (uploader,) = at.file_uploader
    assert uploader.value is None and uploader.key == "data.import.upload.1"
    assert not at.metric and not at.success and not any(c.startswith("已读取") for c in captions(at))
    assert app_db().rows(ALL_ORDERS) == before
    assert app_db().scalar("SELECT count(*) FROM audit_log") == audit


# -- export --------------------------------------------------------------------------------------
def shown_orders(at: AppTest) -> list[str]:
    (table,) = [d.value for d in at.dataframe if "订单编号" in d.value.columns]
    return list(table["订单编号"])


def test_export_shows_the_orders_of_the_period_all_time_and_a_region(backups: Path) -> None:
    at = data_page()
    at.selectbox(key="data.export.kind").set_value("orders").run()
    assert "按左侧筛选：2026-03-01 至 2026-03-31，所选区域和品类。" in captions(at)
    assert shown_orders(at) == ["1", "2", "3", "11", "12"]  # March
    at.toggle(key="data.export.all_time").set_value(True).run()
    assert shown_orders(at) == ["1", "2", "3", "4", "5", "6", "11", "12", "13"]
    at.multiselect(key="region.zh").set_value(["east"]).run()
    assert not at.exception
    assert shown_orders(at) == ["2", "5", "13"]  # east, all time
    at.toggle(key="data.export.all_time").set_value(False).run()
    assert shown_orders(at) == ["2"]  # east, March
    assert [b.key for b in at.get("download_button") if str(b.key).startswith("data.export.")] == [
        "data.export.csv",
        "data.export.xlsx",
    ]


# -- backups -------------------------------------------------------------------------------------
def test_back_up_now_lists_a_backup_that_opens_with_the_same_orders(backups: Path) -> None:
    at = data_page()
    assert "还没有备份。" in [i.value for i in at.info]
    at.button(key="data.backup.now").click().run()
    assert not at.exception
    (made,) = sorted(backups.glob("mktsales-*.duckdb"))
    assert at.success[0].value.startswith(f"已备份为 {made.name}（")
    (listing,) = [d.value for d in at.dataframe if "备份文件" in d.value.columns]
    assert list(listing["备份文件"]) == [made.name]
    with duckdb.connect(str(made), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (9,)
