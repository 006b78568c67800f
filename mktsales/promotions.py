"""Promotions (issue 4): the two ways in, the workflow, consultation, readiness and execution.

Marketing drafts a promotion (``draft``); sales requests one for its regions (``request``). It
then moves through ``TRANSITIONS`` only, each step recorded in promotion_events (who, when, from,
to, why) and audited: marketing works a request into a plan or decides it; a plan is sent to the
sales heads of every region it touches for consultation (``consult``); it goes live only when
its readiness checklist holds ("mature one, execute one": consulted, owners named, budget
approved, monitoring plan set); while live, sales and marketing report its execution
(``report_execution``). The checklist is the database view ``promotion_readiness`` (migration
006), so the board, the detail page, the go-live check and the CLI read one definition.

Every check that depends on data another writer can change runs inside the write transaction.
A form with problems raises ``PromotionInvalid`` (each problem naming its field); a step that is
not allowed raises ``PromotionRefused`` (``PromotionForbidden`` for a role or region,
``PromotionNotReady`` for go-live); a database failure raises ``PromotionFailed``. Nothing is
half-saved: every write is one transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple, TypeVar

import pandas as pd

from mktsales import accounts, config, forms, i18n, vocabulary
from mktsales.access import MARKETING, AccessDenied, User, visible, visible_any, visible_regions
from mktsales.audit import Tx
from mktsales.db import Database
from mktsales.forms import Checker, FormInvalid, Problem, Read, tx_read
from mktsales.i18n import t
from mktsales.queries import sql
from mktsales.scope import Scope

T = TypeVar("T")
log = logging.getLogger(__name__)

STATUSES = vocabulary.PROMOTION_STATUSES
BOARD_COLUMNS = ("requested", "drafting", "consulting", "approved", "live", "finished", "reviewed")
WAITING = ("requested", "drafting", "consulting")  # listed whatever their dates
EDITABLE = ("drafting", "consulting", "approved")  # update_plan and the budget approval
KINDS = vocabulary.PROMOTION_KINDS
ORIGINS = ("marketing", "sales")
MECHANICS = vocabulary.PROMOTION_MECHANICS
CHANNELS = vocabulary.CHANNELS  # customers.channel
REQUEST_REASONS = vocabulary.REQUEST_REASONS
DEVIATIONS = vocabulary.DEVIATIONS
ANSWERS = ("agree", "concern", "comment")
REPORT_KINDS = ("status", "effect")
REACTIONS = ("positive", "neutral", "negative")
READINESS_ITEMS = ("consulted", "owners", "budget", "monitoring")
OVERDUE_REASONS = ("decision", "consultation", "feedback")

DRAFT, REQUEST, DECIDE = "promotion.draft", "promotion.request", "promotion.decide"
CONSULT, REPORT, PAGE = "promotion.consult", "promotion.report_execution", "page.promotions"

# (from, to) -> the permission needed. A decider (marketing_head) may do whatever needs
# promotion.draft as well; the requester may withdraw their own request (requested -> cancelled).
TRANSITIONS: dict[tuple[str, str], str] = {
    ("requested", "drafting"): DECIDE,
    ("requested", "approved"): DECIDE,
    ("requested", "rejected"): DECIDE,
    ("requested", "cancelled"): DECIDE,
    ("drafting", "consulting"): DRAFT,
    ("drafting", "cancelled"): DRAFT,
    ("consulting", "drafting"): DRAFT,
    ("consulting", "approved"): DECIDE,
    ("consulting", "cancelled"): DRAFT,
    ("approved", "live"): DRAFT,
    ("approved", "cancelled"): DRAFT,
    ("live", "finished"): DRAFT,
    ("live", "cancelled"): DRAFT,
    ("finished", "reviewed"): DRAFT,
}
# Steps that need a reason: a rejection, an early stop, and the review note.
REASON_REQUIRED = frozenset({("requested", "rejected"), ("live", "cancelled"), ("finished", "reviewed")})

FEEDBACK_DAYS = 7  # a live promotion's region without a status report this long is overdue
MAX_TITLE = 200
MAX_TEXT = 2000
MAX_DAYS = 366  # a promotion's length
MAX_KEY = 100
MAX_AMOUNT = Decimal("1000000000")
WRITE_ATTEMPTS = 5
RETRY_PAUSE = 0.02  # seconds, times the attempt number

# Problem and refusal values that are codes, shown in the reader's language: name -> key prefix.
_CODE_VALUES = {
    "from": "promotion.status.",
    "to": "promotion.status.",
    "status": "promotion.status.",
    "permission": "perm.",
}


# -- results and errors ------------------------------------------------------------------------------
class Created(NamedTuple):
    """A promotion saved by ``request`` or ``draft``; ``duplicate``: its key had been saved already."""

    promotion_id: int
    duplicate: bool


class Reported(NamedTuple):
    """An execution report saved; ``duplicate``: its key had been saved already."""

    report_id: int
    duplicate: bool


class PromotionInvalid(FormInvalid):
    """A form the user can fix: every problem found, each naming its field."""


def _shown(values: dict[str, Any], lang: str) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if name in _CODE_VALUES and isinstance(value, str):
            key = _CODE_VALUES[name] + value
            out[name] = t(key, lang) if key in i18n.table() else value  # an unknown code as given
        elif name == "items":
            out[name] = t("promotion.list_sep", lang).join(t(f"promotion.item.{i}", lang) for i in value)
        else:
            out[name] = value
    return out


class PromotionRefused(Exception):
    """A step that is not allowed now (an illegal transition, a closed promotion), with its
    message key and values; ``message(lang)`` renders it."""

    def __init__(self, key: str, values: dict[str, Any] | None = None) -> None:
        self.key = key
        self.values = values or {}
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        return t(self.key, lang, **_shown(self.values, lang))


class PromotionForbidden(PromotionRefused, AccessDenied):
    """A step outside the user's role or regions (also an AccessDenied)."""


class PromotionNotReady(PromotionRefused):
    """Go-live refused: ``missing`` lists the readiness items that do not hold, in order."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = list(missing)
        super().__init__("promotion.error.not_ready", {"items": self.missing})


class PromotionFailed(Exception):
    """A write that failed for a reason the user cannot fix; nothing of it remains."""

    key = "promotion.error.failed"

    def __init__(self, detail: str = "", key: str | None = None) -> None:
        super().__init__(detail or self.key)
        if key is not None:  # a full disk, say: its own message (forms.write)
            self.key = key

    def message(self, lang: str) -> str:
        return t(self.key, lang)


# -- checking a form ---------------------------------------------------------------------------------
class _Form(Checker):
    """Collects the problems of one promotion form while it is checked."""

    def __init__(self) -> None:
        super().__init__("promotion.error.", PromotionInvalid)


_tx_read = tx_read


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(form: _Form, field: str, value: Any, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        form.add(field, "required")
    elif len(text) > limit:
        form.add(field, "too_long", n=limit)
    return text


def _id(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _day(form: _Form, field: str, value: Any) -> dt.date | None:
    if _blank(value):
        form.add(field, "required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        form.add(field, "bad_date")
        return None


def _dates(
    form: _Form, start: Any, end: Any, today: dt.date, *, check_start: bool = True
) -> tuple[dt.date | None, dt.date | None]:
    """Start and end days: the start not before today (when ``check_start``), the end not before
    the start, at most MAX_DAYS long."""
    first, last = _day(form, "start_date", start), _day(form, "end_date", end)
    if first is not None and check_start and first < today:
        form.add("start_date", "start_past")
    if first is not None and last is not None:
        if last < first:
            form.add("end_date", "end_before_start")
        elif (last - first).days + 1 > MAX_DAYS:
            form.add("end_date", "period_too_long", n=MAX_DAYS)
    return first, last


def _money(form: _Form, field: str, value: Any, *, required: bool = True) -> Decimal | None:
    """An amount in yuan, rounded to fen: not negative, not huge."""
    if _blank(value):
        if required:
            form.add(field, "required")
        return None
    try:
        number = None if isinstance(value, bool) else Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        form.add(field, "not_a_number")
        return None
    if number < 0:
        form.add(field, "amount_negative")
        return None
    if number > MAX_AMOUNT:
        form.add(field, "too_large")
        return None
    return number.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _code(
    form: _Form, field: str, value: Any, allowed: tuple[str, ...], *, required: bool = True
) -> str | None:
    if _blank(value):
        if required:
            form.add(field, "required")
        return None
    if value not in allowed:
        form.add(field, "unknown_code", codes=str(value))
        return None
    return str(value)


def _codes(form: _Form, field: str, values: Any, allowed: tuple[str, ...], *, required: bool) -> list[str]:
    """A set of codes, kept in ``allowed``'s order."""
    given = [] if values is None else [values] if isinstance(values, str) else list(values)
    unknown = [v for v in given if v not in allowed]
    if unknown:
        form.add(field, "unknown_code", codes=", ".join(map(str, unknown)))
    elif required and not given:
        form.add(field, "required")
    return [code for code in allowed if code in given]


