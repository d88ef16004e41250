"""What an .xlsx workbook holds, found from its ZIP parts before any sheet is parsed.

An .xlsx file is a ZIP archive of XML parts. Parsing a sheet with openpyxl
costs tens of microseconds per cell, and a workbook of 97 KB can unpack to a
sheet of 300,000 rows. :func:`open_workbook` reads the archive's directory
(the unpacked size of every part) and :func:`scan_sheet` streams a sheet's XML
once, counting its rows and cells in linear time without building any cell.
The loader refuses a workbook over the limits (:mod:`analysis.ingest.limits`)
before openpyxl touches it: even opening a workbook makes openpyxl read every
sheet that does not state its size.

The same pass finds **formula cells without a saved result**: a workbook
written by a program that does not calculate (a script, some exports)
stores the formula but no value, and openpyxl, which never calculates,
reads such a cell as empty.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

from analysis.ingest.limits import LoadLimits, megabytes, over_limit

_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"  # writers may prefix the SpreadsheetML namespace (<x:c ...>)
_ROW = re.compile(rb"<" + _PREFIX + rb"row[\s>/]")
_CELL = re.compile(rb"<" + _PREFIX + rb"c[\s>/]")
_CELL_START = re.compile(rb"<" + _PREFIX + rb"c[\s>]")
# A formula element (<f>...</f>, or a shared <f .../>) not followed by a non-empty value <v>x</v>.
_FORMULA_WITHOUT_VALUE = re.compile(
    rb"<" + _PREFIX + rb"f(?:\s[^>]*)?(?:/>|>[^<]*</" + _PREFIX + rb"f>)"
    rb"(?!\s*<" + _PREFIX + rb"v(?:\s[^>]*)?>\s*[^<\s])"
)
_REF = re.compile(rb'\sr="([A-Z]{1,3}[0-9]{1,7})"')
_CHUNK = 4 * 1024 * 1024
_SMALL_PART = 16 * 1024 * 1024  # workbook.xml and its relationships are a few KB
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
#: What a damaged archive raises while a part is read.
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


@dataclass(frozen=True)
class SheetScan:
    """Counts from one sheet's XML: rows and cells written, formula cells without a saved result."""

    rows: int
    cells: int
    formulas_without_value: int
    examples: tuple[str, ...]  # cell references such as "C2" (at most three)


class WorkbookError(ValueError):
    """A workbook refused before parsing; the message is one plain sentence."""


def open_workbook(content: bytes, file_name: str, limits: LoadLimits) -> zipfile.ZipFile:
    """The workbook's archive, once its declared unpacked size is within the limit.

    Raises :class:`WorkbookError` for an archive that cannot be read or that
    unpacks to more than ``limits.uncompressed_mb``.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(info.file_size for info in archive.infolist())
    except DAMAGED as err:
        raise WorkbookError(f"{file_name} looks like an Excel file but could not be opened (damaged archive: "
                            f"{str(err).strip().rstrip('.') or type(err).__name__}).") from None
    if unpacked > limits.uncompressed_bytes:
        raise WorkbookError(over_limit(f"{file_name} unpacks to {megabytes(unpacked)}", "uncompressed_mb",
                                       limits))
    return archive


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """``{sheet name: path of its XML part}``, in the workbook's order (empty if it cannot tell)."""
    try:
        book = _small_xml(archive, "xl/workbook.xml")
        rels = _small_xml(archive, "xl/_rels/workbook.xml.rels")
    except (KeyError, ElementTree.ParseError, *DAMAGED):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_RELS}Relationship")}
    parts: dict[str, str] = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(_REL_ID), "")
        if target:
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            parts[str(sheet.get("name"))] = path
    return parts


def _small_xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    if archive.getinfo(name).file_size > _SMALL_PART:
        raise ValueError(name)
    return ElementTree.fromstring(archive.read(name))


def scan_sheet(archive: zipfile.ZipFile, part: str, limits: LoadLimits) -> SheetScan:
    """Stream one sheet's XML and count rows, cells and formula cells without a value.

    The stream stops as soon as the cells exceed the spreadsheet limit (the
    counts are then "at least"), and it never holds more than a few MB.
    Counting is linear in the input: plain byte counts for the usual
    unprefixed XML, linear patterns for a prefixed one and for formulas. A
    chunk is cut before its last cell, so that no cell is split between two
    chunks.
    """
    rows = cells = formulas = 0
    examples: list[str] = []
    carry = b""
    prefixed = None
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            buffer = carry + chunk
            if prefixed is None:
                prefixed = re.search(rb"<[A-Za-z_][\w.-]*:worksheet[\s>]", buffer[:4096]) is not None
            if chunk:
                cut = _last_cell_start(buffer)
                buffer, carry = buffer[:cut], buffer[cut:]
            rows_here, cells_here = _count(buffer, prefixed)
            rows, cells = rows + rows_here, cells + cells_here
            if b"<f" in buffer or (prefixed and b":f" in buffer):
                for found in _FORMULA_WITHOUT_VALUE.finditer(buffer):
                    formulas += 1
                    if len(examples) < 3:
                        examples.append(_cell_ref(buffer, found.start()))
            if not chunk or cells > limits.spreadsheet_cells:
                break
    return SheetScan(rows, cells, formulas, tuple(e for e in examples if e))


def _count(buffer: bytes, prefixed: bool) -> tuple[int, int]:
    """Rows and cells written in a piece of sheet XML."""
    if prefixed:
        return len(_ROW.findall(buffer)), len(_CELL.findall(buffer))
    rows = buffer.count(b"<row ") + buffer.count(b"<row>")
    cells = buffer.count(b"<c ") + buffer.count(b"<c>") + buffer.count(b"<c/")
    return rows, cells


def _last_cell_start(buffer: bytes) -> int:
    """Where the last cell of a chunk begins (the whole chunk if that cell is over 1 MB long)."""
    start = max(buffer.rfind(b"<c ", 0), buffer.rfind(b"<c>", 0))
    prefixed = buffer.rfind(b":c ", 0)
    if prefixed > start:
        start = buffer.rfind(b"<", 0, prefixed)
    if start < 0 or len(buffer) - start > 1024 * 1024:
        return len(buffer)
    return start


def _cell_ref(buffer: bytes, at: int) -> str:
    """The reference (e.g. ``C2``) of the cell holding the formula at ``at``."""
    opening = max((m.start() for m in _CELL_START.finditer(buffer, max(0, at - 512), at)), default=-1)
    if opening < 0:
        return ""
    found = _REF.search(buffer, opening, at)
    return found.group(1).decode() if found else ""
