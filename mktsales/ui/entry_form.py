"""The quick-entry forms: one widget per field, errors under the field, values kept on an error.

Widget values live under canonical keys ``entry.<kind>.<field>`` (codes and ids, the same in both
languages); each widget gets a per-language key seeded from them (filters.page_choice), so a
language switch neither loses what was typed nor leaves stale labels.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from mktsales import entries, i18n
from mktsales.access import User
from mktsales.db import Database
from mktsales.i18n import LANGS, t
from mktsales.ui import filters

KINDS = ("visit", "order", "payment", "lead_update")
NEXT_STEP_ACTIONS = {
    "waiting": ("accept", "reject"),
    "accepted": ("open_opportunity",),
    "opportunity": ("won", "lost"),
}


@dataclass
class Form:
    """What one form needs to draw itself."""

    db: Database
    user: User
    lang: str
    kind: str
    today: dt.date
    customers: pd.DataFrame
    products: pd.DataFrame
    categories: pd.DataFrame
    region_names: dict[int, str]
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def category_names(self) -> dict[int, str]:
        """Product category ids to their names in the user's language."""
        return dict(zip(self.categories["category_id"], self.categories[f"name_{self.lang}"], strict=True))

    def key(self, name: str) -> str:
        return f"entry.{self.kind}.{name}"

    def widget(
        self, name: str, draw: Callable[..., Any], *args: Any, default: Any = None, **kwargs: Any
    ) -> Any:
        """Draw one field's widget under its per-language key, then its errors; return its value.

        The value comes from session state (seeded with ``default``), so no widget is given one of
        its own: Streamlit warns when both are set.
        """
        if draw in (st.date_input, st.number_input):
            kwargs.setdefault("value", None)
        value = filters.page_choice(draw, self.key(name), default, self.lang, *args, **kwargs)
        for message in self.problems.get(name, []):
            st.error(message, icon=":material/error:")
        return value

    def current(self, name: str) -> Any:
        """A field's value in this run before its widget is drawn (what the user just chose)."""
        widget = f"{self.key(name)}.{self.lang}"
        return (
            st.session_state[widget] if widget in st.session_state else st.session_state.get(self.key(name))
        )

    def reset(self, name: str, value: Any) -> None:
        """Give a field a new value before its widget is drawn in this run (a new product's price)."""
        st.session_state[self.key(name)] = value
        for lang in LANGS:
            st.session_state.pop(f"{self.key(name)}.{lang}", None)


def clear(kind: str) -> None:
    """Forget a form's values, errors, confirmation and correction: ready for the next entry."""
    prefix = f"entry.{kind}."
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def prefill(kind: str, payload: dict[str, Any], entry_id: int) -> None:
    """Load an entry's saved values into its form, to correct it (a button callback)."""
    clear(kind)
    for name, value in payload.items():
        if name.endswith("_date") or name in ("paid_on",):
            value = dt.date.fromisoformat(str(value)[:10]) if value else None
        st.session_state[f"entry.{kind}.{name}"] = value
    st.session_state[f"entry.{kind}.correcting"] = entry_id
    # the saved price, amount and category stand: no list-price or balance default over them
    for marker, source in (
        ("price_for", "product_id"),
        ("amount_for", "order_id"),
        ("category_for", "customer_id"),
    ):
        st.session_state[f"entry.{kind}.{marker}"] = payload.get(source)


def idempotency_key(kind: str, values: dict[str, Any]) -> str:
    """The same form with the same values gives the same key until the user starts a new entry.

    So a double tap, a browser retry or a reconnect re-sends the key that was already saved, and
    the entry is stored once; a changed value is a new entry.
    """
    nonce = st.session_state.setdefault(f"entry.{kind}.nonce", entries.new_key())
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(f"{nonce}|{kind}|{text}".encode()).hexdigest()[:32]


# -- fields shared by the forms -------------------------------------------------------------------
def _customer_label(form: Form) -> Callable[[int], str]:
    rows = form.customers.set_index("customer_id")

    def label(customer_id: int) -> str:
        row = rows.loc[customer_id]
        star = "★ " if row["mine"] else ""
        return f"{star}{row['name']} · {form.region_names.get(int(row['region_id']), '')}"

    return label


def customer(form: Form) -> int | None:
    return form.widget(
        "customer_id",
        st.selectbox,
        t("entry.customer", form.lang),
        list(form.customers["customer_id"]),
        format_func=_customer_label(form),
        index=None,
        placeholder=t("entry.customer_search", form.lang),
        help=t("entry.customer_help", form.lang),
    )