def _in_regions(user: User, region_id: int) -> bool:
    return visible(user, region_id)


def _region_ids(read: Read, form: _Form, user: User, values: Any) -> list[int]:
    """Existing regions, all of them the user's; reported on ``region_ids``."""
    given = [] if values is None else list(values)
    ids = [_id(v) for v in given]
    if not given:
        form.add("region_ids", "required")
        return []
    known = {r for (r,) in read("SELECT region_id FROM regions", [])}
    if any(i is None or i not in known for i in ids):
        form.add("region_ids", "unknown_region")
        return []
    chosen = sorted(set(ids))  # type: ignore[type-var]
    if any(not _in_regions(user, r) for r in chosen):
        form.add("region_ids", "region_refused")
    return chosen


def _changed_regions(read: Read, form: _Form, user: User, values: Any, current: list[int]) -> list[int]:
    """A plan's new regions: existing ones, and the user may add or remove only their own."""
    given = [] if values is None else list(values)
    ids = [_id(v) for v in given]
    if not given:
        form.add("region_ids", "required")
        return current
    known = {r for (r,) in read("SELECT region_id FROM regions", [])}
    if any(i is None or i not in known for i in ids):
        form.add("region_ids", "unknown_region")
        return current
    chosen = sorted(set(ids))  # type: ignore[type-var]
    if any(not _in_regions(user, r) for r in set(chosen) ^ set(current)):
        form.add("region_ids", "region_refused")
    return chosen


def _category(read: Read, form: _Form, value: Any) -> int | None:
    category_id = _id(value)
    if _blank(value):
        form.add("category_id", "required")
        return None
    if category_id is None or not read("SELECT 1 FROM categories WHERE category_id = ?", [category_id]):
        form.add("category_id", "unknown_category")
        return None
    return category_id


def _products(read: Read, form: _Form, values: Any, category_id: int | None) -> list[int]:
    ids = [_id(v) for v in (values or ())]
    if not ids:
        return []
    found = dict(
        read("SELECT product_id, category_id FROM products WHERE list_contains(?, product_id)", [ids])
    )
    if any(i is None or i not in found for i in ids):
        form.add("product_ids", "unknown_product")
        return []
    if category_id is not None and any(found[i] != category_id for i in ids):
        form.add("product_ids", "product_category")
    return sorted(set(ids))  # type: ignore[type-var]


def _person(read: Read, form: _Form, field: str, value: Any) -> dict[str, Any] | None:
    """A person from ``people``: person_id, name and their active account's user_id, if any."""
    if _blank(value):
        return None
    person_id = _id(value)
    found = (
        read(
            "SELECT p.person_id, p.name, (SELECT min(user_id) FROM users u"
            " WHERE u.person_id = p.person_id AND u.active) FROM people p WHERE p.person_id = ?",
            [person_id],
        )
        if person_id is not None
        else []
    )
    if not found:
        form.add(field, "unknown_person")
        return None
    return {"person_id": found[0][0], "name": found[0][1], "user_id": found[0][2]}


def _region_owners(read: Read, form: _Form, values: Any, region_ids: list[int]) -> dict[int, dict[str, Any]]:
    owners: dict[int, dict[str, Any]] = {}
    for region, person in dict(values or {}).items():
        region_id = _id(region)
        if region_id is None or region_id not in region_ids:
            form.add("region_owners", "owner_region")
            continue
        found = _person(read, form, "region_owners", person)
        if found is not None:
            owners[region_id] = found
    return owners


def _key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        raise ValueError(f"an idempotency key is a non-empty string of at most {MAX_KEY} characters")
    return key


# -- writing ------------------------------------------------------------------------------------------
def _write(
    db: Database, user: User, work: Callable[[Tx], T], on_constraint: Callable[[], T | None] | None = None
) -> T:
    """Database.write as the user, conflicts retried, database failures made PromotionFailed.

    A constraint violation is first an idempotency key's (``on_constraint`` answers with what was
    saved under it); otherwise a new id was taken by another writer, and the write is retried.
    """
    return forms.write(
        db, work, by=accounts.actor(user), failed=PromotionFailed, name="promotion", attempts=WRITE_ATTEMPTS,
        pause=RETRY_PAUSE, on_constraint=on_constraint, retry_constraint=True,
    )  # fmt: skip


class _NothingToWrite(Exception):
    """Raised inside a write that changed nothing, to end it quietly (no audit entry, no version bump)."""


def _write_if_changed(db: Database, user: User, work: Callable[[Tx], None]) -> None:
    """``_write`` for a step that may turn out to change nothing (said already, approved already)."""

    def wrapped(tx: Tx) -> None:
        work(tx)
        if not tx.entries:
            raise _NothingToWrite

    with contextlib.suppress(_NothingToWrite):
        _write(db, user, wrapped)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or config.now()


def _allowed(user: User, permission: str) -> bool:
    """The user's role has ``permission``; a decider may also do what drafting allows."""
    return user.can(permission) or (permission == DRAFT and user.can(DECIDE))


def _require(user: User, permission: str) -> None:
    if not _allowed(user, permission):
        raise PromotionForbidden("promotion.error.forbidden", {"permission": permission})


def _promotion(tx: Tx, promotion_id: Any, user: User | None = None) -> dict[str, Any]:
    """The promotion with its regions and plan, or PromotionRefused(not_found); also not_found when
    it touches none of ``user``'s regions (issue 23: nothing, not even its status, is told)."""
    found = tx.execute(
        "SELECT struct_insert(p, region_ids := (SELECT list(region_id ORDER BY region_id)"
        " FROM promotion_regions r WHERE r.promotion_id = p.promotion_id),"
        " created_by := pl.created_by, has_plan := pl.promotion_id IS NOT NULL)"
        " FROM promotions p LEFT JOIN promotion_plans pl USING (promotion_id) WHERE p.promotion_id = ?",
        [_id(promotion_id)],
    ).fetchall()
    return _seen(user, found, promotion_id)


def _seen(user: User | None, found: list[Any], promotion_id: Any) -> dict[str, Any]:
    """The promotion of ``found`` (rows of one struct) if ``user`` may see it (None: no check); a
    missing one and one outside the user's regions get the same PromotionRefused(not_found)."""
    promotion = dict(found[0][0]) if found else None
    if promotion is not None:
        promotion["region_ids"] = list(promotion["region_ids"] or [])
    if promotion is None or (user is not None and not _touches_user(user, promotion)):
        raise PromotionRefused("promotion.error.not_found", {"id": promotion_id})
    return promotion


