"""The shared-information board (issue 5): field reports up, plans down, answered against a clock.

Sales post field reports for marketing; marketing posts plans for sales, optionally asking the
sales head of every addressed region to acknowledge them ("read and briefed"). The other side owes
the answer: its first acknowledgement, reply or close is stored on the post when it happens
(``first_response_at``), and ``due_at`` (creation plus the category's response target for the
priority) is fixed when the post is made. So the status of a post at any moment, and every
response metric, is a read of columns: see queries/board_facts.sql, the one definition.

Every write goes through ``Database.write`` as the user, audited; a form's idempotency key makes
a resubmit save once; a write that conflicts is retried, and any other database failure becomes
BoardFailed, so no raw DuckDB error reaches a page. Problems a user can fix come back together as
BoardInvalid (forms.Problem, one per field); refusals of role or region raise AccessDenied.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from mktsales import accounts, config, forms, photos, vocabulary
from mktsales.access import HEADS, MARKETING, SALES, AccessDenied, User, visible, visible_any, visible_regions
from mktsales.audit import Tx
from mktsales.db import Database
from mktsales.forms import FormInvalid, Problem, Read, tx_read
from mktsales.i18n import t
from mktsales.queries import sql
from mktsales.scope import Scope, trend_scope

T = TypeVar("T")
log = logging.getLogger(__name__)

DIRECTIONS = vocabulary.POST_DIRECTIONS
FIELD_CATEGORIES = vocabulary.FIELD_CATEGORIES
PLAN_CATEGORIES = vocabulary.PLAN_CATEGORIES
PRIORITIES = vocabulary.POST_PRIORITIES
STATUSES = vocabulary.POST_STATUSES
OUTCOMES = vocabulary.POST_OUTCOMES
DIMENSIONS = ("region", "category")
MAX_PHOTOS = 3
MAX_PHOTO_BYTES = photos.MAX_PHOTO_BYTES
DEFAULT_TARGET_HOURS = {"urgent": 4.0, "normal": 24.0}
MAX_TARGET_HOURS = 720.0  # 30 days
MAX_TITLE = 120
MAX_BODY = 4000
MAX_COMPETITOR = 100
MAX_KEY = 100
DEFAULT_LIMIT = 200
WRITE_ATTEMPTS = 5  # a write that conflicts is tried this often before BoardFailed
RETRY_PAUSE = 0.02  # seconds, times the attempt number

# Who writes which direction, who owes the answer, and who may acknowledge.
AUTHOR_SIDE = {"field": "sales", "plan": "marketing"}
OWED_BY = {"field": "marketing", "plan": "sales"}
_POST_PERMISSION = {"field": "board.field_report", "plan": "board.plan"}
_ANSWER = "board.answer"
_ACKNOWLEDGERS = {"field": MARKETING, "plan": frozenset({"sales_head"})}
_TARGET_SETTERS = HEADS | {"admin"}

Photo = photos.Photo


# -- results and errors -------------------------------------------------------------------------
@dataclass(frozen=True)
class Posted:
    """A saved post; ``duplicate``: its key had been saved already and nothing new was written."""

    post_id: int
    duplicate: bool
    due_at: dt.datetime


class BoardInvalid(FormInvalid):
    """Input the user can fix: every problem found, each naming its field."""


class BoardFailed(Exception):
    """A write that failed for a reason the user cannot fix; it was rolled back, the form is kept."""

    key = "board.error.failed"

    def __init__(self, detail: str = "", key: str | None = None) -> None:
        super().__init__(detail or self.key)
        if key is not None:  # a full disk, say: its own message (forms.write)
            self.key = key

    def message(self, lang: str) -> str:
        return t(self.key, lang)


class PostNotFound(LookupError):
    """A post or photo id that does not exist (post_detail, photo, mark_read)."""


class _Nothing(Exception):
    """Raised inside a write that finds nothing left to do (a second tap), to roll it back."""


def _invalid(field: str, name: str, **values: Any) -> BoardInvalid:
    return BoardInvalid([Problem(field, f"board.error.{name}", values)])


# -- who is who ---------------------------------------------------------------------------------
def categories_for(direction: str) -> tuple[str, ...]:
    """The categories of a direction, in the brief's order (empty for an unknown direction)."""
    return {"field": FIELD_CATEGORIES, "plan": PLAN_CATEGORIES}.get(direction, ())


def side_of(user: User | None) -> str | None:
    """The department a user answers for: 'sales', 'marketing', or None (executive, admin)."""
    if user is None:
        return None
    if user.role in SALES:
        return "sales"
    if user.role in MARKETING:
        return "marketing"
    return None


def can_post(user: User, direction: str) -> bool:
    """True when the user's role may post in ``direction``."""
    return direction in _POST_PERMISSION and user.can(_POST_PERMISSION[direction])


def _sees(user: User, region_ids: Sequence[int]) -> bool:
    """A post is visible to a user when one of its regions is theirs."""
    return visible_any(user, region_ids)


