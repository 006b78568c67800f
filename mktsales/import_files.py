"""An import file's cells, read within stated bounds (issues 8 and 23).

A CSV's bytes are checked to be UTF-8 (with or without BOM), UTF-16 with a BOM, or GB18030 (which
reads GBK and GB2312 too). GB18030 decodes almost any byte string, so a Shift-JIS or Big5 file
would come out as garbage: when the decoded text is mostly characters a GB file rarely holds
(outside GB2312's hanzi and punctuation, or kana, Greek, Cyrillic, box drawing, private use) and
the bytes also read as Shift-JIS or Big5, the file is refused and the user asked to save it as
UTF-8. A record with more cells than the header row is kept, cut to the header's width, and
counted in ``extra`` so the check refuses that row (an unquoted thousands separator splits a cell).
An .xlsx goes through mktsales.xlsx_guard before calamine and is read row by row.

Memory: the reader holds the upload, its UTF-8 form (for GB18030 and UTF-16) and the cells as
Arrow text; Python objects exist for one chunk of rows at a time.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mktsales import safe_cells, xlsx_guard
from mktsales.i18n import t

MAX_FILE_MB = 50  # the largest import upload (CSV or .xlsx), in MiB
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_ROWS = 1_000_000  # data rows of one import
MAX_COLUMNS = 200
MAX_SHEET_CELLS = 10_000_000  # .xlsx: columns used × rows up to the last used (calamine: 32 bytes a cell)
MAX_XLSX_UNPACKED_MB = 400  # the unpacked size of the parts of an .xlsx that are read
WS = " \t\r\n\u3000\u00a0"  # trimmed from every cell (cells.blank treats these as blank)
ODD_SHARE = 0.2  # of the non-ASCII characters of a GB18030 reading, beyond which it is doubted
_CHUNK = 1 << 20  # bytes decoded at a time
_ROWS = 20_000  # records turned into Arrow at a time
_BOM = b"\xef\xbb\xbf"
_OTHER_ENCODINGS = ("shift_jis", "cp932", "big5", "cp950")  # what else a CJK text file may be in
# In GB2312 but rare in a Chinese business file, and what Shift-JIS or Big5 read as GB looks like.
_ODD = re.compile("[\u0370-\u04ff\u2500-\u257f\u3040-\u30ff\u3100-\u312f]")


class ImportFileError(ValueError):
    """A problem with the whole file (unreadable, no rows, a required field not mapped ...)."""

    def __init__(
        self,
        reason: str,
        detail: Any = "",
        *,
        fields: tuple[str, str, ...] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = "" if detail is None else str(detail)
        self.fields = fields  # (kind, field, ...) for missing_fields: named in the reader's language
        self.values = values or {}  # more placeholders of the message

    def message(self, lang: str) -> str:
        detail = self.detail
        if self.fields:
            kind, *names = self.fields
            detail = "、".join(t(f"import.field.{kind}.{n}", lang) + f" ({n})" for n in names)
        return t(f"import.file.{self.reason}", lang, detail=detail, **self.values)


@dataclass(frozen=True)
class Cells:
    """A file's records as text columns, each record's row number, and (CSV) the count of
    non-blank cells beyond the header's width."""

    columns: list[pa.ChunkedArray]
    numbers: pa.ChunkedArray
    extra: pa.ChunkedArray | None = None


def refuse_size(size: int) -> None:
    """Refuse a file larger than MAX_FILE_BYTES."""
    if size > MAX_FILE_BYTES:
        raise ImportFileError("too_large", f"{MAX_FILE_MB}", values={"mb": round(size / 1024 / 1024, 1)})


# -- encoding --------------------------------------------------------------------------------------
def _chunks(data: bytes | memoryview) -> Iterator[tuple[memoryview, bool]]:
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        yield view[start : start + _CHUNK], start + _CHUNK >= len(view)
    if not len(view):
        yield view, True


