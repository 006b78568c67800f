"""The shared-information board's views: counts, the two lanes, one post with its thread, the
posting form, response metrics and competitor intelligence. Data comes from mktsales.board."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from mktsales import board, charts, config, forms, i18n, uploads
from mktsales.access import User
from mktsales.db import Database
from mktsales.i18n import LANGS, t
from mktsales.scope import Scope
from mktsales.ui import data, fields, filters, widgets
from mktsales.ui.text import md

OPEN_KEY = "board.open"  # the post shown in full, instead of the lanes
POST = "board.post."  # prefix of the posting form's values
LANE_SIZE = 20  # cards per lane before "show more"
STATUS_COLOURS = {"open": "orange", "overdue": "red", "answered": "blue", "closed": "gray"}
VIEWS = ("lanes", "post", "metrics", "competitors")


@dataclass
class Board:
    """What every view of the page needs."""

    db: Database
    user: User
    lang: str
    scope: Scope
    now: dt.datetime  # for what is read and cached, to the end of the minute; writes take config.now()
    region_names: dict[int, str]
    export: widgets.Export  # the downloads under every table

    def category(self, code: str) -> str:
        return t(f"post_category.{code}", self.lang)

    def table(
        self, frame: pd.DataFrame, name: str, shown: Any = None, *, scoped: bool = True, **kwargs: Any
    ) -> None:
        """A data table of the board with its downloads (file name and widget keys from ``name``)."""
        self.export.table(frame, name, self.lang, f"board.{name}", shown, scoped=scoped, **kwargs)


def when(value: Any, lang: str) -> str:
    """A timestamp as the board shows it: 11-25 14:05 this year, 2025-11-25 14:05 before."""
    if value is None or pd.isna(value):
        return "—"
    stamp = pd.Timestamp(value)
    return stamp.strftime("%m-%d %H:%M" if stamp.year == config.today().year else "%Y-%m-%d %H:%M")


def _late_by(due: Any, now: dt.datetime) -> float:
    return max(0.0, (now - pd.Timestamp(due).to_pydatetime()).total_seconds() / 3600)


def status_badge(status: str, lang: str) -> str:
    """A post's status as a coloured badge (markdown)."""
    return f":{STATUS_COLOURS[status]}-badge[{t('post_status.' + status, lang)}]"


def timing(row: Any, board_: Board) -> str:
    """The clock of a post in one phrase: answered in 2.5 h, overdue by 3 h, due by 11-25 18:00."""
    lang = board_.lang
    if row["first_response_at"] is not None and not pd.isna(row["first_response_at"]):
        text = t("boardpage.answered_in", lang, hours=i18n.hours(row["response_hours"], lang))
        if row.get("acks_missing"):
            text += " · " + t("boardpage.acks_missing", lang, n=int(row["acks_missing"]))
        return text
    if row["status"] == "overdue" or row.get("overdue"):
        return t("boardpage.overdue_by", lang, hours=i18n.hours(_late_by(row["due_at"], board_.now), lang))
    return t("boardpage.due_by", lang, time=when(row["due_at"], lang))


# -- the counts strip ---------------------------------------------------------------------------
def count_strip(counts: dict[str, int], lang: str) -> None:
    """Four numbers a user acts on: unread, owed by me, overdue, plans not yet acknowledged.
    Sized to their content, so all four fit one row of a phone."""
    with st.container(horizontal=True, gap="small"):
        for name in ("unread", "owed_by_me", "overdue_answers", "unacknowledged_plans"):
            st.metric(
                t(f"boardpage.count.{name}", lang),
                i18n.count(counts.get(name, 0), lang),
                border=True,
                help=t(f"boardpage.count_help.{name}", lang),
                width="content",
            )


# -- the lanes ---------------------------------------------------------------------------------
# The board's own filters as lane_filters returns them when nothing is chosen.
NO_FILTERS: dict[str, Any] = {
    "status": None,
    "category": None,
    "text": None,
    "author": None,
    "unread_only": False,
    "owed_by_me": False,
}