def _own(user: User, region_ids: Sequence[int]) -> list[int]:
    """The regions of a post that are the user's (all of them for a user of every region)."""
    return [r for r in region_ids if visible(user, r)]


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or config.now()


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        raise ValueError(f"an idempotency key is a non-empty string of at most {MAX_KEY} characters")


def _text(problems: list[Problem], field: str, value: Any, limit: int, *, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        problems.append(Problem(field, "board.error.required", {}))
    elif len(text) > limit:
        problems.append(Problem(field, "board.error.too_long", {"n": limit}))
    return text


# -- writing ------------------------------------------------------------------------------------
def _write(
    db: Database,
    user: User,
    work: Callable[[Tx], T],
    *,
    data: bool = True,
    on_constraint: Callable[[], T | None] | None = None,
) -> T:
    """Database.write as the user, conflicts retried, database failures made BoardFailed."""
    return forms.write(
        db, work, by=accounts.actor(user), failed=BoardFailed, name="board", attempts=WRITE_ATTEMPTS,
        pause=RETRY_PAUSE, data=data, on_constraint=on_constraint,
    )  # fmt: skip


@dataclass(frozen=True)
class _Post:
    """What the write paths need to know of one post, read inside their transaction."""

    row: dict[str, Any]
    regions: list[int]
    acked: list[int]

    @property
    def direction(self) -> str:
        return str(self.row["direction"])

    @property
    def closed(self) -> bool:
        return self.row["closed_at"] is not None


def _load(read: Read, post_id: int) -> _Post | None:
    rows = read("SELECT p FROM posts p WHERE post_id = ?", [post_id])
    if not rows:
        return None
    regions = [
        r for (r,) in read("SELECT region_id FROM post_regions WHERE post_id = ? ORDER BY 1", [post_id])
    ]
    acked = [r for (r,) in read("SELECT region_id FROM post_acks WHERE post_id = ? ORDER BY 1", [post_id])]
    return _Post(rows[0][0], regions, acked)


_tx_read = tx_read


def _visible_post(read: Read, user: User, post_id: int) -> _Post:
    """The post, when it exists (else BoardInvalid) and the user may see it (else AccessDenied)."""
    found = _load(read, post_id)
    if found is None:
        raise _invalid("post", "unknown_post")
    if not _sees(user, found.regions):
        raise AccessDenied(f"{user.username} may not see post {post_id}")
    return found


def _activity(user: User, now: dt.datetime) -> dict[str, Any]:
    return {
        "last_activity_at": now,
        "last_activity_user_id": user.user_id,
        "last_activity_person_id": user.person_id,
    }


def _response(post: _Post, user: User, now: dt.datetime) -> dict[str, Any]:
    """The first-response columns when ``user`` answers now for the side that owes it: the
    earliest answer wins, whatever order concurrent writes land in."""
    if side_of(user) != OWED_BY[post.direction]:
        return {}
    first = post.row["first_response_at"]
    if first is not None and first <= now:
        return {}
    return {
        "first_response_at": now,
        "first_responder": user.display_name,
        "first_responder_user_id": user.user_id,
        "first_responder_person_id": user.person_id,
    }


def _event(tx: Tx, post_id: int, user: User, kind: str, now: dt.datetime, **values: Any) -> int:
    """Add one item to a post's thread (a reply, close or reopen), audited; returns its id."""
    row = {
        "post_id": post_id,
        "kind": kind,
        "user_id": user.user_id,
        "person_id": user.person_id,
        "name": user.display_name,
        "side": side_of(user),
        "created_at": now,
        **values,
    }
    return int(tx.insert("post_replies", row, "reply_id"))


# -- posting ------------------------------------------------------------------------------------
def _by_key(db: Database, user: User, key: str) -> Posted | None:
    """The post already saved under ``key``, if any (nothing is written)."""
    found = db.rows("SELECT post_id, author_user_id, due_at FROM posts WHERE idempotency_key = ?", [key])
    if not found:
        return None
    post_id, author, due_at = found[0]
    if author != user.user_id:
        raise _invalid("key", "key_reused")
    return Posted(int(post_id), True, due_at)


def _default_regions(db: Database, user: User, direction: str) -> list[int]:
    """A field report's region: the author's first; a plan's: all the author's regions."""
    own = list(user.regions) if user.regions else []
    if not own and user.allowed_regions is None:
        own = [r for (r,) in db.rows("SELECT region_id FROM regions ORDER BY 1")]
    return own[:1] if direction == "field" else own


def _regions(
    db: Database, user: User, direction: str, given: Sequence[int] | None, problems: list[Problem]
) -> list[int]:
    """The post's regions, checked: known, the user's own (else AccessDenied), one for a field report."""
    if given is None:
        ids = _default_regions(db, user, direction)
    else:
        try:
            ids = list(dict.fromkeys(int(r) for r in given))
        except (TypeError, ValueError):
            problems.append(Problem("regions", "board.error.unknown_region", {}))
            return []
    if not ids:
        problems.append(Problem("regions", "board.error.required", {}))
        return []
    if direction == "field" and len(ids) != 1:
        problems.append(Problem("regions", "board.error.one_region", {}))
    known = {r for (r,) in db.rows("SELECT region_id FROM regions WHERE list_contains(?, region_id)", [ids])}
    if set(ids) - known:
        problems.append(Problem("regions", "board.error.unknown_region", {}))
    outside = [r for r in ids if r in known and not _own(user, [r])]
    if outside:
        raise AccessDenied(f"{user.username} may not post in regions {outside}")
    return [r for r in ids if r in known]


def _as_id(problems: list[Problem], field: str, value: Any, unknown: str) -> int | None:
    """An optional id from a picker: None when not given, a Problem when not an id."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError(value)
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        problems.append(Problem(field, f"board.error.{unknown}", {}))
        return None


def _exists(db: Database, table: str, column: str, value: Any) -> bool:
    return bool(db.rows(f"SELECT 1 FROM {table} WHERE {column} = ?", [value]))


def _promotion_seen(db: Database, user: User, promotion_id: int) -> bool:
    """The promotion exists and touches one of the user's regions: a post names no other (its title
    would show to every region the post reaches; issue 23), and one it may not see is "not found"."""
    return bool(
        db.rows(
            "SELECT 1 FROM promotion_regions WHERE promotion_id = $id"
            " AND in_scope(region_id, $allowed)"
            " UNION ALL SELECT 1 FROM promotions WHERE promotion_id = $id AND $allowed::INTEGER[] IS NULL",
            {
                "id": promotion_id,
                "allowed": visible_regions(user),
            },
        )
    )


def _photos(given: Sequence[Photo], problems: list[Problem]) -> list[tuple[photos.Prepared, str]]:
    """Every photo checked and re-encoded, or a Problem for each one refused."""
    given = list(given or ())
    if len(given) > MAX_PHOTOS:
        extra = given[MAX_PHOTOS]
        problems.append(
            Problem(
                "photos",
                "board.error.photo_count",
                {
                    "name": photos.display_name(extra),
                    "mb": photos.megabytes(len(extra.data or b"")),
                    "n": MAX_PHOTOS,
                },
            )
        )
        return []
    prepared = []
    for photo in given:
        try:
            prepared.append((photos.prepare(photo), photos.display_name(photo)))
        except photos.PhotoRejected as exc:
            problems.append(Problem("photos", exc.key, exc.values))
    return prepared


def _target_hours(db: Database, direction: str, category: str, priority: str) -> float:
    hours = db.scalar(
        "SELECT hours FROM response_targets WHERE direction = ? AND category = ? AND priority = ?",
        [direction, category, priority],
    )
    return float(hours) if hours is not None else DEFAULT_TARGET_HOURS[priority]


def post(
    db: Database,
    user: User,
    *,
    key: str,
    direction: str,
    category: str,
    title: str,
    body: str,
    regions: Sequence[int] | None = None,
    priority: str = "normal",
    customer_id: int | None = None,
    product_id: int | None = None,
    competitor: str | None = None,
    promotion_id: int | None = None,
    needs_ack: bool = False,
    photos: Sequence[Photo] = (),
    now: dt.datetime | None = None,
) -> Posted:
    """Post a field report (sales) or a plan (marketing), once per ``key``; photos are checked and
    stored re-encoded. Every problem comes back at once as BoardInvalid and nothing is saved."""
    now = _now(now)
    _check_key(key)
    if direction in _POST_PERMISSION:
        user.require(_POST_PERMISSION[direction])
    elif not any(user.can(p) for p in _POST_PERMISSION.values()):
        raise AccessDenied(f"{user.username} ({user.role}) may not post on the board")
    found = _by_key(db, user, key)  # a resubmit is answered without taking the write lock
    if found is not None:
        return found

    problems: list[Problem] = []
    if direction not in DIRECTIONS:
        problems.append(Problem("direction", "board.error.unknown_direction", {}))
    elif not category:
        problems.append(Problem("category", "board.error.required", {}))
    elif category not in categories_for(direction):
        problems.append(Problem("category", "board.error.unknown_category", {}))
    if priority not in PRIORITIES:
        problems.append(Problem("priority", "board.error.unknown_priority", {}))
    title = _text(problems, "title", title, MAX_TITLE)
    body = _text(problems, "body", body, MAX_BODY)
    region_ids = _regions(db, user, direction, regions, problems)
    customer_id = _as_id(problems, "customer_id", customer_id, "unknown_customer")
    product_id = _as_id(problems, "product_id", product_id, "unknown_product")
    promotion_id = _as_id(problems, "promotion_id", promotion_id, "unknown_promotion")
    if customer_id is not None:
        found_region = db.scalar("SELECT region_id FROM customers WHERE customer_id = ?", [customer_id])
        if found_region is None:
            problems.append(Problem("customer_id", "board.error.unknown_customer", {}))
        elif region_ids and found_region not in region_ids:
            problems.append(Problem("customer_id", "board.error.customer_region", {}))
    if product_id is not None and not _exists(db, "products", "product_id", product_id):
        problems.append(Problem("product_id", "board.error.unknown_product", {}))
    if promotion_id is not None and not _promotion_seen(db, user, promotion_id):
        problems.append(Problem("promotion_id", "board.error.unknown_promotion", {}))
    named = _text(problems, "competitor", competitor, MAX_COMPETITOR, required=False) or None
    if category == "competitor" and direction == "field" and named is None:
        problems.append(Problem("competitor", "board.error.competitor_required", {}))
    if needs_ack and direction != "plan":
        problems.append(Problem("needs_ack", "board.error.ack_only_plans", {}))
    prepared = _photos(photos, problems)
    if problems:
        again = _by_key(db, user, key)  # the first tap of a double tap was saved meanwhile
        if again is not None:
            return again
        raise BoardInvalid(problems)

    hours = _target_hours(db, direction, category, priority)
    due_at = now + dt.timedelta(hours=hours)
    values = {
        "idempotency_key": key,
        "direction": direction,
        "category": category,
        "priority": priority,
        "title": title,
        "body": body,
        "author_user_id": user.user_id,
        "author_person_id": user.person_id,
        "author_name": user.display_name,
        "customer_id": customer_id,
        "product_id": product_id,
        "competitor": named,
        "promotion_id": promotion_id,
        "needs_ack": bool(needs_ack),
        "created_at": now,
        "target_hours": hours,
        "due_at": due_at,
        **_activity(user, now),
    }

    def work(tx: Tx) -> Posted:
        twin = tx.execute("SELECT post_id, due_at FROM posts WHERE idempotency_key = ?", [key]).fetchall()
        if twin:  # saved by a twin submit while this one was being checked
            return Posted(int(twin[0][0]), True, twin[0][1])
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        post_id = tx.execute(
            f"INSERT INTO posts ({columns}) VALUES ({marks}) RETURNING post_id", list(values.values())
        ).fetchone()[0]
        tx.executemany("INSERT INTO post_regions VALUES (?, ?)", [[post_id, r] for r in region_ids])
        stored = []
        for picture, name in prepared:
            photo_id = tx.execute(
                "INSERT INTO post_photos (post_id, mime, width, height, bytes, original_name)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING photo_id",
                [post_id, picture.mime, picture.width, picture.height, picture.data, name],
            ).fetchone()[0]
            stored.append({"photo_id": photo_id, "name": name, "width": picture.width,
                           "height": picture.height, "bytes": len(picture.data)})  # fmt: skip
        after = {k: v for k, v in values.items() if k != "idempotency_key"}
        tx.audit("posts", post_id, "create", after={**after, "regions": region_ids, "photos": stored})
        return Posted(int(post_id), False, due_at)

    return _write(db, user, work, on_constraint=lambda: _by_key(db, user, key))


# -- answering ----------------------------------------------------------------------------------
def _reply_by_key(db: Database, user: User, post_id: int, key: str) -> int | None:
    found = db.rows("SELECT reply_id, user_id, post_id FROM post_replies WHERE idempotency_key = ?", [key])
    if not found:
        return None
    reply_id, author, replied_to = found[0]
    if author != user.user_id or replied_to != post_id:
        raise _invalid("key", "key_reused")
    return int(reply_id)


def reply(
    db: Database, user: User, post_id: int, body: str, *, key: str, now: dt.datetime | None = None
) -> int:
    """Add a reply to a post's thread, once per ``key``; returns the reply's id. A reply by the side
    that owes the answer is its first response if none came earlier."""
    now = _now(now)
    user.require(_ANSWER)
    _check_key(key)
    found = _reply_by_key(db, user, post_id, key)
    if found is not None:
        return found
    _visible_post(db.rows, user, post_id)
    problems: list[Problem] = []
    text = _text(problems, "body", body, MAX_BODY)
    if problems:
        raise BoardInvalid(problems)

    def work(tx: Tx) -> int:
        twin = tx.execute("SELECT reply_id FROM post_replies WHERE idempotency_key = ?", [key]).fetchall()
        if twin:
            return int(twin[0][0])
        current = _visible_post(_tx_read(tx), user, post_id)
        if current.closed:
            raise _invalid("body", "closed")
        reply_id = _event(tx, post_id, user, "reply", now, body=text, idempotency_key=key)
        tx.update(
            "posts", "post_id", post_id, {**_response(current, user, now), **_activity(user, now)}, "reply"
        )
        return reply_id

    return _write(db, user, work, on_constraint=lambda: _reply_by_key(db, user, post_id, key))


def _may_acknowledge(user: User, direction: str) -> bool:
    return user.role in _ACKNOWLEDGERS.get(direction, frozenset())


def acknowledge(db: Database, user: User, post_id: int, *, now: dt.datetime | None = None) -> list[int]:
    """Acknowledge a post for every one of the user's regions it addresses that has no
    acknowledgement yet; returns those regions (empty when nothing was left to acknowledge).

    Plans are acknowledged by a sales head per region ("read and briefed"), field reports by
    marketing. An acknowledgement is a first response too."""
    now = _now(now)
    first = _visible_post(db.rows, user, post_id)
    if not _may_acknowledge(user, first.direction):
        raise AccessDenied(f"{user.username} ({user.role}) may not acknowledge a {first.direction} post")

    def work(tx: Tx) -> list[int]:
        current = _visible_post(_tx_read(tx), user, post_id)
        if current.closed:
            raise _invalid("post", "closed")
        regions = [r for r in _own(user, current.regions) if r not in current.acked]
        if not regions:
            raise _Nothing
        for region_id in regions:
            row = {"post_id": post_id, "region_id": region_id, "user_id": user.user_id,
                   "person_id": user.person_id, "name": user.display_name, "acked_at": now}  # fmt: skip
            tx.execute("INSERT INTO post_acks VALUES (?, ?, ?, ?, ?, ?)", list(row.values()))
            tx.audit("post_acks", f"{post_id}/{region_id}", "create", after=row)
        tx.update(
            "posts", "post_id", post_id, {**_response(current, user, now), **_activity(user, now)}, "ack"
        )
        return regions

    try:
        return _write(db, user, work)
    except _Nothing:
        return []


def _may_close(user: User, direction: str) -> bool:
    return user.role == "admin" or side_of(user) == OWED_BY[direction]


def close(
    db: Database, user: User, post_id: int, outcome: str, note: str = "", *, now: dt.datetime | None = None
) -> None:
    """Close a post with an outcome (the side that owes the answer, or an admin); "no_action"
    needs a note saying why. Closing again with the same outcome and note changes nothing."""
    now = _now(now)
    first = _visible_post(db.rows, user, post_id)
    if not _may_close(user, first.direction):
        raise AccessDenied(f"{user.username} ({user.role}) may not close a {first.direction} post")
    problems: list[Problem] = []
    if outcome not in OUTCOMES:
        problems.append(Problem("outcome", "board.error.unknown_outcome", {}))
    text = _text(problems, "note", note, MAX_BODY, required=False)
    if outcome == "no_action" and not text:
        problems.append(Problem("note", "board.error.note_required", {}))
    if problems:
        raise BoardInvalid(problems)

    def work(tx: Tx) -> None:
        current = _visible_post(_tx_read(tx), user, post_id)
        if current.closed:
            if current.row["outcome"] == outcome and (current.row["close_note"] or "") == text:
                raise _Nothing  # a second tap
            raise _invalid("post", "already_closed")
        changes = {
            "closed_at": now,
            "closed_by": user.display_name,
            "closed_by_user_id": user.user_id,
            "outcome": outcome,
            "close_note": text,
            **_response(current, user, now),
            **_activity(user, now),
        }
        tx.update("posts", "post_id", post_id, changes, "close")
        _event(tx, post_id, user, "close", now, body=text, outcome=outcome)

    try:
        _write(db, user, work)
    except _Nothing:
        return


def reopen(db: Database, user: User, post_id: int, *, now: dt.datetime | None = None) -> None:
    """Reopen a closed post (whoever may close it); an open post is left as it is."""
    now = _now(now)
    first = _visible_post(db.rows, user, post_id)
    if not _may_close(user, first.direction):
        raise AccessDenied(f"{user.username} ({user.role}) may not reopen a {first.direction} post")

    def work(tx: Tx) -> None:
        current = _visible_post(_tx_read(tx), user, post_id)
        if not current.closed:
            raise _Nothing
        changes = {"closed_at": None, "closed_by": None, "closed_by_user_id": None, "outcome": None,
                   "close_note": None, **_activity(user, now)}  # fmt: skip
        tx.update("posts", "post_id", post_id, changes, "reopen")
        _event(tx, post_id, user, "reopen", now)

    try:
        _write(db, user, work)
    except _Nothing:
        return


def mark_read(db: Database, user: User, post_id: int, *, now: dt.datetime | None = None) -> None:
    """Note that the user has seen the post as it is now; changes no reported number."""
    now = _now(now)
    found = _load(db.rows, post_id)
    if found is None:
        raise PostNotFound(post_id)
    if not _sees(user, found.regions):
        raise AccessDenied(f"{user.username} may not see post {post_id}")
    read_at = db.scalar(
        "SELECT read_at FROM post_reads WHERE post_id = ? AND user_id = ?", [post_id, user.user_id]
    )
    if read_at is not None and read_at >= found.row["last_activity_at"]:
        return  # nothing new since the last read: nothing to write

    def work(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO post_reads VALUES (?, ?, ?)"
            " ON CONFLICT (post_id, user_id) DO UPDATE SET read_at = greatest(read_at, excluded.read_at)",
            [post_id, user.user_id, now],
        )
        tx.audit("post_reads", f"{post_id}/{user.user_id}", "read", after={"read_at": now})

    _write(db, user, work, data=False)


# -- response targets ---------------------------------------------------------------------------
def set_target(db: Database, user: User, direction: str, category: str, priority: str, hours: float) -> None:
    """Change the response target of a category and priority (heads and admins). Posts made
    before keep the due time they were given."""
    if user.role not in _TARGET_SETTERS:
        raise AccessDenied(f"{user.username} ({user.role}) may not change response targets")
    problems: list[Problem] = []
    if direction not in DIRECTIONS:
        problems.append(Problem("direction", "board.error.unknown_direction", {}))
    elif category not in categories_for(direction):
        problems.append(Problem("category", "board.error.unknown_category", {}))
    if priority not in PRIORITIES:
        problems.append(Problem("priority", "board.error.unknown_priority", {}))
    try:
        value = float(hours)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_TARGET_HOURS):
        problems.append(Problem("hours", "board.error.hours_range", {"n": int(MAX_TARGET_HOURS)}))
    if problems:
        raise BoardInvalid(problems)

    def work(tx: Tx) -> None:
        key = [direction, category, priority]
        before = tx.execute(
            "SELECT hours FROM response_targets WHERE direction = ? AND category = ? AND priority = ?", key
        ).fetchall()
        if before:
            tx.execute(
                "UPDATE response_targets SET hours = ? WHERE direction = ? AND category = ? AND priority = ?",
                [value, *key],
            )
        else:
            tx.execute("INSERT INTO response_targets VALUES (?, ?, ?, ?)", [*key, value])
        tx.audit(
            "response_targets",
            "/".join(key),
            "update",
            before={"hours": before[0][0]} if before else None,
            after={"hours": value},
        )

    _write(db, user, work)


def targets(db: Database) -> pd.DataFrame:
    """Every response target: direction, category, priority, hours; in the brief's order."""
    return db.query(
        "SELECT direction, category, priority, hours FROM response_targets"
        " ORDER BY list_position(?, direction), list_position(?, category), list_position(?, priority)",
        [list(DIRECTIONS), [*FIELD_CATEGORIES, *PLAN_CATEGORIES], list(PRIORITIES)],
    )


