"""The global filters in the sidebar, shared by every page and kept in the URL.

The URL carries stable codes, not labels (?lang=en&period=custom&from=2026-03-01&to=2026-03-31
&region=north&region=east&category=snacks), so a link opens the same view in either language.
Streamlit's own bind="query-params" writes the displayed label instead, which changes with the
language, so the sync is done here: the URL seeds the widgets once per session, and every run
writes the current choice back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from mktsales import config
from mktsales.access import User, visible
from mktsales.i18n import DEFAULT_LANG, LANG_NAMES, LANGS, t
from mktsales.scope import PERIOD_KINDS, Scope, period_range

LANG_KEY, PERIOD_KEY, RANGE_KEY, REGION_KEY, CATEGORY_KEY, REFRESH_KEY = (
    "lang",
    "period",
    "range",
    "region",
    "category",
    "refresh",
)
_SEEDED = "_mktsales_url_seeded"


def _widget_key(key: str, lang: str) -> str:
    """A per-language key for a widget whose option labels are translated.

    A keyed selectbox keeps showing its old option label after format_func changes (Streamlit
    1.67: "本月" stayed after switching to English), so each language gets its own widget, seeded
    from the canonical value kept under ``key``.
    """
    for other in LANGS:
        if other != lang:
            st.session_state.pop(f"{key}.{other}", None)
    widget = f"{key}.{lang}"
    if widget not in st.session_state:
        st.session_state[widget] = st.session_state[key]
    return widget


def _keep(key: str, value: Any) -> Any:
    """Remember a widget's value under its canonical key; return it."""
    st.session_state[key] = value
    return value


def _url_list(name: str) -> list[str]:
    return st.query_params.get_all(name)


def _seed(key: str, parse: Callable[[], Any], default: Any) -> None:
    """Give widget ``key`` its first value: from the URL when valid there, else ``default``."""
    if key in st.session_state:
        return
    value = parse() if not st.session_state.get(_SEEDED) else None
    st.session_state[key] = default if value is None else value


def _one_of(name: str, allowed: tuple[Any, ...], cast: Callable[[str], Any] = str) -> Callable[[], Any]:
    def parse() -> Any:
        values = _url_list(name)
        try:
            value = cast(values[0]) if values else None
        except ValueError:
            return None
        return value if value in allowed else None

    return parse


def _subset(name: str, allowed: list[str]) -> Callable[[], list[str] | None]:
    def parse() -> list[str] | None:
        chosen = [v for v in dict.fromkeys(_url_list(name)) if v in allowed]
        return chosen or None

    return parse


FIRST_DAY = dt.date(1900, 1, 1)  # the earliest day the date picker offers
AHEAD = dt.timedelta(days=366)  # how far past today it goes
LINK_ID_MAX = 2**63 - 1  # a ?post= or ?promotion= number above this names nothing (BIGINT)


def link_number(value: Any) -> int | None:
    """A record number from a link (?post=12): ASCII digits within BIGINT, else None."""
    text = str(value or "")
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= LINK_ID_MAX else None


def _date_range(today: dt.date, lang: str) -> Callable[[], tuple[dt.date, dt.date] | None]:
    """The link's custom range; one outside what the picker offers is refused with a warning
    (Streamlit raises for a value outside min_value..max_value, issue 23)."""

    def parse() -> tuple[dt.date, dt.date] | None:
        try:
            start = dt.date.fromisoformat(_url_list("from")[0])
            last = dt.date.fromisoformat(_url_list("to")[0])
        except (IndexError, ValueError):
            return None
        if start < FIRST_DAY or last > today + AHEAD:
            st.sidebar.warning(t("filter.range_refused", lang, first=FIRST_DAY, last=today + AHEAD))
            return None
        return (start, last) if start <= last else None

    return parse


