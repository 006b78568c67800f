"""The data page's parts: import (template, upload, column mapping, dry run, import), export of
whole kinds in the sidebar's scope, and backups.

Import keeps one upload's state in the session: the file as read, the mapping, and the dry run
(Plan). The import itself checks every row again inside its one transaction, so a dry run made
before someone else's write never lets a bad row in; a second click on Import finds the same
rows by their ids and updates them, so it never duplicates.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from mktsales import accounts, config, importer, uploads
from mktsales.access import User
from mktsales.db import Database, WriteFailed
from mktsales.i18n import t
from mktsales.scope import Scope
from mktsales.ui import data, nav, widgets
from mktsales.ui.text import md

STATE = "data.import."  # session-state prefix of the import wizard
SHOWN_PROBLEMS = 1000  # problem rows on screen; the download has them all
FIRST_PROBLEMS = 10  # up to this many problems are written out as a list, more go in a table
PREVIEW_ROWS = 20
IGNORE = "__ignore__"
DATE_ORDERS = {"refuse": None, "day_first": True, "month_first": False}


def _state(name: str, default: Any = None) -> Any:
    return st.session_state.get(STATE + name, default)


def _set(name: str, value: Any) -> None:
    st.session_state[STATE + name] = value


def _forget(*names: str) -> None:
    for name in names:
        st.session_state.pop(STATE + name, None)


def _listing(lang: str) -> str:
    """The separator of a list written in a sentence."""
    return "、" if lang == "zh" else ", "


def _progress_bar(lang: str) -> tuple[Any, Any]:
    bar = st.progress(0.0, text=t("data.import.starting", lang))

    def show(fraction: float, step: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=t(step, lang))

    return bar, show


# -- import --------------------------------------------------------------------------------------------
def import_tab(db: Database, user: User, lang: str) -> None:
    """Choose a kind, get its template, upload, map columns, check, then import the good rows."""
    done = _state("done")
    if done is not None:
        _imported(done, lang)

    with st.container(horizontal=True, vertical_alignment="bottom"):
        kind = st.selectbox(
            t("data.kind", lang),
            importer.KINDS,
            format_func=lambda k: importer.kind_label(k, lang),
            key=STATE + "kind",
            help=t("data.kind_help", lang),
        )
        order = st.selectbox(
            t("data.date_order", lang),
            list(DATE_ORDERS),
            format_func=lambda o: t(f"data.date_order.{o}", lang),
            key=STATE + "date_order",
            help=t("data.date_order_help", lang),
        )
    _templates(kind, lang)
    upload = st.file_uploader(
        t("data.upload", lang),
        type=["csv", "xlsx"],
        max_upload_size=uploads.IMPORT_MB,
        key=f"{STATE}upload.{_state('uploads', 0)}",  # a new key empties it after an import
        help=t("data.upload_help", lang),
    )
    if upload is None:
        _forget("table", "plan", "plan_key")
        return
    table = _read(upload, lang)
    if table is None:
        return
    read = t("data.file_read", lang, name=md(table.name), rows=f"{table.rows:,}", columns=len(table.headers))
    st.caption(read)
    mapping = _mapping_editor(db, kind, table, lang)
    fields = {f.name: f for f in importer.fields(kind)}
    missing = [fields[name] for name in importer.missing_fields(kind, mapping)]
    if missing:
        st.warning(
            t("data.missing_fields", lang, fields=_listing(lang).join(f.label(lang) for f in missing)),
            icon=":material/warning:",
        )
    day_first = DATE_ORDERS[order]
    plan_key = (kind, _state("file_id"), tuple(sorted(mapping.items())), day_first)  # what the plan checked
    if _state("plan_key") != plan_key:
        _forget("plan")
    if st.button(
        t("data.check", lang),
        icon=":material/fact_check:",
        disabled=bool(missing),
        key=STATE + "check",
        type="secondary" if _state("plan") is not None else "primary",
    ):
        bar, show = _progress_bar(lang)
        try:
            plan = importer.check(db, kind, table, mapping, day_first=day_first, progress=show)
        except importer.ImportFileError as exc:
            bar.empty()
            st.error(exc.message(lang), icon=":material/error:")
            return
        bar.empty()
        _set("plan", plan)
        _set("plan_key", plan_key)
    plan = _state("plan")
    if plan is None:
        st.caption(t("data.check_first", lang))
        return
    _plan(plan, kind, lang)
    _import_buttons(db, user, kind, table, mapping, day_first, plan, lang)


def _templates(kind: str, lang: str) -> None:
    """The kind's empty template as Excel and CSV (headers in both languages, a guide sheet)."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption(t("data.template", lang))
        widgets.file_downloads(
            ("xlsx", "csv"),
            "data.template_",
            lambda fmt: importer.template(kind, fmt, lang),
            f"mktsales-template-{kind}",
            f"{STATE}template",
            lang,
        )


