"""An .xlsx checked before python-calamine opens it (issue 23).

calamine turns a sheet into a dense grid of every cell between the first and the last one used,
32 bytes a cell, before any of it can be read: one cell at XFD1048576 asks for 512 GB and aborts
the whole process (Rust cannot fail softly on that). So the parts of the zip are read here first,
with Python's zipfile (which stops at each part's stated size and checks its CRC), each sheet's
cell addresses are scanned for the used range, and only a copy of the parts checked is handed on:
what calamine reads is exactly what was measured. Limits: the unpacked size of those parts, the
columns of a sheet's used range and its cells (counted from row 1 to the last row used, since the
rows above the first one used are walked too), the length of one XML tag.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from operator import itemgetter

EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
MAX_PARTS = 1_000  # entries in the zip
MAX_TAG = 1 << 20  # bytes of one XML tag; Excel's are a few hundred
_CHUNK = 1 << 22
_PART = re.compile(r"(?i)\.(?:xml|rels)$")  # what calamine reads; images and macros are dropped
_DROPPED = {"xl/calcchain.xml"}  # formula order across sheets: not needed to read values
# Any cell's start tag, with or without a namespace prefix; and the form every Excel writer uses.
_ANY_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_PLAIN = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"')
# A cell's r attribute wherever it stands among the others (quoted values may hold ">").
_ATTR_R = re.compile(
    rb"""<(?:[\w.-]+:)?c(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*?\s+r\s*=\s*(?:"([^"]*)"|'([^']*)')"""
)
_ADDRESS = re.compile(rb"([A-Za-z]{1,3})(\d{1,7})")


class Refused(ValueError):
    """A workbook not handed to calamine: ``reason`` is an import.file.* key, ``values`` fill it."""

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(f"{reason}: {values}")
        self.reason = reason
        self.values = values


@dataclass
class Extent:
    """The rows and columns (1-based) of the cells seen in one part."""

    letters: set[bytes] = field(default_factory=set)
    rows: set[bytes] = field(default_factory=set)

    def add(self, letters: bytes, row: bytes) -> None:
        self.letters.add(letters.upper())
        self.rows.add(row)

    def bounds(self) -> tuple[int, int, int, int] | None:
        """(first row, last row, first column, last column), or None when no cell was seen."""
        if not self.rows:
            return None
        numbers = [int(r) for r in self.rows]
        columns = [column_number(c) for c in self.letters]
        return min(numbers), max(numbers), min(columns), max(columns)


def column_number(letters: bytes | str) -> int:
    """A column's number from its letters: A is 1, Z 26, AA 27, XFD 16384."""
    number = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        number = number * 26 + ord(ch.upper()) - 64
    return number


def column_letters(number: int) -> str:
    """A column's letters from its number (1 is A)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _count_cells(buffer: bytes) -> int:
    """The number of cell start tags in ``buffer`` (plain substring counts unless an unusual form
    is present, which the regular expression then counts)."""
    if b":c" in buffer or b"<c\t" in buffer or b"<c\n" in buffer or b"<c\r" in buffer:
        return len(_ANY_CELL.findall(buffer))
    return buffer.count(b"<c ") + buffer.count(b"<c>") + buffer.count(b"<c/")


def _scan(buffer: bytes, extent: Extent) -> None:
    """Add the cells whose start tags are in ``buffer``; a cell without an address is refused
    (calamine would place it after its neighbour, which cannot be bounded without parsing)."""
    cells = _count_cells(buffer)
    if not cells:
        return
    plain = _PLAIN.findall(buffer)
    if len(plain) == cells:
        extent.letters.update(map(itemgetter(0), plain))
        extent.rows.update(map(itemgetter(1), plain))
        return
    found = 0
    for match in _ATTR_R.finditer(buffer):
        address = _ADDRESS.fullmatch(match.group(1) if match.group(1) is not None else match.group(2))
        if address is None:
            raise Refused("unreadable", detail="cell address")
        extent.add(address.group(1), address.group(2))
        found += 1
    if found != cells:
        raise Refused("xlsx_no_address")


def _copy_part(source: zipfile.ZipExtFile, target: io.BufferedIOBase) -> Extent:
    """Copy one part, scanning it chunk by chunk; a chunk is cut before its last "<" so that no tag
    is split (a tag holds no "<": XML forbids it in attribute values)."""
    extent = Extent()
    tail = b""
    while chunk := source.read(_CHUNK):
        target.write(chunk)
        buffer = tail + chunk
        cut = buffer.rfind(b"<")
        cut = len(buffer) if cut < 0 else cut
        _scan(buffer[:cut], extent)
        tail = buffer[cut:]
        if len(tail) > MAX_TAG:
            raise Refused("unreadable", detail="XML")
    _scan(tail, extent)
    return extent


def _check_extent(extent: Extent, max_columns: int, max_cells: int) -> None:
    bounds = extent.bounds()
    if bounds is None:
        return
    top, bottom, left, right = bounds
    if bottom > EXCEL_ROWS or right > EXCEL_COLUMNS or top < 1 or left < 1:
        raise Refused("unreadable", detail="cell address")
    used = f"{column_letters(left)}{top}:{column_letters(right)}{bottom}"
    width = right - left + 1
    if width > max_columns:
        raise Refused("sheet_too_wide", detail=f"{max_columns:,}", used=used)
    if width * bottom > max_cells:  # python-calamine walks the rows above the first one used too
        raise Refused("sheet_too_large", detail=f"{max_cells:,}", used=used)


def checked_copy(data: bytes, *, max_bytes: int, max_columns: int, max_cells: int) -> bytes:
    """The parts of the workbook ``data`` that calamine reads, copied after checking them; raises
    Refused for a file that is not a zip, unpacks to more than ``max_bytes``, or has a sheet whose
    used range is wider than ``max_columns`` or holds more than ``max_cells`` cells."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise Refused("unreadable", detail=type(exc).__name__) from exc
    if len(parts) > MAX_PARTS:
        raise Refused("unreadable", detail=f"{len(parts):,} parts")
    names = [info.filename.lower() for info in parts]
    if len(set(names)) != len(names):  # which of two the reader takes is not ours to guess
        raise Refused("unreadable", detail="zip")
    out = io.BytesIO()
    unpacked = 0
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy:
            for info in parts:
                if info.is_dir() or not _PART.search(info.filename) or info.filename.lower() in _DROPPED:
                    continue
                unpacked += info.file_size  # zipfile reads no more than this, and checks the CRC
                if unpacked > max_bytes:
                    raise Refused("xlsx_unpacked", detail=f"{max_bytes // (1024 * 1024):,}")
                with archive.open(info) as source, copy.open(info.filename, "w") as target:
                    extent = _copy_part(source, target)
                _check_extent(extent, max_columns, max_cells)
    except Refused:
        raise
    except Exception as exc:  # zipfile: BadZipFile, a bad CRC, zlib.error, encrypted (RuntimeError) ...
        raise Refused("unreadable", detail=type(exc).__name__) from exc
    return out.getvalue()
