"""The declarations of the importable kinds, and the SQL fast path agreeing with mktsales.cells."""

import datetime as dt
from decimal import Decimal

import pytest

from mktsales import cells, importer, kinds
from mktsales.db import Database
from mktsales.i18n import table


def test_kinds_come_in_dependency_order() -> None:
    assert importer.KINDS == (
        "regions", "categories", "people", "customers", "products", "promotions",
        "activities", "leads", "orders", "payments", "targets", "brand_surveys",
    )  # fmt: skip
    for position, name in enumerate(importer.KINDS):
        for f in kinds.KINDS[name].fields:
            if f.ref is not None:  # a kind refers only to kinds imported before it
                assert importer.KINDS.index(f.ref) < position, (name, f.name)


def test_every_field_has_a_label_and_a_hint_in_both_languages() -> None:
    messages = table()
    for name in importer.KINDS:
        assert importer.kind_label(name, "zh") and importer.kind_label(name, "en")
        for info in importer.fields(name):
            assert info.type in kinds.TYPES
            assert f"import.field.{name}.{info.name}" in messages
            assert info.label("zh") != info.label("en")
            assert info.hint("zh") and info.hint("en")
        for f in kinds.KINDS[name].fields:
            for code in f.choices:
                assert f"import.choice.{f.choice_group}.{code}" in messages


def test_field_infos_for_the_mapping_editor() -> None:
    orders = importer.fields("orders")
    assert [(f.name, f.required, f.type) for f in orders] == [
        ("id", True, "id"),
        ("order_date", True, "date"),
        ("customer", True, "ref"),
        ("product", True, "ref"),
        ("quantity", True, "int"),
        ("amount", True, "decimal"),
        ("lead", False, "ref"),
        ("promotion", False, "ref"),
        ("rep", False, "ref"),
    ]
    assert (orders[1].label("zh"), orders[1].label("en")) == ("订单日期", "Order date")
    assert "2026-03-01" in orders[1].hint("en")
    department = importer.fields("people")[2]
    assert "marketing (市场部)" in department.hint("zh")


def _fast(db: Database, kind: str, name: str, text: str) -> object:
    f = kinds.KINDS[kind].field(name)
    expression = importer._fast(f, "$v")
    assert expression is not None
    return db.scalar(f"SELECT {expression}", {"v": text})


# Every case: the fast path reads it exactly as cells.py, or leaves it (None) to cells.py.
DATES = [
    "2024-03-01", "2024-3-1", "2024-02-29", "2023-02-29", "2024-13-01", "0000-01-01", "0024-03-01",
    "2024/3/1", "3/1/2024", "45352", "2024年3月1日", "2024-03-01 14:30", "", "x", "20240301",
]  # fmt: skip
NUMBERS = [
    "12", "-12", "+12", "1234.5", "1234.56", "1234.567", "1,234.50", "¥1,234", "1 234 元", "(500)",
    "12%", "1e3", ".5", "5.", "99999999999999999", "0012", "１２",
]  # fmt: skip


@pytest.mark.parametrize("text", DATES)
def test_the_date_fast_path_never_reads_a_date_differently_from_cells(text: str) -> None:
    with Database(":memory:") as db:
        fast = _fast(db, "orders", "order_date", text)
        if fast is None:
            return
        assert fast == cells.parse_date(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01 14:30",
        "2024-03-01T14:30:05",
        "2024-03-01 24:00",
        "2024-03-01 9:61",
        "2024-03-01",
        "3/1/2024 9:00",
    ],
)
def test_the_timestamp_fast_path_agrees_with_the_slow_path(text: str) -> None:
    with Database(":memory:") as db:
        fast = _fast(db, "leads", "created_at", text)
        try:
            slow = importer._parse_timestamp(text, day_first=False)
        except cells.CellError:
            slow = None
        assert fast is None or fast == slow
    assert importer._parse_timestamp("2024-03-01 14:30", None) == dt.datetime(2024, 3, 1, 14, 30)
    assert importer._parse_timestamp("2024年3月1日 8:05", None) == dt.datetime(2024, 3, 1, 8, 5)
    assert importer._parse_timestamp("45352.5", None) == dt.datetime(2024, 3, 1, 12, 0)  # noon as a fraction
    with pytest.raises(cells.CellError):
        importer._parse_timestamp("2024-03-01 24:00", None)


@pytest.mark.parametrize("text", NUMBERS)
def test_the_number_fast_paths_never_read_a_number_differently_from_cells(text: str) -> None:
    with Database(":memory:") as db:
        for kind, name in (("orders", "amount"), ("orders", "quantity")):
            fast = _fast(db, kind, name, text)
            if fast is not None:
                assert Decimal(fast) == cells.parse_number(text), (name, text)


def test_awareness_takes_the_number_before_a_percent_sign() -> None:
    awareness = kinds.KINDS["brand_surveys"].field("awareness_pct")
    assert importer._parse_number(awareness, "45%") == (45.0, None)  # cells alone would give 0.45
    assert importer._parse_number(awareness, "38.5 %") == (38.5, None)
    quantity = kinds.KINDS["orders"].field("quantity")
    assert importer._parse_number(quantity, "1,200") == (1200, None)
    assert importer._parse_number(quantity, "1.5") == (None, "bad_number")  # not a whole number
    amount = kinds.KINDS["orders"].field("amount")
    assert importer._parse_number(amount, "1.005") == (Decimal("1.01"), None)  # rounded half up to cents
    assert importer._parse_number(amount, "1e17") == (None, "bad_number")  # too large for DECIMAL(18, 2)