def language() -> str:
    """The 中文 / English switch; Chinese unless the user or the link chose English."""
    _seed(LANG_KEY, _one_of("lang", LANGS), DEFAULT_LANG)
    lang = st.session_state[LANG_KEY] or DEFAULT_LANG
    chosen = st.sidebar.segmented_control(
        t("sidebar.language", lang),
        LANGS,
        format_func=LANG_NAMES.__getitem__,
        key=LANG_KEY,
        required=True,
        width="stretch",
    )
    return chosen or DEFAULT_LANG


def _names(frame: pd.DataFrame, lang: str) -> dict[str, str]:
    return dict(zip(frame["code"], frame[f"name_{lang}"], strict=True))


def _period(lang: str, today: dt.date) -> tuple[dt.date, dt.date]:
    _seed(PERIOD_KEY, _one_of("period", PERIOD_KINDS), "month")
    kind = _keep(
        PERIOD_KEY,
        st.sidebar.selectbox(
            t("filter.period", lang),
            PERIOD_KINDS,
            format_func=lambda k: t(f"period.{k}", lang),
            key=_widget_key(PERIOD_KEY, lang),
        ),
    )
    if kind != "custom":
        return period_range(kind, today)
    default = period_range("month", today)
    _seed(RANGE_KEY, _date_range(today, lang), (default[0], default[1] - dt.timedelta(days=1)))
    picked = st.sidebar.date_input(
        t("filter.range", lang), key=RANGE_KEY, min_value=FIRST_DAY, max_value=today + AHEAD
    )
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.sidebar.info(t("filter.range_incomplete", lang))
        return default
    start, last = picked
    return start, last + dt.timedelta(days=1)  # the user picks an inclusive last day


def _refuse_forged(key: str, frame: pd.DataFrame, lang: str) -> None:
    """Refuse a region the user may not see, whether it came from the link or from session state.

    A link naming another region's code shows a warning and is ignored; a value placed in the
    session by anything but the widget stops the page with an error. Either way nothing outside
    the user's regions is queried (and Scope refuses it again on the server side).
    """
    offered = set(frame["code"])
    if key not in st.session_state and not st.session_state.get(_SEEDED):
        outside = [c for c in dict.fromkeys(_url_list(key)) if c not in offered]
        if outside:
            st.warning(
                t("access.link_regions_refused", lang, codes=", ".join(outside)), icon=":material/block:"
            )
    forged = [c for c in st.session_state.get(key) or [] if c not in offered]
    if forged:
        for stale in (key, f"{key}.zh", f"{key}.en"):
            st.session_state.pop(stale, None)
        st.error(t("access.regions_refused", lang, codes=", ".join(forged)), icon=":material/block:")
        st.stop()


def _pick(
    key: str, frame: pd.DataFrame, id_column: str, lang: str, restricted: bool = False
) -> tuple[int, ...]:
    """A multiselect over ``frame``'s codes, labelled in ``lang``; empty means all. Returns ids."""
    names = _names(frame, lang)
    _seed(key, _subset(key, list(names)), [])
    label = "regions" if key == REGION_KEY else "categories"
    chosen = _keep(
        key,
        st.sidebar.multiselect(
            t(f"filter.{label}", lang),
            list(names),
            format_func=names.__getitem__,
            placeholder=t("filter.regions_mine" if restricted else f"filter.{label}_all", lang),
            key=_widget_key(key, lang),
        ),
    )
    ids = dict(zip(frame["code"], frame[id_column], strict=True))
    return tuple(sorted(int(ids[code]) for code in chosen))


def scope(regions: pd.DataFrame, categories: pd.DataFrame, lang: str, user: User) -> Scope:
    """Draw the sidebar filters and return the Scope they select, within the user's regions.

    A restricted user is offered only their regions, and "all" means all of theirs.
    """
    allowed = user.allowed_regions
    # a boolean Series, not a list: an empty list would select no columns (an empty database)
    mine = regions[regions["region_id"].map(lambda r: visible(user, int(r))).astype(bool)]
    _refuse_forged(REGION_KEY, mine, lang)
    st.sidebar.subheader(t("sidebar.filters", lang))
    start, end = _period(lang, config.today())
    chosen_regions = _pick(REGION_KEY, mine, "region_id", lang, restricted=allowed is not None)
    chosen_categories = _pick(CATEGORY_KEY, categories, "category_id", lang)
    st.sidebar.caption(t("filter.link_hint", lang))
    return Scope.for_user(user, start, end, chosen_regions, chosen_categories)