def lane_filters(b: Board) -> dict[str, Any]:
    """The board's own filters (the sidebar's period, regions and categories apply too)."""
    lang = b.lang
    codes = tuple(dict.fromkeys((*board.FIELD_CATEGORIES, *board.PLAN_CATEGORIES)))
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        status = filters.page_choice(
            st.segmented_control,
            "board.status",
            None,
            lang,
            t("boardpage.status", lang),
            board.STATUSES,
            format_func=lambda s: t(f"post_status.{s}", lang),
            help=t("boardpage.status_help", lang),
        )
        category = filters.page_choice(
            st.selectbox,
            "board.category",
            None,
            lang,
            t("boardpage.category", lang),
            codes,
            format_func=b.category,
            index=None,
            placeholder=t("boardpage.all_categories", lang),
            width=220,
        )
    with st.container(horizontal=True, gap="medium"):
        unread = st.toggle(t("boardpage.unread_only", lang), key="board.unread_only")
        mine = st.toggle(t("boardpage.owed_by_me", lang), key="board.owed_by_me")
    searching = bool(st.session_state.get("board.text") or st.session_state.get("board.author"))
    with (
        st.expander(t("boardpage.more_filters", lang), icon=":material/search:", expanded=searching),
        st.container(horizontal=True, gap="small", vertical_alignment="bottom"),
    ):
        text = st.text_input(
            t("boardpage.search", lang),
            key="board.text",
            placeholder=t("boardpage.search_hint", lang),
            width=260,
        )
        author = st.text_input(t("boardpage.author", lang), key="board.author", width=160)
    return {
        "status": status,
        "category": category,
        "text": text.strip() or None,
        "author": author.strip() or None,
        "unread_only": unread,
        "owed_by_me": mine,
    }


def _open(post_id: int) -> None:
    st.session_state[OPEN_KEY] = post_id


def card(row: Any, b: Board, key: str) -> None:
    """One post as a card: what, where, who, and its clock; the button opens it."""
    lang = b.lang
    with st.container(border=True):
        badges = [status_badge(row["status"], lang)]
        if row["priority"] == "urgent":
            badges.insert(0, f":red-badge[:material/priority_high: {t('post_priority.urgent', lang)}]")
        badges.append(f":gray-badge[{b.category(row['category'])}]")
        if row["unread"]:
            badges.insert(0, f":violet-badge[{t('boardpage.unread', lang)}]")
        st.markdown(" ".join(badges))
        st.markdown(f"**{md(row['title'])}**")  # bold, and unread ones marked by their badge
        extras = []
        if row["replies"]:
            extras.append(t("boardpage.n_replies", lang, n=int(row["replies"])))
        if row["photos"]:
            extras.append(f":material/photo_camera: {int(row['photos'])}")
        st.caption(
            " · ".join(
                [
                    md(row[f"region_names_{lang}"]),
                    md(row["author_name"]),
                    when(row["created_at"], lang),
                    timing(row, b),
                    *extras,
                ]
            )
        )
        st.button(
            t("boardpage.open", lang),
            key=f"{key}.{row['post_id']}",
            on_click=_open,
            args=(int(row["post_id"]),),
            icon=":material/forum:",
            type="tertiary",
        )


def lane(b: Board, direction: str, found: pd.DataFrame) -> None:
    """One lane: its title, how many, and its newest cards."""
    lang = b.lang
    st.subheader(t(f"boardpage.lane.{direction}", lang))
    st.caption(t(f"boardpage.lane_help.{direction}", lang))
    if found.empty:
        st.info(t("boardpage.lane_empty", lang), icon=":material/inbox:")
        return
    more_key = f"board.more.{direction}"
    shown = st.session_state.get(more_key, LANE_SIZE)
    for row in found.head(shown).to_dict("records"):
        card(row, b, f"board.card.{direction}")
    if len(found) > shown:
        st.button(
            t("boardpage.more", lang, n=len(found) - shown),
            key=f"{more_key}.button",
            on_click=lambda: st.session_state.__setitem__(more_key, shown + LANE_SIZE),
            width="stretch",
        )


def lanes(b: Board) -> None:
    """Both lanes side by side (stacked on a phone), filtered."""
    chosen = lane_filters(b)
    left, right = st.columns(2, gap="medium")
    path, reads = str(config.db_path()), data.reads_marker(b.user)
    for column, direction in ((left, "field"), (right, "plan")):
        with column:
            found = data.board_lane(
                path, b.db.version(), reads, b.user, b.scope, b.now, direction, tuple(sorted(chosen.items()))
            )
            lane(b, direction, found)


# -- one post -----------------------------------------------------------------------------------
def _close_post() -> None:
    st.session_state.pop(OPEN_KEY, None)


