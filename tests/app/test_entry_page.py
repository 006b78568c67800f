"""Quick entry in the running app: each form saves once, errors sit next to their fields and keep
what was typed, undo and corrections work. Tiny fixture, "today" 31 March 2026.

The rep ("rep", north) and the two-region head ("duo", north + east) of tests/app/conftest.py.
Customer 1 is 华润万家(北京) in the north; product 1 is green tea at ¥10.00; lead 10 (east) is an
MQL waiting for sales.
"""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mktsales import kpis
from mktsales.scope import Scope
from mktsales.ui.text import md
from tests.app.conftest import app_db, open_app, page_path
from tests.conftest import MARCH


def entry_page(username: str = "rep", lang: str = "zh") -> AppTest:
    at = open_app(username)
    if lang == "en":
        at.segmented_control(key="lang").set_value("en").run()
    at.switch_page(page_path("app_pages/entry.py")).run()
    assert not at.exception
    return at


def choose(at: AppTest, kind: str, lang: str = "zh") -> AppTest:
    at.segmented_control(key=f"entry_kind.{lang}").set_value(kind).run()
    return at


def field(at: AppTest, widget: str, kind: str, name: str, lang: str = "zh"):
    return getattr(at, widget)(key=f"entry.{kind}.{name}.{lang}")


def save(at: AppTest, kind: str) -> AppTest:
    at.button(key=f"entry.{kind}.submit").click().run()
    assert not at.exception
    return at


def march_revenue() -> float:
    return kpis.totals(app_db(), Scope(*MARCH))["revenue"]


def fill_order(at: AppTest, quantity: int = 30, lang: str = "zh") -> AppTest:
    choose(at, "order", lang)
    field(at, "selectbox", "order", "customer_id", lang).set_value(1).run()
    field(at, "selectbox", "order", "product_id", lang).set_value(1).run()
    field(at, "number_input", "order", "quantity", lang).set_value(quantity).run()
    return at


def test_a_rep_logs_a_visit_and_sees_it_in_their_entries(app_env: Path) -> None:
    at = entry_page()
    assert at.title[0].value == "快速录入"
    before = app_db().scalar("SELECT count(*) FROM activities WHERE kind = 'visit' AND region_id = 1")
    field(at, "selectbox", "visit", "customer_id").set_value(1).run()
    assert field(at, "selectbox", "visit", "category_id").value == 1  # customer 1 buys beverages
    field(at, "selectbox", "visit", "purpose").set_value("follow_up").run()
    field(at, "selectbox", "visit", "outcome").set_value("positive").run()
    save(at, "visit")
    # the customer's name escaped for markdown (issue 23): a reader sees 华润万家(北京)
    assert at.success and f"已保存拜访：{md('华润万家(北京)')}：跟进 → 积极" in at.success[0].value
    assert (
        app_db().scalar("SELECT count(*) FROM activities WHERE kind = 'visit' AND region_id = 1")
        == before + 1
    )
    assert app_db().scalar("SELECT count(*) FROM visits WHERE customer_id = 1 AND purpose = 'follow_up'") == 1
    assert any(f"{md('华润万家(北京)')}：跟进 → 积极" in m.value for m in at.markdown)  # my entries this week


def test_an_order_amount_is_quantity_times_price_and_moves_revenue(app_env: Path) -> None:
    at = fill_order(entry_page())
    assert field(at, "number_input", "order", "unit_price").value == 10.0  # green tea's list price
    assert any("¥300" in m.value for m in at.markdown)  # 30 × ¥10.00
    revenue = march_revenue()
    save(at, "order")
    assert "已保存订单" in at.success[0].value
    assert march_revenue() == pytest.approx(revenue + 300)  # today is 31 March


def test_errors_sit_next_to_their_fields_and_keep_the_values(app_env: Path) -> None:
    at = entry_page()
    choose(at, "order")
    field(at, "number_input", "order", "quantity").set_value(-5).run()
    save(at, "order")
    # under the customer, the product and the quantity, in the order they are drawn
    assert [e.value for e in at.error] == ["请填写此项。", "请填写此项。", "数量必须是大于零的整数。"]
    assert field(at, "number_input", "order", "quantity").value == -5  # kept for fixing
    assert not at.success

    at.segmented_control(key="lang").set_value("en").run()
    assert field(at, "number_input", "order", "quantity", "en").value == -5
    save(at, "order")
    assert any("quantity" in e.value.lower() for e in at.error), [e.value for e in at.error]


def test_the_same_form_sent_twice_saves_once(app_env: Path) -> None:
    at = save(fill_order(entry_page()), "order")
    count = app_db().scalar("SELECT count(*) FROM orders")
    # a double tap: the second request arrives with the same values before the confirmation shows
    del at.session_state["entry.order.saved"]
    at.run()
    save(at, "order")
    assert app_db().scalar("SELECT count(*) FROM orders") == count
    assert app_db().scalar("SELECT count(*) FROM entries WHERE kind = 'order'") == 1
    assert at.caption and "没有重复保存" in " ".join(c.value for c in at.caption)


