"""The quick-entry page's flow: draw the chosen form, save it once, confirm with undo, list my entries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from mktsales import config, entries, i18n
from mktsales.access import visible_regions
from mktsales.i18n import t
from mktsales.ui import data, entry_form
from mktsales.ui.entry_form import Form
from mktsales.ui.text import md

FIELDS = {
    "visit": ("customer_id", "visit_date", "category_id", "purpose", "outcome", "note", "next_step",
              "next_step_date", "advisor_id"),
    "order": ("customer_id", "product_id", "quantity", "unit_price", "order_date", "promotion_id"),
    "payment": ("customer_id", "order_id", "amount", "paid_on", "method"),
    "lead_update": ("lead_id", "action", "reason", "value"),
}  # fmt: skip
SUBMIT: dict[str, Callable[..., entries.Saved]] = {
    "visit": entries.submit_visit,
    "order": entries.submit_order,
    "payment": entries.submit_payment,
    "lead_update": entries.submit_lead_update,
}
SHOWN_ENTRIES = 30


def since(today: dt.date) -> dt.date:
    """The first day of "my entries": this week's Monday."""
    return today - dt.timedelta(days=today.weekday())


def problems(kind: str, lang: str) -> dict[str, list[str]]:
    """The last submission's problems as messages by field ("" for the form as a whole)."""
    found: dict[str, list[str]] = {}
    for problem in st.session_state.get(f"entry.{kind}.problems", []):
        field = problem.field if problem.field in FIELDS[kind] else ""
        found.setdefault(field, []).append(problem.message(lang))
    return found


def draw_form(form: Form, path: str, version: int) -> dict[str, Any]:
    """The chosen form's widgets; returns the values as the entries module takes them."""
    for message in form.problems.get("", []):
        st.error(message, icon=":material/error:")
    failed = st.session_state.get(form.key("failed"))
    if failed:
        st.error(t(failed, form.lang), icon=":material/cloud_off:")
    region_ids = visible_regions(form.user)
    if form.kind == "visit":
        return entry_form.visit(form, data.marketing_people(path, version, region_ids))
    if form.kind == "order":
        return entry_form.order(
            form, lambda category, day: data.bookable_promotions(path, version, region_ids, category, day)
        )
    if form.kind == "payment":
        return entry_form.payment(form, lambda customer: entries.open_orders(form.db, form.user, customer))
    return entry_form.lead_update(form, data.updatable_leads(path, version, form.user))


def submit(form: Form, values: dict[str, Any]) -> None:
    """Save the form once (or the correction), then rerun to show the confirmation or the problems."""
    state = st.session_state
    correcting = state.get(form.key("correcting"))
    state.pop(form.key("failed"), None)
    try:
        if correcting is not None:
            saved = entries.correct(form.db, form.user, correcting, **_when(form.kind), **values)
        else:
            key = entry_form.idempotency_key(form.kind, values)
            saved = SUBMIT[form.kind](form.db, form.user, key, **_when(form.kind), **values)
    except entries.EntryInvalid as invalid:
        state[form.key("problems")] = list(invalid.problems)
    except entries.EntryFailed as failed:  # busy, or the disk full: each its own message
        state[form.key("failed")] = failed.key
        state.pop(form.key("problems"), None)
    else:
        state.pop(form.key("problems"), None)
        state.pop(form.key("correcting"), None)
        state[form.key("saved")] = saved
    st.rerun()


def _when(kind: str) -> dict[str, Any]:
    """The clock a submission is checked against: today for dated entries, now for lead updates."""
    return {"now": config.now()} if kind == "lead_update" else {"today": config.today()}


# -- after saving ---------------------------------------------------------------------------------
def summary(form: Form, kind: str, payload: dict[str, Any]) -> str:
    """One line that says what an entry holds, in the user's language."""
    lang = form.lang
    customers = dict(zip(form.customers["customer_id"], form.customers["name"], strict=True))
    products = dict(zip(form.products["product_id"], form.products[f"name_{lang}"], strict=True))
    get = payload.get
    if kind == "visit":
        return t(
            "entry.summary.visit",
            lang,
            customer=md(customers.get(get("customer_id"), get("customer_id"))),
            purpose=t(f"purpose.{get('purpose')}", lang),
            outcome=t(f"outcome_visit.{get('outcome')}", lang),
        )
    if kind == "order":
        amount = get("amount")
        if amount is None and get("quantity") is not None and get("unit_price") is not None:
            amount = float(get("quantity")) * float(get("unit_price"))
        return t(
            "entry.summary.order",
            lang,
            customer=md(customers.get(get("customer_id"), get("customer_id"))),
            product=md(products.get(get("product_id"), get("product_id"))),
            quantity=get("quantity"),
            amount=i18n.money(amount, lang),
        )
    if kind == "payment":
        return t(
            "entry.summary.payment",
            lang,
            order=get("order_id"),
            amount=i18n.money(get("amount"), lang),
            method=t(f"method.{get('method')}", lang),
        )
    return t(
        "entry.summary.lead_update", lang, lead=get("lead_id"), action=t(f"action.{get('action')}", lang)
    )