def _touches_user(user: User, promotion: dict[str, Any]) -> bool:
    return visible_any(user, promotion["region_ids"])


def _event(
    tx: Tx, user: User, promotion_id: int, before: str | None, after: str, reason: str, now: dt.datetime
) -> None:
    tx.execute(
        "INSERT INTO promotion_events (promotion_id, from_status, to_status, reason, by_user, by_person,"
        " by_name, event_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [promotion_id, before, after, reason, user.user_id, user.person_id, user.display_name, now],
    )


def _insert(tx: Tx, table: str, values: dict[str, Any]) -> None:
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    tx.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))


def _set_owners(tx: Tx, promotion_id: int, overall: dict | None, regions: dict[int, dict] | None) -> None:
    """Replace the overall owner (when ``overall`` is given) and the region owners (when given)."""
    if overall is not None:
        tx.execute("DELETE FROM promotion_owners WHERE promotion_id = ? AND part = 'overall'", [promotion_id])
        _insert(tx, "promotion_owners", {"promotion_id": promotion_id, "part": "overall", **overall})
    if regions is not None:
        tx.execute("DELETE FROM promotion_owners WHERE promotion_id = ? AND part = 'region'", [promotion_id])
        for region_id, person in sorted(regions.items()):
            _insert(
                tx,
                "promotion_owners",
                {"promotion_id": promotion_id, "part": "region", "region_id": region_id, **person},
            )


def _ask(tx: Tx, user: User, promotion_id: int, region_ids: Iterable[int], now: dt.datetime) -> None:
    """Ask these regions' sales heads for their feedback (consultation starts now for them)."""
    for region_id in region_ids:
        _insert(
            tx,
            "promotion_consult_asks",
            {
                "promotion_id": promotion_id,
                "region_id": region_id,
                "asked_at": now,
                "asked_by": user.user_id,
                "asked_by_name": user.display_name,
            },
        )


def _saved_under(
    db: Database, user: User, table: str, id_column: str, user_column: str, key: str
) -> int | None:
    """The id of the row ``user`` already saved under idempotency ``key`` in ``table``, if any; a key
    someone else used is refused. Table and columns come from this module, never from users."""
    found = db.rows(f"SELECT {id_column}, {user_column} FROM {table} WHERE idempotency_key = ?", [key])
    if not found:
        return None
    if found[0][1] != user.user_id:
        raise PromotionInvalid([Problem("key", "promotion.error.key_reused", {})])
    return int(found[0][0])


def _by_key(db: Database, user: User, key: str) -> Created | None:
    """The promotion already created under ``key``, if any."""
    found = _saved_under(db, user, "promotion_plans", "promotion_id", "created_by", key)
    return None if found is None else Created(found, True)


@dataclasses.dataclass
class _NewPromotion:
    """A checked new promotion: the promotions row, its regions, plan, products and owners."""

    row: dict[str, Any]
    region_ids: list[int]
    plan: dict[str, Any]
    product_ids: list[int]
    overall: dict[str, Any] | None
    region_owners: dict[int, dict[str, Any]]


def _create(
    db: Database, user: User, key: str, check: Callable[[Read], _NewPromotion], now: dt.datetime
) -> Created:
    """Check and save a new promotion once per key: status as checked, its creation event."""
    found = _by_key(db, user, key)
    if found is not None:
        return found
    checked = check(db.rows)

    def work(tx: Tx) -> Created:
        promotion_id = tx.execute("SELECT coalesce(max(promotion_id), 0) + 1 FROM promotions").fetchone()[0]
        row = {"promotion_id": promotion_id, **checked.row}
        _insert(tx, "promotions", row)
        for region_id in checked.region_ids:
            _insert(tx, "promotion_regions", {"promotion_id": promotion_id, "region_id": region_id})
        plan = {
            "promotion_id": promotion_id,
            **checked.plan,
            "created_by": user.user_id,
            "created_by_person": user.person_id,
            "created_by_name": user.display_name,
            "created_at": now,
            "idempotency_key": key,
        }
        _insert(tx, "promotion_plans", plan)
        for product_id in checked.product_ids:
            _insert(tx, "promotion_products", {"promotion_id": promotion_id, "product_id": product_id})
        _set_owners(tx, promotion_id, checked.overall, checked.region_owners)
        _event(tx, user, promotion_id, None, row["status"], "", now)
        after = {**row, "region_ids": checked.region_ids, "product_ids": checked.product_ids,
                 **{k: v for k, v in plan.items() if k != "idempotency_key"}}  # fmt: skip
        tx.audit(
            "promotions", promotion_id, "request" if row["status"] == "requested" else "draft", after=after
        )
        return Created(int(promotion_id), False)

    return _write(db, user, work, on_constraint=lambda: _by_key(db, user, key))


def request(
    db: Database,
    user: User,
    *,
    key: str,
    title: str,
    region_ids: Sequence[int],
    category_id: int,
    start_date: dt.date,
    end_date: dt.date,
    reason: str,
    reason_text: str,
    mechanics: Sequence[str],
    expected_effect: str,
    budget_asked: Any,
    product_ids: Sequence[int] = (),
    now: dt.datetime | None = None,
) -> Created:
    """A sales head or rep asks for a promotion for their regions (促销申请); it waits in
    marketing's queue as 'requested'. The requester is its overall owner until marketing names one."""
    _require(user, REQUEST)
    key = _key(key)
    now = _now(now)

    def check(read: Read) -> _NewPromotion:
        form = _Form()
        name = _text(form, "title", title, required=True, limit=MAX_TITLE)
        regions = _region_ids(read, form, user, region_ids)
        category = _category(read, form, category_id)
        first, last = _dates(form, start_date, end_date, now.date())
        why = _code(form, "reason", reason, REQUEST_REASONS)
        why_text = _text(form, "reason_text", reason_text, required=why == "other")
        chosen = _codes(form, "mechanics", mechanics, MECHANICS, required=True)
        effect = _text(form, "expected_effect", expected_effect)
        asked = _money(form, "budget_asked", budget_asked)
        products = _products(read, form, product_ids, category)
        owner = _person(read, _Form(), "owner_id", user.person_id)  # the requester, if a known person
        form.done()
        return _NewPromotion(
            row={
                "title_zh": name,
                "title_en": name,
                "kind": "tactical",
                "origin": "sales",
                "status": "requested",
                "category_id": category,
                "start_date": first,
                "end_date": last,
                "budget": asked,
                "owner_id": user.person_id if owner else None,
                "requested_at": now,
            },
            region_ids=regions,
            plan={
                "mechanics": chosen,
                "channels": [],
                "request_reason": why,
                "request_reason_text": why_text,
                "expected_effect": effect,
                "budget_asked": asked,
                "requested_region_ids": regions,
            },
            product_ids=products,
            overall=owner,
            region_owners={},
        )

    return _create(db, user, key, check, now)


