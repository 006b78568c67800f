"""Cached access to the database for the pages. Cached results take the data version."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from mktsales import backup_spool, board, config, entries, funnel, kpis, reference, upload_gate
from mktsales.access import User
from mktsales.db import Database, DatabaseDamaged, DatabaseError, is_damage
from mktsales.i18n import t
from mktsales.scope import Scope

log = logging.getLogger(__name__)


def _close(db: Database) -> None:
    upload_gate.detach(db)
    db.close()


@st.cache_resource(on_release=_close, show_spinner=False)
def database(path: str) -> Database:
    """The one connection per process; builds the demo database on first start."""
    db = Database(path)
    from mktsales.demo import upgrade  # numpy and the generator load here, not at import

    upgrade(db)  # builds, restarts or brings up to date the demo; a company's own database stays theirs
    backup_spool.serve(db)  # answer `python -m mktsales backup` while the app holds the file
    upload_gate.attach(db)  # uploads are allowed to the sessions this database knows (serve.py)
    return db


def open_database(lang: str) -> Database:
    """The app's database, with a spinner the first time (the demo build takes seconds).

    When another process holds the file, say so plainly and stop; the next rerun tries again
    (a failed cache_resource call is not cached).
    """
    path = str(config.db_path())
    try:
        with st.spinner(t("demo.building", lang)):
            return database(path)
    except DatabaseDamaged:  # the reason (DuckDB's, with the server's path) goes to the log only
        log.exception("the database file cannot be read")
        st.error(t("error.db_damaged", lang))
        st.stop()
    except DatabaseError as exc:
        st.error(t("error.db_locked", lang, detail=exc))
        st.stop()


@contextlib.contextmanager
def damage_guard(lang: str) -> Iterator[None]:
    """Around a script run: a file that opened but fails on a later read (a damaged block) shows
    the translated message instead of an error (issue 23); DuckDB's reason goes to the log."""
    try:
        yield
    except duckdb.Error as exc:
        if not is_damage(exc):
            raise
        log.error("the database file cannot be read: %s", exc)
        st.error(t("error.db_damaged", lang))
        st.stop()


@st.cache_data(max_entries=64, show_spinner=False)
def overview(path: str, version: int, scope: Scope) -> kpis.Overview:
    """Everything the overview shows; recomputed only when the data version changes."""
    return kpis.overview(database(path), scope)


@st.cache_data(max_entries=8, show_spinner=False)
def reference_data(path: str, version: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regions and categories."""
    db = database(path)
    return reference.regions(db), reference.categories(db)


@st.cache_data(max_entries=32, show_spinner=False)
def funnel_page(
    path: str, version: int, scope: Scope, cohort: bool, as_of: dt.datetime, target_hours: float
) -> dict[str, pd.DataFrame]:
    """Everything on the funnel page but the breakdown and the lead lists."""
    db = database(path)
    return {
        "stages": funnel.cohort_funnel(db, scope, as_of) if cohort else funnel.period_funnel(db, scope),
        "handoff": funnel.handoff(db, scope, as_of, target_hours),
        "waiting": funnel.waiting_mqls(db, scope, as_of, target_hours),
        "rejections": funnel.rejections(db, scope),
        "time": funnel.time_in_stage(db, scope),
        "trend": funnel.conversion_trend(db, scope),
    }


@st.cache_data(max_entries=32, show_spinner=False)
def funnel_breakdown(
    path: str, version: int, scope: Scope, by: str, cohort: bool, as_of: dt.datetime
) -> pd.DataFrame:
    """The funnel split by region, category, source or campaign, with the total row."""
    return funnel.breakdown(database(path), scope, by, cohort, as_of)


@st.cache_data(max_entries=8, show_spinner=False)
def stage_leads(
    path: str, version: int, scope: Scope, stage: str, cohort: bool, as_of: dt.datetime
) -> pd.DataFrame:
    """Every lead behind one stage of the funnel (the page shows the first rows, downloads all)."""
    return funnel.stage_leads(database(path), scope, stage, cohort, as_of, None)


@st.cache_data(max_entries=8, show_spinner=False)
def campaigns(path: str, version: int) -> pd.DataFrame:
    """Campaign names."""
    return reference.campaigns(database(path))


@st.cache_data(max_entries=64, show_spinner=False)
def entry_customers(path: str, version: int, user: User, today: dt.date) -> pd.DataFrame:
    """The customers a rep may enter for: their own first, the most recently contacted on top."""
    return entries.customers_for(database(path), user, today)


@st.cache_data(max_entries=8, show_spinner=False)
def products(path: str, version: int) -> pd.DataFrame:
    """Products with their list prices."""
    return reference.products(database(path))


@st.cache_data(max_entries=16, show_spinner=False)
def export_preview(path: str, version: int, kind: str, scope: Scope, lang: str, rows: int) -> pd.DataFrame:
    """The first rows of an export of ``kind`` (the data page draws it on every run of the page)."""
    from mktsales import importer

    return importer.export_frame(database(path), kind, scope, lang=lang, limit=rows)


@st.cache_data(max_entries=32, show_spinner=False)
def marketing_people(path: str, version: int, region_ids: list[int] | None) -> pd.DataFrame:
    """Marketing staff who can join a visit as its advisor."""
    return reference.marketing_people(database(path), region_ids)


@st.cache_data(max_entries=32, show_spinner=False)
def bookable_promotions(
    path: str, version: int, region_ids: list[int] | None, category_id: int | None, day: dt.date | None
) -> pd.DataFrame:
    """Promotions an order of this category on this day may be booked under."""
    return reference.bookable_promotions(database(path), region_ids, category_id, day)


@st.cache_data(max_entries=64, show_spinner=False)
def updatable_leads(path: str, version: int, user: User) -> pd.DataFrame:
    """The leads a rep can move on in their regions: waiting MQLs first, then the oldest."""
    return entries.updatable_leads(database(path), user)


# -- the board ---------------------------------------------------------------------------------------
# Reading a post changes no reported number, so it does not bump the data version; what a user has
# read is its own cache key (reads_marker), and "now" is taken to the end of its minute (minute).
def reads_marker(user: User) -> tuple[int, str]:
    """How many posts the user has read, and the last time: changes whenever they open a post."""
    count, last = database(str(config.db_path())).rows(
        "SELECT count(*), max(read_at) FROM post_reads WHERE user_id = ?", [user.user_id]
    )[0]
    return int(count), str(last)


def minute(now: dt.datetime) -> dt.datetime:
    """``now`` taken up to the end of its minute: the cached board counts everything done so far
    (a reply a second ago included), and a post may turn overdue on screen up to a minute early."""
    floor = now.replace(second=0, microsecond=0)
    return floor if floor == now else floor + dt.timedelta(minutes=1)


@st.cache_data(max_entries=128, show_spinner=False)
def board_counts(
    path: str, version: int, reads: tuple[int, str], user: User, scope: Scope, now: dt.datetime
) -> dict[str, int]:
    """The board's counts for the user (unread, owed by them, overdue, unacknowledged plans)."""
    return board.counts(database(path), user, scope, now=now)


@st.cache_data(max_entries=128, show_spinner=False)
def board_lane(
    path: str,
    version: int,
    reads: tuple[int, str],
    user: User,
    scope: Scope,
    now: dt.datetime,
    direction: str,
    filters: tuple[tuple[str, Any], ...],
) -> pd.DataFrame:
    """One lane of the board with the board's own filters (status, category, text, ...)."""
    return board.posts(database(path), user, scope, direction=direction, now=now, **dict(filters))