def _read(upload: Any, lang: str) -> importer.Table | None:
    """The uploaded file, read once per upload (a rerun reuses it: Streamlit gives each upload an id)."""
    if _state("file_id") != upload.file_id or _state("table") is None:
        _forget("plan", "plan_key", "table")
        try:
            with st.spinner(t("import.step.read", lang)):
                table = importer.read(upload.getvalue(), upload.name)
        except importer.ImportFileError as exc:
            st.error(exc.message(lang), icon=":material/error:")
            return None
        _set("table", table)
        _set("file_id", upload.file_id)
    return _state("table")


def _mapping_editor(db: Database, kind: str, table: importer.Table, lang: str) -> dict[int, str]:
    """Which field each column fills: matched by name (or as remembered), the rest chosen by hand.

    Columns left unmatched are shown first, each with a choice of field; the matched ones sit in
    an expander, changeable too."""
    fields = importer.fields(kind)
    labels = {f.name: f"{f.label(lang)}{' *' if f.required else ''}" for f in fields}
    options = [IGNORE, *labels]
    suggested = importer.suggest_mapping(db, kind, table.headers)
    preview = table.preview(1)
    examples = ["" if v is None else str(v) for v in preview.iloc[0].tolist()] if len(preview) else []
    examples += [""] * (len(table.headers) - len(examples))
    unmatched = [i for i in range(len(table.headers)) if not suggested.get(i)]
    matched = [i for i in range(len(table.headers)) if suggested.get(i)]
    st.markdown(f"**{t('data.mapping', lang)}**")
    st.caption(t("data.mapping_help", lang))
    prefix = f"{STATE}map.{kind}.{_state('file_id')}."

    def choose(i: int) -> str:
        default = suggested.get(i) or IGNORE
        example = examples[i][:40]
        return st.selectbox(
            table.headers[i] or t("data.unnamed", lang, n=i + 1),
            options,
            index=options.index(default) if default in options else 0,
            format_func=lambda v: t("data.ignore", lang) if v == IGNORE else labels.get(v, v),
            key=f"{prefix}{i}",
            help=t("data.example", lang, value=example) if example else None,
        )

    chosen: dict[int, str] = {}
    if unmatched:
        st.caption(t("data.unmatched", lang, n=len(unmatched)))
        grid = st.columns(3)
        for n, i in enumerate(unmatched):
            with grid[n % 3]:
                chosen[i] = choose(i)
    if matched:
        names = _listing(lang).join(f"{table.headers[i]} → {labels[suggested[i]]}" for i in matched[:6])
        more = "…" if len(matched) > 6 else ""
        with st.expander(t("data.matched", lang, n=len(matched), names=names + more)):
            grid = st.columns(3)
            for n, i in enumerate(matched):
                with grid[n % 3]:
                    chosen[i] = choose(i)
    mapping = {i: chosen[i] for i in sorted(chosen) if chosen[i] != IGNORE}
    values = list(mapping.values())
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        st.error(
            t("data.mapped_twice", lang, fields=_listing(lang).join(labels[f] for f in twice)),
            icon=":material/error:",
        )
        seen: set[str] = set()
        for i in list(mapping):  # only the first column keeps a field chosen twice
            if mapping[i] in seen:
                del mapping[i]
            else:
                seen.add(mapping[i])
    return mapping


