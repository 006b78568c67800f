"""Import and export of every kind (issue 8): read a file, map its columns, dry-run, import, export.

A file is read into text cells (``read``: CSV in UTF-8 or GBK, or the first sheet of an .xlsx), its
columns are mapped to a kind's fields (``suggest_mapping``: remembered mappings first, then header
names in English or Chinese), and ``check`` lists every problem by row and column without changing
anything. ``run`` checks again inside one ``Database.write`` and writes every good row, or nothing:
rows, external ids, the remembered mapping and one audit entry commit together.

Speed: the cells are staged in DuckDB as text and everything after that is set-based SQL over the
staged rows: parsing (a strict TRY_CAST fast path; only the distinct values it cannot read go to
mktsales.cells in Python and are joined back), reference lookups, duplicates, checks, and the
writes (INSERT ... SELECT, UPDATE ... FROM). No Python loop runs over rows.

DuckDB 2.0.1 refuses an UPDATE of any indexed column (primary key, UNIQUE, foreign key) of a row
that other rows reference, even when the value does not change (measured, see 006). So an update
sets the indexed columns only where their value changes, and such a change on a referenced row is
reported as ``fixed_reference`` instead of failing the import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from mktsales import cells, import_files, kinds, safe_cells
from mktsales.audit import Actor, Tx
from mktsales.db import Database
from mktsales.i18n import t
from mktsales.i18n import table as messages
from mktsales.import_files import (  # noqa: F401 (the limits are named here for the UI and the CLI)
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_FILE_MB,
    MAX_ROWS,
    MAX_SHEET_CELLS,
    ImportFileError,
)
from mktsales.kinds import MAX_TEXT, Field, Kind
from mktsales.scope import Scope

KINDS: tuple[str, ...] = kinds.ORDER
MAX_PROBLEMS = 100_000  # problems listed by a dry run; the rest are counted
XLSX_MAX_ROWS = 1_048_575  # Excel's rows less the header
MAX_INT = 2**31 - 1
MAX_AMOUNT = Decimal("1e16")  # DECIMAL(18, 2)
CENT = Decimal("0.01")
GUIDE_SHEET = "说明 Guide"
_WS = import_files.WS
_SPLIT = re.compile(r"[;,、，|；]")  # between the regions of a promotion
_TIME = re.compile(r"^(.*?\S)[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_MONTH = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?$")

# Dates outside these are refused by row and column (a 0001-01-01 or 9999-12-31 is a typing or
# export slip, never a sale): from EARLIEST_DATE to the end of the year YEARS_AHEAD from now.
EARLIEST_DATE = dt.date(2000, 1, 1)
YEARS_AHEAD = 5

Progress = Callable[[float, str], None] | None


def date_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last date an import accepts."""
    year = (today or dt.date.today()).year + YEARS_AHEAD
    return EARLIEST_DATE, dt.date(year, 12, 31)


def missing_fields(kind: str, mapping: Mapping[int, str | None]) -> list[str]:
    """The required fields of ``kind`` that no column is mapped to (for products, one of the two
    names stands in for the other)."""
    mapped = {name for name in mapping.values() if name}
    return [
        f.name
        for f in kinds.kind(kind).fields
        if f.required and f.name not in mapped and not (f.either and f.either in mapped)
    ]


def _refuse_missing(kind: str, mapping: Mapping[int, str | None]) -> None:
    missing = missing_fields(kind, mapping)
    if missing:
        raise ImportFileError("missing_fields", ", ".join(missing), fields=(kind, *missing))


# -- fields ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldInfo:
    """One field of a kind, for the mapping editor and the templates."""

    name: str
    required: bool
    type: str  # kinds.TYPES
    kind: str = ""

    def label(self, lang: str) -> str:
        """The field's name in ``lang``: "订单日期" / "Order date"."""
        return t(f"import.field.{self.kind}.{self.name}", lang)

    def hint(self, lang: str) -> str:
        """What the field takes, with examples."""
        return _hint(kinds.kind(self.kind), kinds.kind(self.kind).field(self.name), lang)


def fields(kind: str) -> list[FieldInfo]:
    """The fields of ``kind``, in file order."""
    return [FieldInfo(f.name, f.required, f.type, kind) for f in kinds.kind(kind).fields]


def kind_label(kind: str, lang: str) -> str:
    """The kind's name in ``lang``: "订单" / "Orders"."""
    kinds.kind(kind)
    return t(f"import.kind.{kind}", lang)


def _choice_label(f: Field, code: str, lang: str) -> str:
    return t(f"import.choice.{f.choice_group}.{code}", lang)


def _hint(k: Kind, f: Field, lang: str) -> str:
    if f.type == "id":
        text = t("import.hint.code" if k.key else "import.hint.id", lang)
    elif f.type == "text":
        text = t("import.hint.text", lang, n=MAX_TEXT)
    elif f.type == "decimal" and f.percent_sign:
        text = t("import.hint.pct", lang)
    elif f.type == "date" and f.month:
        text = t("import.hint.month", lang)
    elif f.type == "choice":
        shown = ", ".join(f"{c} ({_choice_label(f, c, lang)})" for c in f.choices)
        text = t("import.hint.choice", lang, choices=shown)
    elif f.type in ("ref", "refs"):
        assert f.ref is not None
        named = f.ref in ("regions", "categories")
        key = (
            "import.hint.refs"
            if f.type == "refs"
            else "import.hint.ref_named"
            if named
            else "import.hint.ref"
        )
        text = t(key, lang, kind=kind_label(f.ref, lang))
    else:
        text = t(f"import.hint.{f.type}", lang)
    return t(
        "import.hint.joined",
        lang,
        need=t(f"import.hint.{'required' if f.required else 'optional'}", lang),
        text=text,
    )


def _names(kind: str, f: Field) -> tuple[str, ...]:
    """Every header that means field ``f``: its name, both labels, the template header, aliases."""
    zh, en = (t(f"import.field.{kind}.{f.name}", lang) for lang in ("zh", "en"))
    found = [f.name, zh, en, f"{zh} / {en}"]
    alias = f"import.alias.{kind}.{f.name}"
    if alias in messages():
        found += [a for lang in ("zh", "en") for a in t(alias, lang).split("|")]
    return tuple(found)


# -- reading files -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """A file's cells, read but not interpreted: text columns c0..cN and each row's number."""

    name: str
    headers: list[str]
    rows: int
    data: pa.Table = field(repr=False, compare=False)  # c0..cN (string) and _row (the sheet's row)

    def preview(self, n: int = 5) -> pd.DataFrame:
        """The first ``n`` data rows as text, the file's headers as columns."""
        part = self.data.slice(0, n).select([f"c{i}" for i in range(len(self.headers))]).to_pandas()
        part.columns = [h or f"#{i + 1}" for i, h in enumerate(self.headers)]
        return part

    def row_numbers(self) -> list[int]:
        """The sheet row number of each data row (the header is row 1 when it is the first)."""
        return self.data.column("_row").to_pylist()


