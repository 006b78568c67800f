"""Reusable widgets: KPI tiles, the region table, and tables with their downloads."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from mktsales import display, safe_cells
from mktsales.access import User
from mktsales.i18n import t
from mktsales.kpis import Overview
from mktsales.scope import Scope

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
EXPORT = "data.export"  # the permission that shows the download buttons
MAX_CODES_IN_NAME = 4  # more regions than this are named by their number in a file name
_NOT_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_.]+")


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


def region_table(view: Overview, regions: pd.DataFrame, lang: str, export: Export) -> None:
    """Each region's main KPIs side by side plus the total; attainment coloured, definitions on hover;
    under it the downloads of the same rows with raw values."""
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
    table(
        frame,
        export.name("regions"),
        lang,
        "overview.regions",
        exportable=export.allowed,
        shown=styled,
        column_config=help_texts,
    )


def _file_part(text: Any) -> str:
    return _NOT_IN_FILE_NAME.sub("_", str(text)).strip("_")


def file_name(
    table_name: str, scope: Scope | None = None, region_codes: Mapping[int, str] | None = None
) -> str:
    """A download's file name without extension, ASCII only: what, and for a period-scoped table
    when and where: ``mktsales-<table>-<start>-<last day>[-<region codes>]``.

    The regions are those the rows are limited to (the user's choice, else what the user may see);
    none when the table covers every region. More than MAX_CODES_IN_NAME are named by their number.
    """
    parts = ["mktsales", *(_file_part(p) for p in table_name.split("-"))]
    if scope is not None:
        parts += [scope.start.isoformat(), (scope.end - dt.timedelta(days=1)).isoformat()]
        ids = scope.region_ids()
        if ids is not None:
            codes = sorted(_file_part((region_codes or {}).get(r, "")) or f"r{r}" for r in ids)
            parts += codes if len(codes) <= MAX_CODES_IN_NAME else [f"{len(codes)}regions"]
    return "-".join(p for p in parts if p)


@dataclass(frozen=True)
class Export:
    """A page's downloads: whether the user may export (``data.export``) and how files are named."""

    allowed: bool
    page: str  # the first part of every file name, e.g. "funnel-cohort"
    scope: Scope | None = None  # None: the page's tables are not limited to a period
    region_codes: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, user: User, page: str, scope: Scope | None = None, regions: pd.DataFrame | None = None
    ) -> Export:
        """For ``user``, naming files after the ``page``, the ``scope`` and the ``regions`` table's codes."""
        codes = {} if regions is None else dict(zip(regions["region_id"], regions["code"], strict=True))
        return cls(user.can(EXPORT), page, scope, codes)

    def name(self, table_name: str, *, scoped: bool = True) -> str:
        """The file name (no extension) of one of the page's tables; ``scoped=False`` for a table
        the period and regions do not limit (one promotion's reports, the response targets)."""
        return file_name(f"{self.page}-{table_name}", self.scope if scoped else None, self.region_codes)

    def table(
        self, frame: pd.DataFrame, name: str, lang: str, key: str, shown: Any = None, *,
        scoped: bool = True, **kwargs: Any,
    ) -> None:  # fmt: skip
        """One of the page's tables with its downloads, the file named after ``name`` (see table())."""
        named = self.name(name, scoped=scoped)
        table(frame, named, lang, key, exportable=self.allowed, shown=shown, **kwargs)


def table(
    frame: pd.DataFrame,
    name: str,
    lang: str,
    key: str,
    *,
    exportable: bool,
    shown: Any = None,
    **kwargs: Any,
) -> None:
    """A data table with, under it, CSV and Excel downloads of ``frame`` when ``exportable``.

    ``frame`` is the plain table: raw values under the headers the screen shows. ``shown`` is what
    the screen draws instead when it differs: a Styler that formats or colours ``frame``, or its
    first rows for a long table (say so in a caption: the downloads have every row). ``key`` is
    unique on the page; ``kwargs`` go to st.dataframe (column_config, ...).
    """
    st.dataframe(frame if shown is None else shown, hide_index=True, **kwargs)
    if exportable:
        downloads(frame, name, lang, key)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV in UTF-8 with a BOM, so Excel reads Chinese right; a text cell a spreadsheet
    would run as a formula starts with a quote (safe_cells). Lines end in CRLF, so a text holding
    a line break or a lone carriage return is quoted and stays in its cell."""
    return safe_cells.neutral_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, list | tuple | set) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        return ", ".join(str(v) for v in items) if isinstance(items, list) else items
    if isinstance(value, dict):
        return str(value)
    return value


def excel_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as an .xlsx workbook of one sheet.

    Excel has no time zones and no lists: times with a zone are written as local wall-clock
    times, and a list in a cell as its items joined by commas. Text is written as text cells, never
    as formulas or links (safe_cells.XLSX_OPTIONS).
    """
    sheet = frame.copy()
    for column in sheet.columns:
        values = sheet[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            sheet[column] = values.dt.tz_localize(None)
        elif values.dtype == object:
            sheet[column] = values.map(_cell)
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer, engine="xlsxwriter", engine_kwargs={"options": safe_cells.XLSX_OPTIONS}
    ) as writer:
        sheet.to_excel(writer, index=False, sheet_name="mktsales")
    return buffer.getvalue()


def downloads(frame: pd.DataFrame, name: str, lang: str, key: str) -> None:
    """CSV and Excel download buttons side by side for ``frame`` (already in the user's scope).

    Each file is built only when its button is clicked, so a page run stays cheap.
    """
    with st.container(horizontal=True, gap="small"):
        file_downloads(
            ("csv", "xlsx"),
            "fun.download_",
            lambda fmt: csv_bytes(frame) if fmt == "csv" else excel_bytes(frame),
            name,
            key,
            lang,
            disabled=frame.empty,
        )


# A file format's download button: its icon and MIME type.
FORMATS = {
    "csv": (":material/download:", "text/csv"),
    "xlsx": (":material/table_view:", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def file_downloads(
    formats: tuple[str, ...],
    label: str,
    make: Callable[[str], bytes],
    name: str,
    key: str,
    lang: str,
    *,
    disabled: bool = False,
) -> None:
    """One download button per format, labelled by the translation ``<label><fmt>``; the file
    ``<name>.<fmt>`` is built by ``make(fmt)`` only when its button is clicked."""
    for fmt in formats:
        icon, mime = FORMATS[fmt]
        st.download_button(
            t(f"{label}{fmt}", lang),
            lambda fmt=fmt: make(fmt),
            file_name=f"{name}.{fmt}",
            mime=mime,
            icon=icon,
            disabled=disabled,
            key=f"{key}.{fmt}",
            on_click="ignore",
        )