def _refusal(exc: Exception, lang: str) -> None:
    if isinstance(exc, board.BoardInvalid):
        for problem in exc.problems:
            st.error(problem.message(lang), icon=":material/error:")
    elif isinstance(exc, board.BoardFailed):
        st.error(t(exc.key, lang), icon=":material/cloud_off:")
    else:
        st.error(t("boardpage.refused", lang), icon=":material/block:")


def detail(b: Board, post_id: int) -> None:
    """One post in full: text, photos, links, acknowledgements, the thread, and what the user may do."""
    lang = b.lang
    st.button(t("boardpage.back", lang), on_click=_close_post, icon=":material/arrow_back:", key="board.back")
    try:
        post = board.post_detail(b.db, b.user, post_id, now=config.now())
    except (PermissionError, KeyError, LookupError):
        st.warning(t("boardpage.not_found", lang), icon=":material/search_off:")
        return
    board.mark_read(b.db, b.user, post_id, now=config.now())
    flash(lang)
    badges = [status_badge(post["status"], lang)]
    if post["priority"] == "urgent":
        badges.insert(0, f":red-badge[:material/priority_high: {t('post_priority.urgent', lang)}]")
    badges.append(
        ":gray-badge["
        + t("post_direction." + post["direction"], lang)
        + " · "
        + b.category(post["category"])
        + "]"
    )
    st.markdown(" ".join(badges))
    st.subheader(md(post["title"]))
    st.caption(
        " · ".join(
            [
                md(post[f"region_names_{lang}"]),
                md(post["author_name"]),
                when(post["created_at"], lang),
                timing(post, b),
            ]
        )
    )
    st.text(post["body"], width="stretch")  # as typed: no markdown, line breaks kept
    links = _links(post, lang)
    if links:
        st.caption(" · ".join(links))
    photos = post.get("photo_ids") or []
    if photos:
        columns = st.columns(min(len(photos), 3))
        for column, photo_id in zip(columns, photos, strict=False):
            _, data = board.photo(b.db, b.user, photo_id)
            column.image(data, width="stretch")
    if post.get("needs_ack"):
        _acks(b, post)
    _thread(post, lang)
    _actions(b, post)


def _links(post: dict[str, Any], lang: str) -> list[str]:
    links = []
    if post.get("customer_name"):
        links.append(f"{t('boardpage.customer', lang)}: {md(post['customer_name'])}")
    product = post.get(f"product_name_{lang}")
    if product:
        links.append(f"{t('boardpage.product', lang)}: {md(product)}")
    if post.get("competitor"):
        links.append(f"{t('boardpage.competitor', lang)}: {md(post['competitor'])}")
    if post.get("promotion_id"):
        title = post.get(f"promotion_title_{lang}") or f"#{post['promotion_id']}"
        links.append(f"{t('boardpage.promotion', lang)}: {md(title)}")
    return links


def _acks(b: Board, post: dict[str, Any]) -> None:
    """Which regions have acknowledged a plan, by whom and when."""
    lang = b.lang
    st.markdown(f"**{t('boardpage.acks', lang)}**")
    rows = [
        {
            t("boardpage.region", lang): a[f"region_{lang}"],
            t("boardpage.acked", lang): (
                f"✓ {a['acked_by']} · {when(a['acked_at'], lang)}"
                if a.get("acked_at") is not None
                else "✗ " + t("boardpage.not_acked", lang)
            ),
        }
        for a in post["acks"]
    ]
    b.table(pd.DataFrame(rows), f"post{int(post['post_id'])}-acks", scoped=False)


def _thread(post: dict[str, Any], lang: str) -> None:
    thread = post.get("thread") or []
    st.markdown(f"**{t('boardpage.thread', lang, n=len(thread))}**")
    if not thread:
        st.caption(t("boardpage.no_replies", lang))
    for item in thread:
        side_code = item.get("side") or "admin"  # an admin may close or reopen any post
        avatar = {"marketing": ":material/campaign:", "sales": ":material/storefront:"}.get(
            side_code, ":material/admin_panel_settings:"
        )
        with st.chat_message(side_code, avatar=avatar):
            side = t("side." + side_code, lang)
            head = f"**{md(item['name'])}** · {side} · {when(item['at'], lang)}"
            if item["kind"] != "reply":
                head += " · :blue-badge[" + t("thread_kind." + item["kind"], lang) + "]"
            st.markdown(head)
            if item["kind"] == "close" and item.get("outcome"):
                st.markdown("*" + t("post_outcome." + item["outcome"], lang) + "*")
            if item.get("body"):
                st.text(str(item["body"]), width="stretch")  # as typed: no markdown