def draft(
    db: Database,
    user: User,
    *,
    key: str,
    title_zh: str,
    title_en: str | None = None,
    kind: str,
    region_ids: Sequence[int],
    category_id: int,
    start_date: dt.date,
    end_date: dt.date,
    mechanics: Sequence[str],
    channels: Sequence[str],
    product_ids: Sequence[int],
    budget: Any,
    goal_revenue: Any,
    owner_id: int | None,
    region_owners: dict[int, int],
    monitoring_plan: str,
    description: str = "",
    now: dt.datetime | None = None,
) -> Created:
    """Marketing drafts a promotion (status 'drafting'). Owner ids are people.person_id; the
    English title defaults to the Chinese one."""
    _require(user, DRAFT)
    key = _key(key)
    now = _now(now)

    def check(read: Read) -> _NewPromotion:
        form = _Form()
        zh = _text(form, "title_zh", title_zh, required=True, limit=MAX_TITLE)
        en = _text(form, "title_en", title_en, limit=MAX_TITLE) or zh
        the_kind = _code(form, "kind", kind, KINDS)
        regions = _region_ids(read, form, user, region_ids)
        category = _category(read, form, category_id)
        first, last = _dates(form, start_date, end_date, now.date())
        chosen = _codes(form, "mechanics", mechanics, MECHANICS, required=True)
        where = _codes(form, "channels", channels, CHANNELS, required=True)
        products = _products(read, form, product_ids, category)
        money = _money(form, "budget", budget)
        goal = _money(form, "goal_revenue", goal_revenue, required=False)
        owner = _person(read, form, "owner_id", owner_id)
        owners = _region_owners(read, form, region_owners, regions)
        plan_text = _text(form, "monitoring_plan", monitoring_plan)
        about = _text(form, "description", description)
        form.done()
        return _NewPromotion(
            row={
                "title_zh": zh,
                "title_en": en,
                "kind": the_kind,
                "origin": "marketing",
                "status": "drafting",
                "category_id": category,
                "start_date": first,
                "end_date": last,
                "budget": money,
                "owner_id": owner["person_id"] if owner else None,
            },
            region_ids=regions,
            plan={
                "mechanics": chosen,
                "channels": where,
                "goal_revenue": goal,
                "monitoring_plan": plan_text,
                "description": about,
                "requested_region_ids": [],
            },
            product_ids=products,
            overall=owner,
            region_owners=owners,
        )

    return _create(db, user, key, check, now)


# Fields update_plan may change, by where they live.
_PROMOTION_FIELDS = ("title_zh", "title_en", "kind", "start_date", "end_date", "budget")
_PLAN_FIELDS = ("mechanics", "channels", "goal_revenue", "monitoring_plan", "description")
_OTHER_FIELDS = ("region_ids", "product_ids", "owner_id", "region_owners", "category_id")
PLAN_FIELDS = _PROMOTION_FIELDS + _PLAN_FIELDS + _OTHER_FIELDS


def _current_plan(tx: Tx, promotion: dict[str, Any]) -> dict[str, Any]:
    promotion_id = promotion["promotion_id"]
    plan = tx.row("promotion_plans", "promotion_id", promotion_id) or {}
    owners = tx.execute(
        "SELECT part, region_id, person_id FROM promotion_owners WHERE promotion_id = ?", [promotion_id]
    ).fetchall()
    products = [p for (p,) in tx.execute(
        "SELECT product_id FROM promotion_products WHERE promotion_id = ? ORDER BY 1", [promotion_id]
    ).fetchall()]  # fmt: skip
    overall = next((p for part, _, p in owners if part == "overall"), promotion["owner_id"])
    return {
        **{f: promotion[f] for f in _PROMOTION_FIELDS},
        "mechanics": list(plan.get("mechanics") or []),
        "channels": list(plan.get("channels") or []),
        "goal_revenue": plan.get("goal_revenue"),
        "monitoring_plan": plan.get("monitoring_plan") or "",
        "description": plan.get("description") or "",
        "region_ids": promotion["region_ids"],
        "product_ids": products,
        "owner_id": overall,
        "region_owners": {r: p for part, r, p in owners if part == "region"},
        "category_id": promotion["category_id"],
        "has_plan": promotion["has_plan"],
        "budget_approved": bool(plan.get("budget_approved")),
    }


def update_plan(
    db: Database, user: User, promotion_id: int, *, now: dt.datetime | None = None, **fields: Any
) -> None:
    """Change a plan while it is drafting, consulting or approved (see PLAN_FIELDS; the category is
    fixed once a promotion exists). A changed budget needs approving again; regions added while
    consulting are asked at once; ``region_owners`` replaces the whole map of region owners."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"update_plan: no field {sorted(unknown)}")
    _require(user, DRAFT)
    now = _now(now)

    def work(tx: Tx) -> None:
        promotion = _promotion(tx, promotion_id, user)
        if promotion["status"] not in EDITABLE:
            raise PromotionRefused("promotion.error.not_editable", {"status": promotion["status"]})
        current = _current_plan(tx, promotion)
        given = {k: v for k, v in fields.items()}
        read = _tx_read(tx)
        form = _Form()
        new: dict[str, Any] = {}
        if "title_zh" in given:
            new["title_zh"] = _text(form, "title_zh", given["title_zh"], required=True, limit=MAX_TITLE)
        if "title_en" in given:
            new["title_en"] = _text(form, "title_en", given["title_en"], limit=MAX_TITLE) or new.get(
                "title_zh", current["title_zh"]
            )
        if "kind" in given:
            new["kind"] = _code(form, "kind", given["kind"], KINDS)
        if "start_date" in given or "end_date" in given:
            start = given.get("start_date", current["start_date"])
            first, last = _dates(
                form,
                start,
                given.get("end_date", current["end_date"]),
                now.date(),
                check_start="start_date" in given and start != current["start_date"],
            )
            new["start_date"], new["end_date"] = first, last
        if "budget" in given:
            new["budget"] = _money(form, "budget", given["budget"])
        if "mechanics" in given:
            new["mechanics"] = _codes(form, "mechanics", given["mechanics"], MECHANICS, required=True)
        if "channels" in given:
            new["channels"] = _codes(form, "channels", given["channels"], CHANNELS, required=True)
        if "goal_revenue" in given:
            new["goal_revenue"] = _money(form, "goal_revenue", given["goal_revenue"], required=False)
        for name in ("monitoring_plan", "description"):
            if name in given:
                new[name] = _text(form, name, given[name])
        if "category_id" in given and _id(given["category_id"]) != current["category_id"]:
            form.add("category_id", "category_fixed")
        regions = current["region_ids"]
        if "region_ids" in given:
            regions = _changed_regions(read, form, user, given["region_ids"], current["region_ids"])
        if "product_ids" in given:
            new["product_ids"] = _products(read, form, given["product_ids"], current["category_id"])
        overall = None
        if "owner_id" in given:
            overall = _person(read, form, "owner_id", given["owner_id"])
        region_owners = None
        if "region_owners" in given:
            region_owners = _region_owners(read, form, given["region_owners"], regions)
        elif "region_ids" in given:  # owners of removed regions go with them
            kept_owners = {r: p for r, p in current["region_owners"].items() if r in regions}
            if kept_owners != current["region_owners"]:
                region_owners = {r: _person(read, form, "region_owners", p) for r, p in kept_owners.items()}
        form.done()

        pid = promotion["promotion_id"]
        changes = {k: new[k] for k in _PROMOTION_FIELDS if k in new and new[k] != current[k]}
        if "budget" in changes and current["budget_approved"]:  # a new amount needs a new approval
            tx.update(
                "promotion_plans",
                "promotion_id",
                pid,
                {"budget_approved": False, "budget_approved_by": None, "budget_approved_by_name": None,
                 "budget_approved_at": None},
                "budget_changed",
            )  # fmt: skip
        if changes:
            tx.update("promotions", "promotion_id", pid, changes, "update_plan")
        plan_changes = {k: new[k] for k in _PLAN_FIELDS if k in new and new[k] != current[k]}
        if plan_changes:
            if not current["has_plan"]:
                _insert(
                    tx,
                    "promotion_plans",
                    {"promotion_id": pid, "mechanics": [], "channels": [], "requested_region_ids": [],
                     "created_by_name": user.display_name, "created_at": now},
                )  # fmt: skip
            tx.update("promotion_plans", "promotion_id", pid, plan_changes, "update_plan")
        if regions != current["region_ids"]:
            added = sorted(set(regions) - set(current["region_ids"]))
            removed = sorted(set(current["region_ids"]) - set(regions))
            for region_id in removed:
                tx.execute(
                    "DELETE FROM promotion_regions WHERE promotion_id = ? AND region_id = ?", [pid, region_id]
                )
            for region_id in added:
                _insert(tx, "promotion_regions", {"promotion_id": pid, "region_id": region_id})
            if promotion["status"] == "consulting":
                _ask(tx, user, pid, added, now)
            tx.audit(
                "promotion_regions", pid, "update_plan",
                before={"region_ids": current["region_ids"]}, after={"region_ids": regions},
            )  # fmt: skip
        if "product_ids" in new and new["product_ids"] != current["product_ids"]:
            tx.execute("DELETE FROM promotion_products WHERE promotion_id = ?", [pid])
            for product_id in new["product_ids"]:
                _insert(tx, "promotion_products", {"promotion_id": pid, "product_id": product_id})
            tx.audit(
                "promotion_products", pid, "update_plan",
                before={"product_ids": current["product_ids"]}, after={"product_ids": new["product_ids"]},
            )  # fmt: skip
        owners_changed = (overall is not None and overall["person_id"] != current["owner_id"]) or (
            region_owners is not None
            and {r: p["person_id"] for r, p in region_owners.items()} != current["region_owners"]
        )
        if owners_changed:
            _set_owners(tx, pid, overall, region_owners)
            tx.audit(
                "promotion_owners", pid, "update_plan",
                before={"owner_id": current["owner_id"], "region_owners": current["region_owners"]},
                after={
                    "owner_id": overall["person_id"] if overall else current["owner_id"],
                    "region_owners": current["region_owners"] if region_owners is None
                    else {r: p["person_id"] for r, p in region_owners.items()},
                },
            )  # fmt: skip

    _write_if_changed(db, user, work)


def approve_budget(db: Database, user: User, promotion_id: int, *, now: dt.datetime | None = None) -> None:
    """The marketing head approves a plan's budget (needed before it can go live)."""
    _require(user, DECIDE)
    now = _now(now)

    def work(tx: Tx) -> None:
        promotion = _promotion(tx, promotion_id, user)
        if promotion["status"] not in EDITABLE:
            raise PromotionRefused("promotion.error.not_editable", {"status": promotion["status"]})
        if not promotion["budget"] or promotion["budget"] <= 0:
            raise PromotionRefused("promotion.error.no_budget")
        plan = tx.row("promotion_plans", "promotion_id", promotion["promotion_id"])
        if plan is not None and plan["budget_approved"]:
            return  # approved already: nothing to do
        if plan is None:
            _insert(
                tx,
                "promotion_plans",
                {"promotion_id": promotion["promotion_id"], "mechanics": [], "channels": [],
                 "requested_region_ids": [], "created_by_name": user.display_name, "created_at": now},
            )  # fmt: skip
        tx.update(
            "promotion_plans",
            "promotion_id",
            promotion["promotion_id"],
            {
                "budget_approved": True,
                "budget_approved_by": user.user_id,
                "budget_approved_by_name": user.display_name,
                "budget_approved_at": now,
            },
            "approve_budget",
        )

    _write_if_changed(db, user, work)