def _plan(plan: importer.Plan, kind: str, lang: str) -> None:
    """The dry run: what would be inserted and updated, and every problem by row and column."""
    good = plan.rows - plan.bad_rows
    with st.container(horizontal=True):
        st.metric(t("data.rows", lang), f"{plan.rows:,}", border=True)
        st.metric(t("data.inserts", lang), f"{plan.inserts:,}", border=True)
        st.metric(t("data.updates", lang), f"{plan.updates:,}", border=True)
        st.metric(t("data.bad_rows", lang), f"{plan.bad_rows:,}", border=True)
    if not plan.bad_rows:
        st.success(t("data.all_good", lang, n=f"{good:,}"), icon=":material/check_circle:")
        return
    st.warning(
        t("data.some_bad", lang, bad=f"{plan.bad_rows:,}", good=f"{good:,}"), icon=":material/warning:"
    )
    problems = plan.problems
    texts = plan.texts(lang)  # with the kind, so a field is named by its label ("金额", not "amount")
    if len(texts) <= FIRST_PROBLEMS:  # a few: written out
        st.markdown("\n".join(f"- {_plain(text)}" for text in texts))
    else:  # many: one table to scroll and sort, the download has them all
        if plan.truncated:
            st.caption(t("data.problems_truncated", lang, n=f"{len(problems):,}"))
        elif len(texts) > SHOWN_PROBLEMS:
            st.caption(t("data.problems_shown", lang, shown=SHOWN_PROBLEMS, n=len(texts)))
        st.dataframe(
            pd.DataFrame({t("data.col.row", lang): problems["row"], t("data.col.problem", lang): texts}).head(
                SHOWN_PROBLEMS
            ),
            hide_index=True,
        )
    full = pd.DataFrame(
        {
            t("data.col.row", lang): problems["row"],
            t("data.col.column", lang): problems["column"],
            t("data.col.value", lang): problems["value"].fillna("").astype(str),
            t("data.col.problem", lang): texts,
        }
    )
    widgets.downloads(full, f"mktsales-import-problems-{kind}", lang, key=f"{STATE}problems")


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~$"})


def _plain(text: str) -> str:
    """``text`` shown as itself in markdown (a value from a file may hold * or _)."""
    return text.translate(_MARKDOWN)


def _import_buttons(
    db: Database,
    user: User,
    kind: str,
    table: importer.Table,
    mapping: dict[int, str],
    day_first: bool | None,
    plan: importer.Plan,
    lang: str,
) -> None:
    good = plan.rows - plan.bad_rows
    with st.container(horizontal=True):
        go = st.button(
            t("data.import_good", lang, n=f"{good:,}"),
            type="primary",
            icon=":material/upload:",
            disabled=good == 0,
            key=STATE + "go",
        )
        if st.button(t("data.import_nothing", lang), icon=":material/close:", key=STATE + "cancel"):
            _forget("plan", "plan_key", "table", "file_id")
            _set("uploads", _state("uploads", 0) + 1)
            st.rerun()
    if not go:
        return
    bar, show = _progress_bar(lang)
    try:
        result = importer.run(
            db,
            kind,
            table,
            mapping,
            by=accounts.actor(user),
            day_first=day_first,
            skip_bad=True,
            progress=show,
        )
    except importer.ImportFileError as exc:
        bar.empty()
        st.error(exc.message(lang), icon=":material/error:")
        return
    except importer.ImportRefused as exc:  # every row has a problem now (someone changed the data)
        bar.empty()
        _set("plan", exc.plan)
        st.error(t("data.refused", lang), icon=":material/error:")
        return
    except WriteFailed as exc:  # the disk is full, say: nothing was imported, the plan is kept
        bar.empty()
        st.error(exc.message(lang), icon=":material/error:")
        return
    bar.empty()
    _set(
        "done",
        {
            "kind": kind,
            "name": table.name,
            "inserted": result.inserted,
            "updated": result.updated,
            "skipped": result.skipped,
            "seconds": result.seconds,
        },
    )
    _forget("plan", "plan_key", "table", "file_id")
    _set("uploads", _state("uploads", 0) + 1)
    st.rerun()