# -- reading ------------------------------------------------------------------------------------
def _with_facts(name: str) -> str:
    """A named query that reads the posts in scope through board_facts (the one status rule)."""
    return f"WITH facts AS (\n{sql('board_facts')}\n)\n{sql(name)}"


def _scope_regions(scope: Scope, user: User | None) -> list[int] | None:
    """The scope's regions, never wider than the user's own."""
    return visible_regions(user, scope.region_ids())


def _facts_params(
    scope: Scope, now: dt.datetime, user: User | None = None, *, pending: bool = False
) -> dict[str, Any]:
    """board_facts' parameters; ``pending`` also keeps posts still waiting at ``now`` from before
    the period (the board and its counts), metrics leave it off."""
    return {**scope.params(), "regions": _scope_regions(scope, user), "now": now, "pending": pending}


def _viewer(user: User | None) -> dict[str, Any]:
    return {
        "user_id": None if user is None else user.user_id,
        "person_id": None if user is None else user.person_id,
        "side": side_of(user),
        "user_regions": visible_regions(user),
        "sales_head": user is not None and user.role == "sales_head",
    }


def _pattern(text: str | None) -> str | None:
    """An ILIKE pattern finding ``text`` anywhere, its own % and _ taken literally."""
    if text is None or not text.strip():
        return None
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _posts_query(
    db: Database, user: User | None, scope: Scope, now: dt.datetime, **filters: Any
) -> pd.DataFrame:
    params = {
        **_facts_params(scope, now, user, pending=True),
        **_viewer(user),
        "post_id": None,
        "direction": None,
        "category": None,
        "status": None,
        "author": None,
        "text": None,
        "owed_by_me": False,
        "unread_only": False,
        "limit": None,
        **filters,
    }
    frame = db.query(_with_facts("board_posts"), params)
    frame["region_ids"] = [[int(r) for r in ids] for ids in frame["region_ids"]]
    return frame