def day(form: Form, name: str, label: str) -> dt.date | None:
    return form.widget(
        name,
        st.date_input,
        t(label, form.lang),
        default=form.today,
        max_value=form.today,
        format="YYYY-MM-DD",
    )


def _codes(
    form: Form, name: str, label: str, codes: tuple[str, ...], prefix: str, default: str | None
) -> Any:
    return form.widget(
        name,
        st.selectbox,
        t(label, form.lang),
        codes,
        format_func=lambda c: t(f"{prefix}.{c}", form.lang),
        default=default,
        index=None,
        placeholder=t("entry.choose", form.lang),
    )


# -- the four forms -------------------------------------------------------------------------------
def visit(form: Form, advisors: pd.DataFrame) -> dict[str, Any]:
    chosen = customer(form)
    visit_date = day(form, "visit_date", "entry.visit_date")
    categories = form.category_names
    if chosen is not None and st.session_state.get(form.key("category_for")) != chosen:
        top = form.customers.set_index("customer_id").loc[chosen, "top_category_id"]
        form.reset("category_id", None if pd.isna(top) else int(top))
        st.session_state[form.key("category_for")] = chosen
    category = form.widget(
        "category_id",
        st.selectbox,
        t("entry.category", form.lang),
        list(categories),
        format_func=categories.get,
        index=None,
        placeholder=t("entry.choose", form.lang),
    )
    purpose = _codes(form, "purpose", "entry.purpose", entries.VISIT_PURPOSES, "purpose", None)
    outcome = _codes(form, "outcome", "entry.outcome", entries.VISIT_OUTCOMES, "outcome_visit", None)
    note = form.widget("note", st.text_area, t("entry.note", form.lang), default="", height=80)
    next_step = form.widget("next_step", st.text_input, t("entry.next_step", form.lang), default="")
    next_date = form.widget(
        "next_step_date", st.date_input, t("entry.next_step_date", form.lang), format="YYYY-MM-DD"
    )
    names = dict(zip(advisors["person_id"], advisors["name"], strict=True))
    advisor = form.widget(
        "advisor_id",
        st.selectbox,
        t("entry.advisor", form.lang),
        list(names),
        format_func=names.get,
        index=None,
        placeholder=t("entry.no_advisor", form.lang),
        help=t("entry.advisor_help", form.lang),
    )
    return {
        "customer_id": chosen, "visit_date": visit_date, "category_id": category, "purpose": purpose,
        "outcome": outcome, "note": note or "", "next_step": next_step or "", "next_step_date": next_date,
        "advisor_id": advisor,
    }  # fmt: skip


def order(form: Form, bookable: Callable[[int | None, dt.date | None], pd.DataFrame]) -> dict[str, Any]:
    chosen = customer(form)
    products = form.products.set_index("product_id")
    categories = form.category_names
    product = form.widget(
        "product_id",
        st.selectbox,
        t("entry.product", form.lang),
        list(products.index),
        format_func=lambda p: (
            f"{categories.get(int(products.loc[p, 'category_id']), '')} · "
            + str(products.loc[p, f"name_{form.lang}"])
        ),
        index=None,
        placeholder=t("entry.product_search", form.lang),
    )
    if product is not None and st.session_state.get(form.key("price_for")) != product:
        form.reset("unit_price", float(products.loc[product, "unit_price"]))  # the list price, editable
        st.session_state[form.key("price_for")] = product
    left, right = st.columns(2)
    with left:
        quantity = form.widget(
            "quantity", st.number_input, t("entry.quantity", form.lang), default=None, step=1, placeholder="0"
        )
    with right:
        price = form.widget(
            "unit_price",
            st.number_input,
            t("entry.unit_price", form.lang),
            default=None,
            step=0.5,
            format="%.2f",
            placeholder="0.00",
        )
    amount = None if quantity is None or price is None else round(float(quantity) * float(price), 2)
    st.markdown(
        t("entry.amount_is", form.lang, amount=i18n.money(amount, form.lang) if amount is not None else "—")
    )
    order_date = day(form, "order_date", "entry.order_date")
    category = None if product is None else int(products.loc[product, "category_id"])
    promotions = bookable(category, order_date)  # only what the order may be booked under
    titles = dict(zip(promotions["promotion_id"], promotions[f"title_{form.lang}"], strict=True))
    promotion = form.widget(
        "promotion_id",
        st.selectbox,
        t("entry.promotion", form.lang),
        list(titles),
        format_func=titles.get,
        index=None,
        placeholder=t("entry.no_promotion", form.lang),
    )
    return {
        "customer_id": chosen, "product_id": product, "quantity": quantity, "unit_price": price,
        "order_date": order_date, "promotion_id": promotion,
    }  # fmt: skip