def _actions(b: Board, post: dict[str, Any]) -> None:
    lang = b.lang
    post_id = int(post["post_id"])
    if post.get("can_ack") and st.button(
        t("boardpage.ack_plan" if post["direction"] == "plan" else "boardpage.ack", lang),
        type="primary",
        icon=":material/done_all:",
        key=f"board.ack.{post_id}",
        width="stretch",
    ):
        _run(lambda: board.acknowledge(b.db, b.user, post_id, now=config.now()), "boardpage.acked_done", lang)
    if post.get("can_reply"):
        with st.form(f"board.reply.{post_id}", clear_on_submit=True, border=False):
            body = st.text_area(t("boardpage.reply", lang), height=90, max_chars=4000)
            sent = st.form_submit_button(t("boardpage.send", lang), icon=":material/send:", width="stretch")
        if sent:
            key = hashlib.sha256(f"{post_id}|{b.user.user_id}|{body}|{_nonce('reply')}".encode()).hexdigest()
            _run(
                lambda: board.reply(b.db, b.user, post_id, body, key=key, now=config.now()),
                "boardpage.replied",
                lang,
            )
    if post.get("can_close"):
        with st.expander(t("boardpage.close", lang), icon=":material/task_alt:"):
            with st.form(f"board.close.{post_id}", border=False):
                outcome = st.radio(
                    t("boardpage.outcome", lang),
                    board.OUTCOMES,
                    format_func=lambda o: t(f"post_outcome.{o}", lang),
                    horizontal=True,
                )
                note = st.text_area(
                    t("boardpage.outcome_note", lang),
                    height=80,
                    placeholder=t("boardpage.outcome_note_hint", lang),
                )
                done = st.form_submit_button(t("boardpage.close_button", lang), type="primary")
            if done:
                _run(
                    lambda: board.close(b.db, b.user, post_id, outcome, note, now=config.now()),
                    "boardpage.closed",
                    lang,
                )
    if post.get("can_reopen") and st.button(
        t("boardpage.reopen", lang), icon=":material/undo:", key=f"board.reopen.{post_id}"
    ):
        _run(lambda: board.reopen(b.db, b.user, post_id, now=config.now()), "boardpage.reopened", lang)


def _nonce(name: str) -> str:
    return st.session_state.setdefault(f"board.nonce.{name}", forms.new_key())


ACTIONS = fields.Actions("board.flash", (board.BoardInvalid, board.BoardFailed, PermissionError), _refusal)
flash = ACTIONS.flash


def _run(action: Callable[[], Any], done: str, lang: str) -> None:
    """Do one action on a post (a new reply starts with a new key afterwards)."""
    ACTIONS.run(action, done, lang, forget=("board.nonce.reply",))


# -- posting ---------------------------------------------------------------------------------------
def direction_for(user: User) -> str | None:
    """Sales post field reports, marketing posts plans; others read only."""
    for direction in ("field", "plan"):
        if board.can_post(user, direction):
            return direction
    return None


def form_state(lang: str) -> fields.FormState:
    return fields.FormState(POST, lang)


def clear_form() -> None:
    fields.FormState(POST, "zh").clear()


@dataclass(frozen=True)
class Choices:
    """The lists the posting form offers, all within the user's regions."""

    regions: dict[int, str]
    customers: pd.DataFrame | None
    products: dict[int, str]
    promotions: dict[int, str]


def post_form(b: Board, choices: Choices) -> None:
    """The posting form, phone first: category, region, title and text; the rest optional."""
    lang = b.lang
    direction = direction_for(b.user)
    if direction is None:
        st.info(t("boardpage.read_only", lang), icon=":material/visibility:")
        return
    posted = st.session_state.get(POST + "posted")
    if posted is not None:
        st.success(t("boardpage.posted", lang, due=when(posted.due_at, lang)), icon=":material/check_circle:")
        left, right = st.columns(2)
        left.button(
            t("boardpage.open_posted", lang),
            on_click=lambda: (_open(posted.post_id), _show("lanes")),
            width="stretch",
            key="board.posted.open",
        )
        right.button(
            t("boardpage.post_another", lang), on_click=clear_form, width="stretch", key="board.posted.new"
        )
        return
    st.caption(t(f"boardpage.post_help.{direction}", lang))
    form = form_state(lang)
    form.problems("")
    failed = st.session_state.get(POST + "failed")
    if failed:
        st.error(t(failed, lang), icon=":material/cloud_off:")
    with st.container(border=True):
        values = _post_fields(b, form, direction, choices)
        submitted = st.button(
            t("boardpage.submit", lang),
            type="primary",
            width="stretch",
            icon=":material/send:",
            key="board.post.submit",
        )
    if submitted:
        submit(b, direction, values)


