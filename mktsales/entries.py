"""Quick entry for sales reps (issue 6): visits, orders, payments and lead updates, saved safely.

A submit is checked in full inside its write transaction, so every problem of the form comes back
at once (each naming its field and an ``entry.error.*`` message key) and checks that depend on the
data (what is still owed, a lead's state) cannot race another writer. It is saved through
``Database.write``: one transaction with its audit entries, and the data version bumped so every
open overview refreshes. The idempotency key of a form display makes a resubmit, a double tap or a
browser retry save once. The author may undo an entry for ``UNDO_MINUTES`` and correct it during
the week it was made; ``entry_versions`` keeps every version. Conflicts are retried; any other
database failure becomes ``EntryFailed``, so no raw DuckDB error reaches a page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import weakref
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

import pandas as pd

from mktsales import accounts, config, forms, summaries, vocabulary
from mktsales.access import User, visible, visible_regions
from mktsales.audit import Tx
from mktsales.db import Database
from mktsales.forms import Checker, FormInvalid, Problem, Read, tx_read
from mktsales.i18n import t

T = TypeVar("T")
log = logging.getLogger(__name__)

ENTRY_KINDS = ("visit", "order", "payment", "lead_update")
UNDO_MINUTES = 5
MAX_BACKDATE_DAYS = 60
VISIT_PURPOSES = vocabulary.VISIT_PURPOSES
VISIT_OUTCOMES = vocabulary.VISIT_OUTCOMES
PAYMENT_METHODS = vocabulary.PAYMENT_METHODS
LEAD_ACTIONS = ("accept", "reject", "open_opportunity", "won", "lost")
LEAD_STATES = vocabulary.LEAD_STATES
REJECT_REASONS = vocabulary.REJECT_REASONS
LOST_REASONS = vocabulary.LOST_REASONS
MAX_TEXT = 2000  # characters in a note or next step
MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal("1000000000")  # ¥10亿 per line: beyond is a typo, and DECIMAL(18,2) stays safe
WRITE_ATTEMPTS = 5  # a write that conflicts is tried this often before EntryFailed
RETRY_PAUSE = 0.02  # seconds, times the attempt number
MAX_KEY = 100
PERMISSION = "entry.sales"
new_key = forms.new_key  # the UI makes a form's idempotency key with entries.new_key()

# A lead action is legal only from one state, and leads to one state.
_FROM_STATE = {
    "accept": "waiting",
    "reject": "waiting",
    "open_opportunity": "accepted",
    "won": "opportunity",
    "lost": "opportunity",
}
_TO_STATE = {
    "accept": "accepted",
    "reject": "rejected",
    "open_opportunity": "opportunity",
    "won": "won",
    "lost": "lost",
}
_STAGE_AT = {"waiting": "mql_at", "accepted": "sal_at", "opportunity": "opportunity_at"}
# What a lead update may change, kept in the payload so undo and correction can restore it.
_LEAD_COLUMNS = (
    "owner_id",
    "sal_at",
    "rejected_at",
    "reject_reason",
    "opportunity_at",
    "closed_at",
    "outcome",
    "lost_reason",
    "value",
)
_FIELDS = {
    "visit": (
        "customer_id",
        "visit_date",
        "purpose",
        "outcome",
        "category_id",
        "note",
        "next_step",
        "next_step_date",
        "advisor_id",
    ),
    "order": ("customer_id", "product_id", "quantity", "unit_price", "amount", "order_date", "promotion_id"),
    "payment": ("order_id", "amount", "paid_on", "method"),
    "lead_update": ("lead_id", "action", "reason", "value"),
}


# -- results and errors -------------------------------------------------------------------------
class EntryInvalid(FormInvalid):
    """A quick-entry form the user can fix: every problem found, each naming its field."""


class EntryFailed(Exception):
    """A write that failed for a reason the user cannot fix (database busy, disk full).

    Nothing of it remains: its transaction was rolled back. The input is still on the form.
    """

    key = "entry.error.write_failed"

    def __init__(self, detail: str = "", key: str | None = None) -> None:
        super().__init__(detail or self.key)
        if key is not None:  # a full disk, say: its own message (forms.write)
            self.key = key

    def message(self, lang: str) -> str:
        return t(self.key, lang)


@dataclasses.dataclass(frozen=True)
class Saved:
    """What was saved. ``duplicate``: the key (or, for a correction, the same values) had been
    saved already, and nothing new was written. ``summary`` is the payload as stored (JSON:
    dates as ISO strings, amounts as numbers)."""

    entry_id: int
    kind: str
    target_id: int
    created_at: dt.datetime
    summary: dict[str, Any]
    duplicate: bool
    version: int = 1
    status: str = "saved"


class _Unchanged(Exception):
    """Raised inside a correction that changes nothing, to roll it back."""


# -- checking a form -------------------------------------------------------------------------------
class _Form(Checker):
    """Collects the problems of one entry form while it is checked."""

    def __init__(self) -> None:
        super().__init__("entry.error.", EntryInvalid)


_tx_read = tx_read


def _value(read: Read, sql: str, params: list[Any]) -> Any:
    found = read(sql, params)
    return found[0][0] if found else None


def _record(read: Read, table: str, key: str, value: Any) -> dict[str, Any] | None:
    """One row as a dict (a DuckDB struct of the row), or None; names come from code only."""
    return _value(read, f"SELECT t FROM {table} t WHERE {key} = ?", [value])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _int(form: _Form, field: str, value: Any, unknown: str, *, required: bool = True) -> int | None:
    """An id from a picker: None when missing (reported when required) or not an id."""
    if _blank(value):
        if required:
            form.add(field, "required")
        return None
    try:
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError(value)
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        form.add(field, unknown)
        return None


def _date(
    form: _Form, field: str, value: Any, today: dt.date, *, required: bool = True, past: bool = True
) -> dt.date | None:
    """A day: not in the future and at most MAX_BACKDATE_DAYS back (``past``), or None."""
    if _blank(value):
        if required:
            form.add(field, "required")
        return None
    try:
        if isinstance(value, dt.datetime):
            day = value.date()
        elif isinstance(value, dt.date):
            day = value
        else:
            day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        form.add(field, "bad_date")
        return None
    if past and day > today:
        form.add(field, "future_date")
    elif past and day < today - dt.timedelta(days=MAX_BACKDATE_DAYS):
        form.add(field, "too_old", n=MAX_BACKDATE_DAYS)
    return day


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _money(
    form: _Form, field: str, value: Any, *, required: bool = True, zero: bool = True
) -> Decimal | None:
    """An amount in yuan, rounded to fen: not negative (nor zero unless ``zero``), not huge."""
    if _blank(value):
        if required:
            form.add(field, "required")
        return None
    number = _decimal(value)
    if number is None:
        form.add(field, "not_a_number")
        return None
    if number < 0 or (number == 0 and not zero):
        form.add(field, "amount_positive")
        return None
    if number > MAX_AMOUNT:
        form.add(field, "too_large")
        return None
    return number.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _quantity(form: _Form, value: Any) -> int | None:
    if _blank(value):
        form.add("quantity", "required")
        return None
    number = _decimal(value)
    if number is None:
        form.add("quantity", "not_a_number")
        return None
    if number <= 0 or number != number.to_integral_value():
        form.add("quantity", "quantity_positive")
        return None
    if number > MAX_QUANTITY:
        form.add("quantity", "too_large")
        return None
    return int(number)


def _code(form: _Form, field: str, value: Any, allowed: tuple[str, ...], unknown: str) -> str | None:
    if _blank(value):
        form.add(field, "required")
        return None
    if value not in allowed:
        form.add(field, unknown)
        return None
    return str(value)


def _text(form: _Form, field: str, value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TEXT:
        form.add(field, "too_long", n=MAX_TEXT)
    return text


def _in_regions(user: User, region_id: int) -> bool:
    return visible(user, region_id)


def _customer(read: Read, form: _Form, user: User, value: Any) -> dict[str, Any] | None:
    """The customer picked, when it exists and lies in the user's regions."""
    customer_id = _int(form, "customer_id", value, "unknown_customer")
    if customer_id is None:
        return None
    found = _record(read, "customers", "customer_id", customer_id)
    if found is None:
        form.add("customer_id", "unknown_customer")
        return None
    if not _in_regions(user, found["region_id"]):
        form.add("customer_id", "region_refused")
        return None
    return found