def _may(user: User, promotion: dict[str, Any], to_status: str) -> bool:
    """The user's role (or being the requester) allows moving ``promotion`` to ``to_status``."""
    permission = TRANSITIONS.get((promotion["status"], to_status))
    if permission is None or not _touches_user(user, promotion):
        return False
    if _allowed(user, permission):
        return True
    own_request = promotion.get("created_by") is not None and promotion["created_by"] == user.user_id
    return (promotion["status"], to_status) == ("requested", "cancelled") and own_request


def transition(
    db: Database,
    user: User,
    promotion_id: int,
    to_status: str,
    *,
    reason: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Move a promotion along the workflow (TRANSITIONS only), recording who, when and why.

    The first step out of 'requested' sets decided_at (not the requester's own withdrawal: that is
    no decision by marketing, so it does not count in the turnaround). Entering 'consulting' asks every
    region. Going live needs the readiness checklist (PromotionNotReady names what is missing).
    Repeating one's own last step (a double tap) changes nothing."""
    now = _now(now)
    reason = "" if reason is None else str(reason).strip()

    def work(tx: Tx) -> None:
        promotion = _promotion(tx, promotion_id, user)
        pid, before = promotion["promotion_id"], promotion["status"]
        if before == to_status:
            last = tx.execute(
                "SELECT by_user FROM promotion_events WHERE promotion_id = ? ORDER BY event_id DESC LIMIT 1",
                [pid],
            ).fetchall()
            if last and last[0][0] == user.user_id and user.user_id is not None:
                return  # a double tap: done already
        permission = TRANSITIONS.get((before, to_status))
        if permission is None:
            raise PromotionRefused("promotion.error.illegal", {"from": before, "to": to_status})
        if not _may(user, promotion, to_status):
            raise PromotionForbidden("promotion.error.forbidden", {"permission": permission})
        form = _Form()
        if (before, to_status) in REASON_REQUIRED and not reason:
            form.add("reason", "reason_required")
        _text(form, "reason", reason)
        form.done()
        if to_status == "live":
            missing = tx.execute(
                "SELECT missing FROM promotion_readiness WHERE promotion_id = ?", [pid]
            ).fetchone()[0]
            if missing:
                raise PromotionNotReady(list(missing))
        changes: dict[str, Any] = {"status": to_status}
        # marketing's first decision on a request is timed; a requester withdrawing it is no decision
        withdrawn = to_status == "cancelled" and not _allowed(user, permission)
        if before == "requested" and promotion["decided_at"] is None and not withdrawn:
            changes["decided_at"] = max(now, promotion["requested_at"] or now)
        tx.update("promotions", "promotion_id", pid, changes, f"to_{to_status}")
        if to_status == "consulting":
            _ask(tx, user, pid, promotion["region_ids"], now)
        _event(tx, user, pid, before, to_status, reason, now)

    _write_if_changed(db, user, work)


def consult(
    db: Database,
    user: User,
    promotion_id: int,
    region_id: int,
    answer: str,
    text: str = "",
    *,
    now: dt.datetime | None = None,
) -> None:
    """A sales head answers a consultation for one of their regions: agree, concern or comment
    (a concern or comment says why). The same answer again from the same person changes nothing."""
    _require(user, CONSULT)
    now = _now(now)

    def work(tx: Tx) -> None:
        promotion = _promotion(tx, promotion_id, user)
        region = _id(region_id)
        if region is None or not _in_regions(user, region):
            raise PromotionForbidden("promotion.error.region", {"id": promotion["promotion_id"]})
        if promotion["status"] != "consulting":
            raise PromotionRefused("promotion.error.not_consulting", {"status": promotion["status"]})
        form = _Form()
        if region not in promotion["region_ids"]:
            form.add("region_id", "region_not_touched")
        the_answer = _code(form, "answer", answer, ANSWERS)
        words = _text(form, "text", text, required=the_answer in ("concern", "comment"))
        form.done()
        last = tx.execute(
            "SELECT answer, text, by_user FROM promotion_consultations WHERE promotion_id = ?"
            " AND region_id = ? ORDER BY consultation_id DESC LIMIT 1",
            [promotion["promotion_id"], region],
        ).fetchall()
        if last and last[0] == (the_answer, words, user.user_id):
            return  # said already
        values = {
            "promotion_id": promotion["promotion_id"],
            "region_id": region,
            "answer": the_answer,
            "text": words,
            "by_user": user.user_id,
            "by_person": user.person_id,
            "by_name": user.display_name,
            "answered_at": now,
        }
        new_id = tx.execute(
            "INSERT INTO promotion_consultations (promotion_id, region_id, answer, text, by_user, by_person,"
            " by_name, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING consultation_id",
            list(values.values()),
        ).fetchone()[0]
        tx.audit("promotion_consultations", new_id, "consult", after=values)

    _write_if_changed(db, user, work)


# -- execution feedback -------------------------------------------------------------------------------
def _report_by_key(db: Database, user: User, key: str) -> Reported | None:
    found = _saved_under(db, user, "execution_reports", "report_id", "by_user", key)
    return None if found is None else Reported(found, True)


def _photo(form: _Form, photo: Any) -> Any:
    """The photo made ready for storing (mktsales.photos), or None; a rejected photo is a problem."""
    if photo is None:
        return None
    from mktsales import photos  # written alongside the board (issue 5)

    try:
        return photos.prepare(photo)
    except photos.PhotoRejected as exc:
        form.problems.append(Problem("photo", exc.key, dict(exc.values)))
        return None


def report_execution(
    db: Database,
    user: User,
    *,
    key: str,
    promotion_id: int,
    region_id: int,
    kind: str,
    customer_id: int | None = None,
    as_planned: bool | None = None,
    deviations: Sequence[str] = (),
    note: str = "",
    sell_through_pct: float | None = None,
    customer_reaction: str | None = None,
    competitor_response: str = "",
    photo: Any = None,
    now: dt.datetime | None = None,
) -> Reported:
    """Report a promotion's execution in one of the user's regions, once per key: a status report
    while live (as planned? what deviated?) or an effect report while live or finished
    (sell-through, customer reaction, competitor response); optionally for one store, with a photo
    (mktsales.photos.Photo). Marketing's reports are inspections, sales' are self-checks."""
    _require(user, REPORT)
    key = _key(key)
    now = _now(now)
    found = _report_by_key(db, user, key)
    if found is not None:
        return found
    form = _Form()
    the_kind = _code(form, "kind", kind, REPORT_KINDS)
    region = _id(region_id)
    if region is None:
        form.add("region_id", "required")
    elif not _in_regions(user, region):
        form.add("region_id", "region_refused")
    customer = _id(customer_id) if not _blank(customer_id) else None
    if not _blank(customer_id) and customer is None:
        form.add("customer_id", "unknown_customer")
    planned, chosen, sell, reaction = None, [], None, None
    if the_kind == "status":
        if as_planned is None:
            form.add("as_planned", "required")
        planned = None if as_planned is None else bool(as_planned)
        chosen = _codes(form, "deviations", deviations, DEVIATIONS, required=planned is False)
        if planned and chosen:
            form.add("deviations", "deviations_when_planned")
    elif the_kind == "effect":
        if sell_through_pct is not None and not _blank(sell_through_pct):
            try:
                sell = float(sell_through_pct)
            except (TypeError, ValueError):
                sell = None
            if sell is None or not 0 <= sell <= 100:
                form.add("sell_through_pct", "percent_range")
                sell = None
        reaction = _code(form, "customer_reaction", customer_reaction, REACTIONS, required=False)
    words = _text(form, "note", note)
    competitor = _text(form, "competitor_response", competitor_response)
    said = sell is not None or reaction is not None or competitor or words
    if the_kind == "effect" and not said and not any(p.field == "sell_through_pct" for p in form.problems):
        form.add("sell_through_pct", "effect_empty")
    prepared = _photo(form, photo)
    form.done()

    def work(tx: Tx) -> Reported:
        promotion = _promotion(tx, promotion_id, user)
        allowed = ("live",) if the_kind == "status" else ("live", "finished")
        if promotion["status"] not in allowed:
            raise PromotionRefused("promotion.error.not_live", {"status": promotion["status"]})
        checks = _Form()
        if region not in promotion["region_ids"]:
            checks.add("region_id", "region_not_touched")
        if customer is not None:
            where = tx.execute("SELECT region_id FROM customers WHERE customer_id = ?", [customer]).fetchall()
            if not where:
                checks.add("customer_id", "unknown_customer")
            elif where[0][0] != region:
                checks.add("customer_id", "customer_region")
        checks.done()
        values = {
            "promotion_id": promotion["promotion_id"],
            "region_id": region,
            "customer_id": customer,
            "kind": the_kind,
            "source": "marketing" if user.role in MARKETING else "sales",
            "as_planned": planned,
            "deviations": chosen,
            "note": words,
            "sell_through_pct": sell,
            "customer_reaction": reaction,
            "competitor_response": competitor,
            "photo_mime": None if prepared is None else prepared.mime,
            "photo_width": None if prepared is None else prepared.width,
            "photo_height": None if prepared is None else prepared.height,
            "photo": None if prepared is None else prepared.data,
            "by_user": user.user_id,
            "by_person": user.person_id,
            "by_name": user.display_name,
            "reported_at": now,
            "idempotency_key": key,
        }
        report_id = tx.execute(
            f"INSERT INTO execution_reports ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})"
            " RETURNING report_id",
            list(values.values()),
        ).fetchone()[0]
        shown = {k: v for k, v in values.items() if k not in ("photo", "idempotency_key")}
        tx.audit("execution_reports", report_id, "report", after={**shown, "photo": prepared is not None})
        return Reported(int(report_id), False)

    return _write(db, user, work, on_constraint=lambda: _report_by_key(db, user, key))


def photo(db: Database, user: User, report_id: int) -> tuple[str, bytes] | None:
    """The photo of an execution report the user may see, as (mime type, bytes); None if none."""
    found = db.rows(
        "SELECT e.photo_mime, e.photo, e.region_id FROM execution_reports e WHERE e.report_id = ?",
        [report_id],
    )
    if not found or found[0][1] is None:
        return None
    mime, data, region = found[0]
    if not _in_regions(user, region):
        raise PromotionForbidden("promotion.error.region", {"id": report_id})
    return str(mime), bytes(data)


# -- reading ----------------------------------------------------------------------------------------
def readiness(db: Database, promotion_id: int) -> list[dict[str, Any]]:
    """The go-live checklist, in order consulted, owners, budget, monitoring: each item's code,
    whether it holds, and its detail (the regions not consulted, the parts without an owner, the
    budget and whether it is approved)."""
    found = db.query("SELECT * FROM promotion_readiness WHERE promotion_id = ?", [promotion_id])
    if found.empty:
        raise PromotionRefused("promotion.error.not_found", {"id": promotion_id})
    row = found.iloc[0]
    names = _region_names(db)

    def regions(ids: Any) -> dict[str, Any]:
        ids = [int(i) for i in ids]
        return {
            "regions": ids,
            "regions_zh": [names[i][0] for i in ids],
            "regions_en": [names[i][1] for i in ids],
        }

    return [
        {
            "item": "consulted",
            "ok": bool(row["consulted_ok"]),
            "detail": {
                **regions(row["unconsulted"]),
                "consulted": int(row["consulted"]),
                "total": int(row["consult_total"]),
            },
        },
        {
            "item": "owners",
            "ok": bool(row["owners_ok"]),
            "detail": {"overall": bool(row["has_overall_owner"]), **regions(row["owners_missing"])},
        },
        {
            "item": "budget",
            "ok": bool(row["budget_ok"]),
            "detail": {"budget": float(row["budget"]), "approved": bool(row["budget_approved"])},
        },
        {"item": "monitoring", "ok": bool(row["monitoring_ok"]), "detail": {}},
    ]


def readiness_message(item: dict[str, Any], lang: str) -> str:
    """One readiness item in plain words: what holds, or what is missing (naming regions)."""
    code, detail = item["item"], item["detail"]
    if item["ok"]:
        return t(f"promotion.ready.{code}", lang)
    sep = t("promotion.list_sep", lang)
    if code == "consulted":
        return t("promotion.missing.consulted", lang, regions=sep.join(detail[f"regions_{lang}"]) or "—")
    if code == "owners":
        parts = ([] if detail["overall"] else [t("promotion.owner.overall", lang)]) + detail[
            f"regions_{lang}"
        ]
        return t("promotion.missing.owners", lang, parts=sep.join(parts))
    if code == "budget":
        return t(
            "promotion.missing.budget_zero" if detail["budget"] <= 0 else "promotion.missing.budget", lang
        )
    return t("promotion.missing.monitoring", lang)


def _region_names(db: Database) -> dict[int, tuple[str, str]]:
    return {int(r): (zh, en) for r, zh, en in db.rows("SELECT region_id, name_zh, name_en FROM regions")}


def _regions_for(user: User | None, scope: Scope) -> list[int] | None:
    """The scope's regions, never wider than the user's."""
    return visible_regions(user, scope.region_ids())


def _listing(
    db: Database,
    scope: Scope,
    regions: list[int] | None,
    *,
    status: str | None = None,
    origin: str | None = None,
    ids: list[int] | None = None,
    visible: Sequence[int] | None = None,
    now: dt.datetime,
) -> pd.DataFrame:
    """promotion_listing; ``visible``: the user's regions (None: all), the only ones whose execution
    reports are counted."""
    params = {
        **scope.params(),
        "regions": regions,
        "visible": None if visible is None else sorted(visible),
        "status": status,
        "origin": origin,
        "ids": ids,
        "now": now,
        "decision_before": now - dt.timedelta(hours=config.promotion_decision_hours()),
        "consult_before": now - dt.timedelta(hours=config.consultation_hours()),
        "feedback_before": now - dt.timedelta(days=FEEDBACK_DAYS),
    }
    frame = db.query(sql("promotion_listing"), params)
    for column in ("start_date", "end_date"):
        frame[column] = [d.date() for d in frame[column]]
    for column in ("region_ids", "region_names_zh", "region_names_en", "missing"):
        frame[column] = frame[column].map(list)
    frame["overdue_reason"] = (
        frame["overdue_reason"].astype(object).where(frame["overdue_reason"].notna(), None)
    )
    return frame


LISTING_COLUMNS = (
    "promotion_id", "title_zh", "title_en", "kind", "origin", "status", "category_id", "start_date",
    "end_date", "budget", "owner_name", "region_ids", "region_names_zh", "region_names_en",
    "requested_at", "decided_at", "turnaround_hours", "ready", "missing", "consulted", "consult_total",
    "overdue", "overdue_reason", "progress", "reports", "as_planned_share",
)  # fmt: skip


def listing(
    db: Database,
    user: User,
    scope: Scope,
    *,
    status: str | None = None,
    origin: str | None = None,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """The promotions for the board: overlapping the period or still waiting (requested, drafting,
    consulting) whatever their dates, touching a region in scope (and the user's), of a category
    in scope; optionally one status or origin. See LISTING_COLUMNS; oldest start first. Reports,
    as_planned_share and the feedback overdue count the user's regions only."""
    frame = _listing(
        db,
        scope,
        _regions_for(user, scope),
        status=status,
        origin=origin,
        visible=visible_regions(user),
        now=_now(now),
    )
    return frame[list(LISTING_COLUMNS)]


def approval_queue(db: Database, user: User, scope: Scope, *, now: dt.datetime | None = None) -> pd.DataFrame:
    """What awaits marketing's decision: requests and plans in consultation, oldest first, with
    waiting_since (the request, or the start of consultation), waiting_hours and overdue."""
    now = _now(now)
    frame = _listing(db, scope, _regions_for(user, scope), visible=visible_regions(user), now=now)
    frame = frame[frame["status"].isin(["requested", "consulting"])].copy()
    since = dict(
        db.rows(
            "SELECT promotion_id, max(event_at) FROM promotion_events WHERE to_status = 'consulting'"
            " AND list_contains(?, promotion_id) GROUP BY ALL",
            [frame["promotion_id"].tolist()],
        )
    )
    frame["waiting_since"] = [
        row.requested_at if row.status == "requested" else since.get(row.promotion_id)
        for row in frame.itertuples()
    ]
    frame["waiting_since"] = pd.to_datetime(frame["waiting_since"])
    frame["waiting_hours"] = (pd.Timestamp(now) - frame["waiting_since"]).dt.total_seconds() / 3600
    frame = frame.sort_values(["waiting_since", "promotion_id"], na_position="last")
    return frame[[*LISTING_COLUMNS, "waiting_since", "waiting_hours"]].reset_index(drop=True)


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar: NaN/NaT to None, Decimal to float, dates and times to ISO text."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "tolist") and not isinstance(value, pd.Timestamp):  # numpy arrays and scalars
        return _plain(value.tolist())
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NaT or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _actions(user: User, promotion: dict[str, Any], ready: bool) -> list[str]:
    """The statuses this user may move the promotion to now (go-live only when ready)."""
    return [
        to
        for (before, to) in TRANSITIONS
        if before == promotion["status"] and _may(user, promotion, to) and (to != "live" or ready)
    ]


def detail(db: Database, user: User, promotion_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything about one promotion the user may see: its listing row, plan, regions, owners,
    products, consultation per region (with every answer), events, readiness, execution reports
    (newest first, photos as has_photo), and ``actions``: the statuses the user may move it to now;
    ``can``: may edit the plan, approve the budget, answer for which regions, report execution.
    Consultations, reports and the row's report counts are the user's regions' only; a promotion
    outside their regions is PromotionRefused(not_found), as a missing one."""
    now = _now(now)
    found = db.rows(
        "SELECT struct_insert(p, region_ids := (SELECT list(region_id ORDER BY region_id)"
        " FROM promotion_regions r"
        " WHERE r.promotion_id = p.promotion_id), created_by := pl.created_by) FROM promotions p"
        " LEFT JOIN promotion_plans pl USING (promotion_id) WHERE p.promotion_id = ?",
        [_id(promotion_id)],
    )
    promotion = _seen(user, found, promotion_id)
    pid = promotion["promotion_id"]
    seen = visible_regions(user)  # consultations and reports of the user's regions only (issue 23)
    scoped = {"pid": pid, "visible": seen}
    wide = Scope(dt.date(1900, 1, 1), dt.date(9999, 1, 1))
    row = _records(_listing(db, wide, None, ids=[pid], visible=seen, now=now))[0]
    plan = db.query(
        "SELECT mechanics, channels, CAST(goal_revenue AS DOUBLE) AS goal_revenue, monitoring_plan,"
        " description,"
        " budget_approved, budget_approved_by_name, budget_approved_at, request_reason AS reason,"
        " request_reason_text AS reason_text, expected_effect, CAST(budget_asked AS DOUBLE) AS budget_asked,"
        " requested_region_ids, created_by, created_by_name, created_at"
        " FROM promotion_plans WHERE promotion_id = ?",
        [pid],
    )
    plan_row = _records(plan)[0] if not plan.empty else {
        "mechanics": [], "channels": [], "goal_revenue": None, "monitoring_plan": "", "description": "",
        "budget_approved": False, "budget_approved_by_name": None, "budget_approved_at": None,
        "reason": None, "reason_text": "", "expected_effect": "", "budget_asked": None,
        "requested_region_ids": [], "created_by": None, "created_by_name": None, "created_at": None,
    }  # fmt: skip
    category = db.rows(
        "SELECT code, name_zh, name_en FROM categories WHERE category_id = ?", [promotion["category_id"]]
    )
    names = _region_names(db)
    owners = _records(
        db.query(
            "SELECT part, region_id, person_id, user_id, name FROM promotion_owners WHERE promotion_id = ?"
            " ORDER BY part, region_id",
            [pid],
        )
    )
    overall = db.rows(
        "SELECT person_id, name, user_id FROM promotion_overall_owner WHERE promotion_id = ?", [pid]
    )
    consultations = _records(
        db.query(
            "SELECT c.region_id, g.name_zh, g.name_en, c.by_request, c.asked_at, c.answered, c.answers,"
            " c.position, c.last_answer AS answer, c.last_text AS text, c.last_by_name AS by, c.last_at AS at"
            " FROM promotion_consultation_status c JOIN regions g USING (region_id)"
            " WHERE c.promotion_id = $pid"
            " AND in_scope(c.region_id, $visible) ORDER BY c.region_id",
            scoped,
        )
    )
    log_rows = _records(
        db.query(
            "SELECT consultation_id, region_id, answer, text, by_name AS by, answered_at AS at"
            " FROM promotion_consultations WHERE promotion_id = $pid"
            " AND in_scope(region_id, $visible)"
            " ORDER BY consultation_id",
            scoped,
        )
    )
    consult_before = now - dt.timedelta(hours=config.consultation_hours())
    for entry in consultations:
        entry["log"] = [r for r in log_rows if r["region_id"] == entry["region_id"]]
        asked = entry["asked_at"]
        entry["overdue"] = bool(
            promotion["status"] == "consulting"
            and not entry["answered"]
            and asked is not None
            and dt.datetime.fromisoformat(asked) < consult_before
        )
    events = _records(
        db.query(
            "SELECT event_id, from_status, to_status, reason, by_user, by_name AS by, event_at AS at"
            " FROM promotion_events WHERE promotion_id = ? ORDER BY event_at, event_id",
            [pid],
        )
    )
    reports = _records(
        db.query(
            "SELECT e.report_id, e.region_id, e.customer_id, c.name AS customer_name, e.kind, e.source,"
            " e.as_planned, e.deviations, e.note, e.sell_through_pct, e.customer_reaction,"
            " e.competitor_response,"
            " e.photo IS NOT NULL AS has_photo, e.by_name AS by, e.reported_at FROM execution_reports e"
            " LEFT JOIN customers c USING (customer_id) WHERE e.promotion_id = $pid"
            " AND in_scope(e.region_id, $visible)"
            " ORDER BY e.reported_at DESC, e.report_id DESC",
            scoped,
        )
    )
    products = _records(
        db.query(
            "SELECT p.product_id, p.name_zh, p.name_en"
            " FROM promotion_products x JOIN products p USING (product_id)"
            " WHERE x.promotion_id = ? ORDER BY p.product_id",
            [pid],
        )
    )
    ready = readiness(db, pid)
    status = promotion["status"]
    mine = [r for r in promotion["region_ids"] if _in_regions(user, r)]
    return {
        **row,
        "category_code": category[0][0] if category else None,
        "category_name_zh": category[0][1] if category else None,
        "category_name_en": category[0][2] if category else None,
        "owner_id": overall[0][0] if overall else None,
        "within_target": None
        if row["turnaround_hours"] is None
        else row["turnaround_hours"] <= config.promotion_decision_hours(),
        **plan_row,
        "regions": [
            {"region_id": r, "name_zh": names[r][0], "name_en": names[r][1]} for r in promotion["region_ids"]
        ],
        "owners": owners,
        "products": products,
        "consultations": consultations,
        "events": events,
        "readiness": ready,
        "reports": reports,
        "actions": _actions(user, promotion, bool(row["ready"])),
        "can": {
            "edit": status in EDITABLE and _allowed(user, DRAFT),
            "approve_budget": status in EDITABLE and user.can(DECIDE) and not plan_row["budget_approved"],
            "consult_regions": mine if status == "consulting" and user.can(CONSULT) else [],
            "report_status": mine if status == "live" and user.can(REPORT) else [],
            "report_effect": mine if status in ("live", "finished") and user.can(REPORT) else [],
        },
    }


def execution_summary(db: Database, scope: Scope) -> pd.DataFrame:
    """Status reports made in the period, by region: reports, as_planned, share_as_planned, and the
    count of each deviation (dev_price, dev_display, dev_pop_dm, dev_stock, dev_timing)."""
    return db.query(sql("promotion_execution_summary"), scope.params())


def deviations(db: Database, scope: Scope, *, limit: int = 200) -> pd.DataFrame:
    """Status reports made in the period that were not executed as planned, newest first."""
    frame = db.query(sql("promotion_deviations"), {**scope.params(), "limit": limit})
    frame["deviations"] = frame["deviations"].map(list)
    return frame


def turnaround(db: Database, scope: Scope) -> dict[str, Any]:
    """Sales requests decided in the period (touching the scope's regions and categories): n,
    median_hours, p90_hours, within_target (share decided within the target) and target_hours."""
    target = config.promotion_decision_hours()
    n, median, p90, within = db.rows(sql("promotion_turnaround"), {**scope.params(), "target": target})[0]
    return {
        "n": int(n),
        "median_hours": None if median is None else float(median),
        "p90_hours": None if p90 is None else float(p90),
        "within_target": None if within is None else float(within),
        "target_hours": target,
    }


def report(db: Database, scope: Scope, *, status: str | None = None, now: dt.datetime | None = None) -> dict:
    """The CLI's ``promotions --json`` object: every promotion in scope with its status, owners,
    readiness and turnaround; the counts by status, and the request turnaround for the period."""
    now = _now(now)
    frame = _listing(db, scope, scope.region_ids(), status=status, visible=scope.allowed_regions, now=now)
    ids = frame["promotion_id"].tolist()
    codes = {int(r): c for r, c in db.rows("SELECT region_id, code FROM regions")}
    categories = {int(c): code for c, code in db.rows("SELECT category_id, code FROM categories")}
    owners: dict[int, list[dict[str, Any]]] = {}
    for pid, region, name in db.rows(
        "SELECT promotion_id, region_id, name FROM promotion_owners WHERE part = 'region'"
        " AND list_contains(?, promotion_id) ORDER BY promotion_id, region_id",
        [ids],
    ):
        owners.setdefault(pid, []).append({"region": codes[region], "name": name})
    items = {
        pid: [{"item": i, "ok": i not in missing} for i in READINESS_ITEMS]
        for pid, missing in zip(frame["promotion_id"], frame["missing"], strict=True)
    }
    promotions = []
    for row in _records(frame):
        pid = row["promotion_id"]
        promotions.append(
            {
                "promotion_id": pid,
                "title_zh": row["title_zh"],
                "title_en": row["title_en"],
                "kind": row["kind"],
                "origin": row["origin"],
                "status": row["status"],
                "category": categories[row["category_id"]],
                "start_date": row["start_date"],
                "end_date": row["end_date"],
                "budget": row["budget"],
                "regions": [codes[r] for r in row["region_ids"]],
                "owner": row["owner_name"],
                "region_owners": owners.get(pid, []),
                "ready": row["ready"],
                "missing": row["missing"],
                "readiness": items[pid],
                "consulted": row["consulted"],
                "consult_total": row["consult_total"],
                "requested_at": row["requested_at"],
                "decided_at": row["decided_at"],
                "turnaround_hours": None
                if row["turnaround_hours"] is None
                else round(row["turnaround_hours"], 2),
                "overdue": row["overdue"],
                "overdue_reason": row["overdue_reason"],
                "progress": None if row["progress"] is None else round(row["progress"], 4),
                "reports": row["reports"],
                "as_planned_share": None
                if row["as_planned_share"] is None
                else round(row["as_planned_share"], 4),
            }
        )
    counts = frame["status"].value_counts()
    return {
        "period": {"from": scope.start.isoformat(), "to": scope.end.isoformat(), "days": scope.days},
        "as_of": now.isoformat(sep="T", timespec="seconds"),
        "status": status,
        "counts": {s: int(counts.get(s, 0)) for s in STATUSES},
        "turnaround": turnaround(db, scope),
        "promotions": promotions,
    }
