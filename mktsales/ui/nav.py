"""The page registry and the guard every page calls first.

The page scripts live in app_pages/, not pages/: Streamlit would auto-discover a folder named
pages/ and run the first session after a server start in its legacy mode. A page still runs only
when app.py's navigation chose it in this same script run and the user's role may open it, so a
page script started any other way draws nothing (ENGINEERING-NOTES: guard each page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from mktsales.access import User
from mktsales.config import ROOT
from mktsales.i18n import t

_CHOSEN = "_mktsales_nav_page"


@dataclass(frozen=True)
class PageSpec:
    """One page of the app."""

    key: str
    path: str
    icon: str


# In sidebar order. A user's landing page is the first one their role may open.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "app_pages/overview.py", ":material/dashboard:"),
    PageSpec("funnel", "app_pages/funnel.py", ":material/filter_alt:"),
    PageSpec("entry", "app_pages/entry.py", ":material/edit_note:"),
    PageSpec("board", "app_pages/board.py", ":material/forum:"),
    PageSpec("promotions", "app_pages/promotions.py", ":material/sell:"),
    PageSpec("definitions", "app_pages/definitions.py", ":material/menu_book:"),
    PageSpec("users", "app_pages/users.py", ":material/manage_accounts:"),
    PageSpec("audit", "app_pages/audit.py", ":material/history:"),
    PageSpec("data", "app_pages/data.py", ":material/database:"),
    PageSpec("account", "app_pages/account.py", ":material/person:"),
)


def allowed(user: User | None) -> list[PageSpec]:
    """The pages ``user`` may open (none when signed out)."""
    return [p for p in PAGES if user is not None and user.can(f"page.{p.key}")]


def navigation(
    lang: str, user: User | None, sign_in: Callable[[], None], *, landing_at_root: bool = False
) -> Any:
    """Build st.navigation for this user, titles in ``lang``; returns the page to run.

    Signed out, every address shows the sign-in form (so a deep link works after signing in).
    Signed in, the sidebar lists only the role's pages; the address of any other page is kept
    but shows a refusal, so a typed or bookmarked URL never reaches a page outside the role.
    """
    mine = allowed(user)
    step = None  # the hidden page at "/" that leads to the landing page's own address
    if user is None:
        pages = [
            st.Page(
                sign_in,
                title=t("signin.title", lang),
                icon=":material/login:",
                default=True,
                url_path="signin",
            )
        ]
        pages += [
            st.Page(sign_in, title=t("signin.title", lang), url_path=p.key, visibility="hidden")
            for p in PAGES
        ]
    else:
        # Streamlit serves the default page at "/" only and calls its own address (/overview)
        # "not found", in English. So "/" is a hidden step to the landing page's address, and
        # every page, the landing page included, has one address that always works. The run
        # that sets the session cookie (just signed in) draws the landing page at "/" instead:
        # a switch would drop the cookie's script.
        landing = mine[0]  # every role has at least its account page
        pages = [  # absolute paths: the pages resolve the same whichever script started the app
            st.Page(
                ROOT / p.path,
                title=t(f"nav.{p.key}", lang),
                icon=p.icon,
                url_path=p.key,
                default=landing_at_root and p is landing,
            )
            for p in mine
        ]
        pages += [
            st.Page(_refused(p.key), title=t(f"nav.{p.key}", lang), url_path=p.key, visibility="hidden")
            for p in PAGES
            if p not in mine
        ]
        if not landing_at_root:
            step = st.Page(
                _to_landing(landing), title=pages[0].title, url_path="home", default=True, visibility="hidden"
            )
            pages.append(step)
    page = st.navigation(pages, position="sidebar" if user is not None else "hidden")
    if page is step:
        step.run()  # on to the landing page, before anything is drawn or checked
    return page


def _refused(key: str) -> Callable[[], None]:
    def refused() -> None:
        lang = st.session_state.get("lang") or "zh"
        st.error(t("access.page_refused", lang, page=t(f"nav.{key}", lang)), icon=":material/block:")

    refused.__name__ = f"refused_{key}"
    return refused


def _to_landing(landing: PageSpec) -> Callable[[], None]:
    """The app's root: on to the user's landing page with the address's parameters as they
    are, so the landing page checks them (a forged region is refused there, not lost here)."""

    def to_landing() -> None:
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        st.switch_page(ROOT / landing.path, query_params=params)

    return to_landing


def mark_chosen(page: Any, user: User | None) -> None:
    """Called by app.py just before it runs the page navigation chose."""
    mine = allowed(user)
    st.session_state[_CHOSEN] = page.url_path or (mine[0].key if mine else None)


def guard(key: str, lang: str) -> User:
    """Stop the page unless app.py's navigation chose it in this run (one use per run) and the
    signed-in user's role may open it. Returns that user."""
    chosen = st.session_state.pop(_CHOSEN, None) == key
    user = st.session_state.get("user")
    if chosen and user is not None and user.can(f"page.{key}"):
        return user
    st.warning(t("nav.guard", lang))
    st.stop()


def link(
    key: str,
    lang: str,
    label: str,
    icon: str,
    *,
    query_params: dict[str, str] | None = None,
    width: str = "content",
) -> None:
    """A link to page ``key`` (optionally to one of its views), drawn only if the user may open it."""
    user = st.session_state.get("user")
    spec = next(p for p in PAGES if p.key == key)
    if user is None or not user.can(f"page.{key}"):
        return
    st.page_link(ROOT / spec.path, label=label, icon=icon, query_params=query_params, width=width)