def test_undo_takes_the_order_back(app_env: Path) -> None:
    revenue = march_revenue()
    at = save(fill_order(entry_page()), "order")
    at.button(key="entry.order.undo").click().run()
    assert not at.exception
    assert any("已撤销" in i.value for i in at.info)
    assert march_revenue() == pytest.approx(revenue)


def test_a_payment_above_what_is_owed_is_refused(app_env: Path) -> None:
    at = save(fill_order(entry_page()), "order")  # a new ¥300 order for customer 1
    order_id = app_db().scalar("SELECT max(order_id) FROM orders")
    at.button(key="entry.order.next").click().run()
    at.segmented_control(key="lang").set_value("en").run()
    choose(at, "payment", "en")
    field(at, "selectbox", "payment", "customer_id", "en").set_value(1).run()
    field(at, "selectbox", "payment", "order_id", "en").set_value(order_id).run()
    assert field(at, "number_input", "payment", "amount", "en").value == 300.0  # all of it owed
    field(at, "number_input", "payment", "amount", "en").set_value(350.0).run()
    save(at, "payment")
    assert any("300" in e.value for e in at.error), [e.value for e in at.error]
    assert field(at, "number_input", "payment", "amount", "en").value == 350.0  # kept for fixing
    field(at, "number_input", "payment", "amount", "en").set_value(300.0).run()
    save(at, "payment")
    assert "Payment saved" in at.success[0].value
    assert app_db().scalar(f"SELECT sum(amount) FROM payments WHERE order_id = {order_id}") == 300


def test_a_head_accepts_a_waiting_mql(app_env: Path) -> None:
    at = entry_page("duo")
    choose(at, "lead_update")
    field(at, "selectbox", "lead_update", "lead_id").set_value(10).run()
    assert field(at, "segmented_control", "lead_update", "action").options == ["接受", "拒绝"]
    field(at, "segmented_control", "lead_update", "action").set_value("accept").run()
    save(at, "lead_update")
    assert "已保存线索进展" in at.success[0].value
    assert app_db().scalar("SELECT sal_at IS NOT NULL FROM leads WHERE lead_id = 10")


def test_a_correction_keeps_the_original_in_the_history(app_env: Path) -> None:
    at = save(fill_order(entry_page()), "order")
    entry_id = app_db().scalar("SELECT max(entry_id) FROM entries")
    at.button(key="entry.order.next").click().run()
    at.button(key=f"entry.correct.{entry_id}").click().run()
    assert field(at, "number_input", "order", "quantity").value == 30  # the saved values, to edit
    field(at, "number_input", "order", "quantity").set_value(40).run()
    save(at, "order")
    assert not at.exception and at.success
    assert app_db().scalar("SELECT amount FROM orders WHERE order_id = (SELECT target_id FROM entries"
                           f" WHERE entry_id = {entry_id})") == 400  # fmt: skip
    assert app_db().scalar(f"SELECT count(*) FROM entry_versions WHERE entry_id = {entry_id}") == 2


def test_a_failed_write_says_so_and_keeps_the_input(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mktsales import entries
    from mktsales.ui import entry_view

    def busy(*args: object, **kwargs: object) -> None:
        raise entries.EntryFailed("database is locked")  # what a held file or a full disk becomes

    monkeypatch.setitem(entry_view.SUBMIT, "order", busy)
    at = save(fill_order(entry_page("rep", "en"), lang="en"), "order")
    assert [e.value for e in at.error] == [
        "Your entry could not be saved just now; what you entered is still on the form."
        " Please try again in a moment."
    ]
    assert field(at, "number_input", "order", "quantity", "en").value == 30  # still on the form
    assert field(at, "selectbox", "order", "customer_id", "en").value == 1
    assert not at.success


def test_a_full_disk_is_said_as_a_full_disk_and_keeps_the_input(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mktsales import entries
    from mktsales.ui import entry_view

    def full(*args: object, **kwargs: object) -> None:
        raise entries.EntryFailed("No space left on device", key="db.error.disk_full")  # as forms.write does

    monkeypatch.setitem(entry_view.SUBMIT, "order", full)
    at = save(fill_order(entry_page("rep", "en"), lang="en"), "order")
    assert [e.value for e in at.error] == [
        "The disk is full: nothing was saved. Free some disk space, then try again."
    ]
    assert field(at, "number_input", "order", "quantity", "en").value == 30  # still on the form
    assert not at.success


def test_a_lead_can_be_found_by_its_number(app_env: Path) -> None:
    at = choose(entry_page("duo", "en"), "lead_update", "en")
    field(at, "number_input", "lead_update", "find", "en").set_value(1).run()  # lead 1 was won in March
    assert any("Lead #1 is not one you can act on" in w.value for w in at.warning)
    field(at, "number_input", "lead_update", "find", "en").set_value(10).run()
    assert not at.warning
    assert field(at, "selectbox", "lead_update", "lead_id", "en").options[0].startswith("#10 · MQL waiting")