def read(source: bytes | Path, filename: str) -> Table:
    """Read a .csv or .xlsx file's cells; the header row is the first non-empty row. Refused: a file
    over MAX_FILE_MB, more than MAX_ROWS data rows or MAX_COLUMNS columns, an .xlsx sheet whose used
    range holds more than MAX_SHEET_CELLS cells, a text file whose encoding cannot be told."""
    suffix = Path(filename).suffix.lower()
    try:
        if isinstance(source, Path):
            import_files.refuse_size(source.stat().st_size)
        data = Path(source).read_bytes() if isinstance(source, Path) else bytes(source)
    except OSError as exc:
        raise ImportFileError("unreadable", exc.strerror or exc) from exc
    import_files.refuse_size(len(data))
    if suffix in (".csv", ".txt", ".tsv"):
        found = import_files.read_csv(data)
    elif suffix in (".xlsx", ".xlsm"):
        found = import_files.read_xlsx(data, _sheet)
    else:
        raise ImportFileError("unknown_format", suffix or filename)
    del data
    return _table(Path(filename).name, found)


def _sheet(names: list[str]) -> str:
    """The sheet named like a kind (code or label) if there is one, else the first sheet."""
    wanted = {cells.header_key(k) for k in KINDS} | {
        cells.header_key(t(f"import.kind.{k}", lang)) for k in KINDS for lang in ("zh", "en")
    }
    return next((n for n in names if cells.header_key(n) in wanted), names[0])


def _table(name: str, found: import_files.Cells) -> Table:
    """The header (first non-empty row), the data rows after it that are not blank, and the columns
    up to the last one with a header or a value; ``_extra`` counts a CSV record's cells beyond the
    header."""
    import pyarrow.compute as pc

    columns = found.columns
    if not columns:
        raise ImportFileError("empty")
    filled = None
    for column in columns:
        has = pc.not_equal(pc.utf8_trim(column, _WS), "")
        filled = has if filled is None else pc.or_(filled, has)
    assert filled is not None
    head = pc.index(filled, True).as_py() if len(filled) else -1
    if head < 0:
        raise ImportFileError("empty")
    headers = [str(c[head].as_py()).strip(_WS) for c in columns]
    extra = {} if found.extra is None else {"_extra": found.extra}
    whole = pa.table({**{f"c{i}": c for i, c in enumerate(columns)}, "_row": found.numbers, **extra})
    rest = filled.slice(head + 1)
    body = whole.slice(head + 1)
    if not pc.all(rest).as_py():  # a blank row left (the CSV and .xlsx readers drop most): a copy
        body = body.filter(rest)
    del whole, filled, rest
    width = len(headers)
    while width and not headers[width - 1] and not _any(body.column(f"c{width - 1}")):
        width -= 1
    if not body.num_rows:
        raise ImportFileError("empty")
    if body.num_rows > MAX_ROWS:
        raise ImportFileError("too_many_rows_in", f"{MAX_ROWS:,}")
    body = body.select([*(f"c{i}" for i in range(width)), "_row", *extra])
    return Table(name, headers[:width], body.num_rows, body)


def _any(column: pa.ChunkedArray) -> bool:
    import pyarrow.compute as pc

    return bool(pc.any(pc.not_equal(pc.utf8_trim(column, _WS), "")).as_py())


# -- mapping ---------------------------------------------------------------------------------------
def _known(kind: str) -> dict[str, tuple[str, ...]]:
    k = kinds.kind(kind)
    return {f.name: _names(kind, f) for f in k.fields}


def suggest_mapping(db: Database, kind: str, headers: list[str]) -> dict[int, str | None]:
    """Column index -> field: a mapping remembered for that header first, then matching by name."""
    names = {f.name for f in kinds.kind(kind).fields}
    remembered = dict(db.rows("SELECT header_key, field FROM import_mappings WHERE kind = ?", [kind]))
    mapping: dict[int, str | None] = {i: None for i in range(len(headers))}
    used: set[str] = set()
    for i, header in enumerate(headers):
        chosen = remembered.get(cells.header_key(header))
        if chosen in names and chosen not in used:
            mapping[i] = chosen
            used.add(chosen)
    for name, index in cells.match_headers(headers, _known(kind)).items():
        if mapping[index] is None and name not in used:
            mapping[index] = name
            used.add(name)
    return mapping


# -- the plan --------------------------------------------------------------------------------------
PROBLEM_COLUMNS = ["row", "column", "field", "reason", "value", "detail"]
# Problems whose detail is a count, passed to the message as n for its plural form.
COUNTED_DETAIL = ("too_long", "extra_cells")


@dataclass(frozen=True)
class Plan:
    """What an import would do: counts, and every problem by row and column."""

    kind: str
    rows: int
    inserts: int
    updates: int
    bad_rows: int
    problems: pd.DataFrame = field(compare=False)
    truncated: bool
    missing_fields: list[str]

    def message(self, problem_row: Mapping[str, Any], lang: str) -> str:
        """One problem in words (as problem_text)."""
        return problem_text({**problem_row, "kind": self.kind}, lang)

    def texts(self, lang: str) -> list[str]:
        """Every listed problem in words."""
        return [self.message(p, lang) for p in self.problems.to_dict("records")]


def problem_text(problem: Mapping[str, Any], lang: str) -> str:
    """One problem in words: "第 3 行「区域」：区域「华北x」不存在" / "row 3, “Region”: unknown ..."."""
    reason = str(problem["reason"])
    kind = str(problem.get("kind") or "")
    name = str(problem.get("field") or "")
    detail = "" if problem.get("detail") is None else str(problem.get("detail"))
    key = f"import.problem.{reason}"
    label = name
    if kind in kinds.KINDS and any(f.name == name for f in kinds.KINDS[kind].fields):
        label = t(f"import.field.{kind}.{name}", lang)
    if reason in ("unknown_ref", "ambiguous_ref") and detail in kinds.KINDS:
        detail = kind_label(detail, lang) if lang == "zh" else kind_label(detail, lang).lower()
    elif reason == "fixed_reference" and detail in kinds.KINDS:
        detail = t("import.detail.referenced", lang, kind=kind_label(detail, lang))
    elif reason == "missing" and detail == "not_mapped":
        key = "import.problem.not_mapped"
    elif reason == "negative" and detail == ">0":
        key = "import.problem.not_positive"
    elif reason == "duplicate_id" and detail == "taken":
        key = "import.problem.duplicate_name"
    value = problem.get("value")
    counted = {"n": int(detail)} if reason in COUNTED_DETAIL else {}  # picks "1 cell" or "2 cells"
    return t(
        key,
        lang,
        row=problem.get("row", ""),
        column=problem.get("column") or label,
        field=label,
        value="" if value is None else value,
        detail=detail,
        **counted,
    )


@dataclass(frozen=True)
class Result:
    """What an import did."""

    kind: str
    inserted: int
    updated: int
    skipped: int
    seconds: float
    plan: Plan