def _imported(done: dict[str, Any], lang: str) -> None:
    """The last import's outcome, with the way to the numbers."""
    st.success(
        t(
            "data.imported",
            lang,
            name=done["name"],
            kind=importer.kind_label(done["kind"], lang),
            inserted=f"{done['inserted']:,}",
            updated=f"{done['updated']:,}",
            skipped=f"{done['skipped']:,}",
            seconds=f"{done['seconds']:.1f}",
        ),
        icon=":material/check_circle:",
    )
    with st.container(horizontal=True, vertical_alignment="center"):
        nav.link("overview", lang, t("data.see_overview", lang), ":material/dashboard:")
        nav.link("funnel", lang, t("data.see_funnel", lang), ":material/filter_alt:")
        if st.button(
            t("data.dismiss", lang), key=STATE + "dismiss", type="tertiary", icon=":material/close:"
        ):
            _forget("done")
            st.rerun()


# -- export --------------------------------------------------------------------------------------------
def export_tab(db: Database, scope: Scope, lang: str) -> None:
    """Any kind in the columns import reads, in the sidebar's period, regions and categories."""
    with st.container(horizontal=True, vertical_alignment="bottom"):
        kind = st.selectbox(
            t("data.kind", lang),
            importer.KINDS,
            format_func=lambda k: importer.kind_label(k, lang),
            key="data.export.kind",
        )
        whole = st.toggle(t("data.export_all_time", lang), key="data.export.all_time")
    chosen = scope.with_period(dt.date(1900, 1, 1), dt.date(2200, 1, 1)) if whole else scope
    last = chosen.end - dt.timedelta(days=1)
    st.caption(
        t("data.export_all_time_scope", lang)
        if whole
        else t("data.export_scope", lang, start=chosen.start.isoformat(), end=last.isoformat())
    )
    preview = data.export_preview(db.path, db.version(), kind, chosen, lang, PREVIEW_ROWS)
    if preview.empty:
        st.info(t("data.export_empty", lang), icon=":material/info:")
        return
    st.dataframe(preview, hide_index=True)
    name = f"mktsales-{kind}" + ("" if whole else f"-{chosen.start}-{last}")
    with st.container(horizontal=True, gap="small"):
        widgets.file_downloads(
            ("csv", "xlsx"),
            "data.export_",
            lambda fmt: _export_bytes(db, kind, fmt, chosen, lang),
            name,
            "data.export",
            lang,
        )
    st.caption(t("data.export_help", lang))


def _export_bytes(db: Database, kind: str, fmt: str, scope: Scope, lang: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{fmt}"
        importer.export_file(db, kind, path, fmt, scope, lang=lang)
        return path.read_bytes()


# -- backups -------------------------------------------------------------------------------------------
def backup_tab(db: Database, user: User, lang: str) -> None:
    """Take a backup now (a consistent snapshot; people keep working), and the backups so far."""
    from mktsales import backup  # only this tab needs it

    folder = config.backup_dir()
    st.caption(t("data.backup_intro", lang, folder=str(folder)))
    made = None
    if user.can("data.backup") and st.button(
        t("data.backup_now", lang), icon=":material/backup:", type="primary", key="data.backup.now"
    ):
        try:
            with st.spinner(t("data.backup_running", lang)):
                made = backup.snapshot(db, folder)
        except (backup.BackupError, OSError) as exc:
            st.error(t("data.backup_failed", lang, detail=str(exc)), icon=":material/error:")
            made = None
    if made is not None:
        st.success(
            t(
                "data.backup_done",
                lang,
                name=made.path.name,
                seconds=f"{made.seconds:.1f}",
                size=_size(made.bytes),
            ),
            icon=":material/check_circle:",
        )
    found = sorted(folder.glob("mktsales-*.duckdb"), reverse=True) if folder.exists() else []
    if not found:
        st.info(t("data.backup_none", lang), icon=":material/info:")
    else:
        listing = pd.DataFrame(
            {
                t("data.col.backup", lang): [p.name for p in found],
                t("data.col.taken", lang): [
                    dt.datetime.fromtimestamp(p.stat().st_mtime).strftime("%Y-%m-%d %H:%M") for p in found
                ],
                t("data.col.size", lang): [_size(p.stat().st_size) for p in found],
            }
        )
        st.dataframe(listing, hide_index=True)
    st.markdown(t("data.backup_schedule", lang))
    st.code(
        f"python -m mktsales backup --db {config.db_path()} --to {folder} --keep 14\n"
        f"python -m mktsales restore --db {config.db_path()} --from {folder}/mktsales-YYYYMMDD-HHMMSS.duckdb",
        language="sh",
    )


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} B"
