"""Quick entry's data layer (issue 6): validation in both languages, idempotency, many writers,
undo, corrections with history, failures that leave nothing behind, and the overview moving.

Worked by hand on tests/fixtures/tiny.sql plus the rows below. "Today" is Tuesday 31 March 2026
(its week starts Monday 30 March); the rep is 李强 (person 2), a north rep whose one customer is
华润万家(北京) (customer 1).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd
import pytest

from mktsales import accounts, entries, kpis
from mktsales.access import AccessDenied, User
from mktsales.audit import Tx
from mktsales.db import Database
from mktsales.entries import EntryFailed, EntryInvalid, Saved
from mktsales.i18n import t
from mktsales.scope import Scope
from tests.conftest import MARCH, TESTER, write_sql

T = dt.date(2026, 3, 31)
NOW = dt.datetime(2026, 3, 31, 10, 0)

# Order 30: customer 1 bought ¥10,000 of potato chips on 25 March and paid ¥250, so ¥9,750 is owed.
# Leads 20-22 are north leads a rep can move: a waiting MQL, an accepted lead, an open opportunity.
EXTRA = """
INSERT INTO orders VALUES (30, DATE '2026-03-25', 1, 2, 1, 2, 500, 10000.00, NULL, NULL, 2);
INSERT INTO payments VALUES (30, 30, DATE '2026-03-28', 250.00, 'transfer');
INSERT INTO leads (lead_id, region_id, category_id, source, owner_id, created_at, mql_at, sal_at,
                   opportunity_at, value) VALUES
    (20, 1, 1, 'website', 1, TIMESTAMP '2026-03-28 09:00', TIMESTAMP '2026-03-30 09:00', NULL, NULL, NULL),
    (21, 1, 2, 'referral', 2, TIMESTAMP '2026-03-20 09:00', TIMESTAMP '2026-03-21 09:00',
        TIMESTAMP '2026-03-22 09:00', NULL, NULL),
    (22, 1, 1, 'event', 2, TIMESTAMP '2026-03-01 09:00', TIMESTAMP '2026-03-02 09:00',
        TIMESTAMP '2026-03-03 09:00', TIMESTAMP '2026-03-25 09:00', 9000.00);
