"""Reusable widgets: KPI tiles, the region table, and table downloads."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from mktsales import display
from mktsales.i18n import t
from mktsales.kpis import Overview

ATTAINMENT_COLOURS = ((1.0, "#DCFCE7"), (0.8, "#FEF3C7"), (0.0, "#FEE2E2"))  # green, amber, red
REGION_COLUMNS = (
    "revenue",
    "target_revenue",
    "attainment",
    "collections",
    "receivables",
    "leads",
    "mql",
    "sal_rate",
    "accept_hours",
    "win_rate",
    "cost_per_lead",
)


def kpi_tiles(view: Overview, names: tuple[str, ...], lang: str) -> None:
    """One bordered tile per KPI, with its change against the previous period and its definition."""
    with st.container(horizontal=True, gap="small"):
        for name in names:
            st.metric(
                t(f"kpi.{name}", lang),
                display.value(name, view.current[name], lang),
                delta=display.delta(name, view.delta(name), lang),
                delta_color="inverse" if name in display.LOWER_IS_BETTER else "normal",
                help=t(f"def.{name}", lang),
                border=True,
                width="stretch",
            )


def _attainment_colour(value: float | None) -> str:
    if value is None or pd.isna(value):
        return ""
    colour = next(c for floor, c in ATTAINMENT_COLOURS if value >= floor)
    return f"background-color: {colour}"


def region_table(view: Overview, regions: pd.DataFrame, lang: str) -> None:
    """Each region's main KPIs side by side plus the total; attainment coloured, definitions on hover."""
    names = dict(zip(regions["region_id"], regions[f"name_{lang}"], strict=True))
    frame = view.regions[["region_id", *REGION_COLUMNS]].copy()  # the total row comes last
    frame.insert(0, "region", [names.get(r, t("col.total", lang)) for r in frame.pop("region_id")])
    headers = {c: t(f"col.{c}", lang) for c in REGION_COLUMNS}
    frame = frame.rename(columns={"region": t("col.region", lang), **headers})
    formats = {
        headers[c]: (lambda v, c=c: display.value(c, None if pd.isna(v) else v, lang)) for c in REGION_COLUMNS
    }
    last = len(frame) - 1
    styled = (
        frame.style.format(formats)
        .map(_attainment_colour, subset=[headers["attainment"]])
        .apply(lambda row: ["font-weight: 600" if row.name == last else ""] * len(row), axis=1)
    )
    help_texts = {headers[c]: st.column_config.Column(help=t(f"def.{c}", lang)) for c in REGION_COLUMNS}
    st.dataframe(styled, hide_index=True, column_config=help_texts)


def excel_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as an .xlsx workbook of one sheet."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        frame.to_excel(writer, index=False, sheet_name="mktsales")
    return buffer.getvalue()


def downloads(frame: pd.DataFrame, name: str, lang: str, key: str) -> None:
    """CSV and Excel download buttons side by side for ``frame`` (already in the user's scope).

    The Excel file is built only when asked for (on_click), so a page run stays cheap.
    """
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            t("fun.download_csv", lang),
            frame.to_csv(index=False).encode("utf-8-sig"),  # the BOM makes Excel read Chinese right
            file_name=f"{name}.csv",
            mime="text/csv",
            icon=":material/download:",
            disabled=frame.empty,
            key=f"{key}.csv",
            on_click="ignore",
        )
        st.download_button(
            t("fun.download_xlsx", lang),
            lambda: excel_bytes(frame),
            file_name=f"{name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/table_view:",
            disabled=frame.empty,
            key=f"{key}.xlsx",
            on_click="ignore",
        )