def _payload(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value or "{}")


def confirmation(form: Form, saved: entries.Saved) -> None:
    """What was saved, an undo while it is allowed, and a fresh form for the next entry."""
    lang = form.lang
    text = t(
        "entry.saved",
        lang,
        kind=t(f"entry.kind.{saved.kind}", lang),
        what=summary(form, saved.kind, saved.summary),
    )
    st.success(text, icon=":material/check_circle:")
    if saved.duplicate:
        st.caption(t("entry.duplicate", lang))
    undone = st.session_state.get(form.key("undone"))  # "entry.undone", or the Problem that stopped it
    if isinstance(undone, entries.Problem):
        st.error(undone.message(lang), icon=":material/error:")
    elif undone:
        st.info(t(undone, lang), icon=":material/undo:")
    with st.container(horizontal=True, gap="small"):
        st.button(
            t("entry.next", lang),
            type="primary",
            icon=":material/add:",
            on_click=entry_form.clear,
            args=(form.kind,),
            width="stretch",
            key=form.key("next"),
        )
        if not undone:
            st.button(
                t("entry.undo", lang, minutes=entries.UNDO_MINUTES),
                icon=":material/undo:",
                on_click=_undo,
                args=(form, saved.entry_id),
                width="stretch",
                key=form.key("undo"),
            )


def _undo(form: Form, entry_id: int) -> None:
    try:
        entries.undo(form.db, form.user, entry_id, config.now())
    except entries.EntryInvalid as invalid:
        st.session_state[form.key("undone")] = invalid.problems[0]
    else:
        st.session_state[form.key("undone")] = "entry.undone"


def correcting_banner(form: Form) -> None:
    """When the form holds an entry being corrected: say which, and offer to cancel."""
    entry_id = st.session_state.get(form.key("correcting"))
    if entry_id is None:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.info(t("entry.correcting", form.lang, id=entry_id), icon=":material/edit:")
        st.button(
            t("entry.cancel", form.lang), on_click=entry_form.clear, args=(form.kind,), key=form.key("cancel")
        )


# -- my entries -----------------------------------------------------------------------------------
def my_entries(form: Form, mine: pd.DataFrame) -> None:
    """This week's entries by the signed-in rep, newest first: undo or correct each."""
    lang = form.lang
    st.subheader(t("entry.mine", lang))
    problem = st.session_state.pop("entry.list_problem", None)
    if problem:
        st.error(problem.message(lang), icon=":material/error:")
    if mine.empty:
        st.caption(t("entry.mine_none", lang))
        return
    for row in mine.head(SHOWN_ENTRIES).to_dict("records"):
        payload = _payload(row["summary"])
        status = row["status"]
        when = pd.Timestamp(row["created_at"]).strftime("%m-%d %H:%M")
        badges = t(f"entry.kind.{row['kind']}", lang)
        if status == "undone":
            badges += " · " + t("entry.status.undone", lang)
        elif int(row.get("version") or 1) > 1:
            badges += " · " + t("entry.status.corrected", lang, n=int(row["version"]) - 1)
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(f"**{when}** · {badges}  \n{summary(form, row['kind'], payload)}")
            if row.get("can_undo"):
                st.button(
                    t("entry.undo_short", lang),
                    icon=":material/undo:",
                    on_click=_undo_listed,
                    args=(form, int(row["entry_id"])),
                    key=f"entry.undo.{row['entry_id']}",
                )
            if row.get("can_correct"):
                st.button(
                    t("entry.correct", lang),
                    icon=":material/edit:",
                    on_click=_correct,
                    args=(row["kind"], payload, int(row["entry_id"])),
                    key=f"entry.correct.{row['entry_id']}",
                )


def _undo_listed(form: Form, entry_id: int) -> None:
    try:
        entries.undo(form.db, form.user, entry_id, config.now())
    except entries.EntryInvalid as invalid:
        st.session_state["entry.list_problem"] = invalid.problems[0]  # shown above the list


def _correct(kind: str, payload: dict[str, Any], entry_id: int) -> None:
    """Open the entry in its form, filled in, to correct it."""
    entry_form.prefill(kind, {k: v for k, v in payload.items() if k in FIELDS[kind]}, entry_id)
    st.session_state["entry_kind"] = kind
    for lang in i18n.LANGS:
        st.session_state.pop(f"entry_kind.{lang}", None)