"""


@pytest.fixture
def db(tiny: Database) -> Database:
    """The tiny fixture, the rows above, and one account per role under test (no passwords)."""
    write_sql(tiny, EXTRA)
    for name, role, regions, person in (
        ("rep", "sales_rep", ["north"], 2),  # 李强
        ("rep2", "sales_rep", ["north"], None),  # another north rep
        ("east", "sales_rep", ["east"], 4),  # 刘洋
        ("duo", "sales_head", ["north", "east"], 4),
        ("mkt", "marketing_staff", ["south"], 3),
    ):
        accounts.create_user(tiny, TESTER, name, name.title(), role, regions=regions, person_id=person)
    return tiny


def user(db: Database, name: str) -> User:
    found = accounts.find_user(db, name)
    assert found is not None
    return found


DEFAULTS: dict[str, dict[str, Any]] = {
    "visit": {"customer_id": 1, "visit_date": T, "purpose": "follow_up", "outcome": "positive"},
    "order": {"customer_id": 1, "product_id": 1, "quantity": 3, "order_date": T},
    "payment": {"order_id": 30, "amount": 100, "paid_on": T, "method": "transfer"},
    "lead_update": {"lead_id": 20, "action": "accept"},
}
SUBMIT: dict[str, Callable[..., Saved]] = {
    "visit": entries.submit_visit,
    "order": entries.submit_order,
    "payment": entries.submit_payment,
    "lead_update": entries.submit_lead_update,
}


def submit(
    db: Database, who: User, kind: str, key: str | None = None, now: dt.datetime = NOW, **fields
) -> Saved:
    """One entry of ``kind`` with the defaults above, ``fields`` replacing them."""
    clock = {"now": now} if kind == "lead_update" else {"today": now.date(), "now": now}
    values = {**DEFAULTS[kind], **fields}
    return SUBMIT[kind](db, who, key or entries.new_key(), **clock, **values)


def problems(call: Callable[[], Any]) -> list[tuple[str, str, dict]]:
    with pytest.raises(EntryInvalid) as caught:
        call()
    return [(p.field, p.key, p.values) for p in caught.value.problems]


def count(db: Database, sql: str, params: list | None = None) -> int:
    return int(db.scalar(f"SELECT count(*) FROM {sql}", params))


# -- saving ------------------------------------------------------------------------------------------
def test_an_order_takes_the_list_price_the_customers_region_the_products_category_and_the_rep(
    db: Database,
) -> None:
    saved = submit(db, user(db, "rep"), "order", quantity=3)
    assert (saved.kind, saved.target_id, saved.duplicate, saved.version) == ("order", 31, False, 1)
    assert db.rows("SELECT * FROM orders WHERE order_id = 31") == [
        # 3 × ¥10.00 list price of green tea; region of customer 1, category of product 1, rep 李强
        (31, T, 1, 1, 1, 1, 3, Decimal("30.00"), None, None, 2)
    ]
    assert saved.summary["amount"] == 30.0 and saved.summary["customer_name"] == "华润万家(北京)"
    assert db.rows("SELECT kind, target_id, status, version, user_id FROM entries") == [
        ("order", 31, "saved", 1, user(db, "rep").user_id)
    ]
    assert entries.history(db, user(db, "rep"), saved.entry_id)["version"].tolist() == [1]
    actor, after = db.rows("SELECT actor, after FROM audit_log WHERE entity = 'orders'")[0]
    assert actor == "rep" and json.loads(after)["amount"] == "30.00"


def test_a_typed_amount_wins_and_a_typed_price_makes_the_amount(db: Database) -> None:
    rep = user(db, "rep")
    discounted = submit(db, rep, "order", quantity=3, amount="25")  # the rep gave a discount
    priced = submit(db, rep, "order", quantity=4, unit_price=9.5)
    amounts = dict(db.rows("SELECT order_id, amount FROM orders WHERE order_id > 30"))
    assert amounts == {discounted.target_id: Decimal("25.00"), priced.target_id: Decimal("38.00")}


def test_a_visit_is_a_sales_activity_of_the_customers_region_and_top_category_with_its_advisor(
    db: Database,
) -> None:
    saved = submit(
        db,
        user(db, "rep"),
        "visit",
        note=" 谈了春节备货 ",
        next_step="报价",
        next_step_date="2026-04-03",
        advisor_id=1,
    )
    assert saved.target_id == 8  # activities 1-7 are in the fixture
    assert db.rows(
        "SELECT activity_date, track, kind, region_id, category_id, owner_id, advisor_id, reach, cost"
        " FROM activities WHERE activity_id = 8"
    ) == [(T, "sales", "visit", 1, 1, 2, 1, 0, Decimal("0.00"))]  # customer 1 orders beverages most
    assert db.rows("SELECT * FROM visits") == [
        (8, 1, "follow_up", "positive", "谈了春节备货", "报价", dt.date(2026, 4, 3))
    ]
    assert saved.summary["advisor_name"] == "王芳"


def test_a_payment_lowers_what_is_owed(db: Database) -> None:
    rep = user(db, "rep")
    saved = submit(db, rep, "payment", amount="1,000.50", method="bank_acceptance")
    assert db.rows(
        "SELECT order_id, paid_on, amount, method FROM payments WHERE payment_id = ?", [saved.target_id]
    ) == [(30, T, Decimal("1000.50"), "bank_acceptance")]
    assert saved.summary["owed_before"] == 9750.0
    owed = entries.open_orders(db, rep, 1).set_index("order_id")["owed"].to_dict()
    assert owed == {30: 8749.5, 4: 100.0}  # order 4 (1 April) is unpaid; orders 1 and 11 are paid


def test_lead_updates_move_the_lead_and_stamp_the_time(db: Database) -> None:
    rep = user(db, "rep")
    submit(db, rep, "lead_update", lead_id=20, action="accept")
    submit(db, rep, "lead_update", lead_id=21, action="open_opportunity", value=8000)
    submit(db, rep, "lead_update", lead_id=22, action="lost", reason="competitor")
    rows = db.rows(
        "SELECT lead_id, owner_id, sal_at, opportunity_at, value, closed_at, outcome, lost_reason"
        " FROM leads WHERE lead_id >= 20 ORDER BY 1"
    )
    assert rows == [
        (20, 2, NOW, None, None, None, None, None),  # accepted: 李强 owns it now
        (21, 2, dt.datetime(2026, 3, 22, 9), NOW, Decimal("8000.00"), None, None, None),
        (
            22,
            2,
            dt.datetime(2026, 3, 3, 9),
            dt.datetime(2026, 3, 25, 9),
            Decimal("9000.00"),
            NOW,
            "lost",
            "competitor",
        ),
    ]


def test_a_lead_is_never_stamped_before_the_stage_it_leaves(db: Database) -> None:
    early = dt.datetime(2026, 3, 30, 8, 0)  # a clock an hour behind the MQL time (9:00)
    submit(db, user(db, "rep"), "lead_update", now=early, lead_id=20, action="reject", reason="no_budget")
    assert db.rows("SELECT rejected_at, reject_reason FROM leads WHERE lead_id = 20") == [
        (dt.datetime(2026, 3, 30, 9, 0), "no_budget")
    ]


# -- validation ----------------------------------------------------------------------------------------
# kind, fields, (field, error, values); then a part of the Chinese and of the English message
# fmt: off
CASES = [
    ("order", {"customer_id": None}, ("customer_id", "required", {}),
     "请填写此项。", "Please fill this in."),
    ("order", {"customer_id": 99}, ("customer_id", "unknown_customer", {}),
     "找不到该客户", "customer was not found"),
    ("order", {"customer_id": 2}, ("customer_id", "region_refused", {}),
     "不在您负责的区域", "outside your regions"),
    ("order", {"product_id": 99}, ("product_id", "unknown_product", {}),
     "找不到该产品", "product was not found"),
    ("order", {"quantity": 0}, ("quantity", "quantity_positive", {}),
     "大于零的整数", "whole number above zero"),
    ("order", {"quantity": -2}, ("quantity", "quantity_positive", {}),
     "大于零的整数", "whole number above zero"),
    ("order", {"quantity": 2.5}, ("quantity", "quantity_positive", {}),
     "大于零的整数", "whole number above zero"),
    ("order", {"quantity": "three"}, ("quantity", "not_a_number", {}),
     "请输入数字", "enter a number"),
    ("order", {"quantity": 2_000_000}, ("quantity", "too_large", {}),
     "数值过大", "too large"),
    ("order", {"unit_price": -1}, ("unit_price", "amount_positive", {}),
     "金额必须大于零", "more than zero"),
    ("order", {"amount": -5}, ("amount", "amount_positive", {}),
     "金额必须大于零", "more than zero"),
    ("order", {"order_date": dt.date(2026, 4, 1)}, ("order_date", "future_date", {}),
     "不能晚于今天", "later than today"),
    ("order", {"order_date": dt.date(2026, 1, 29)}, ("order_date", "too_old", {"n": 60}),
     "不能早于 60 天前", "more than 60 days ago"),
    ("order", {"promotion_id": 99}, ("promotion_id", "unknown_promotion", {}),
     "找不到该促销方案", "promotion was not found"),
    # promotion 2 is East snacks, and rejected: not for a North order of green tea
    ("order", {"promotion_id": 2}, ("promotion_id", "promotion_not_applicable", {}),
     "不适用", "does not cover"),
    # promotion 1 (North beverages) ran from 10 to 20 March
    ("order", {"promotion_id": 1}, ("promotion_id", "promotion_not_applicable", {}),
     "不适用", "does not cover"),
    ("visit", {"purpose": "party"}, ("purpose", "unknown_purpose", {}),
     "拜访目的", "purpose of the visit"),
    ("visit", {"outcome": "great"}, ("outcome", "unknown_outcome", {}),
     "拜访结果", "outcome of the visit"),
    ("visit", {"visit_date": "31/03/2026"}, ("visit_date", "bad_date", {}),
     "日期无法识别", "not recognised"),
    ("visit", {"next_step_date": dt.date(2026, 3, 30)}, ("next_step_date", "next_before_visit", {}),
     "下一步日期不能早于拜访日期", "before the visit"),
    ("visit", {"advisor_id": 99}, ("advisor_id", "unknown_advisor", {}),
     "找不到该顾问", "advisor was not found"),
    ("visit", {"advisor_id": 4}, ("advisor_id", "advisor_not_marketing", {}),
     "市场部", "from marketing"),
    ("visit", {"category_id": 9}, ("category_id", "unknown_category", {}),
     "找不到该品类", "category was not found"),
    ("visit", {"note": "很" * 2001}, ("note", "too_long", {"n": 2000}),
     "最多 2000 个字", "at most 2000 characters"),
    ("payment", {"order_id": 99}, ("order_id", "unknown_order", {}),
     "找不到该订单", "order was not found"),
    ("payment", {"order_id": 2}, ("order_id", "region_refused", {}),
     "不在您负责的区域", "outside your regions"),
    ("payment", {"order_id": 1}, ("order_id", "fully_paid", {}),
     "已全部付清", "already paid in full"),
    ("payment", {"amount": 9750.01}, ("amount", "overpaid", {"owed": 9750.0}),
     "付款金额超过未付金额 ¥9,750.00。", "The payment is more than the ¥9,750.00 still owed."),
    ("payment", {"amount": 0}, ("amount", "amount_positive", {}),
     "金额必须大于零", "more than zero"),
    ("payment", {"method": "bitcoin"}, ("method", "unknown_method", {}),
     "付款方式", "payment method"),
    ("payment", {"order_id": 4}, ("paid_on", "paid_before_order", {"order_date": "2026-04-01"}),
     "早于下单日期（2026-04-01）", "before the order (2026-04-01)"),
    ("lead_update", {"lead_id": 99}, ("lead_id", "unknown_lead", {}),
     "找不到该线索", "lead was not found"),
    ("lead_update", {"lead_id": 10}, ("lead_id", "region_refused", {}),
     "不在您负责的区域", "outside your regions"),
    ("lead_update", {"action": "escalate"}, ("action", "unknown_action", {}),
     "要进行的操作", "what to do"),
    ("lead_update", {"action": "reject"}, ("reason", "reason_required", {}),
     "请选择原因。", "Please choose a reason."),
    ("lead_update", {"action": "reject", "reason": "boring"}, ("reason", "unknown_reason", {}),
     "从列表中选择原因", "reason from the list"),
    ("lead_update", {"lead_id": 22, "action": "lost"}, ("reason", "reason_required", {}),
     "请选择原因。", "Please choose a reason."),
    ("lead_update", {"lead_id": 21, "action": "open_opportunity"}, ("value", "required", {}),
     "请填写此项。", "Please fill this in."),
    ("lead_update", {"lead_id": 21, "action": "open_opportunity", "value": -5},
     ("value", "amount_positive", {}), "金额必须大于零", "more than zero"),
    ("lead_update", {"lead_id": 22, "action": "accept"},
     ("action", "illegal_transition", {"state": "opportunity"}),
     "这条线索当前为：进行中的商机", "This lead is an open opportunity"),
    ("lead_update", {"lead_id": 1, "action": "won"}, ("action", "illegal_transition", {"state": "won"}),
     "当前为：已赢单", "This lead is won"),
    ("lead_update", {"lead_id": 5, "action": "accept"}, ("action", "illegal_transition", {"state": "new"}),
     "尚未成为 MQL", "not yet an MQL"),
]
# fmt: on


@pytest.mark.parametrize(("kind", "fields", "expected", "zh", "en"), CASES)
def test_each_mistake_is_named_at_its_field_in_both_languages(
    db: Database, kind: str, fields: dict, expected: tuple, zh: str, en: str
) -> None:
    before = (db.version(), count(db, "entries"), count(db, "audit_log"))
    with pytest.raises(EntryInvalid) as caught:
        submit(db, user(db, "rep"), kind, **fields)
    [problem] = caught.value.problems
    field, name, values = expected
    assert (problem.field, problem.key, problem.values) == (field, f"entry.error.{name}", values)
    assert zh in problem.message("zh") and en in problem.message("en")
    if not any(isinstance(v, str) for v in values.values()) or name == "paid_before_order":
        assert problem.message("en") == t(problem.key, "en", **values)  # plain values need no help
    assert (db.version(), count(db, "entries"), count(db, "audit_log")) == before  # nothing written


def test_the_boundaries_pass_sixty_days_back_today_and_exactly_what_is_owed(db: Database) -> None:
    rep = user(db, "rep")
    submit(db, rep, "order", order_date=dt.date(2026, 1, 30))  # 60 days before 31 March
    submit(db, rep, "visit", next_step_date=T)  # the next step on the day of the visit
    submit(db, rep, "payment", amount=9750)
    assert entries.open_orders(db, rep, 1)["order_id"].tolist() == [31, 4]  # order 30 is settled


def test_every_problem_of_a_form_comes_back_at_once(db: Database) -> None:
    found = problems(
        lambda: submit(
            db, user(db, "rep"), "order", customer_id=None, quantity=0, order_date=dt.date(2026, 4, 2)
        )
    )
    assert found == [
        ("customer_id", "entry.error.required", {}),
        ("quantity", "entry.error.quantity_positive", {}),
        ("order_date", "entry.error.future_date", {}),
    ]


def test_a_visit_for_a_customer_without_orders_needs_a_category(db: Database) -> None:
    write_sql(db, "INSERT INTO customers VALUES (4, '北京新客户', 'convenience', 1, 2, 30)")
    rep = user(db, "rep")
    assert problems(lambda: submit(db, rep, "visit", customer_id=4)) == [
        ("category_id", "entry.error.required", {})
    ]
    assert submit(db, rep, "visit", customer_id=4, category_id=2).summary["category_id"] == 2


def test_an_order_can_name_a_promotion_that_covers_it(db: Database) -> None:
    saved = submit(db, user(db, "rep"), "order", promotion_id=1, order_date=dt.date(2026, 3, 15))
    assert db.scalar("SELECT promotion_id FROM orders WHERE order_id = ?", [saved.target_id]) == 1


# -- who may enter what ----------------------------------------------------------------------------------
def test_marketing_cannot_enter_anything(db: Database) -> None:
    mkt = user(db, "mkt")
    for kind in SUBMIT:
        with pytest.raises(AccessDenied):
            submit(db, mkt, kind)
    for read in (entries.customers_for, entries.my_entries):
        with pytest.raises(AccessDenied):
            read(db, mkt, T)
    assert count(db, "entries") == 0


def test_a_head_of_two_regions_sees_and_enters_for_both_own_accounts_first(db: Database) -> None:
    duo = user(db, "duo")
    customers = entries.customers_for(db, duo, T)
    # 联华超市 is the head's own account (刘洋, person 4): first, though 华润万家 was in touch later
    assert customers[["customer_id", "mine", "last_contact", "top_category_id"]].values.tolist() == [
        [2, True, pd.Timestamp("2026-03-12"), 1],  # orders 5 and 13 are beverages, order 2 snacks
        [1, False, pd.Timestamp("2026-03-25"), 1],  # order 30; order 4 of 1 April is after today
    ]
    saved = submit(db, duo, "order", customer_id=2)
    assert db.scalar("SELECT region_id FROM orders WHERE order_id = ?", [saved.target_id]) == 2


def test_customers_for_a_rep_are_theirs_with_the_latest_contact(db: Database) -> None:
    rep = user(db, "rep")
    frame = entries.customers_for(db, rep, T)
    assert frame.to_dict("records") == [
        {
            "customer_id": 1,
            "name": "华润万家(北京)",
            "region_id": 1,
            "channel": "key_account",
            "mine": True,
            "last_contact": pd.Timestamp("2026-03-25"),
            "top_category_id": 1,
        }
    ]
    submit(db, rep, "visit", visit_date=dt.date(2026, 3, 27))
    assert entries.customers_for(db, rep, T)["last_contact"].tolist() == [pd.Timestamp("2026-03-27")]


def test_open_orders_and_updatable_leads_stay_in_the_users_regions(db: Database) -> None:
    rep, duo = user(db, "rep"), user(db, "duo")
    assert problems(lambda: entries.open_orders(db, rep, 2)) == [
        ("customer_id", "entry.error.region_refused", {})
    ]
    frame = entries.updatable_leads(db, rep)
    assert frame[["lead_id", "state", "since"]].values.tolist() == [
        [20, "waiting", dt.datetime(2026, 3, 30, 9)],
        [21, "accepted", dt.datetime(2026, 3, 22, 9)],
        [22, "opportunity", dt.datetime(2026, 3, 25, 9)],
    ]
    # the head also sees East: MQL 10 (waiting since 21 March) and opportunity 4 (since 20 March)
    assert entries.updatable_leads(db, duo)["lead_id"].tolist() == [10, 20, 21, 4, 22]


# -- idempotency -----------------------------------------------------------------------------------------
def test_the_same_key_saves_once_and_answers_with_the_same_entry(db: Database) -> None:
    rep = user(db, "rep")
    first = submit(db, rep, "order", key="tap-1")
    version = db.version()
    again = submit(db, rep, "order", key="tap-1")
    assert again.duplicate and not first.duplicate
    assert (again.entry_id, again.target_id, again.summary) == (
        first.entry_id,
        first.target_id,
        first.summary,
    )
    assert (count(db, "entries"), count(db, "orders WHERE order_id > 30"), db.version()) == (1, 1, version)
    submit(db, rep, "order", key="tap-2")
    assert (count(db, "entries"), count(db, "orders WHERE order_id > 30")) == (2, 2)


def test_a_resubmitted_payment_is_a_duplicate_not_an_overpayment(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep = user(db, "rep")
    first = submit(db, rep, "payment", key="pay", amount=9750)  # settles order 30
    real, looks = entries._by_key, []

    def late(*args: Any) -> Saved | None:  # the twin looked before the first tap was committed
        looks.append(args)
        return None if len(looks) == 1 else real(*args)

    monkeypatch.setattr(entries, "_by_key", late)
    again = submit(db, rep, "payment", key="pay", amount=9750)  # checked: "fully paid"; yet saved
    assert again.duplicate and again.entry_id == first.entry_id and len(looks) == 2
    assert count(db, "payments WHERE order_id = 30") == 2


def test_an_order_written_some_other_way_does_not_break_the_next_entry(db: Database) -> None:
    rep = user(db, "rep")
    assert submit(db, rep, "order").target_id == 31
    write_sql(db, "INSERT INTO orders VALUES (32, DATE '2026-03-30', 1, 1, 1, 1, 1, 10.00, NULL, NULL, 2)")
    assert submit(db, rep, "order").target_id == 33  # id 32 was taken: worked out again, retried


def test_a_key_belongs_to_one_user_and_one_form(db: Database) -> None:
    submit(db, user(db, "rep"), "order", key="shared")
    assert problems(lambda: submit(db, user(db, "rep2"), "order", key="shared")) == [
        ("key", "entry.error.key_reused", {})
    ]
    assert problems(lambda: submit(db, user(db, "rep"), "visit", key="shared")) == [
        ("key", "entry.error.key_reused", {})
    ]


# -- many writers ------------------------------------------------------------------------------------------
WRITERS, EACH = 20, 500


def test_twenty_writers_of_five_hundred_orders_each_store_every_one_exactly_once(db: Database) -> None:
    rep = user(db, "rep")
    failures: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for i in range(EACH):
                submit(db, rep, "order", key=f"w{w:02d}-{i:03d}", quantity=1 + i % 5)
        except BaseException as exc:  # any escape, raw DuckDB errors included, fails the test
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    n = WRITERS * EACH
    assert db.rows(
        "SELECT count(*), count(DISTINCT idempotency_key), count(DISTINCT target_id) FROM entries"
    ) == [(n, n, n)]
    assert db.rows(
        "SELECT count(*), min(order_id), max(order_id), sum(quantity), sum(amount) FROM orders"
        " WHERE order_id > 30"
    ) == [(n, 31, 30 + n, WRITERS * 100 * 15, Decimal(WRITERS * 100 * 150))]
    # each writer's quantities run 1..5 a hundred times: 1,500 units at ¥10.00 per writer
    assert count(db, "entries e JOIN orders o ON o.order_id = e.target_id") == n
    assert count(db, "audit_log WHERE entity = 'orders' AND action = 'create'") == n


def test_one_key_from_eight_threads_at_once_saves_once(db: Database) -> None:
    rep = user(db, "rep")
    start = threading.Barrier(8)
    results: list[Saved] = []

    def tap() -> None:
        start.wait()
        results.append(submit(db, rep, "order", key="double-tap"))

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len({r.entry_id for r in results}) == 1
    assert sorted(r.duplicate for r in results) == [False] + [True] * 7
    assert (count(db, "entries"), count(db, "orders WHERE order_id > 30")) == (1, 1)


# -- failures ---------------------------------------------------------------------------------------------
def _failing_audit(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The disk fills up half way: after the order row is written, before the entry is."""
    real = Tx.audit

    def audit(self: Tx, entity: str, *args: Any, **kwargs: Any) -> None:
        real(self, entity, *args, **kwargs)
        if entity == "orders":
            raise error

    monkeypatch.setattr(Tx, "audit", audit)