def _post_fields(b: Board, form: fields.FormState, direction: str, choices: Choices) -> dict[str, Any]:
    lang = b.lang
    _field = form.field
    category = _field(
        "category",
        st.selectbox,
        t("boardpage.category", lang),
        board.categories_for(direction),
        format_func=b.category,
        index=None,
        placeholder=t("boardpage.choose", lang),
    )
    regions = list(choices.regions)
    if direction == "field":
        region = _field(
            "region",
            st.selectbox,
            t("boardpage.region", lang),
            regions,
            format_func=choices.regions.get,
            default=regions[0] if regions else None,
        )
        chosen_regions = [region] if region is not None else []
    else:
        chosen_regions = _field(
            "regions",
            st.multiselect,
            t("boardpage.regions", lang),
            regions,
            format_func=choices.regions.get,
            default=[],
            placeholder=t("boardpage.choose_regions", lang),
        )
    urgent = _field(
"urgent",
st.toggle, t("boardpage.urgent", lang), default=False,
                    help=t("boardpage.urgent_help", lang))  # fmt: skip
    title = _field("title", st.text_input, t("boardpage.title_field", lang), default="", max_chars=120)
    body = _field(
        "body",
        st.text_area,
        t("boardpage.body", lang),
        default="",
        height=120,
        max_chars=4000,
        placeholder=t(f"boardpage.body_hint.{direction}", lang),
    )
    competitor = None
    if category == "competitor":
        competitor = _field(
            "competitor", st.text_input, t("boardpage.competitor", lang), default="", max_chars=100
        )
    needs_ack = False
    if direction == "plan":
        needs_ack = _field(
            "needs_ack",
            st.checkbox, t("boardpage.needs_ack", lang), default=True,
            help=t("boardpage.needs_ack_help", lang),
        )  # fmt: skip
    photos = _photos(form, lang)
    with st.expander(t("boardpage.more_fields", lang), icon=":material/link:"):
        customers = choices.customers
        if customers is not None and not customers.empty:
            names = dict(zip(customers["customer_id"], customers["name"], strict=True))
            customer = _field(
                "customer_id",
                st.selectbox, t("boardpage.customer", lang), list(names),
                format_func=names.get, index=None, placeholder=t("boardpage.optional", lang),
            )  # fmt: skip
        else:
            customer = None
        product = _field(
            "product_id",
            st.selectbox, t("boardpage.product", lang), list(choices.products),
            format_func=choices.products.get, index=None, placeholder=t("boardpage.optional", lang),
        )  # fmt: skip
        promotion = _field(
            "promotion_id",
            st.selectbox, t("boardpage.promotion", lang), list(choices.promotions),
            format_func=choices.promotions.get, index=None, placeholder=t("boardpage.optional", lang),
        )  # fmt: skip
        if category != "competitor":
            competitor = _field(
                "competitor", st.text_input, t("boardpage.competitor", lang), default="", max_chars=100
            )
    return {
        "category": category,
        "regions": chosen_regions,
        "priority": "urgent" if urgent else "normal",
        "title": title or "",
        "body": body or "",
        "competitor": (competitor or "").strip() or None,
        "needs_ack": bool(needs_ack),
        "customer_id": customer,
        "product_id": product,
        "promotion_id": promotion,
        "photos": photos,
    }


