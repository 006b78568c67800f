"""Cached access to the database for the pages. Cached results take the data version."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mktsales import accounts, config, kpis, reference
from mktsales.db import Database, DatabaseError
from mktsales.i18n import t
from mktsales.scope import Scope


def _close(db: Database) -> None:
    db.close()


@st.cache_resource(on_release=_close, show_spinner=False)
def database(path: str) -> Database:
    """The one connection per process; builds the demo database on first start."""
    db = Database(path)
    from mktsales import demo

    if demo.interrupted(db):  # a first start that was killed half way: start the demo again
        demo.clear(db)
    if db.is_empty():
        demo.build_demo(db, as_of=config.today())
    elif demo.is_demo(db) and not accounts.has_accounts(db):  # a demo built before accounts existed
        accounts.add_demo_accounts(db)
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
    except DatabaseError as exc:
        st.error(t("error.db_locked", lang, detail=exc))
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