def test_a_write_that_fails_half_way_leaves_nothing_and_says_so_plainly(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (db.version(), count(db, "orders"), count(db, "audit_log"))
    _failing_audit(monkeypatch, duckdb.IOException("IO Error: No space left on device"))
    with pytest.raises(EntryFailed) as failed:
        submit(db, user(db, "rep"), "order")
    assert failed.value.key == "db.error.disk_full"  # said as a full disk, not "try again" (issue 23)
    assert failed.value.message("zh") == "磁盘已满，没有保存任何内容。请腾出磁盘空间后再试。"
    assert (
        failed.value.message("en")
        == "The disk is full: nothing was saved. Free some disk space, then try again."
    )
    assert (db.version(), count(db, "orders"), count(db, "audit_log")) == before
    assert count(db, "entries") == count(db, "entry_versions") == 0


def test_a_conflict_is_retried_and_saves_once(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entries, "RETRY_PAUSE", 0)
    real, calls = Database.write, []

    def write(self: Database, work: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= 2:
            raise duckdb.TransactionException("TransactionContext Error: Conflict on update!")
        return real(self, work, **kwargs)

    monkeypatch.setattr(Database, "write", write)
    saved = submit(db, user(db, "rep"), "order")
    assert len(calls) == 3 and not saved.duplicate
    assert count(db, "entries") == count(db, "orders WHERE order_id > 30") == 1


def test_a_conflict_that_does_not_go_away_is_reported_not_raised_raw(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entries, "RETRY_PAUSE", 0)

    def write(self: Database, work: Any, **kwargs: Any) -> Any:
        raise duckdb.TransactionException("TransactionContext Error: Conflict on update!")

    monkeypatch.setattr(Database, "write", write)
    with pytest.raises(EntryFailed):
        submit(db, user(db, "rep"), "order")


# -- undo ---------------------------------------------------------------------------------------------------
def test_undo_within_five_minutes_removes_the_order(db: Database) -> None:
    rep = user(db, "rep")
    saved = submit(db, rep, "order")
    undone = entries.undo(db, rep, saved.entry_id, NOW + dt.timedelta(minutes=5))  # the last moment
    assert undone.status == "undone"
    assert count(db, "orders WHERE order_id = ?", [saved.target_id]) == 0
    assert db.scalar("SELECT status FROM entries WHERE entry_id = ?", [saved.entry_id]) == "undone"
    assert count(db, "audit_log WHERE entity = 'orders' AND action = 'undo'") == 1
    # the id of an undone order is never handed out again
    assert submit(db, rep, "order").target_id == saved.target_id + 1


def test_undo_after_five_minutes_or_twice_or_by_someone_else_is_refused(db: Database) -> None:
    rep = user(db, "rep")
    saved = submit(db, rep, "order")
    late = NOW + dt.timedelta(minutes=5, seconds=1)
    [problem] = _refusal(lambda: entries.undo(db, rep, saved.entry_id, late))
    assert problem.key == "entry.error.undo_expired"
    assert "5 分钟内撤销" in problem.message("zh") and "within 5 minutes" in problem.message("en")
    [problem] = _refusal(lambda: entries.undo(db, user(db, "rep2"), saved.entry_id, NOW))
    assert problem.key == "entry.error.not_yours"
    assert (problem.message("zh"), problem.message("en")) == (
        "只能撤销或更正您自己的记录。",
        "You can only undo or correct your own entries.",
    )
    entries.undo(db, rep, saved.entry_id, NOW)
    [problem] = _refusal(lambda: entries.undo(db, rep, saved.entry_id, NOW))
    assert problem.key == "entry.error.already_undone"


def _refusal(call: Callable[[], Any]) -> list[entries.Problem]:
    with pytest.raises(EntryInvalid) as caught:
        call()
    return caught.value.problems


def test_undo_takes_back_a_visit_a_payment_and_a_lead_update(db: Database) -> None:
    rep = user(db, "rep")
    visit, payment = submit(db, rep, "visit"), submit(db, rep, "payment", amount=750)
    accept = submit(db, rep, "lead_update", lead_id=20, action="accept")
    for saved in (visit, payment, accept):
        entries.undo(db, rep, saved.entry_id, NOW)
    assert count(db, "activities WHERE activity_id = ?", [visit.target_id]) == count(db, "visits") == 0
    assert entries.open_orders(db, rep, 1).set_index("order_id")["owed"][30] == 9750.0
    assert db.rows("SELECT owner_id, sal_at FROM leads WHERE lead_id = 20") == [(1, None)]


def test_an_order_with_payments_or_a_lead_moved_on_cannot_be_undone(db: Database) -> None:
    rep = user(db, "rep")
    order = submit(db, rep, "order")
    submit(db, rep, "payment", order_id=order.target_id, amount=10)
    assert [p.key for p in _refusal(lambda: entries.undo(db, rep, order.entry_id, NOW))] == [
        "entry.error.undo_has_payments"
    ]
    accept = submit(db, rep, "lead_update", lead_id=20, action="accept")
    submit(db, rep, "lead_update", lead_id=20, action="open_opportunity", value=500)
    [problem] = _refusal(lambda: entries.undo(db, rep, accept.entry_id, NOW))
    assert (problem.key, problem.values) == ("entry.error.changed_since", {"state": "opportunity"})
    assert "进行中的商机" in problem.message("zh") and "it is now an open opportunity" in problem.message(
        "en"
    )


# -- corrections --------------------------------------------------------------------------------------------
def test_a_correction_changes_the_order_keeps_the_original_and_audits_before_and_after(db: Database) -> None:
    rep = user(db, "rep")
    saved = submit(db, rep, "order", quantity=3)
    later = NOW + dt.timedelta(hours=2)
    fixed = entries.correct(db, rep, saved.entry_id, today=T, now=later, quantity=5)
    assert (fixed.entry_id, fixed.target_id, fixed.version, fixed.duplicate) == (saved.entry_id, 31, 2, False)
    # the amount was worked out, so it is worked out again: 5 × ¥10.00
    assert db.rows("SELECT quantity, amount FROM orders WHERE order_id = 31") == [(5, Decimal("50.00"))]
    # the original is kept in entry_versions beside the correction
    assert db.rows("SELECT entry_id, version, changed_at FROM entry_versions ORDER BY version") == [
        (saved.entry_id, 1, NOW),
        (saved.entry_id, 2, later),
    ]
    versions = entries.history(db, rep, saved.entry_id)
    assert versions["version"].tolist() == [1, 2]
    assert [s["quantity"] for s in versions["summary"]] == [3, 5]
    assert versions["changed_at"].tolist() == [NOW, later] and set(versions["changed_by_name"]) == {"rep"}
    order_log = db.rows("SELECT before, after FROM audit_log WHERE entity = 'orders' AND action = 'correct'")
    assert [json.loads(v) for v in order_log[0]] == [
        {"amount": "30.00", "quantity": 3},
        {"amount": "50.00", "quantity": 5},
    ]
    before, after = (
        json.loads(v)
        for v in db.rows(
            "SELECT before, after FROM audit_log WHERE entity = 'entries' AND action = 'correct'"
        )[0]
    )
    assert (
        before["version"],
        before["payload"]["quantity"],
        after["version"],
        after["payload"]["quantity"],
    ) == (1, 3, 2, 5)


def test_a_typed_amount_stays_when_the_quantity_is_corrected(db: Database) -> None:
    rep = user(db, "rep")
    saved = submit(db, rep, "order", quantity=3, amount=25)
    entries.correct(db, rep, saved.entry_id, today=T, now=NOW, quantity=4)
    assert db.rows("SELECT quantity, amount FROM orders WHERE order_id = 31") == [(4, Decimal("25.00"))]


def test_correcting_to_the_same_values_writes_nothing(db: Database) -> None:
    rep = user(db, "rep")
    saved = submit(db, rep, "order")
    version = db.version()
    again = entries.correct(db, rep, saved.entry_id, today=T, now=NOW, quantity=3)
    assert again.duplicate and again.version == 1 and db.version() == version


def test_a_correction_is_checked_like_a_new_entry_and_only_this_week(db: Database) -> None:
    rep = user(db, "rep")
    saved = submit(db, rep, "order")
    assert problems(lambda: entries.correct(db, rep, saved.entry_id, today=T, now=NOW, quantity=0)) == [
        ("quantity", "entry.error.quantity_positive", {})
    ]
    assert db.scalar("SELECT version FROM entries") == 1
    friday = dt.datetime(2026, 3, 27, 16, 0)  # last week
    old = submit(db, rep, "order", now=friday, order_date=friday.date())
    [problem] = _refusal(lambda: entries.correct(db, rep, old.entry_id, today=T, now=NOW, quantity=4))
    assert problem.key == "entry.error.correct_expired"
    assert "本周" in problem.message("zh") and "this week" in problem.message("en")
    [problem] = _refusal(lambda: entries.correct(db, user(db, "rep2"), saved.entry_id, today=T, quantity=4))
    assert problem.key == "entry.error.not_yours"


def test_a_paid_order_keeps_its_product_but_its_amount_can_be_corrected(db: Database) -> None:
    rep = user(db, "rep")
    order = submit(db, rep, "order", quantity=3)  # ¥30
    submit(db, rep, "payment", order_id=order.target_id, amount=20)
    assert problems(lambda: entries.correct(db, rep, order.entry_id, today=T, now=NOW, product_id=2)) == [
        ("product_id", "entry.error.paid_order_locked", {})
    ]
    assert problems(lambda: entries.correct(db, rep, order.entry_id, today=T, now=NOW, quantity=1)) == [
        ("amount", "entry.error.below_paid", {"paid": 20.0})
    ]  # ¥10 is less than the ¥20 paid
    entries.correct(db, rep, order.entry_id, today=T, now=NOW, quantity=2)
    assert db.scalar("SELECT amount FROM orders WHERE order_id = ?", [order.target_id]) == Decimal("20.00")


def test_correcting_a_payment_does_not_count_itself_as_paid(db: Database) -> None:
    rep = user(db, "rep")
    saved = submit(db, rep, "payment", amount=100)
    entries.correct(db, rep, saved.entry_id, today=T, now=NOW, amount=9750)
    assert problems(lambda: entries.correct(db, rep, saved.entry_id, today=T, now=NOW, amount=9800)) == [
        ("amount", "entry.error.overpaid", {"owed": 9750.0})
    ]


def test_correcting_a_visit_and_a_lead_update(db: Database) -> None:
    rep = user(db, "rep")
    visit = submit(db, rep, "visit")
    entries.correct(db, rep, visit.entry_id, today=T, now=NOW, outcome="order_taken", advisor_id=3)
    assert db.rows("SELECT outcome FROM visits") == [("order_taken",)]
    assert db.scalar("SELECT advisor_id FROM activities WHERE activity_id = ?", [visit.target_id]) == 3
    accept = submit(db, rep, "lead_update", lead_id=20, action="accept")
    later = NOW + dt.timedelta(hours=1)
    entries.correct(db, rep, accept.entry_id, now=later, lead_id=20, action="reject", reason="duplicate")
    # a correction replaces the decision, as of when it was first entered; the owner is back
    assert db.rows("SELECT owner_id, sal_at, rejected_at, reject_reason FROM leads WHERE lead_id = 20") == [
        (1, None, NOW, "duplicate")
    ]


# -- what the rep and the overview see ----------------------------------------------------------------
def test_my_entries_lists_the_newest_first_with_what_can_still_be_undone(db: Database) -> None:
    rep = user(db, "rep")
    first = submit(db, rep, "order", now=NOW)
    second = submit(db, rep, "visit", now=NOW + dt.timedelta(minutes=3))
    submit(db, user(db, "rep2"), "order")  # someone else's
    frame = entries.my_entries(db, rep, T, NOW + dt.timedelta(minutes=6))
    assert frame[["entry_id", "kind", "status", "version", "can_undo", "can_correct"]].values.tolist() == [
        [second.entry_id, "visit", "saved", 1, True, True],
        [first.entry_id, "order", "saved", 1, False, True],  # 6 minutes old
    ]
    assert frame["summary"][1]["quantity"] == 3
    assert entries.my_entries(db, rep, T + dt.timedelta(days=1), NOW).empty
    assert problems(lambda: entries.history(db, user(db, "rep2"), first.entry_id)) == [
        ("entry_id", "entry.error.not_yours", {})
    ]


def test_an_order_moves_the_overviews_revenue_by_exactly_its_amount(db: Database) -> None:
    march = Scope(*MARCH)
    revenue, version = kpis.totals(db, march)["revenue"], db.version()
    submit(db, user(db, "rep"), "order", quantity=7, unit_price="176.357")  # ¥176.36 × 7 = ¥1,234.52
    assert kpis.totals(db, march)["revenue"] == pytest.approx(revenue + 1234.52)
    assert db.version() == version + 1


def test_every_code_list_has_names_in_both_languages() -> None:
    codes = {
        "purpose": entries.VISIT_PURPOSES,
        "outcome_visit": entries.VISIT_OUTCOMES,
        "method": entries.PAYMENT_METHODS,
        "action": entries.LEAD_ACTIONS,
        "lead_state": entries.LEAD_STATES,
        "reject": entries.REJECT_REASONS,
        "lost": entries.LOST_REASONS,
    }
    for prefix, values in codes.items():
        for code in values:
            assert t(f"{prefix}.{code}", "zh") and t(f"{prefix}.{code}", "en")