def _decodes(data: bytes | memoryview, encoding: str) -> bool:
    """Whether ``data`` decodes strictly as ``encoding`` (chunk by chunk: no copy of the text)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for chunk, last in _chunks(data):
            decoder.decode(chunk, final=last)
    except UnicodeDecodeError:
        return False
    return True


def _gb18030(data: bytes) -> memoryview:
    """``data`` read as GB18030, as UTF-8; refused when it looks like Shift-JIS or Big5 read as GB."""
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    out = io.BytesIO()
    wide = odd = 0
    try:
        for chunk, last in _chunks(data):
            text = decoder.decode(chunk, final=last)
            ascii_count = len(text.encode("ascii", "ignore"))
            wide += len(text) - ascii_count
            common = (len(text.encode("gb2312", "ignore")) - ascii_count) // 2
            odd += len(text) - ascii_count - common + len(_ODD.findall(text))
            out.write(text.encode("utf-8"))
    except UnicodeDecodeError:
        raise ImportFileError("encoding") from None
    if wide and odd > ODD_SHARE * wide and any(_decodes(data, e) for e in _OTHER_ENCODINGS):
        raise ImportFileError("encoding")
    return out.getbuffer()


def utf8(data: bytes) -> memoryview:
    """The file's text as UTF-8 bytes, without a byte order mark."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return memoryview(data.decode("utf-16").encode("utf-8"))
        except UnicodeDecodeError:
            raise ImportFileError("encoding") from None
    if _decodes(data, "utf-8"):
        return memoryview(data)[3:] if data.startswith(_BOM) else memoryview(data)
    return _gb18030(data)


# -- CSV -------------------------------------------------------------------------------------------
def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _text_end(buf: memoryview) -> int:
    """The length of ``buf`` without trailing spaces and line breaks."""
    end = len(buf)
    while end:
        block = bytes(buf[max(0, end - 4096) : end])
        kept = len(block.rstrip(b"\r\n\t "))
        end -= len(block) - kept
        if kept:
            break
    return end


