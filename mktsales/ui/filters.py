"""The global filters in the sidebar, shared by every page and kept in the URL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from mktsales import config
from mktsales.i18n import DEFAULT_LANG, LANG_NAMES, LANGS, t
from mktsales.scope import PERIOD_KINDS, Scope, period_range

# Widget keys double as URL query parameters (bind="query-params"): ?lang=en&period=year&region=east
LANG_KEY, PERIOD_KEY, RANGE_KEY, REGION_KEY, CATEGORY_KEY, REFRESH_KEY = (
    "lang", "period", "range", "region", "category", "refresh")


def language() -> str:
    """The 中文 / English switch; Chinese unless the user or the URL chose English."""
    lang = st.session_state.get(LANG_KEY) or DEFAULT_LANG
    chosen = st.sidebar.segmented_control(
        t("sidebar.language", lang), LANGS, default=DEFAULT_LANG, format_func=LANG_NAMES.__getitem__,
        key=LANG_KEY, bind="query-params", required=True, width="stretch",
    )
    return chosen or DEFAULT_LANG


def _names(frame: pd.DataFrame, lang: str) -> dict[str, str]:
    return dict(zip(frame["code"], frame[f"name_{lang}"], strict=True))


def _period(lang: str, today: dt.date) -> tuple[dt.date, dt.date]:
    kind = st.sidebar.selectbox(
        t("filter.period", lang), PERIOD_KINDS, format_func=lambda k: t(f"period.{k}", lang),
        key=PERIOD_KEY, bind="query-params",
    )
    if kind != "custom":
        return period_range(kind, today)
    default = period_range("month", today)
    picked = st.sidebar.date_input(
        t("filter.range", lang), value=(default[0], default[1] - dt.timedelta(days=1)),
        max_value=today + dt.timedelta(days=366), key=RANGE_KEY, bind="query-params",
    )
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.sidebar.info(t("filter.range_incomplete", lang))
        return default
    start, last = picked
    return start, last + dt.timedelta(days=1)  # the user picks an inclusive last day


def scope(regions: pd.DataFrame, categories: pd.DataFrame, lang: str) -> Scope:
    """Draw the sidebar filters and return the Scope they select."""
    st.sidebar.subheader(t("sidebar.filters", lang))
    start, end = _period(lang, config.today())
    region_names, category_names = _names(regions, lang), _names(categories, lang)
    chosen_regions = st.sidebar.multiselect(
        t("filter.regions", lang), list(region_names), format_func=region_names.__getitem__,
        placeholder=t("filter.regions_all", lang), key=REGION_KEY, bind="query-params",
    )
    chosen_categories = st.sidebar.multiselect(
        t("filter.categories", lang), list(category_names), format_func=category_names.__getitem__,
        placeholder=t("filter.categories_all", lang), key=CATEGORY_KEY, bind="query-params",
    )
    st.sidebar.caption(t("filter.link_hint", lang))
    region_ids = dict(zip(regions["code"], regions["region_id"], strict=True))
    category_ids = dict(zip(categories["code"], categories["category_id"], strict=True))
    return Scope(
        start=start,
        end=end,
        regions=tuple(sorted(int(region_ids[c]) for c in chosen_regions)),
        categories=tuple(sorted(int(category_ids[c]) for c in chosen_categories)),
    )


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
    choices = sorted(set(config.REFRESH_CHOICES) | {default})
    return int(st.sidebar.selectbox(
        t("filter.refresh", lang), choices, index=choices.index(default),
        format_func=lambda s: _refresh_label(s, lang), key=REFRESH_KEY, bind="query-params",
    ))
