"""The page registry and the guard every page calls first.

With a folder named pages/ beside st.navigation, the first session after a server start can be
offered every page's script by Streamlit's old auto-discovery. A page therefore runs only when
app.py's navigation chose it in this same script run (ENGINEERING-NOTES: guard each page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from mktsales.config import ROOT
from mktsales.i18n import t

_CHOSEN = "_mktsales_nav_page"


@dataclass(frozen=True)
class PageSpec:
    """One page of the app."""

    key: str
    path: str
    icon: str
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "pages/overview.py", ":material/dashboard:", default=True),
    PageSpec("definitions", "pages/definitions.py", ":material/menu_book:"),
)


def navigation(lang: str) -> Any:
    """Build st.navigation over the registry, titles in ``lang``; returns the page to run."""
    pages = [  # absolute paths: the pages resolve the same whichever script started the app
        st.Page(ROOT / p.path, title=t(f"nav.{p.key}", lang), icon=p.icon, url_path=p.key, default=p.default)
        for p in PAGES
    ]
    legacy = bool(PagesManager.uses_pages_directory)
    page = st.navigation(pages)
    if legacy:
        _leave_legacy_mode()
    return page


def _leave_legacy_mode() -> NoReturn:
    """Rerun at once in st.navigation mode.

    With a folder named pages/, Streamlit runs the first session after a start in its legacy
    mode. There, widget ids differ from every later run, so the user's first click reached no
    widget and reset it (seen: the language switch fell back to None). A deep link such as
    /definitions is worse: Streamlit runs the page file itself without app.py, and every later
    session stays in legacy mode. Clearing the flag is what st.navigation itself does.
    """
    PagesManager.uses_pages_directory = False
    st.rerun()


def mark_chosen(url_path: str) -> None:
    """Called by app.py just before it runs the page navigation chose."""
    st.session_state[_CHOSEN] = url_path or next(p.key for p in PAGES if p.default)


def guard(key: str, lang: str) -> None:
    """Stop the page unless app.py's navigation chose it in this run (one use per run)."""
    if st.session_state.pop(_CHOSEN, None) == key:
        return
    if PagesManager.uses_pages_directory:  # Streamlit ran this file itself, skipping app.py
        _leave_legacy_mode()
    st.warning(t("nav.guard", lang))
    st.stop()