def _money_out(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _day_out(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _week_start(day: dt.date) -> dt.date:
    """Monday of the week of ``day``: corrections are open during the week an entry was made."""
    return day - dt.timedelta(days=day.weekday())


@dataclasses.dataclass
class _Checked:
    """A form that passed: the rows to write and the payload to keep."""

    rows: dict[str, dict[str, Any]]  # table -> column values
    payload: dict[str, Any]


# -- the four forms ------------------------------------------------------------------------------------
def _top_category(read: Read, customer_id: int) -> int | None:
    return _value(
        read,
        "SELECT category_id FROM orders WHERE customer_id = ? GROUP BY category_id "
        "ORDER BY count(*) DESC, sum(amount) DESC, category_id LIMIT 1",
        [customer_id],
    )


def _check_visit(read: Read, user: User, today: dt.date, fields: dict[str, Any]) -> _Checked:
    form = _Form()
    customer = _customer(read, form, user, fields.get("customer_id"))
    day = _date(form, "visit_date", fields.get("visit_date"), today)
    purpose = _code(form, "purpose", fields.get("purpose"), VISIT_PURPOSES, "unknown_purpose")
    outcome = _code(form, "outcome", fields.get("outcome"), VISIT_OUTCOMES, "unknown_outcome")
    defaulted = []
    category_id = _int(form, "category_id", fields.get("category_id"), "unknown_category", required=False)
    if _blank(fields.get("category_id")) and customer is not None:
        category_id = _top_category(read, customer["customer_id"])
        defaulted.append("category_id")
        if category_id is None:
            form.add("category_id", "required")
    elif category_id is not None and _record(read, "categories", "category_id", category_id) is None:
        form.add("category_id", "unknown_category")
    note = _text(form, "note", fields.get("note"))
    next_step = _text(form, "next_step", fields.get("next_step"))
    next_day = _date(form, "next_step_date", fields.get("next_step_date"), today, required=False, past=False)
    if day is not None and next_day is not None and next_day < day:
        form.add("next_step_date", "next_before_visit")
    advisor_id = _int(form, "advisor_id", fields.get("advisor_id"), "unknown_advisor", required=False)
    advisor = None
    if advisor_id is not None:
        advisor = _record(read, "people", "person_id", advisor_id)
        if advisor is None:
            form.add("advisor_id", "unknown_advisor")
        elif advisor["department"] != "marketing":
            form.add("advisor_id", "advisor_not_marketing")
    form.done()
    assert customer is not None
    return _Checked(
        rows={
            "activities": {
                "activity_date": day,
                "track": "sales",
                "kind": "visit",
                "region_id": customer["region_id"],
                "category_id": category_id,
                "owner_id": user.person_id,
                "advisor_id": advisor_id,
            },
            "visits": {
                "customer_id": customer["customer_id"],
                "purpose": purpose,
                "outcome": outcome,
                "note": note,
                "next_step": next_step,
                "next_step_date": next_day,
            },
        },
        payload={
            "customer_id": customer["customer_id"],
            "customer_name": customer["name"],
            "region_id": customer["region_id"],
            "visit_date": _day_out(day),
            "purpose": purpose,
            "outcome": outcome,
            "category_id": category_id,
            "note": note,
            "next_step": next_step,
            "next_step_date": _day_out(next_day),
            "advisor_id": advisor_id,
            "advisor_name": None if advisor is None else advisor["name"],
            "_defaulted": defaulted,
        },
    )


def _check_promotion(
    read: Read, form: _Form, value: Any, customer: dict | None, product: dict | None, day: dt.date | None
) -> int | None:
    promotion_id = _int(form, "promotion_id", value, "unknown_promotion", required=False)
    if promotion_id is None:
        return None
    promotion = _record(read, "promotions", "promotion_id", promotion_id)
    if promotion is None:
        form.add("promotion_id", "unknown_promotion")
        return None
    if customer is None or product is None or day is None:
        return promotion_id  # judged once the rest of the form is right
    covers = _value(
        read,
        "SELECT count(*) FROM promotion_regions WHERE promotion_id = ? AND region_id = ?",
        [promotion_id, customer["region_id"]],
    )
    if not (
        covers
        and promotion["status"] in _BOOKABLE_PROMOTIONS
        and promotion["category_id"] == product["category_id"]
        and promotion["start_date"] <= day <= promotion["end_date"]
    ):
        form.add("promotion_id", "promotion_not_applicable")
    return promotion_id


# A promotion an order may be booked under: decided and running, or run.
_BOOKABLE_PROMOTIONS = ("approved", "live", "finished", "reviewed")


def _check_order(
    read: Read, user: User, today: dt.date, fields: dict[str, Any], order_id: int | None = None
) -> _Checked:
    form = _Form()
    customer = _customer(read, form, user, fields.get("customer_id"))
    product = None
    product_id = _int(form, "product_id", fields.get("product_id"), "unknown_product")
    if product_id is not None:
        product = _record(read, "products", "product_id", product_id)
        if product is None:
            form.add("product_id", "unknown_product")
    quantity = _quantity(form, fields.get("quantity"))
    defaulted = []
    unit_price = _money(form, "unit_price", fields.get("unit_price"), required=False)
    if _blank(fields.get("unit_price")) and product is not None:
        unit_price = product["unit_price"]
        defaulted.append("unit_price")
    amount = _money(form, "amount", fields.get("amount"), required=False)
    if _blank(fields.get("amount")):
        defaulted.append("amount")
        if quantity is not None and unit_price is not None:
            amount = (quantity * unit_price).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if amount > MAX_AMOUNT:
                form.add("amount", "too_large")
    day = _date(form, "order_date", fields.get("order_date"), today)
    promotion_id = _check_promotion(read, form, fields.get("promotion_id"), customer, product, day)
    if order_id is not None and amount is not None:
        paid = _paid(read, order_id)
        if amount < paid:
            form.add("amount", "below_paid", paid=float(paid))
    form.done()
    assert customer is not None and product is not None and amount is not None
    return _Checked(
        rows={
            "orders": {
                "order_date": day,
                "customer_id": customer["customer_id"],
                "product_id": product_id,
                "region_id": customer["region_id"],
                "category_id": product["category_id"],
                "quantity": quantity,
                "amount": amount,
                "promotion_id": promotion_id,
                "rep_id": user.person_id,
            }
        },
        payload={
            "customer_id": customer["customer_id"],
            "customer_name": customer["name"],
            "region_id": customer["region_id"],
            "product_id": product_id,
            "product_name_zh": product["name_zh"],
            "product_name_en": product["name_en"],
            "category_id": product["category_id"],
            "quantity": quantity,
            "unit_price": _money_out(unit_price),
            "amount": _money_out(amount),
            "order_date": _day_out(day),
            "promotion_id": promotion_id,
            "_defaulted": defaulted,
        },
    )


def _paid(read: Read, order_id: int, without: int | None = None) -> Decimal:
    """What has been paid on an order, leaving out one payment (the one being corrected)."""
    return _value(
        read,
        "SELECT coalesce(sum(amount), 0) FROM payments WHERE order_id = ? AND payment_id IS DISTINCT FROM ?",
        [order_id, without],
    )


def _check_payment(
    read: Read, user: User, today: dt.date, fields: dict[str, Any], payment_id: int | None = None
) -> _Checked:
    form = _Form()
    order = None
    order_id = _int(form, "order_id", fields.get("order_id"), "unknown_order")
    if order_id is not None:
        order = _value(
            read,
            "SELECT struct_insert(o, customer_name := c.name)"
            " FROM orders o JOIN customers c USING (customer_id)"
            " WHERE o.order_id = ?",
            [order_id],
        )
        if order is None:
            form.add("order_id", "unknown_order")
        elif not _in_regions(user, order["region_id"]):
            form.add("order_id", "region_refused")
            order = None
    amount = _money(form, "amount", fields.get("amount"), zero=False)
    day = _date(form, "paid_on", fields.get("paid_on"), today)
    method = _code(form, "method", fields.get("method"), PAYMENT_METHODS, "unknown_method")
    owed = None
    if order is not None:
        owed = order["amount"] - _paid(read, order["order_id"], payment_id)
        if owed <= 0:
            form.add("order_id", "fully_paid")
        elif amount is not None and amount > owed:
            form.add("amount", "overpaid", owed=float(owed))
        if day is not None and day < order["order_date"]:
            form.add("paid_on", "paid_before_order", order_date=order["order_date"].isoformat())
    form.done()
    assert order is not None and owed is not None
    return _Checked(
        rows={"payments": {"order_id": order_id, "paid_on": day, "amount": amount, "method": method}},
        payload={
            "order_id": order_id,
            "customer_id": order["customer_id"],
            "customer_name": order["customer_name"],
            "region_id": order["region_id"],
            "amount": _money_out(amount),
            "paid_on": _day_out(day),
            "method": method,
            "owed_before": _money_out(owed),
            "_defaulted": [],
        },
    )


def lead_state(lead: dict[str, Any]) -> str:
    """Where a lead stands: new, waiting (an MQL for sales to decide), rejected, accepted,
    opportunity, won or lost."""
    if lead["closed_at"] is not None:
        return str(lead["outcome"])
    for column, state in (
        ("opportunity_at", "opportunity"),
        ("sal_at", "accepted"),
        ("rejected_at", "rejected"),
        ("mql_at", "waiting"),
    ):
        if lead[column] is not None:
            return state
    return "new"


def _lead_before(lead: dict[str, Any]) -> dict[str, Any]:
    """The columns a lead update may change, JSON-safe."""
    out: dict[str, Any] = {}
    for column in _LEAD_COLUMNS:
        value = lead[column]
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[column] = value
    return out


def _lead_restored(before: dict[str, Any]) -> dict[str, Any]:
    """Column values from ``_lead_before``'s output."""
    out = dict(before)
    for column in ("sal_at", "rejected_at", "opportunity_at", "closed_at"):
        if out[column] is not None:
            out[column] = dt.datetime.fromisoformat(out[column])
    if out["value"] is not None:
        out["value"] = Decimal(out["value"])
    return out


def _check_lead_update(
    read: Read, user: User, when: dt.datetime, fields: dict[str, Any], restore: dict[str, Any] | None = None
) -> _Checked:
    """Check a lead action; ``restore`` checks it against the lead as it was before an earlier
    update (a correction replaces that update)."""
    form = _Form()
    lead = None
    lead_id = _int(form, "lead_id", fields.get("lead_id"), "unknown_lead")
    if lead_id is not None:
        lead = _record(read, "leads", "lead_id", lead_id)
        if lead is None:
            form.add("lead_id", "unknown_lead")
        elif not _in_regions(user, lead["region_id"]):
            form.add("lead_id", "region_refused")
            lead = None
    if lead is not None and restore is not None:
        lead = {**lead, **_lead_restored(restore)}
    action = _code(form, "action", fields.get("action"), LEAD_ACTIONS, "unknown_action")
    state = None if lead is None else lead_state(lead)
    if action is not None and state is not None and state != _FROM_STATE[action]:
        form.add("action", "illegal_transition", state=state)
    reason = None
    reasons = {"reject": REJECT_REASONS, "lost": LOST_REASONS}.get(action or "")
    if reasons is not None:
        if _blank(fields.get("reason")):
            form.add("reason", "reason_required")
        elif fields.get("reason") not in reasons:
            form.add("reason", "unknown_reason")
        else:
            reason = str(fields["reason"])
    value = None
    if action in ("open_opportunity", "won"):
        value = _money(form, "value", fields.get("value"), required=action == "open_opportunity", zero=False)
    form.done()
    assert lead is not None and action is not None and state is not None
    at = max(when, lead[_STAGE_AT[state]])  # a stage never precedes the one before it
    changes: dict[str, Any] = {
        "accept": {"sal_at": at},
        "reject": {"rejected_at": at, "reject_reason": reason},
        "open_opportunity": {"opportunity_at": at, "value": value},
        "won": {"closed_at": at, "outcome": "won"},
        "lost": {"closed_at": at, "outcome": "lost", "lost_reason": reason},
    }[action]
    if action == "accept" and user.person_id is not None:
        changes["owner_id"] = user.person_id  # the rep who accepts a lead owns it from now on
    if action == "won" and value is not None:
        changes["value"] = value
    return _Checked(
        rows={"leads": changes},
        payload={
            "lead_id": lead_id,
            "region_id": lead["region_id"],
            "category_id": lead["category_id"],
            "action": action,
            "reason": reason,
            "value": _money_out(value),
            "state_before": state,
            "_before": _lead_before(lead),
            "_defaulted": [],
        },
    )


# -- writing ---------------------------------------------------------------------------------------
def _write(
    db: Database, user: User, work: Callable[[Tx], T], on_constraint: Callable[[], T | None] | None = None
) -> T:
    """Database.write as the user, with conflicts retried and database failures made EntryFailed.

    Writes are serialised in this process, so a conflict needs another connection to the file;
    it is retried anyway. A constraint violation is first the idempotency key's: ``on_constraint``
    answers with the entry saved under it. Otherwise an id was stale (a row written some other way
    took it): the ids are worked out again and the write retried.
    """
    return forms.write(
        db, work, by=accounts.actor(user), failed=EntryFailed, name="entry", attempts=WRITE_ATTEMPTS,
        pause=RETRY_PAUSE, maintained=True,  # summaries.changed is called by the work itself
        on_constraint=on_constraint, retry_constraint=True, before_retry=lambda: _NEXT_IDS.pop(db, None),
    )  # fmt: skip


# Where each kind's new row goes: table and id column (a lead update changes an existing lead).
_TARGET_TABLES = {"visit": ("activities", "activity_id"), "order": ("orders", "order_id"),
                  "payment": ("payments", "payment_id")}  # fmt: skip
# The last id handed out per database and kind; see _new_id.
_NEXT_IDS: weakref.WeakKeyDictionary[Database, dict[str, int]] = weakref.WeakKeyDictionary()


def _new_id(tx: Tx, db: Database, kind: str) -> int:
    """The id of a new activity, order or payment: max(id) + 1, past undone entries' ids too, so
    an id never names two rows (these tables have no sequence: demo data fills them in bulk).

    The maximum is read inside the first write and then counted on. That is safe because one
    process owns the file and every write holds Database.write's lock; and it matters because
    max() scans the table under that lock (3 ms at 6 million orders, on every entry). A row
    inserted some other way with a higher id makes the insert fail on the primary key, and
    _write then works the maximum out again."""
    known = _NEXT_IDS.setdefault(db, {})
    if kind not in known:
        table, column = _TARGET_TABLES[kind]
        top, undone = tx.execute(
            f"SELECT (SELECT max({column}) FROM {table}),"
            " (SELECT max(target_id) FROM entries WHERE kind = ?)",
            [kind],
        ).fetchone()
        known[kind] = max(top or 0, undone or 0)
    known[kind] += 1
    return known[kind]


# Entry ids taken from entry_id_seq ahead, a block at a time (a sequence is never rolled back, so
# an id is never handed out twice, and the column's default stays ahead of every id used).
_ENTRY_IDS: weakref.WeakKeyDictionary[Database, list[int]] = weakref.WeakKeyDictionary()
ENTRY_ID_BLOCK = 64


def _new_entry_id(tx: Tx, db: Database) -> int:
    free = _ENTRY_IDS.setdefault(db, [])
    if not free:
        free.extend(
            i
            for (i,) in tx.execute(
                "SELECT nextval('entry_id_seq') FROM range(?) ORDER BY 1 DESC", [ENTRY_ID_BLOCK]
            ).fetchall()
        )
    return free.pop()


def _append_version(tx: Tx, entry_id: int, version: int, payload: str, at: dt.datetime, by: int) -> None:
    tx.append(
        "entry_versions",
        {"entry_id": entry_id, "version": version, "payload": payload, "changed_at": at, "changed_by": by},
    )


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload, ensure_ascii=False, default=str))