def payment(form: Form, open_orders: Callable[[int], pd.DataFrame]) -> dict[str, Any]:
    chosen = customer(form)
    owed = open_orders(chosen) if chosen is not None else pd.DataFrame(columns=["order_id", "owed"])
    rows = owed.set_index("order_id") if len(owed) else None

    def label(order_id: int) -> str:
        row = rows.loc[order_id]
        return t(
            "entry.order_label",
            form.lang,
            id=order_id,
            date=str(row["order_date"])[:10],
            product=str(row[f"product_name_{form.lang}"]),
            owed=i18n.money(float(row["owed"]), form.lang),
        )

    order_id = form.widget(
        "order_id",
        st.selectbox,
        t("entry.order", form.lang),
        list(owed["order_id"]),
        format_func=label,
        index=None,
        placeholder=t(
            "entry.no_open_orders" if chosen is not None and owed.empty else "entry.choose", form.lang
        ),
    )
    if order_id is not None and st.session_state.get(form.key("amount_for")) != order_id:
        form.reset("amount", float(rows.loc[order_id, "owed"]))  # the whole balance, editable
        st.session_state[form.key("amount_for")] = order_id
    amount = form.widget(
        "amount",
        st.number_input,
        t("entry.payment_amount", form.lang),
        default=None,
        step=100.0,
        format="%.2f",
        placeholder="0.00",
    )
    paid_on = day(form, "paid_on", "entry.paid_on")
    method = _codes(form, "method", "entry.method", entries.PAYMENT_METHODS, "method", "transfer")
    return {"order_id": order_id, "amount": amount, "paid_on": paid_on, "method": method}


LEAD_OPTIONS = 300  # a select box of 90,000 leads (a 10M demo region) is no use on a phone


def lead_update(form: Form, leads: pd.DataFrame) -> dict[str, Any]:
    rows = leads.set_index("lead_id")
    wanted = form.widget(
        "find", st.number_input, t("entry.lead_find", form.lang), default=None, step=1, format="%d",
        placeholder=t("entry.lead_find_hint", form.lang),
    )  # fmt: skip
    offered = list(rows.index[:LEAD_OPTIONS])  # waiting first, then the oldest (entries.updatable_leads)
    chosen_before = form.current("lead_id")
    for extra in (wanted, chosen_before):
        if extra is not None and int(extra) in rows.index and int(extra) not in offered:
            offered.insert(0, int(extra))
    if len(rows) > LEAD_OPTIONS:
        st.caption(t("entry.lead_more", form.lang, shown=LEAD_OPTIONS, n=len(rows)))
    if wanted is not None and int(wanted) not in rows.index:
        st.warning(t("entry.lead_not_found", form.lang, id=int(wanted)), icon=":material/search_off:")
    categories = form.category_names

    def label(lead_id: int) -> str:
        row = rows.loc[lead_id]
        return t(
            "entry.lead_label",
            form.lang,
            id=lead_id,
            state=t(f"entry.state.{row['state']}", form.lang),
            region=form.region_names.get(int(row["region_id"]), ""),
            category=categories.get(int(row["category_id"]), ""),
            since=str(row["since"])[:10],
        )

    lead = form.widget(
        "lead_id",
        st.selectbox,
        t("entry.lead", form.lang),
        offered,
        format_func=label,
        index=None,
        placeholder=t("entry.lead_search", form.lang),
    )
    actions = NEXT_STEP_ACTIONS[rows.loc[lead, "state"]] if lead is not None else ()
    if form.current("action") not in actions:
        form.reset("action", actions[0] if len(actions) == 1 else None)
    action = form.widget(
        "action",
        st.segmented_control,
        t("entry.action", form.lang),
        actions,
        format_func=lambda a: t(f"action.{a}", form.lang),
        width="stretch",
    )
    reason = value = None
    if action in ("reject", "lost"):
        codes = entries.REJECT_REASONS if action == "reject" else entries.LOST_REASONS
        reason = _codes(
            form, "reason", "entry.reason", tuple(codes), "reject" if action == "reject" else "lost", None
        )
    if action == "open_opportunity":
        value = form.widget(
            "value",
            st.number_input,
            t("entry.opportunity_value", form.lang),
            default=None,
            step=1000.0,
            format="%.0f",
            placeholder="0",
        )
    return {"lead_id": lead, "action": action, "reason": reason, "value": value}