class ImportRefused(Exception):
    """``run(skip_bad=False)`` on a file with problems: nothing was written; ``plan`` lists them."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(f"{plan.bad_rows} of {plan.rows} rows have problems; nothing was imported")
        self.plan = plan


# -- the engine ------------------------------------------------------------------------------------
_SQL_TYPES = {
    "int": "INTEGER",
    "decimal": "DECIMAL(18, 2)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "choice": "VARCHAR",
    "ref": "BIGINT",
    "refs": "BIGINT[]",
    "id": "VARCHAR",
    "text": "VARCHAR",
}
# Fast paths: only text cells.py reads the same way (it is slower, not different, for the rest).
_DATE_RE = r"[12]\d{3}-\d{1,2}-\d{1,2}"
_TIME_RE = r"([ T]([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?)?"
_FAST = {  # {v}: the staged cell
    "int": r"CASE WHEN regexp_full_match({v}, '[+-]?\d{1,9}') THEN CAST({v} AS INTEGER) END",
    "decimal": r"CASE WHEN regexp_full_match({v}, '[+-]?\d{1,15}(\.\d{1,2})?')"
    r" THEN CAST({v} AS DECIMAL(18, 2)) END",
    "pct": r"CASE WHEN regexp_full_match({v}, '[+-]?\d{1,15}(\.\d{1,6})?') THEN CAST({v} AS DOUBLE) END",
    "date": f"CASE WHEN regexp_full_match({{v}}, '{_DATE_RE}') THEN TRY_CAST({{v}} AS DATE) END",
    "timestamp": f"CASE WHEN regexp_full_match({{v}}, '{_DATE_RE}{_TIME_RE}')"
    " THEN TRY_CAST({v} AS TIMESTAMP) END",
}


def _sql_type(f: Field) -> str:
    return "DOUBLE" if f.percent_sign else _SQL_TYPES[f.type]


def _fast(f: Field, v: str) -> str | None:
    if f.percent_sign:
        return _FAST["pct"].replace("{v}", v)
    return _FAST[f.type].replace("{v}", v) if f.type in _FAST else None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Stage:
    """One check or import in progress: the cursor (a Tx inside a write), the kind and mapping."""

    ex: Any  # a duckdb cursor or a Tx: .execute(sql, params)
    kind: Kind
    table: Table
    mapping: dict[str, int]  # field -> column index
    day_first: bool | None
    progress: Progress
    counts: dict[str, int] = field(default_factory=dict)

    def sql(self, statement: str, params: Any = None) -> Any:
        return self.ex.execute(statement, params)

    def rows(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.sql(statement, params).fetchall()

    def step(self, fraction: float, key: str) -> None:
        if self.progress is not None:
            self.progress(fraction, key)

    def mapped(self, f: Field) -> bool:
        return f.name in self.mapping


def _normalise_mapping(k: Kind, table: Table, mapping: Mapping[int, str | None]) -> dict[str, int]:
    names = {f.name for f in k.fields}
    found: dict[str, int] = {}
    for index, name in mapping.items():
        if name is None:
            continue
        if name not in names:
            raise ImportFileError("unknown_field", name)
        if not 0 <= int(index) < len(table.headers):
            raise ValueError(f"column {index} is not in the file (it has {len(table.headers)})")
        if name in found:
            raise ImportFileError("mapped_twice", name)
        found[name] = int(index)
    return found


def _missing_fields(k: Kind, mapped: dict[str, int]) -> list[str]:
    return [
        f.name
        for f in k.fields
        if f.required and f.name not in mapped and not (f.either and f.either in mapped)
    ]


def _stage_raw(s: _Stage) -> None:
    """The mapped cells, trimmed, blank as NULL, with the sheet row number."""
    s.ex.register("_imp_src", s.table.data)
    blank = "'" + _WS.replace("'", "''") + "'"
    columns = [f"nullif(trim(c{i}, {blank}), '') AS {_q(name)}" for name, i in s.mapping.items()]
    extra = "_extra" if "_extra" in s.table.data.column_names else "0"
    s.sql(
        f"CREATE OR REPLACE TEMP TABLE _imp_raw AS SELECT {', '.join(['_row', *columns])},"
        f" CAST({extra} AS INTEGER) AS _extra FROM _imp_src"
    )
    s.ex.unregister("_imp_src")


# -- parsing the values the fast path cannot read ----------------------------------------------------
def _parse_number(f: Field, text: str) -> tuple[Any, str | None]:
    try:
        if f.percent_sign and text.rstrip().endswith(("%", "％")):
            text = text.rstrip()[:-1]  # awareness is kept in percent: "45%" is 45, not 0.45
        number = cells.parse_number(text)
    except cells.CellError:
        return None, "bad_number"
    if number is None:
        return None, "bad_number"
    if f.type == "int":
        if number != number.to_integral_value() or abs(number) > MAX_INT:
            return None, "bad_number"
        return int(number), None
    if abs(number) >= MAX_AMOUNT:
        return None, "bad_number"
    if f.percent_sign:
        return float(number), None
    return number.quantize(CENT, rounding=ROUND_HALF_UP), None


def _parse_timestamp(text: str, day_first: bool | None) -> dt.datetime:
    """A date with an optional time of day (a date alone is 00:00; an Excel serial's fraction is the time)."""
    found = _TIME.match(cells._text(text))
    if found:
        hour, minute, second = int(found.group(2)), int(found.group(3)), int(found.group(4) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise cells.CellError("bad_date", text)
        day = cells.parse_date(found.group(1), day_first=day_first)
        assert day is not None
        return dt.datetime.combine(day, dt.time(hour, minute, second))
    day = cells.parse_date(text, day_first=day_first)
    assert day is not None
    serial = cells._text(text)
    if re.fullmatch(r"\d+\.\d+", serial):
        seconds = round((float(serial) % 1) * 86_400)
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=min(seconds, 86_399))
    return dt.datetime.combine(day, dt.time())


def _parse_date(f: Field, text: str, day_first: bool | None) -> tuple[Any, str | None]:
    try:
        if f.type == "timestamp":
            return _parse_timestamp(text, day_first), None
        if f.month:
            found = _MONTH.match(cells._text(text))
            if found and 1 <= int(found.group(2)) <= 12:
                return dt.date(int(found.group(1)), int(found.group(2)), 1), None
        return cells.parse_date(text, day_first=day_first), None
    except cells.CellError as exc:
        return None, exc.reason


def _slow(s: _Stage, f: Field, parse: Callable[[str], tuple[Any, ...]], where: str = "") -> str:
    """Parse in Python the distinct values of ``f`` matching ``where`` (default: all), and register
    them as a table _imp_map_<field>(v, val, err, bad) to join back."""
    v = _q(f.name)
    values = [r[0] for r in s.rows(f"SELECT DISTINCT {v} FROM _imp_raw WHERE {v} IS NOT NULL {where}")]
    parsed = [parse(value) for value in values]
    name = f"_imp_map_{f.name}"
    arrow_type = {
        "INTEGER": pa.int64(),
        "DECIMAL(18, 2)": pa.decimal128(18, 2),
        "DOUBLE": pa.float64(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
        "VARCHAR": pa.string(),
        "BIGINT": pa.int64(),
        "BIGINT[]": pa.list_(pa.int64()),
    }[_sql_type(f)]
    s.ex.register(
        f"{name}_src",
        pa.table(
            {
                "v": pa.array(values, pa.string()),
                "val": pa.array([p[0] for p in parsed], arrow_type),
                "err": pa.array([p[1] for p in parsed], pa.string()),
                "bad": pa.array([p[2] if len(p) > 2 else None for p in parsed], pa.string()),
            }
        ),
    )
    s.sql(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_src")
    s.ex.unregister(f"{name}_src")
    return name


def _named_keys(s: _Stage, ref: str) -> dict[str, list[int]]:
    """Region or category keys (code, Chinese and English name; case and spacing ignored) -> ids."""
    target = kinds.kind(ref)
    found: dict[str, set[int]] = {}
    for pk, *names in s.rows(f"SELECT {target.pk}, code, name_zh, name_en FROM {target.table}"):
        for name in names:
            found.setdefault(cells.header_key(name), set()).add(int(pk))
    return {key: sorted(ids) for key, ids in found.items()}


def _resolve_named(keys: dict[str, list[int]], text: str) -> tuple[Any, str | None, str | None]:
    ids = keys.get(cells.header_key(text), [])
    if len(ids) == 1:
        return ids[0], None, None
    return None, "ambiguous_ref" if ids else "unknown_ref", text


def _lookup(s: _Stage, ref: str, source: str, *, names: bool) -> str:
    """A table (key, id, n) of the keys in _imp_raw's column ``source`` that name a row of kind
    ``ref``: by external id, else the plain internal id of a row without an external key, else
    (``names``) a name; n > 1 when the best match is not one row."""
    target = kinds.kind(ref)
    pk, table = target.pk, target.table
    name = f"_imp_lk_{source}"
    parts = [
        "SELECT external_id AS key, internal_id AS id, 1 AS prio FROM external_keys WHERE kind = $kind",
        f"SELECT CAST({pk} AS VARCHAR), {pk}, 2 FROM {table} t WHERE NOT EXISTS"
        f" (SELECT 1 FROM external_keys e WHERE e.kind = $kind AND e.internal_id = t.{pk})",
    ]
    if names:
        parts += [f"SELECT {column}, {pk}, 3 FROM {table}" for column in target.names]
    s.sql(
        f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        WITH wanted AS (SELECT DISTINCT {_q(source)} AS key FROM _imp_raw WHERE {_q(source)} IS NOT NULL),
        cand AS (SELECT * FROM ({" UNION ALL ".join(parts)}) c WHERE key IN (SELECT key FROM wanted)),
        best AS (SELECT key, min(prio) AS prio FROM cand GROUP BY key)
        SELECT key, min(id) AS id, count(DISTINCT id) AS n, any_value(prio) AS prio
        FROM cand JOIN best USING (key, prio) GROUP BY key
        """,
        {"kind": ref},
    )
    return name


def _parser(s: _Stage, f: Field) -> Callable[[str], tuple[Any, ...]]:
    """How the distinct values of ``f`` the fast path cannot read are read in Python: (value, reason,
    the part of the cell at fault)."""
    if f.type in ("int", "decimal"):
        return lambda text: _parse_number(f, text)
    if f.type in ("date", "timestamp"):
        day_first = s.day_first
        return lambda text: _parse_date(f, text, day_first)
    if f.type == "choice":
        accepted = {
            cells.header_key(text): code
            for code in f.choices
            for text in (code, _choice_label(f, code, "zh"), _choice_label(f, code, "en"))
        }
        return lambda text: (
            (accepted[cells.header_key(text)], None)
            if cells.header_key(text) in accepted
            else (None, "bad_choice")
        )
    assert f.ref is not None
    keys = _named_keys(s, f.ref)
    if f.type == "refs":
        return lambda text: _resolve_many(keys, text)
    return lambda text: _resolve_named(keys, text)


def _stage_parsed(s: _Stage) -> None:
    """_imp_parsed: per mapped field its raw text, typed value and parse problem (err, and the part
    of the cell at fault in bad); _bad when any field failed to parse."""
    selects = ["r._row", "r._extra"]
    joins: list[str] = []
    errors: list[str] = []
    for f in s.kind.fields:
        if not s.mapped(f):
            continue
        v = f"r.{_q(f.name)}"
        raw, val, err = _q(f"{f.name}__raw"), _q(f.name), _q(f"{f.name}__err")
        selects.append(f"{v} AS {raw}")
        fast = _fast(f, v)
        if f.type in ("id", "text"):
            selects.append(f"{v} AS {val}")
            selects.append(f"CASE WHEN length({v}) > {MAX_TEXT} THEN 'too_long' END AS {err}")
            selects.append(f"NULL::VARCHAR AS {_q(f.name + '__bad')}")
        elif fast is not None:
            m = _slow(s, f, _parser(s, f), f"AND ({_fast(f, _q(f.name))}) IS NULL")
            joins.append(f"LEFT JOIN {m} ON {m}.v = {v}")
            selects.append(f"coalesce({fast}, {m}.val) AS {val}")
            failed = f"WHEN {v} IS NOT NULL AND {fast} IS NULL THEN {m}.err"
            if f.type in ("date", "timestamp"):
                first, last = date_range()
                day = f"CAST(coalesce({fast}, {m}.val) AS DATE)"
                failed = (
                    f"WHEN {v} IS NOT NULL AND {fast} IS NULL AND {m}.err IS NOT NULL THEN {m}.err"
                    f" WHEN {day} NOT BETWEEN DATE '{first}' AND DATE '{last}' THEN 'date_out_of_range'"
                )
            selects.append(f"CASE {failed} END AS {err}")
            selects.append(f"NULL::VARCHAR AS {_q(f.name + '__bad')}")
        elif f.type == "choice" or f.ref in ("regions", "categories"):
            m = _slow(s, f, _parser(s, f))
            joins.append(f"LEFT JOIN {m} ON {m}.v = {v}")
            selects += [f"{m}.val AS {val}", f"{m}.err AS {err}", f"{m}.bad AS {_q(f.name + '__bad')}"]
        elif f.type == "ref":
            assert f.ref is not None
            lk = _lookup(s, f.ref, f.name, names=True)
            joins.append(f"LEFT JOIN {lk} ON {lk}.key = {v}")
            selects.append(f"CASE WHEN {lk}.n = 1 THEN {lk}.id END AS {val}")
            selects.append(
                f"CASE WHEN {v} IS NULL THEN NULL WHEN {lk}.key IS NULL THEN 'unknown_ref'"
                f" WHEN {lk}.n > 1 THEN 'ambiguous_ref' END AS {err}"
            )
            selects.append(f"NULL::VARCHAR AS {_q(f.name + '__bad')}")
        else:
            raise AssertionError(f"no parser for {f.type}")
        errors.append(err)
    if s.kind.has_ids and "id" in s.mapping:
        lk = _lookup(s, s.kind.name, "id", names=False)
        joins.append(f"LEFT JOIN {lk} self ON self.key = r.id")
        selects += ["self.id AS _known", "coalesce(self.prio = 1, false) AS _keyed"]
    else:
        selects += ["NULL::BIGINT AS _known", "false AS _keyed"]
    bad = " OR ".join(["_extra > 0", *(f"{e} IS NOT NULL" for e in errors)])
    s.sql(
        f"CREATE OR REPLACE TEMP TABLE _imp_parsed AS SELECT *, ({bad}) AS _bad FROM "
        f"(SELECT {', '.join(selects)} FROM _imp_raw r {' '.join(joins)})"
    )


def _resolve_many(keys: dict[str, list[int]], text: str) -> tuple[Any, str | None, str | None]:
    ids: list[int] = []
    for part in (p.strip() for p in _SPLIT.split(text)):
        if not part:
            continue
        found, reason, bad = _resolve_named(keys, part)
        if reason is not None:
            return None, reason, bad
        if found not in ids:
            ids.append(found)
    return (sorted(ids), None, None) if ids else (None, "unknown_ref", text)


# -- final values, problems --------------------------------------------------------------------------
def _constraints(s: _Stage) -> tuple[set[str], list[tuple[str, str]]]:
    """The indexed columns of the kind's table (PK, UNIQUE, FK), and the (table, column) pairs of the
    foreign keys that point at it."""
    table = s.kind.table
    indexed: set[str] = set()
    referencing: list[tuple[str, str]] = []
    for owner, kind_of, columns, referenced in s.rows(
        "SELECT table_name, constraint_type, constraint_column_names, referenced_table"
        " FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')"
        " AND (table_name = $t OR referenced_table = $t)",
        {"t": table},
    ):
        if owner == table:
            indexed |= set(columns)
        if kind_of == "FOREIGN KEY" and referenced == table:
            referencing.append((owner, columns[0]))
    return indexed, referencing


def _final_expr(s: _Stage, f: Field) -> str:
    """The value a row's column of field ``f`` ends with: the file's when mapped (blank takes the
    default), the stored one for an existing row when not, else the default."""
    default = f.default or "NULL"
    if s.mapped(f):
        value = f"p.{_q(f.name)}"
        if f.either and f.either in s.mapping:
            value = f"coalesce({value}, p.{_q(f.either)})"
        if f.month:
            value = f"CAST(date_trunc('month', {value}) AS DATE)"
        if f.name == "code" and s.kind.key:
            value = f"CASE WHEN cur.{s.kind.pk} IS NOT NULL THEN cur.code ELSE {value} END"  # keep its case
        return f"coalesce({value}, {default})" if f.default else value
    if f.either and f.either in s.mapping:
        return f"CASE WHEN cur.{s.kind.pk} IS NULL THEN p.{_q(f.either)} ELSE cur.{f.stored} END"
    return f"CASE WHEN cur.{s.kind.pk} IS NULL THEN {default} ELSE cur.{f.stored} END"


def _identity(s: _Stage) -> str:
    """The join condition of a staged row with the stored row it updates."""
    k = s.kind
    if k.has_ids:
        return f"cur.{k.pk} = p._known"
    if k.key == ("code",):
        return "lower(cur.code) = lower(p.code)" if "code" in s.mapping else "false"
    parts = []
    for name in k.key:
        f = k.field(name)
        if name not in s.mapping:
            return "false"
        value = f"CAST(date_trunc('month', p.{_q(name)}) AS DATE)" if f.month else f"p.{_q(name)}"
        parts.append(f"cur.{f.stored} = {value}")
    return " AND ".join(parts)


def _stage_final(s: _Stage) -> list[str]:
    """_imp_final: every column the kind keeps, as it will be, plus the stored value (old__<column>)
    of an updated row. Returns the table columns written."""
    k = s.kind
    columns = [f for f in k.fields if f.stored]
    selects = [
        "p._row",
        "p._bad",
        "p._known",
        "p._keyed",
        f"cur.{k.pk} IS NOT NULL AS _exists",
        f"cur.{k.pk} AS _id",
    ]
    selects += [f"{_final_expr(s, f)} AS {f.stored}" for f in columns]
    selects += [f"cur.{f.stored} AS {_q('old__' + f.stored)}" for f in columns]
    joins = [f"LEFT JOIN {k.table} cur ON {_identity(s)}"]
    written = [f.stored for f in columns]
    for column, (ref_name, source) in k.derived.items():
        ref = k.field(ref_name)
        target = kinds.kind(ref.ref or "")
        alias = f"d_{ref_name}"
        joins.append(f"LEFT JOIN {target.table} {alias} ON {alias}.{target.pk} = p.{_q(ref_name)}")
        value = f"{alias}.{source}" if s.mapped(ref) else f"cur.{column}"
        selects += [f"{value} AS {column}", f"cur.{column} AS {_q('old__' + column)}"]
        written.append(column)
    for f in k.fields:
        if f.type == "refs" and s.mapped(f):
            selects.append(f"p.{_q(f.name)} AS {_q(f.name)}")
    s.sql(
        f"CREATE OR REPLACE TEMP TABLE _imp_final AS SELECT {', '.join(selects)} "
        f"FROM _imp_parsed p {' '.join(joins)}"
    )
    return written


def _lit(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _stage_problems(s: _Stage) -> None:
    """_imp_problems(_row, field, reason, value, detail): every problem of every row."""
    k = s.kind
    parts: list[str] = []
    for f in k.fields:
        if not s.mapped(f):
            continue
        raw, err, bad = _q(f"{f.name}__raw"), _q(f"{f.name}__err"), _q(f"{f.name}__bad")
        detail = {
            "ref": _lit(f.ref),
            "refs": _lit(f.ref),
            "choice": _lit(" | ".join(f.choices)),
        }.get(f.type, "NULL")
        first, last = date_range()
        detail = (
            f"CASE WHEN {err} = 'too_long' THEN '{MAX_TEXT}'"
            f" WHEN {err} = 'date_out_of_range' THEN '{first} … {last}' ELSE {detail} END"
        )
        parts.append(
            f"SELECT _row, {_lit(f.name)}, {err}, coalesce({bad}, {raw}), {detail} FROM _imp_parsed"
            f" WHERE {err} IS NOT NULL"
        )
        if f.required:
            blank = f"{raw} IS NULL"
            if f.either and f.either in s.mapping:
                blank += f" AND {_q(f.either + '__raw')} IS NULL"
            parts.append(f"SELECT _row, {_lit(f.name)}, 'missing', NULL, NULL FROM _imp_parsed WHERE {blank}")
        value = _q(f.name)
        test = {
            "nonneg": (f"{value} < 0", "negative", "NULL"),
            "positive": (f"{value} <= 0", "negative", "'>0'"),
            "pct": (f"({value} < 0 OR {value} > 100)", "out_of_range", "'0..100'"),
            "size": (f"{value} <= 0", "out_of_range", "'>0'"),
        }.get(f.check or "")
        if test:
            parts.append(
                f"SELECT _row, {_lit(f.name)}, '{test[1]}', {raw}, {test[2]} FROM _imp_parsed WHERE {test[0]}"
            )
    # a record longer than the header: its cells may have shifted (an unquoted 1,234.50)
    parts.append(
        "SELECT _row, '', 'extra_cells', NULL, CAST(_extra AS VARCHAR) FROM _imp_parsed WHERE _extra > 0"
    )
    key_field = "id" if k.has_ids else k.key[0]
    if key_field in s.mapping:
        if k.has_ids:
            partition = "id__raw"
            source = "_imp_parsed WHERE id__raw IS NOT NULL"
        else:
            stored = [k.field(n).stored for n in k.key]
            partition = ", ".join("lower(code)" if n == "code" else n for n in stored)
            source = "_imp_final WHERE " + " AND ".join(f"{c} IS NOT NULL" for c in stored)
        raw = f"(SELECT {_q(key_field + '__raw')} FROM _imp_parsed q WHERE q._row = d._row)"
        parts.append(
            f"SELECT _row, {_lit(key_field)}, 'duplicate_id', {raw}, NULL FROM "
            f"(SELECT _row, count(*) OVER (PARTITION BY {partition}) AS n FROM {source}) d WHERE n > 1"
        )
    indexed, referencing = _constraints(s)
    key_columns = {k.pk, *(k.field(n).stored for n in k.key)}
    for f in k.fields:
        if (
            f.stored
            and f.stored in indexed
            and f.stored not in key_columns
            and f.type == "text"
            and s.mapped(f)
        ):
            # a UNIQUE name (regions, categories): taken by another row, in the file or stored
            c = f.stored
            parts.append(
                f"SELECT _row, {_lit(f.name)}, 'duplicate_id', {c}, 'taken' FROM _imp_final x"
                f" WHERE NOT _bad AND {c} IS NOT NULL AND ("
                f"(SELECT count(*) FROM _imp_final y WHERE y.{c} = x.{c}) > 1"
                f" OR EXISTS (SELECT 1 FROM {k.table} o WHERE o.{c} = x.{c}"
                f" AND o.{k.pk} IS DISTINCT FROM x._id))"
            )
    for rule in k.rules:
        f = k.field(rule.field)
        raw = _q(f"{f.name}__raw")
        shown = f"(SELECT {raw} FROM _imp_parsed q WHERE q._row = x._row)" if s.mapped(f) else "NULL"
        parts.append(
            f"SELECT _row, {_lit(f.name)}, '{rule.reason}', {shown}, NULL FROM _imp_final x"
            f" WHERE NOT _bad AND ({rule.sql})"
        )
    if referencing:
        parts += _fixed_references(s, indexed - key_columns, referencing)
    s.sql(
        "CREATE OR REPLACE TEMP TABLE _imp_problems AS SELECT DISTINCT * FROM ("
        + " UNION ALL ".join(f"({p})" for p in parts or ["SELECT NULL, NULL, NULL, NULL, NULL WHERE false"])
        + ") p(_row, field, reason, value, detail)"
    )


def _final_columns(k: Kind) -> set[str]:
    return {f.stored for f in k.fields if f.stored} | set(k.derived)


def _fixed_references(s: _Stage, indexed: set[str], referencing: list[tuple[str, str]]) -> list[str]:
    """A change of an indexed column of an updated row that other rows reference."""
    k = s.kind
    changed = [c for c in sorted(indexed) if c in _final_columns(k)]
    if not changed:
        return []
    used = " UNION ALL ".join(f"SELECT {column} AS id FROM {table}" for table, column in referencing)
    s.sql(
        f"CREATE OR REPLACE TEMP TABLE _imp_used AS SELECT DISTINCT id FROM ({used}) u"
        " WHERE id IN (SELECT _id FROM _imp_final WHERE _exists)"
    )
    owner = {f.stored: f.name for f in k.fields if f.stored}
    owner |= {column: ref for column, (ref, _) in k.derived.items()}
    parts = []
    for c in changed:
        name = owner[c]
        f = k.field(name)
        shown = (
            f"(SELECT {_q(name + '__raw')} FROM _imp_parsed q WHERE q._row = x._row)"
            if s.mapped(f)
            else "NULL"
        )
        parts.append(
            f"SELECT _row, {_lit(name)}, 'fixed_reference', {shown}, {_lit(k.name)} FROM _imp_final x"
            f" WHERE _exists AND NOT _bad AND x.{c} IS DISTINCT FROM x.{_q('old__' + c)}"
            " AND x._id IN (SELECT id FROM _imp_used)"
        )
    return parts


def _plan(s: _Stage, missing: list[str]) -> Plan:
    """Count and list the problems (capped), sorted by row and by the file's column order."""
    order = {name: index for name, index in s.mapping.items()}
    headers = s.table.headers
    total, bad_rows, inserts, updates = s.rows(
        "SELECT (SELECT count(*) FROM _imp_problems),"
        " (SELECT count(DISTINCT _row) FROM _imp_problems),"
        " count(*) FILTER (WHERE NOT _exists AND _row NOT IN (SELECT _row FROM _imp_problems)),"
        " count(*) FILTER (WHERE _exists AND _row NOT IN (SELECT _row FROM _imp_problems))"
        " FROM _imp_final"
    )[0]
    s.ex.register(
        "_imp_order",
        pa.table(
            {
                "field": pa.array(list(order), pa.string()),
                "col": pa.array(list(order.values()), pa.int64()),
            }
        ),
    )
    listed = s.rows(
        "SELECT p._row, coalesce(o.col, -1) AS col, p.field, p.reason, CAST(p.value AS VARCHAR), p.detail"
        " FROM _imp_problems p LEFT JOIN _imp_order o USING (field)"
        " ORDER BY p._row, col, p.field, p.reason LIMIT $cap",
        {"cap": MAX_PROBLEMS},
    )
    s.ex.unregister("_imp_order")
    records = [(0, "", name, "missing", "", "not_mapped") for name in missing]
    records += [
        (int(r), headers[c] if c >= 0 else "", f, reason, "" if v is None else v, d or "")
        for r, c, f, reason, v, d in listed
    ]
    problems = pd.DataFrame(records, columns=PROBLEM_COLUMNS).astype({"row": "int64"})
    return Plan(
        kind=s.kind.name,
        rows=s.table.rows,
        inserts=0 if missing else int(inserts),
        updates=0 if missing else int(updates),
        bad_rows=s.table.rows if missing else int(bad_rows),
        problems=problems,
        truncated=total > MAX_PROBLEMS,
        missing_fields=missing,
    )


def _evaluate(s: _Stage) -> tuple[Plan, list[str]]:
    """Stage, parse, resolve and check every row; the plan and the columns the kind writes."""
    missing = _missing_fields(s.kind, s.mapping)
    s.step(0.05, "import.step.read")
    _stage_raw(s)
    s.step(0.15, "import.step.parse")
    _stage_parsed(s)
    s.step(0.4, "import.step.check")
    written = _stage_final(s)
    _stage_problems(s)
    plan = _plan(s, missing)
    s.step(0.55, "import.step.check")
    return plan, written


def _cursor(db: Database) -> Any:
    # A cursor of its own for a read-only dry run: query/rows cannot hold temp tables across statements.
    return db.cursor()


def check(
    db: Database,
    kind: str,
    table: Table,
    mapping: Mapping[int, str | None],
    *,
    day_first: bool | None = None,
    progress: Progress = None,
) -> Plan:
    """The dry run: every problem by row and column, and what would be inserted or updated.

    Runs in a transaction of its own that is rolled back, so it changes nothing."""
    k = kinds.kind(kind)
    _refuse_missing(kind, mapping)
    cur = _cursor(db)
    try:
        cur.execute("BEGIN TRANSACTION")
        s = _Stage(cur, k, table, _normalise_mapping(k, table, mapping), day_first, progress)
        plan, _ = _evaluate(s)
        s.step(1.0, "import.step.done")
        return plan
    finally:
        try:
            cur.execute("ROLLBACK")
        finally:
            cur.close()


# -- writing ---------------------------------------------------------------------------------------
def run(
    db: Database,
    kind: str,
    table: Table,
    mapping: Mapping[int, str | None],
    *,
    by: Actor,
    day_first: bool | None = None,
    skip_bad: bool = True,
    progress: Progress = None,
) -> Result:
    """Import every good row (skip_bad) or nothing (ImportRefused), in one transaction."""
    k = kinds.kind(kind)
    started = time.perf_counter()
    normalised = _normalise_mapping(k, table, mapping)
    _refuse_missing(kind, mapping)

    def work(tx: Tx) -> tuple[Plan, int, int]:
        s = _Stage(tx, k, table, normalised, day_first, progress)
        plan, written = _evaluate(s)
        if plan.bad_rows and not skip_bad:
            raise ImportRefused(plan)
        s.step(0.6, "import.step.write")
        inserted, updated = _write(s, written)
        _remember(s)
        tx.audit(
            "import",
            kind,
            "import",
            after={
                "file": table.name,
                "rows": table.rows,
                "inserted": inserted,
                "updated": updated,
                "skipped": plan.bad_rows,
            },
        )
        s.step(0.85, "import.step.summaries")
        return plan, inserted, updated

    plan, inserted, updated = db.write(work, by=by)
    if progress is not None:
        progress(1.0, "import.step.done")
    return Result(kind, inserted, updated, plan.bad_rows, time.perf_counter() - started, plan)


def _write(s: _Stage, written: list[str]) -> tuple[int, int]:
    """Insert the good new rows and update the good existing ones; returns (inserted, updated)."""
    k = s.kind
    pk = k.pk
    generated = k.pk not in _final_columns(k)  # ids are numbered here; targets and surveys have none
    base = f"(SELECT coalesce(max({pk}), 0) FROM {k.table})"
    if k.has_ids:  # an external key may point at a row since deleted: never reuse its id
        base = (
            f"greatest({base}, (SELECT coalesce(max(internal_id), 0) FROM external_keys WHERE kind = $kind))"
        )
    new_id = (
        f"CASE WHEN _exists THEN _id WHEN _known IS NOT NULL THEN _known"
        f" ELSE {base} + row_number() OVER (PARTITION BY _exists, _known IS NULL ORDER BY _row) END"
        if generated
        else "NULL"
    )
    s.sql(
        f"CREATE OR REPLACE TEMP TABLE _imp_good AS SELECT *, {new_id} AS _new_id FROM _imp_final"
        " WHERE _row NOT IN (SELECT _row FROM _imp_problems) ORDER BY _row",
        {"kind": k.name} if k.has_ids else None,
    )
    inserted, updated = s.rows(
        "SELECT count(*) FILTER (WHERE NOT _exists), count(*) FILTER (WHERE _exists) FROM _imp_good"
    )[0]
    columns = ([pk] if generated else []) + written
    values = (["_new_id"] if generated else []) + written
    if inserted:
        s.sql(
            f"INSERT INTO {k.table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM _imp_good"
            " WHERE NOT _exists ORDER BY _row"
        )
    s.step(0.7, "import.step.write")
    if updated:
        _update(s, written)
    _write_refs(s)
    if k.has_ids:
        _save_keys(s)
    return int(inserted), int(updated)


def _update(s: _Stage, written: list[str]) -> None:
    """Set the mapped columns of the existing rows: the indexed ones only where they change."""
    k = s.kind
    indexed, _ = _constraints(s)
    mapped = {k.field(n).stored for n in s.mapping if k.field(n).stored}
    mapped |= {f.stored for f in k.fields if f.either in s.mapping and f.stored}
    mapped |= {column for column, (ref, _) in k.derived.items() if ref in s.mapping}
    key = {k.pk, *(k.field(n).stored for n in k.key)}
    if k.has_ids:
        match = f"{k.table}.{k.pk} = g._id"
    else:
        match = " AND ".join(
            f"{k.table}.{c} = g.{_q('old__' + c)}" for c in (k.field(n).stored for n in k.key)
        )
    for column in [c for c in written if c in mapped and c in indexed and c not in key]:
        s.sql(
            f"UPDATE {k.table} SET {column} = g.{column} FROM _imp_good g WHERE {match} AND g._exists"
            f" AND {k.table}.{column} IS DISTINCT FROM g.{column}"
        )
    plain = [c for c in written if c in mapped and c not in indexed]
    if plain:
        sets = ", ".join(f"{c} = g.{c}" for c in plain)
        s.sql(f"UPDATE {k.table} SET {sets} FROM _imp_good g WHERE {match} AND g._exists")


def _write_refs(s: _Stage) -> None:
    """A promotion's regions: the pairs no longer listed go, the new ones come."""
    for f in s.kind.fields:
        if f.type != "refs" or not s.mapped(f):
            continue
        s.sql(
            f"CREATE OR REPLACE TEMP TABLE _imp_pairs AS SELECT DISTINCT _new_id AS promotion_id,"
            f" unnest({_q(f.name)}) AS region_id FROM _imp_good"
        )
        s.sql(
            "DELETE FROM promotion_regions"
            " WHERE promotion_id IN (SELECT _new_id FROM _imp_good WHERE _exists) AND NOT EXISTS"
            " (SELECT 1 FROM _imp_pairs p WHERE p.promotion_id = promotion_regions.promotion_id"
            " AND p.region_id = promotion_regions.region_id)"
        )
        s.sql(
            "INSERT INTO promotion_regions SELECT promotion_id, region_id FROM _imp_pairs p WHERE NOT EXISTS"
            " (SELECT 1 FROM promotion_regions r WHERE r.promotion_id = p.promotion_id"
            " AND r.region_id = p.region_id)"
        )


def _save_keys(s: _Stage) -> None:
    """External ids of the rows that had none: new rows, and rows found by their internal id."""
    s.sql(
        "INSERT INTO external_keys SELECT $kind, p.id__raw, g._new_id FROM _imp_good g"
        " JOIN _imp_parsed p USING (_row) WHERE NOT g._keyed AND p.id__raw IS NOT NULL",
        {"kind": s.kind.name},
    )


def _remember(s: _Stage) -> None:
    """Remember the mapping of headers that did not match their field by name."""
    known = _known(s.kind.name)
    now = dt.datetime.now()
    for name, index in s.mapping.items():
        header = s.table.headers[index]
        key = cells.header_key(header)
        if not key or key in {cells.header_key(n) for n in known[name]}:
            continue
        s.sql(
            "INSERT INTO import_mappings VALUES ($kind, $key, $field, $now)"
            " ON CONFLICT (kind, header_key)"
            " DO UPDATE SET field = excluded.field, updated_at = excluded.updated_at",
            {"kind": s.kind.name, "key": key, "field": name, "now": now},
        )


# -- export ----------------------------------------------------------------------------------------
def _ext(kind: str, column: str) -> tuple[str, str]:
    """(join, expression): a row's external id, else its internal id as text."""
    alias = f"ek_{column.replace('.', '_')}"
    join = (
        f"LEFT JOIN (SELECT internal_id, min(external_id) AS external_id FROM external_keys"
        f" WHERE kind = '{kind}' GROUP BY internal_id) {alias} ON {alias}.internal_id = {column}"
    )
    return join, f"coalesce({alias}.external_id, CAST({column} AS VARCHAR))"


def export_query(db: Database, kind: str, scope: Scope | None) -> tuple[str, dict[str, Any]]:
    """The SELECT that exports ``kind`` (columns = field names, as the import reads them) and its
    bound parameters; ``scope`` restricts regions, categories and the period (None: everything)."""
    k = kinds.kind(kind)
    selects: list[str] = []
    joins: list[str] = []
    for f in k.fields:
        column = f"t.{f.stored}" if f.stored else ""
        if f.type == "id" and k.has_ids:
            join, value = _ext(kind, f"t.{k.pk}")
            joins.append(join)
        elif f.type == "ref" and f.ref in ("regions", "categories"):
            target = kinds.kind(f.ref)
            alias = f"n_{f.name}"
            joins.append(f"LEFT JOIN {target.table} {alias} ON {alias}.{target.pk} = {column}")
            value = f"{alias}.code"
        elif f.type == "ref":
            join, value = _ext(f.ref or "", column)
            joins.append(join)
        elif f.type == "refs":
            value = (
                "(SELECT string_agg(r.code, ';' ORDER BY r.region_id) FROM promotion_regions pr"
                " JOIN regions r USING (region_id) WHERE pr.promotion_id = t.promotion_id)"
            )
        elif f.type == "date":
            value = f"strftime({column}, '%Y-%m-%d')"
        elif f.type == "timestamp":
            value = f"strftime({column}, '%Y-%m-%d %H:%M:%S')"
        else:
            value = column
        selects.append(f"{value} AS {_q(f.name)}")
    where, params = _export_filter(k, scope)
    order = ", ".join(dict.fromkeys(f"t.{c}" for c in (k.pk, *(k.field(n).stored for n in k.key))))
    sql = (
        f"SELECT {', '.join(selects)} FROM {k.table} t {' '.join(joins)}"
        f" WHERE {' AND '.join(where) or 'true'} ORDER BY {order}"
    )
    return sql, params


def _export_filter(k: Kind, scope: Scope | None) -> tuple[list[str], dict[str, Any]]:
    if scope is None:
        return [], {}
    params = scope.params()
    where: list[str] = []
    names = {f.name for f in k.fields}
    via_order = k.name == "payments"
    if "region" in names:
        nullable = "t.region_id IS NULL OR " if k.name == "people" else ""
        where.append(f"({nullable}in_scope(t.region_id, $regions))")
    elif k.name == "promotions":
        where.append(
            "($regions::INTEGER[] IS NULL OR EXISTS (SELECT 1 FROM promotion_regions r"
            " WHERE r.promotion_id = t.promotion_id AND in_scope(r.region_id, $regions)))"
        )
    elif k.name == "orders":
        where.append("in_scope(t.region_id, $regions)")
    elif via_order and (params["regions"] is not None or params["categories"] is not None):
        # a payment's region and category are its order's: one semi-join, and none when unfiltered
        where.append(
            "t.order_id IN (SELECT o.order_id FROM orders o"
            " WHERE in_scope(o.region_id, $regions)"
            " AND in_scope(o.category_id, $categories))"
        )
    if "category" in names or k.name == "orders":
        where.append("in_scope(t.category_id, $categories)")
    if k.name == "promotions":
        where.append("t.start_date < $end AND t.end_date >= $start")
    elif k.period:
        where.append(f"t.{k.period} >= $start AND t.{k.period} < $end")
    used = {name for name in ("regions", "categories", "start", "end") if f"${name}" in " ".join(where)}
    return where, {name: params[name] for name in used}


def export_frame(
    db: Database, kind: str, scope: Scope | None = None, *, lang: str | None = None, limit: int | None = None
) -> pd.DataFrame:
    """The rows of ``kind`` as the import reads them; columns are field names, or labels in ``lang``."""
    sql, params = export_query(db, kind, scope)
    if limit is not None:
        sql += " LIMIT $limit"
        params = {**params, "limit": int(limit)}
    frame = db.query(sql, params or None)
    if lang is not None:
        frame.columns = [t(f"import.field.{kind}.{c}", lang) for c in frame.columns]
    return frame


def export_file(
    db: Database, kind: str, path: Path, fmt: str, scope: Scope | None = None, *, lang: str | None = None
) -> int:
    """Write ``kind`` to ``path`` as csv (UTF-8 with BOM, so Excel reads Chinese) or xlsx; returns rows."""
    path = Path(path)
    sql, params = export_query(db, kind, scope)
    if fmt == "csv":
        cur = _cursor(db)
        try:
            headers = [
                f.name if lang is None else t(f"import.field.{kind}.{f.name}", lang)
                for f in kinds.kind(kind).fields
            ]
            renamed = ", ".join(
                f"{_export_cell(f)} AS {_q(safe_cells.neutral(h))}"
                for f, h in zip(kinds.kind(kind).fields, headers, strict=True)
            )
            with tempfile.TemporaryDirectory() as folder:
                plain = Path(folder) / "export.csv"
                rows = cur.execute(  # COPY answers with the number of rows it wrote
                    f"COPY (SELECT {renamed} FROM ({sql})) TO '{_path_literal(plain)}'"
                    " (HEADER, DELIMITER ',')",
                    params or None,
                ).fetchone()[0]
                with path.open("wb") as out, plain.open("rb") as source:
                    out.write("\ufeff".encode())
                    shutil.copyfileobj(source, out, 1 << 20)
            return int(rows)
        finally:
            cur.close()
    if fmt == "xlsx":
        count = int(db.scalar(f"SELECT count(*) FROM ({sql})", params or None))
        if count > XLSX_MAX_ROWS:
            raise ImportFileError("too_many_rows", f"{XLSX_MAX_ROWS:,}")
        frame = export_frame(db, kind, scope, lang=lang)
        _write_xlsx(path, kind, frame)
        return len(frame)
    raise ImportFileError("unknown_format_out", fmt)


def _export_cell(f: Field) -> str:
    """A column of the CSV export: text a spreadsheet would run as a formula gets a leading quote
    (safe_cells, issue 23); numbers are written as they are."""
    return _q(f.name) if f.type in ("int", "decimal") else safe_cells.sql_neutral(_q(f.name))


def _path_literal(path: Path) -> str:
    return str(path).replace("'", "''")


def _write_xlsx(
    path: Path | io.BytesIO, kind: str, frame: pd.DataFrame, guide: list[list[str]] | None = None
) -> None:
    import xlsxwriter

    # text is written with write_string (a text cell, never a formula); the options say so for any write()
    options = {"constant_memory": True, "in_memory": isinstance(path, io.BytesIO), **safe_cells.XLSX_OPTIONS}
    book = xlsxwriter.Workbook(path, options)
    sheet = book.add_worksheet(kind)
    bold = book.add_format({"bold": True})
    for c, header in enumerate(frame.columns):
        sheet.write_string(0, c, str(header), bold)
        sheet.set_column(c, c, max(12, min(40, len(str(header)) * 2)))
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        for c, value in enumerate(row):
            if value is None or (isinstance(value, float) and value != value):
                continue
            if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                sheet.write_number(r, c, float(value))
            else:
                sheet.write_string(r, c, str(value))
    if guide is not None:
        help_sheet = book.add_worksheet(GUIDE_SHEET)
        for r, row in enumerate(guide):
            for c, value in enumerate(row):
                help_sheet.write_string(r, c, value, bold if r == 0 else None)
        help_sheet.set_column(0, 3, 18)
        help_sheet.set_column(4, 4, 80)
    book.close()


def template(kind: str, fmt: str, lang: str) -> bytes:
    """An empty file to fill in: headers "<zh> / <en>" for every field, required ones first; the
    xlsx adds a guide sheet listing each field (labels, required, format and example)."""
    infos = sorted(fields(kind), key=lambda f: not f.required)
    headers = [f"{f.label('zh')} / {f.label('en')}" for f in infos]
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(headers)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        guide = [
            [t(f"import.guide.{c}", lang) for c in ("field", "label_zh", "label_en", "required", "format")]
        ]
        guide += [
            [
                f.name,
                f.label("zh"),
                f.label("en"),
                t("import.hint.required" if f.required else "import.hint.optional", lang),
                f.hint(lang),
            ]
            for f in infos
        ]
        buffer = io.BytesIO()
        _write_xlsx(buffer, kind, pd.DataFrame(columns=headers), guide)
        return buffer.getvalue()
    raise ImportFileError("unknown_format_out", fmt)