def read_csv(data: bytes) -> Cells:
    """Columns of text and each record's row number. pyarrow reads a regular file in a fraction of a
    second; a file with blank lines (which pyarrow would drop, shifting row numbers) or ragged rows
    goes through Python's csv module, a chunk of records at a time."""
    buf = utf8(data)
    buf = buf[: _text_end(buf)]
    lead_match = re.match(rb"(?:[ \t\r]*\n)*", buf)
    lead_end = lead_match.end() if lead_match else 0
    if lead_end >= len(buf):
        raise ImportFileError("empty")
    lead = bytes(buf[:lead_end]).count(b"\n")
    line_end = bytes(buf[lead_end : lead_end + (1 << 20)]).find(b"\n")
    first = bytes(buf[lead_end : len(buf) if line_end < 0 else lead_end + line_end])
    first_line = first.decode("utf-8", "replace").rstrip("\r")
    delimiter = _delimiter(first_line)
    width = len(next(csv.reader([first_line], delimiter=delimiter)))
    if width > MAX_COLUMNS:
        raise ImportFileError("too_many_columns", f"{MAX_COLUMNS:,}")
    body = buf[lead_end:]
    if not re.search(rb"\n[ \t]*\r?\n", body):
        try:
            found = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(body)),
                read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(width)]),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={f"c{i}": pa.string() for i in range(width)}, strings_can_be_null=False
                ),
            )
            _refuse_rows(found.num_rows - 1)
            numbers = pa.chunked_array([pa.array(range(lead + 1, lead + 1 + found.num_rows), pa.int64())])
            return Cells([safe_cells.unquote_column(found.column(i)) for i in range(width)], numbers)
        except pa.ArrowInvalid:
            pass
    stream = io.TextIOWrapper(pa.BufferReader(pa.py_buffer(buf)), encoding="utf-8", newline="")  # no copy
    try:
        found_cells = _records(csv.reader(stream, delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError("unreadable", exc) from exc
    return Cells(
        [safe_cells.unquote_column(c) for c in found_cells.columns], found_cells.numbers, found_cells.extra
    )


def _refuse_rows(data_rows: int) -> None:
    if data_rows > MAX_ROWS:
        raise ImportFileError("too_many_rows_in", f"{MAX_ROWS:,}")


def _records(records: Iterable[list[str]]) -> Cells:
    """The non-blank records (row i+1 each) as text columns the header's width, built a chunk at a
    time; a longer record is cut, and its non-blank cells beyond the header counted."""
    width = 0
    chunks: list[list[pa.Array]] = []
    numbers: list[pa.Array] = []
    extras: list[pa.Array] = []
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    row_extras: list[int] = []
    kept = 0

    def flush() -> None:
        columns = zip(*rows, strict=True) if rows else iter(())
        chunks.append([pa.array(list(c), pa.string()) for c in columns])
        numbers.append(pa.array(row_numbers, pa.int64()))
        extras.append(pa.array(row_extras, pa.int32()))
        rows.clear()
        row_numbers.clear()
        row_extras.clear()

    for number, record in enumerate(records, start=1):
        if not "".join(record).strip(WS):  # blank: dropped here, the row numbers are kept
            continue
        if not width:
            width = len(record)
            if width > MAX_COLUMNS:
                raise ImportFileError("too_many_columns", f"{MAX_COLUMNS:,}")
        kept += 1
        if kept > MAX_ROWS + 1:
            _refuse_rows(kept - 1)
        extra = 0
        if len(record) != width:
            if len(record) > width:
                extra = sum(1 for cell in record[width:] if cell.strip(WS))
                record = record[:width]
            else:
                record = record + [""] * (width - len(record))
        rows.append(record)
        row_numbers.append(number)
        row_extras.append(extra)
        if len(rows) >= _ROWS:
            flush()
    if not kept:
        raise ImportFileError("empty")
    if rows:
        flush()
    columns = [pa.chunked_array([chunk[i] for chunk in chunks], pa.string()) for i in range(width)]
    return Cells(columns, pa.chunked_array(numbers, pa.int64()), pa.chunked_array(extras, pa.int32()))


# -- xlsx ------------------------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """An .xlsx cell as the text a person would type: dates ISO, whole numbers without ".0"."""
    if value is None:
        return ""
    if type(value) is float:  # the commonest after text, which _row_text passes by
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def read_xlsx(data: bytes, pick: Any) -> Cells:
    """The sheet ``pick(sheet_names)`` chooses, row by row, after xlsx_guard has checked the file."""
    from python_calamine import CalamineWorkbook

    try:
        safe = xlsx_guard.checked_copy(
            data,
            max_bytes=MAX_XLSX_UNPACKED_MB * 1024 * 1024,
            max_columns=MAX_COLUMNS,
            max_cells=MAX_SHEET_CELLS,
        )
    except xlsx_guard.Refused as exc:
        detail = exc.values.pop("detail", "")
        raise ImportFileError(exc.reason, detail, values={k: str(v) for k, v in exc.values.items()}) from exc
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(safe)) as book:
            del safe
            sheet = book.get_sheet_by_name(pick(book.sheet_names))
            if sheet.start is None:
                raise ImportFileError("empty")
            top = sheet.start[0]  # iter_rows yields the empty rows above it too
            cells = _records_xlsx(itertools.islice(sheet.iter_rows(), top, None), top)
    except ImportFileError:
        raise
    except Exception as exc:  # calamine raises its own errors for damaged or foreign files
        raise ImportFileError("unreadable", type(exc).__name__) from exc
    return cells


def _records_xlsx(rows: Iterator[list[Any]], top: int) -> Cells:
    """The sheet's rows, the first being row ``top`` + 1 (1-based), as text."""
    cells = _records([v if type(v) is str else cell_text(v) for v in row] for row in rows)
    shifted = pa.chunked_array([pc.add(chunk, top) for chunk in cells.numbers.chunks], pa.int64())
    return Cells(cells.columns, shifted)