def _photos(form: fields.FormState, lang: str) -> list[board.Photo]:
    """Photos from the phone's camera or from files; checked by the board when the post is saved."""
    files = st.file_uploader(
        t("boardpage.photos", lang),
        accept_multiple_files=True,
        max_upload_size=uploads.PHOTO_MB,
        key=POST + "files",
        help=t("boardpage.photos_help", lang, n=board.MAX_PHOTOS, mb=board.MAX_PHOTO_BYTES // (1024 * 1024)),
    )
    form.problems("photos")
    photos = [board.Photo(f.name, f.getvalue()) for f in files or []]
    if st.toggle(t("boardpage.camera", lang), key=POST + "camera_on"):
        shot = st.camera_input(t("boardpage.camera_take", lang), key=POST + "camera")
        if shot is not None:
            photos.append(board.Photo(shot.name or "camera.jpg", shot.getvalue()))
    return photos


def follow_link(views: list[str]) -> None:
    """Open what a link asked for (?view=post, ?status=overdue, ?post=12), once: the address is
    cleared so the user's own choices win afterwards."""
    params = st.query_params
    if params.get("view") in views:
        _show(params["view"])
    if params.get("status") in board.STATUSES:
        st.session_state["board.status"] = params["status"]
        for lang in LANGS:
            st.session_state.pop(f"board.status.{lang}", None)
        _show("lanes")
    if "post" in params:  # a number that names nothing (0) shows "not found", never an error
        _open(filters.link_number(params["post"]) or 0)
        _show("lanes")
    for name in ("view", "status", "post"):
        if name in params:
            del params[name]


def _show(view: str) -> None:
    st.session_state["board.view"] = view
    for lang in LANGS:
        st.session_state.pop(f"board.view.{lang}", None)


def submit(b: Board, direction: str, values: dict[str, Any]) -> None:
    """Save the post once; keep every typed value when it is refused."""
    form = form_state(b.lang)
    state = st.session_state
    shown = {k: v for k, v in values.items() if k != "photos"}
    shown["photos"] = [p.data for p in values["photos"]]
    state.pop(POST + "failed", None)
    try:
        posted = board.post(
            b.db, b.user, key=form.idempotency_key(shown), direction=direction, now=config.now(), **values
        )
    except board.BoardInvalid as invalid:
        known = ("category", "region", "regions", "title", "body", "competitor", "customer_id", "product_id",
                 "promotion_id", "photos")  # fmt: skip
        form.refuse(invalid.problems, known, {"regions": "region"} if direction == "field" else None)
    except board.BoardFailed as failed:
        state[POST + "failed"] = failed.key
    else:
        state[POST + "posted"] = posted
        form.accepted(("title", "body", "competitor", "category", "urgent", "files", "camera_on", "camera",
                       "customer_id", "product_id", "promotion_id"))  # fmt: skip
    st.rerun()


# -- metrics ---------------------------------------------------------------------------------------
def metrics(b: Board) -> None:
    """How fast each side answers, where, about what, over time; and who has gone quiet."""
    lang = b.lang
    summary = board.response_summary(b.db, b.scope, now=b.now)
    st.caption(t("boardpage.metrics_help", lang))
    columns = st.columns(2)
    for column, direction in zip(columns, ("field", "plan"), strict=True):
        rows = summary.loc[summary["direction"] == direction].to_dict("records")
        row = rows[0] if rows else {}
        with column.container(border=True):
            st.markdown(f"**{t(f'boardpage.metrics_lane.{direction}', lang)}**")
            with st.container(horizontal=True, gap="small"):
                st.metric(t("boardpage.median_hours", lang), i18n.hours(_num(row.get("median_hours")), lang))
                st.metric(t("boardpage.p90_hours", lang), i18n.hours(_num(row.get("p90_hours")), lang))
                st.metric(
                    t("boardpage.within_target", lang), i18n.percent(_num(row.get("within_target")), lang)
                )
                st.metric(t("boardpage.overdue_now", lang), i18n.count(row.get("overdue_now") or 0, lang))
            st.caption(
                t(
                    "boardpage.n_posts",
                    lang,
                    n=int(row.get("posts") or 0),
                    answered=int(row.get("answered") or 0),
                )
            )

    silent = board.silent_regions(b.db, b.scope, now=b.now)
    if not silent.empty:
        rows = silent.to_dict("records")
        names = ", ".join(f"{md(r[f'name_{lang}'])} ({int(r['days_silent'])})" for r in rows)
        st.warning(t("boardpage.silent", lang, regions=names), icon=":material/notifications_off:")

    by_region = board.response_by(b.db, b.scope, "region", now=b.now)
    st.plotly_chart(charts.response_by_region(by_region, lang), key="board.by_region")
    trend = board.response_trend(b.db, b.scope, now=b.now)
    st.plotly_chart(charts.response_trend(trend, lang), key="board.trend")
    by_category = board.response_by(b.db, b.scope, "category", now=b.now)
    st.markdown(f"**{t('boardpage.by_category', lang)}**")
    by_category = _category_table(by_category, lang)
    b.table(by_category, "response-by-category", _category_formats(by_category, lang))
    volume = board.field_volume(b.db, b.scope)
    st.plotly_chart(charts.field_volume(volume, lang), key="board.volume")
    st.caption(t("boardpage.volume_help", lang))
    if b.user.role in ("marketing_head", "sales_head", "admin"):
        targets_editor(b)


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _category_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Response times per direction and category: raw hours and shares (formatted on screen)."""
    return pd.DataFrame(
        {
            t("boardpage.direction", lang): [t(f"post_direction.{d}", lang) for d in frame["direction"]],
            t("boardpage.category", lang): [t(f"post_category.{c}", lang) for c in frame["key"]],
            t("boardpage.posts", lang): frame["posts"].astype(int),
            t("boardpage.median_hours", lang): [_num(v) for v in frame["median_hours"]],
            t("boardpage.p90_hours", lang): [_num(v) for v in frame["p90_hours"]],
            t("boardpage.within_target", lang): [_num(v) for v in frame["within_target"]],
        }
    )


def _category_formats(table: pd.DataFrame, lang: str) -> Any:
    """The category table as the screen shows it: hours and percentages in the user's language."""
    hours = lambda v: i18n.hours(_num(v), lang)  # noqa: E731
    return table.style.format(
        {
            t("boardpage.median_hours", lang): hours,
            t("boardpage.p90_hours", lang): hours,
            t("boardpage.within_target", lang): lambda v: i18n.percent(_num(v), lang),
        }
    )


def targets_editor(b: Board) -> None:
    """Heads and admins set the response target of a category and priority."""
    lang = b.lang
    with st.expander(t("boardpage.targets", lang), icon=":material/timer:"):
        current = board.targets(b.db)
        shown = pd.DataFrame(
            {
                t("boardpage.direction", lang): [
                    t(f"post_direction.{d}", lang) for d in current["direction"]
                ],
                t("boardpage.category", lang): [t(f"post_category.{c}", lang) for c in current["category"]],
                t("boardpage.priority", lang): [t(f"post_priority.{p}", lang) for p in current["priority"]],
                t("boardpage.target_hours", lang): current["hours"],
            }
        )
        b.table(shown, "response-targets", scoped=False)
        pairs = list(current[["direction", "category"]].drop_duplicates().itertuples(index=False, name=None))
        with st.form("board.target", border=False):
            pair = st.selectbox(
                t("boardpage.category", lang),
                pairs,
                format_func=lambda p: (
                    f"{t(f'post_direction.{p[0]}', lang)} · {t(f'post_category.{p[1]}', lang)}"
                ),
            )
            priority = st.radio(
                t("boardpage.priority", lang),
                board.PRIORITIES,
                format_func=lambda p: t(f"post_priority.{p}", lang),
                horizontal=True,
            )
            hours = st.number_input(
                t("boardpage.target_hours", lang), min_value=0.5, max_value=720.0, value=24.0
            )
            saved = st.form_submit_button(t("boardpage.save_target", lang))
        if saved:
            try:
                board.set_target(b.db, b.user, pair[0], pair[1], priority, float(hours))
            except (board.BoardInvalid, PermissionError) as exc:
                _refusal(exc, lang)
            else:
                st.success(t("boardpage.target_saved", lang), icon=":material/check_circle:")


# -- competitors ------------------------------------------------------------------------------------
def competitors(b: Board) -> None:
    """Competitor intelligence from the field, grouped by competitor."""
    lang = b.lang
    found = board.competitor_intel(b.db, b.scope)
    st.caption(t("boardpage.competitors_help", lang))
    if found.empty:
        st.info(t("boardpage.no_competitors", lang), icon=":material/inbox:")
        return
    last_at = t("boardpage.last_at", lang)
    table = pd.DataFrame(
        {
            t("boardpage.competitor", lang): found["competitor"],
            t("boardpage.posts", lang): found["posts"].astype(int),
            last_at: found["last_at"],
            t("boardpage.regions", lang): found["regions" if lang == "zh" else "regions_en"],
            t("boardpage.latest_title", lang): found["latest_title"],
        }
    )
    b.table(table, "competitors", table.style.format({last_at: lambda v: when(v, lang)}))