def _summary(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without its bookkeeping (keys starting with _)."""
    return {k: v for k, v in payload.items() if not k.startswith("_")}


def _saved(row: dict[str, Any], duplicate: bool) -> Saved:
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    return Saved(
        entry_id=row["entry_id"],
        kind=row["kind"],
        target_id=row["target_id"],
        created_at=row["created_at"],
        summary=_summary(payload),
        duplicate=duplicate,
        version=row["version"],
        status=row["status"],
    )


_ENTRY_COLUMNS = "entry_id, kind, user_id, target_id, created_at, status, version, payload"


def _by_key(db: Database, user: User, kind: str, key: str) -> Saved | None:
    """The entry already saved under ``key``, if any (nothing is written)."""
    cur = db.rows(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE idempotency_key = ?", [key])
    if not cur:
        return None
    row = dict(zip(_ENTRY_COLUMNS.split(", "), cur[0], strict=True))
    if row["user_id"] != user.user_id or row["kind"] != kind:
        raise EntryInvalid([Problem("key", "entry.error.key_reused", {})])
    return _saved(row, duplicate=True)


def _create_target(tx: Tx, kind: str, checked: _Checked, new_id: int) -> None:
    """Insert the rows a new entry creates, with id ``new_id``, or change the lead; audited."""
    if kind == "lead_update":
        before, after = tx.change(
            "leads", "lead_id", new_id, checked.rows["leads"], checked.payload["action"]
        )
        summaries.changed(tx, "leads", before, after)
        return
    table, column = _TARGET_TABLES[kind]
    rows = [(table, {column: new_id, **checked.rows[table]})]
    if kind == "visit":
        rows.append(("visits", {"visit_id": new_id, **checked.rows["visits"]}))
    for name, values in rows:
        tx.append(name, values)  # written with the transaction's other rows (group commit)
        tx.audit(name, new_id, "create", after=values)
        if name in summaries.BASE_TABLES:
            summaries.changed(tx, name, None, values)


# Kinds whose checks read what other writes change (what is owed, a lead's state): checked again
# under the write lock. Visits and orders depend only on reference data (customers, products).
_RECHECKED = frozenset({"payment", "lead_update"})


def _submit(
    db: Database,
    user: User,
    key: str,
    kind: str,
    check: Callable[[Read], _Checked],
    now: dt.datetime,
) -> Saved:
    """Check and save one new entry, once per key.

    The form is checked before the write lock is taken, so a wrong form costs other writers
    nothing; what other entries can change meanwhile (_RECHECKED) is checked again under it."""
    user.require(PERMISSION)
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        raise ValueError(f"an idempotency key is a non-empty string of at most {MAX_KEY} characters")
    found = _by_key(db, user, kind, key)  # a resubmit is answered without taking the write lock
    if found is not None:
        return found
    try:
        checked = check(db.rows)
    except EntryInvalid:
        found = _by_key(db, user, kind, key)  # the first tap of a double tap was saved meanwhile
        if found is not None:
            return found
        raise

    def work(tx: Tx) -> Saved:
        final = check(_tx_read(tx)) if kind in _RECHECKED else checked
        payload = _jsonable(final.payload)
        target = payload["lead_id"] if kind == "lead_update" else _new_id(tx, db, kind)
        text = json.dumps(payload, ensure_ascii=False)
        entry_id = _new_entry_id(tx, db)
        # Written with the transaction's other rows, the entry first: its UNIQUE key makes a twin
        # submit fail the commit, so nothing of the twin is saved (and _write answers with the first).
        tx.append(
            "entries",
            {
                "entry_id": entry_id,
                "kind": kind,
                "idempotency_key": key,
                "user_id": user.user_id,
                "created_at": now,
                "target_id": target,
                "payload": text,
            },
        )
        _append_version(tx, entry_id, 1, text, now, user.user_id)
        _create_target(tx, kind, final, target)
        return Saved(entry_id, kind, target, now, _summary(payload), False)

    try:
        return _write(db, user, work, on_constraint=lambda: _by_key(db, user, kind, key))
    except EntryInvalid:
        found = _by_key(db, user, kind, key)  # rechecked after a twin was saved: a duplicate
        if found is not None:
            return found
        raise


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or config.now()


def submit_visit(
    db: Database,
    user: User,
    key: str,
    *,
    customer_id: int | None,
    visit_date: dt.date | None,
    purpose: str | None,
    outcome: str | None,
    category_id: int | None = None,
    note: str = "",
    next_step: str = "",
    next_step_date: dt.date | None = None,
    advisor_id: int | None = None,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Saved:
    """Log a sales visit: an activities row (track sales, kind visit) and its visits row.

    ``category_id`` None means the category the customer orders most."""
    fields = dict(
        customer_id=customer_id,
        visit_date=visit_date,
        purpose=purpose,
        outcome=outcome,
        category_id=category_id,
        note=note,
        next_step=next_step,
        next_step_date=next_step_date,
        advisor_id=advisor_id,
    )
    return _submit(db, user, key, "visit", lambda read: _check_visit(read, user, today, fields), _now(now))


def submit_order(
    db: Database,
    user: User,
    key: str,
    *,
    customer_id: int | None,
    product_id: int | None,
    quantity: int | float | None,
    unit_price: Any = None,
    amount: Any = None,
    order_date: dt.date | None,
    promotion_id: int | None = None,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Saved:
    """Book an order line; the price defaults to the list price and the amount to quantity × price."""
    fields = dict(
        customer_id=customer_id,
        product_id=product_id,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        order_date=order_date,
        promotion_id=promotion_id,
    )
    return _submit(db, user, key, "order", lambda read: _check_order(read, user, today, fields), _now(now))


def submit_payment(
    db: Database,
    user: User,
    key: str,
    *,
    order_id: int | None,
    amount: Any,
    paid_on: dt.date | None,
    method: str | None,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Saved:
    """Record a payment collected (回款) on an order; at most what is still owed."""
    fields = dict(order_id=order_id, amount=amount, paid_on=paid_on, method=method)
    return _submit(
        db, user, key, "payment", lambda read: _check_payment(read, user, today, fields), _now(now)
    )


def submit_lead_update(
    db: Database,
    user: User,
    key: str,
    *,
    lead_id: int | None,
    action: str | None,
    reason: str | None = None,
    value: Any = None,
    now: dt.datetime,
) -> Saved:
    """Accept or reject a waiting MQL, open an opportunity on an accepted lead, or mark an open
    opportunity won or lost; the lead's stage is stamped ``now``."""
    fields = dict(lead_id=lead_id, action=action, reason=reason, value=value)
    return _submit(
        db, user, key, "lead_update", lambda read: _check_lead_update(read, user, now, fields), now
    )


# -- undo and correction ---------------------------------------------------------------------------
def _own_entry(tx: Tx, user: User, entry_id: int) -> dict[str, Any]:
    """The user's own saved entry, or EntryInvalid (unknown, someone else's, undone)."""
    entry = _record(_tx_read(tx), "entries", "entry_id", entry_id)
    if entry is None:
        raise EntryInvalid([Problem("entry_id", "entry.error.unknown_entry", {})])
    if entry["user_id"] != user.user_id:
        raise EntryInvalid([Problem("entry_id", "entry.error.not_yours", {})])
    if entry["status"] != "saved":
        raise EntryInvalid([Problem("entry_id", "entry.error.already_undone", {})])
    entry["payload"] = json.loads(entry["payload"])
    return entry


def _lead_unchanged_since(tx: Tx, entry: dict[str, Any]) -> dict[str, Any]:
    """The lead of a lead update, if nothing moved it on since; else EntryInvalid."""
    lead = _record(_tx_read(tx), "leads", "lead_id", entry["target_id"])
    assert lead is not None
    if lead_state(lead) != _TO_STATE[entry["payload"]["action"]]:
        raise EntryInvalid([Problem("entry_id", "entry.error.changed_since", {"state": lead_state(lead)})])
    return lead


def undo(db: Database, user: User, entry_id: int, now: dt.datetime | None = None) -> Saved:
    """Take back one's own entry within UNDO_MINUTES: remove what it created, or restore the lead."""
    user.require(PERMISSION)
    now = _now(now)

    def work(tx: Tx) -> Saved:
        entry = _own_entry(tx, user, entry_id)
        if now - entry["created_at"] > dt.timedelta(minutes=UNDO_MINUTES):
            raise EntryInvalid([Problem("entry_id", "entry.error.undo_expired", {"n": UNDO_MINUTES})])
        kind, target = entry["kind"], entry["target_id"]
        if kind == "visit":
            for table, column in (("visits", "visit_id"), ("activities", "activity_id")):
                _delete(tx, table, column, target)
        elif kind == "order":
            if _paid(_tx_read(tx), target) > 0:
                raise EntryInvalid([Problem("entry_id", "entry.error.undo_has_payments", {})])
            _delete(tx, "orders", "order_id", target)
        elif kind == "payment":
            _delete(tx, "payments", "payment_id", target)
        else:
            _lead_unchanged_since(tx, entry)
            before, after = tx.change(
                "leads", "lead_id", target, _lead_restored(entry["payload"]["_before"]), "undo"
            )
            summaries.changed(tx, "leads", before, after)
        tx.update("entries", "entry_id", entry_id, {"status": "undone"}, "undo")
        return _saved({**entry, "status": "undone"}, duplicate=False)

    return _write(db, user, work)


def _delete(tx: Tx, table: str, key: str, value: Any) -> None:
    """Delete one row an entry created, audited, and its summaries kept current."""
    before = tx.row(table, key, value)
    tx.audit(table, value, "undo", before=before)
    tx.execute(f"DELETE FROM {table} WHERE {key} = ?", [value])
    if table in summaries.BASE_TABLES:
        summaries.changed(tx, table, before, None)


def _update(tx: Tx, table: str, key: str, value: Any, values: dict[str, Any]) -> None:
    """Set the columns whose value differs (an unchanged row is left alone), audited, and its
    summaries kept current."""
    current = tx.row(table, key, value)
    assert current is not None
    changes = {k: v for k, v in values.items() if current[k] != v}
    if changes:
        before, after = tx.change(table, key, value, changes, "correct")
        if table in summaries.BASE_TABLES:
            summaries.changed(tx, table, before, after)


def _fields_for_correction(kind: str, payload: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The form as corrected: the saved values, with the given ones replacing them. A value that
    was defaulted (list price, amount, category) is worked out again unless given."""
    unknown = set(given) - set(_FIELDS[kind])
    if unknown:
        raise TypeError(f"a {kind} entry has no field {sorted(unknown)}")
    fields = {name: payload.get(name) for name in _FIELDS[kind]}
    for name in payload.get("_defaulted", []):
        fields[name] = None
    fields.update(given)
    return fields


def correct(
    db: Database,
    user: User,
    entry_id: int,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Saved:
    """Correct one's own entry made this week, with the same checks as a new one. The target rows
    change (audited before/after), the version goes up, and every earlier version is kept."""
    user.require(PERMISSION)
    now = _now(now)
    today = today or now.date()

    def work(tx: Tx) -> Saved:
        entry = _own_entry(tx, user, entry_id)
        if entry["created_at"].date() < _week_start(today):
            raise EntryInvalid([Problem("entry_id", "entry.error.correct_expired", {})])
        kind, target, old = entry["kind"], entry["target_id"], entry["payload"]
        merged = _fields_for_correction(kind, old, fields)
        read = _tx_read(tx)
        if kind == "visit":
            checked = _check_visit(read, user, today, merged)
            activity = {k: v for k, v in checked.rows["activities"].items() if k != "owner_id"}
            _update(tx, "activities", "activity_id", target, activity)
            _update(tx, "visits", "visit_id", target, checked.rows["visits"])
        elif kind == "order":
            checked = _check_order(read, user, today, merged, order_id=target)
            order = {k: v for k, v in checked.rows["orders"].items() if k != "rep_id"}
            current = tx.row("orders", "order_id", target)
            assert current is not None
            moved = [k for k in ("customer_id", "product_id") if current[k] != order[k]]
            if moved and _paid(read, target) > 0:
                # DuckDB rewrites a change of a foreign-key column as delete + insert, which the
                # payments referencing the order forbid; and a paid order's customer is settled.
                raise EntryInvalid([Problem(k, "entry.error.paid_order_locked", {}) for k in moved])
            _update(tx, "orders", "order_id", target, order)
        elif kind == "payment":
            checked = _check_payment(read, user, today, merged, payment_id=target)
            _update(tx, "payments", "payment_id", target, checked.rows["payments"])
        else:
            if merged["lead_id"] != target:
                raise EntryInvalid([Problem("lead_id", "entry.error.cannot_change", {})])
            _lead_unchanged_since(tx, entry)
            before = old["_before"]
            checked = _check_lead_update(read, user, entry["created_at"], merged, restore=before)
            checked.payload["_before"] = before
            changes = {**_lead_restored(before), **checked.rows["leads"]}
            _update(tx, "leads", "lead_id", target, changes)
        payload = _jsonable(checked.payload)
        if payload == old:
            raise _Unchanged  # a double tap on "save" writes nothing
        version = entry["version"] + 1
        text = json.dumps(payload, ensure_ascii=False)
        tx.execute(
            "UPDATE entries SET version = ?, payload = ? WHERE entry_id = ?", [version, text, entry_id]
        )
        _append_version(tx, entry_id, version, text, now, user.user_id)
        tx.audit(
            "entries",
            entry_id,
            "correct",
            before={"version": entry["version"], "payload": _summary(old)},
            after={"version": version, "payload": _summary(payload)},
        )
        return _saved({**entry, "version": version, "payload": payload}, duplicate=False)

    try:
        return _write(db, user, work)
    except _Unchanged:
        rows = db.rows(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE entry_id = ?", [entry_id])
        return _saved(dict(zip(_ENTRY_COLUMNS.split(", "), rows[0], strict=True)), duplicate=True)


# -- reading ---------------------------------------------------------------------------------------
def my_entries(db: Database, user: User, since: dt.date, now: dt.datetime | None = None) -> pd.DataFrame:
    """The user's own entries made on or after ``since``, newest first: entry_id, kind,
    created_at, status, version, target_id, summary (dict), can_undo, undo_until, can_correct."""
    user.require(PERMISSION)
    now = _now(now)
    frame = db.query(
        "SELECT entry_id, kind, created_at, status, version, target_id, CAST(payload AS VARCHAR) AS payload"
        " FROM entries WHERE user_id = ? AND created_at >= ? ORDER BY created_at DESC, entry_id DESC",
        [user.user_id, since],
    )
    frame["summary"] = [_summary(json.loads(p)) for p in frame.pop("payload")]
    saved = frame["status"] == "saved"
    frame["undo_until"] = frame["created_at"] + pd.Timedelta(minutes=UNDO_MINUTES)
    frame["can_undo"] = saved & (frame["undo_until"] >= now)
    week = pd.Timestamp(_week_start(now.date()))
    frame["can_correct"] = saved & (frame["created_at"] >= week)
    return frame


def history(db: Database, user: User, entry_id: int) -> pd.DataFrame:
    """Every version of one of the user's own entries, oldest first: entry_id, version,
    changed_at, changed_by (user_id), changed_by_name (username), summary (dict)."""
    user.require(PERMISSION)
    owner = db.scalar("SELECT user_id FROM entries WHERE entry_id = ?", [entry_id])
    if owner is None:
        raise EntryInvalid([Problem("entry_id", "entry.error.unknown_entry", {})])
    if owner != user.user_id:
        raise EntryInvalid([Problem("entry_id", "entry.error.not_yours", {})])
    frame = db.query(
        "SELECT v.entry_id, v.version, v.changed_at, v.changed_by, u.username AS changed_by_name,"
        " CAST(v.payload AS VARCHAR) AS payload"
        " FROM entry_versions v LEFT JOIN users u ON u.user_id = v.changed_by"
        " WHERE v.entry_id = ? ORDER BY v.version",
        [entry_id],
    )
    frame["summary"] = [_summary(json.loads(p)) for p in frame.pop("payload")]
    return frame


def _regions(user: User) -> list[int] | None:
    return visible_regions(user)


def customers_for(db: Database, user: User, today: dt.date) -> pd.DataFrame:
    """The customers in the user's regions for the picker: customer_id, name, region_id, channel,
    mine (the user is the account manager), last_contact (latest visit or order up to today),
    top_category_id (the category it orders most); the user's own first, then the most recent."""
    user.require(PERMISSION)
    return db.query(
        """
        WITH c AS (
            SELECT customer_id, name, region_id, channel, account_manager_id FROM customers
            WHERE in_scope(region_id, $regions)
        ),
        ord AS (
            SELECT customer_id, category_id, count(*) AS n, sum(amount) AS amount, max(order_date) AS last_day
            FROM orders
            WHERE in_scope(region_id, $regions) AND order_date <= $today
            GROUP BY ALL
        ),
        top AS (
            SELECT customer_id, max(last_day) AS last_order,
                   arg_max(category_id, [n, amount, -category_id]) AS top_category_id
            FROM ord GROUP BY ALL
        ),
        vis AS (
            SELECT v.customer_id, max(a.activity_date) AS last_visit
            FROM visits v JOIN activities a ON a.activity_id = v.visit_id
            WHERE a.activity_date <= $today GROUP BY ALL
        )
        SELECT c.customer_id, c.name, c.region_id, c.channel,
               coalesce(c.account_manager_id = $person, false) AS mine,
               CASE WHEN vis.last_visit IS NULL THEN top.last_order
                    WHEN top.last_order IS NULL THEN vis.last_visit
                    ELSE greatest(vis.last_visit, top.last_order) END AS last_contact,
               top.top_category_id
        FROM c LEFT JOIN top USING (customer_id) LEFT JOIN vis USING (customer_id)
        ORDER BY mine DESC, last_contact DESC NULLS LAST, c.name, c.customer_id
        """,
        {"regions": _regions(user), "today": today, "person": user.person_id},
    )


def open_orders(db: Database, user: User, customer_id: int) -> pd.DataFrame:
    """A customer's orders with money still owed, oldest first: order_id, order_date,
    product_id, product_name_zh, product_name_en, quantity, amount, paid, owed."""
    user.require(PERMISSION)
    region = db.scalar("SELECT region_id FROM customers WHERE customer_id = ?", [customer_id])
    if region is None:
        raise EntryInvalid([Problem("customer_id", "entry.error.unknown_customer", {})])
    if not _in_regions(user, region):
        raise EntryInvalid([Problem("customer_id", "entry.error.region_refused", {})])
    return db.query(
        """
        WITH paid AS (
            SELECT order_id, sum(amount) AS paid FROM payments
            WHERE order_id IN (SELECT order_id FROM orders WHERE customer_id = $customer)
            GROUP BY ALL
        )
        SELECT o.order_id, o.order_date, o.product_id, p.name_zh AS product_name_zh,
               p.name_en AS product_name_en, o.quantity, o.amount,
               coalesce(paid.paid, 0) AS paid, o.amount - coalesce(paid.paid, 0) AS owed
        FROM orders o JOIN products p USING (product_id) LEFT JOIN paid USING (order_id)
        WHERE o.customer_id = $customer AND o.amount - coalesce(paid.paid, 0) > 0
        ORDER BY o.order_date, o.order_id
        """,
        {"customer": customer_id},
    )


def updatable_leads(db: Database, user: User) -> pd.DataFrame:
    """Leads in the user's regions a rep can move on: waiting MQLs, accepted leads without an
    opportunity, open opportunities. lead_id, region_id, category_id, source, state, since (when
    it reached that state), value, owner_id, mine; waiting first, then the oldest."""
    user.require(PERMISSION)
    return db.query(
        """
        SELECT lead_id, region_id, category_id, source,
               CASE WHEN opportunity_at IS NOT NULL THEN 'opportunity'
                    WHEN sal_at IS NOT NULL THEN 'accepted' ELSE 'waiting' END AS state,
               coalesce(opportunity_at, sal_at, mql_at) AS since, value, owner_id,
               coalesce(owner_id = $person, false) AS mine
        FROM leads
        WHERE in_scope(region_id, $regions)
          AND closed_at IS NULL AND rejected_at IS NULL AND mql_at IS NOT NULL
        ORDER BY CASE state WHEN 'waiting' THEN 0 WHEN 'accepted' THEN 1 ELSE 2 END, since, lead_id
        """,
        {"regions": _regions(user), "person": user.person_id},
    )