def posts(
    db: Database,
    user: User | None,
    scope: Scope,
    *,
    direction: str | None = None,
    category: str | None = None,
    status: str | None = None,
    author: str | None = None,
    text: str | None = None,
    owed_by_me: bool = False,
    unread_only: bool = False,
    limit: int | None = DEFAULT_LIMIT,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """The board for a user, newest first: posts created in the scope's period in its regions (and
    never outside the user's), with their timings and status at ``now``, filtered.

    ``author``: part of the author's name, any case; ``text``: found in title, body or competitor.
    ``user`` None reads as an operator without an account: nothing is unread or owed by them."""
    return _posts_query(
        db,
        user,
        scope,
        _now(now),
        direction=direction or None,
        category=category or None,
        status=status or None,
        author=(author or "").strip() or None,
        text=_pattern(text),
        owed_by_me=bool(owed_by_me),
        unread_only=bool(unread_only),
        limit=limit,
    )


def _plain(value: Any) -> Any:
    """A plain Python value: NaT/NaN to None, timestamps to datetime, numpy numbers to Python."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or (not hasattr(value, "__len__") and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def _post_regions(db: Database, post_id: int) -> list[int]:
    return [
        r for (r,) in db.rows("SELECT region_id FROM post_regions WHERE post_id = ? ORDER BY 1", [post_id])
    ]


def _thread(db: Database, post_id: int, direction: str, now: dt.datetime) -> list[dict[str, Any]]:
    """The post's replies, closes, reopens and acknowledgements (one item per acknowledging tap),
    oldest first: kind, name, side, at, body, outcome, region_ids (of an acknowledgement)."""
    rows = db.rows(
        """
        SELECT kind, name, side, event_at, body, outcome, region_ids FROM (
            SELECT r.kind, coalesce(u.display_name, pe.name, r.name) AS name, r.side,
                   r.created_at AS event_at, r.body, r.outcome, NULL::INTEGER[] AS region_ids,
                   r.reply_id AS id
            FROM post_replies r
            LEFT JOIN users u ON u.user_id = r.user_id
            LEFT JOIN people pe ON pe.person_id = r.person_id
            WHERE r.post_id = $post AND r.created_at <= $now
            UNION ALL
            SELECT 'ack', coalesce(any_value(u.display_name), any_value(pe.name), any_value(a.name)),
                   $acker, a.acked_at, '', NULL, list(a.region_id ORDER BY a.region_id), 0
            FROM post_acks a
            LEFT JOIN users u ON u.user_id = a.user_id
            LEFT JOIN people pe ON pe.person_id = a.person_id
            WHERE a.post_id = $post AND a.acked_at <= $now
            GROUP BY a.acked_at, a.user_id, a.person_id
        ) ORDER BY event_at, id
        """,
        {"post": post_id, "now": now, "acker": OWED_BY[direction]},
    )
    names = ("kind", "name", "side", "at", "body", "outcome", "region_ids")
    return [dict(zip(names, (_plain(v) for v in row), strict=True)) for row in rows]


def _acks(db: Database, post_id: int, now: dt.datetime) -> list[dict[str, Any]]:
    rows = db.rows(
        """
        SELECT pr.region_id, g.name_zh, g.name_en,
               CASE WHEN a.acked_at <= $now THEN coalesce(u.display_name, pe.name, a.name) END,
               CASE WHEN a.acked_at <= $now THEN a.acked_at END
        FROM post_regions pr
        JOIN regions g ON g.region_id = pr.region_id
        LEFT JOIN post_acks a ON a.post_id = pr.post_id AND a.region_id = pr.region_id
        LEFT JOIN users u ON u.user_id = a.user_id
        LEFT JOIN people pe ON pe.person_id = a.person_id
        WHERE pr.post_id = $post
        ORDER BY pr.region_id
        """,
        {"post": post_id, "now": now},
    )
    names = ("region_id", "region_zh", "region_en", "acked_by", "acked_at")
    return [dict(zip(names, row, strict=True)) for row in rows]


def post_detail(db: Database, user: User, post_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything about one post for the user: a posts() row with the full body, the names of what
    it links to, its thread, acknowledgements per region, photo ids and what the user may do.
    PostNotFound for an unknown id; AccessDenied outside the user's regions."""
    now = _now(now)
    created = db.scalar("SELECT created_at FROM posts WHERE post_id = ?", [post_id])
    if created is None:
        raise PostNotFound(post_id)
    regions = _post_regions(db, post_id)
    if not _sees(user, regions):
        raise AccessDenied(f"{user.username} may not see post {post_id}")
    day = created.date()
    frame = _posts_query(db, user, Scope(day, day + dt.timedelta(days=1)), now, post_id=post_id)
    detail = {name: _plain(value) for name, value in frame.iloc[0].items()}
    body, close_note, promotion_zh, promotion_en = db.rows(
        "SELECT p.body, p.close_note, m.title_zh, m.title_en FROM posts p"
        " LEFT JOIN promotions m ON m.promotion_id = p.promotion_id WHERE p.post_id = ?",
        [post_id],
    )[0]
    closed = detail["status"] == "closed"
    own = _own(user, regions)
    acks = _acks(db, post_id, now)
    acked = {a["region_id"] for a in acks if a["acked_at"] is not None}
    direction = str(detail["direction"])
    detail.update(
        body=body,
        close_note=close_note if closed else None,
        promotion_title_zh=promotion_zh,
        promotion_title_en=promotion_en,
        thread=_thread(db, post_id, direction, now),
        acks=acks,
        photo_ids=[
            r for (r,) in db.rows("SELECT photo_id FROM post_photos WHERE post_id = ? ORDER BY 1", [post_id])
        ],
        can_reply=user.can(_ANSWER) and not closed,
        # a plan is acknowledged region by region; a field report needs it only until it is answered
        can_ack=_may_acknowledge(user, direction)
        and not closed
        and any(r not in acked for r in own)
        and (direction == "plan" or detail["first_response_at"] is None),
        can_close=_may_close(user, direction) and not closed,
        can_reopen=_may_close(user, direction) and closed,
    )
    return detail


def photo(db: Database, user: User, photo_id: int) -> tuple[str, bytes]:
    """One stored photo (mime type, bytes); AccessDenied when its post is outside the user's regions."""
    found = db.rows("SELECT post_id, mime, bytes FROM post_photos WHERE photo_id = ?", [photo_id])
    if not found:
        raise PostNotFound(photo_id)
    post_id, mime, data = found[0]
    if not _sees(user, _post_regions(db, post_id)):
        raise AccessDenied(f"{user.username} may not see photo {photo_id}")
    return str(mime), bytes(data)


def counts(
    db: Database, user: User | None, scope: Scope, *, now: dt.datetime | None = None
) -> dict[str, int]:
    """How many posts of the scope are open, overdue, answered and closed, unread by the user and
    owed by them, overdue answers (= overdue) and plans some addressed region has not acknowledged."""
    query = f"""
        SELECT count(*) FILTER (WHERE status = 'open'),
               count(*) FILTER (WHERE status = 'overdue'),
               count(*) FILTER (WHERE status = 'answered'),
               count(*) FILTER (WHERE status = 'closed'),
               count(*) FILTER (WHERE unread),
               count(*) FILTER (WHERE owed_by_me),
               count(*) FILTER (WHERE direction = 'plan' AND needs_ack AND acks_missing > 0
                                        AND status <> 'closed')
        FROM ({_with_facts("board_posts")}) shown
    """  # named query files only; every value is a bound parameter
    params = {
        **_facts_params(scope, _now(now), user, pending=True),
        **_viewer(user),
        **dict.fromkeys(("post_id", "direction", "category", "status", "author", "text", "limit")),
        "owed_by_me": False,
        "unread_only": False,
    }
    found = db.rows(query, params)[0]
    names = ("open", "overdue", "answered", "closed", "unread", "owed_by_me", "unacknowledged_plans")
    result = {name: int(value) for name, value in zip(names, found, strict=True)}
    result["overdue_answers"] = result["overdue"]
    return result


# -- response metrics ---------------------------------------------------------------------------
def response_summary(db: Database, scope: Scope, *, now: dt.datetime | None = None) -> pd.DataFrame:
    """Per direction (field, plan): posts, answered, median_hours, p90_hours, within_target
    (answered by due_at over posts answered or past due), overdue_now."""
    return db.query(_with_facts("board_response_summary"), _facts_params(scope, _now(now)))


def response_by(
    db: Database, scope: Scope, dimension: str, *, now: dt.datetime | None = None
) -> pd.DataFrame:
    """First-response times per direction and region or category (groups with posts): direction,
    key, name_zh, name_en, posts, median_hours, p90_hours, within_target."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {DIMENSIONS}, not {dimension!r}")
    params = _facts_params(scope, _now(now))
    if dimension == "category":
        return db.query(
            _with_facts("board_response_by_category"),
            {**params, "order": [*FIELD_CATEGORIES, *PLAN_CATEGORIES]},
        )
    return db.query(_with_facts("board_response_by_region"), params)


def response_trend(db: Database, scope: Scope, *, now: dt.datetime | None = None) -> pd.DataFrame:
    """Per month of the trend window (scope.trend_scope) and direction: posts, median_hours, within_target."""
    return db.query(_with_facts("board_response_trend"), _facts_params(trend_scope(scope), _now(now)))


def field_volume(db: Database, scope: Scope) -> pd.DataFrame:
    """Field reports per region in scope and field category, every pair present (0 where none):
    region_id, name_zh, name_en, category, reports."""
    return db.query(sql("board_field_volume"), {**scope.params(), "order": list(FIELD_CATEGORIES)})


def silent_regions(
    db: Database, scope: Scope, *, days: int = 14, now: dt.datetime | None = None
) -> pd.DataFrame:
    """Regions in scope that stopped reporting: no field report in the ``days`` before now, but some
    in the 90 days before that. region_id, name_zh, name_en, last_report_at, days_silent."""
    return db.query(
        sql("board_silent_regions"), {"regions": scope.region_ids(), "now": _now(now), "days": int(days)}
    )


def competitor_intel(db: Database, scope: Scope) -> pd.DataFrame:
    """Posts naming a competitor, grouped by competitor (trimmed, any case), most posts first:
    competitor, posts, last_at, regions, regions_en, latest_title, latest_post_id."""
    return db.query(sql("board_competitor_intel"), scope.params())


def collaboration(db: Database, scope: Scope, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The kpis --json "collaboration" object: median first-response hours over both directions
    (None if none) and the share answered within target, for posts of the period; overdue answers
    and unacknowledged plans as the overview counts them (what is still owed, see counts)."""
    now = _now(now)
    query = f"""
        WITH facts AS ({sql("board_facts")})
        SELECT median(response_hours),
               count(*) FILTER (WHERE within_target) / nullif(count(within_target), 0)
        FROM facts
    """  # a named query file only; every value is a bound parameter
    hours, share = db.rows(query, _facts_params(scope, now))[0]
    owed = counts(db, None, scope, now=now)
    return {
        "response_hours": None if hours is None else float(hours),
        "response_within_target": None if share is None else float(share),
        "overdue_answers": owed["overdue_answers"],
        "unacknowledged_plans": owed["unacknowledged_plans"],
    }