def _refresh_label(seconds: int, lang: str) -> str:
    if seconds == 0:
        return t("refresh.off", lang)
    if seconds < 60:
        return t("refresh.seconds", lang, n=seconds)
    return t("refresh.minutes", lang, n=seconds // 60)


def refresh_interval(lang: str) -> int:
    """The auto-refresh interval in seconds (0 = off), default from the configuration."""
    st.sidebar.subheader(t("sidebar.display", lang))
    default = config.refresh_seconds()
    choices = tuple(sorted(set(config.REFRESH_CHOICES) | {default}))
    _seed(REFRESH_KEY, _one_of("refresh", choices, int), default)
    return int(
        _keep(
            REFRESH_KEY,
            st.sidebar.selectbox(
                t("filter.refresh", lang),
                choices,
                format_func=lambda s: _refresh_label(s, lang),
                key=_widget_key(REFRESH_KEY, lang),
            ),
        )
    )


# Addresses a page reads once and removes (nav.link): open a view, a status, one post or promotion.
PAGE_PARAMS = ("view", "status", "post", "promotion")


def write_url(scope: Scope) -> None:
    """Put the current filters in the URL as codes, leaving out what is at its default."""
    state = st.session_state
    params: dict[str, str | list[str]] = {}
    if state[LANG_KEY] != DEFAULT_LANG:
        params["lang"] = state[LANG_KEY]
    if state[PERIOD_KEY] != "month":
        params["period"] = state[PERIOD_KEY]
    if state[PERIOD_KEY] == "custom":
        params["from"] = scope.start.isoformat()
        params["to"] = (scope.end - dt.timedelta(days=1)).isoformat()
    if state[REGION_KEY]:
        params["region"] = list(state[REGION_KEY])
    if state[CATEGORY_KEY]:
        params["category"] = list(state[CATEGORY_KEY])
    if state[REFRESH_KEY] != config.refresh_seconds():
        params["refresh"] = str(state[REFRESH_KEY])
    for name in PAGE_PARAMS:  # a link's request to a page (?view=post); the page consumes it
        if name in st.query_params:
            params[name] = st.query_params[name]
    wanted = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    if {k: st.query_params.get_all(k) for k in st.query_params} != wanted:  # every value, not just the last
        st.query_params.from_dict(params)
    state[_SEEDED] = True


def page_choice(
    draw: Callable[..., Any], key: str, default: Any, lang: str, *args: Any, **kwargs: Any
) -> Any:
    """Draw a page's own translated widget (a view, a split, a form field); return its value.

    Its value is kept under the canonical ``key`` (codes and ids, the same in both languages);
    the widget itself gets a per-language key seeded from it (see _widget_key), so a language
    switch neither loses the choice nor leaves a stale label.
    """
    st.session_state.setdefault(key, default)
    return _keep(key, draw(*args, key=_widget_key(key, lang), **kwargs))


def view_choice(key: str, default: str, lang: str, label: str, views: Any, names: str, **kwargs: Any) -> str:
    """A page's switch between its views (segmented, one always chosen); view ``v`` is labelled
    by the translation ``<names>.<v>``. Kept across a language switch like page_choice."""
    return page_choice(
        st.segmented_control,
        key,
        default,
        lang,
        label,
        views,
        format_func=lambda v: t(f"{names}.{v}", lang),
        required=True,
        **kwargs,
    )


def narrow_regions(codes: list[str]) -> None:
    """Set the sidebar's region filter to ``codes`` from a widget callback (e.g. a clicked bar).

    The next run draws the filter with these regions, and checks them against the user's regions
    like any other value: a code outside them is refused there (_refuse_forged).
    """
    st.session_state[REGION_KEY] = list(codes)
    for lang in LANGS:
        st.session_state.pop(f"{REGION_KEY}.{lang}", None)
