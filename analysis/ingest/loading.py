"""Reading a user's data file from bytes: format sniffing, encodings, delimiters.

A registry export arrives as bytes (an upload held in memory, or a file read by
the command line). :func:`read_data_file` recognises the format from the bytes
themselves — the file name is only a hint — and returns the table as a
:class:`RawTable`. Nothing is written to disk: every reader gets an in-memory
buffer (pandas and pyreadstat both accept file-like objects).

Supported formats: CSV/TSV/text with any common delimiter (``, ; tab |``) and
encoding (UTF-8 with or without BOM, UTF-16, and legacy code pages guessed by
charset-normalizer), Excel ``.xlsx``, SPSS ``.sav``/``.zsav``, Stata ``.dta``
and Parquet.

Text files are read as strings, so that the mapping step sees the values as the
user wrote them (IDs keep their leading zeros, "12,5" can be reported as it
stands). Binary formats keep their own types.

Every format is held to the same limits (:mod:`analysis.ingest.limits`: size,
unpacked size, rows, cells), checked from what the file declares before it is
parsed. What the reader had to decide for the user (a renamed duplicate column,
a skipped read-me sheet, nested Parquet columns left out, formula cells without
a saved result) is reported in :attr:`RawTable.warnings`.

Everything that goes wrong raises :class:`LoadError` with one plain sentence.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.ingest import workbook
from analysis.ingest.limits import LoadLimits, megabytes, over_limit

MAX_FILE_MB = int(LoadLimits.file_mb)

#: Upload types offered by the Data page (the sniffer decides the real format). Legacy .xls and .zip are
#: accepted so that the page can say what to do with them, instead of the upload widget refusing them unexplained.
FILE_TYPES: tuple[str, ...] = ("csv", "tsv", "txt", "tab", "xlsx", "xlsm", "sav", "zsav", "dta", "parquet", "xls",
                               "zip")

#: Strings read as "missing" in text files, besides the empty field.
#: "." is the SAS/Stata/SPSS missing marker that survives a CSV export.
MISSING_MARKERS: tuple[str, ...] = (
    "", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "#N/A", ".", "-", "?",
)

_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_SNIFF_BYTES = 64 * 1024

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_PARQUET = b"PAR1"
_SPSS = (b"$FL2", b"$FL3")
_STATA_XML = b"<stata_dta>"
# Old binary .dta files start with their format number (113-115 are Stata 8-12)
# followed by a byte-order flag (1 = big endian, 2 = little endian).
_STATA_OLD = tuple(bytes([v, order]) for v in (0x71, 0x72, 0x73) for order in (1, 2))
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+(?:,\d+)?(?:[eE][-+]?\d+)?\s*$")


class LoadError(ValueError):
    """A file that cannot be read as a table; the message is one plain sentence.

    ``sheet_names`` lists a workbook's sheets when the file is a workbook, so
    that the user can be offered another sheet.
    """

    def __init__(self, message: str, sheet_names: tuple[str, ...] = ()):
        super().__init__(message)
        self.sheet_names = tuple(sheet_names)


@dataclass(frozen=True)
class RawTable:
    """A user's table as read from the file, before any mapping.

    Attributes
    ----------
    frame
        The data, one row per record, indexed 1..n: the record number in the
        file (the first row below the header is 1), which every problem
        table uses as its ``row``.
    file_name
        The name the user gave the file.
    file_format
        ``"csv"``, ``"xlsx"``, ``"sav"``, ``"dta"`` or ``"parquet"`` (as sniffed).
    description
        How the file was read, e.g. "CSV, UTF-8, semicolon-separated".
    sheet, sheet_names
        For Excel: the sheet read and all sheets of the workbook.
    notes
        Things the user should know about the reading (e.g. decimal commas).
    warnings
        Things the reader decided that the user should check: duplicate
        column names renamed, a read-me sheet skipped, columns left out,
        formula cells read as empty.
    """

    frame: pd.DataFrame
    file_name: str
    file_format: str
    description: str
    sheet: str | None = None
    sheet_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_rows(self) -> int:
        return len(self.frame)


def read_data_path(path: str | Path, *, sheet: str | None = None, limits: LoadLimits | None = None) -> RawTable:
    """Read a data file from disk (the command line's way in); see :func:`read_data_file`."""
    path = Path(path)
    limits = limits or LoadLimits.from_environment()
    try:
        size = path.stat().st_size
        _check_size(size, path.name, limits)
        content = path.read_bytes()
    except OSError as err:
        raise LoadError(f"Cannot open {path}: {err.strerror or err}.") from None
    return read_data_file(content, path.name, sheet=sheet, limits=limits)


def read_data_file(content: bytes, file_name: str, *, sheet: str | None = None,
                   limits: LoadLimits | None = None) -> RawTable:
    """Read a table from the bytes of a file.

    Parameters
    ----------
    content
        The whole file.
    file_name
        Its name; the extension is used only to word messages, the format is
        recognised from the content.
    sheet
        For an Excel workbook, the sheet to read (default: the first sheet
        that holds a table of two or more columns).
    limits
        The largest file read (default: :meth:`LoadLimits.from_environment`).

    Raises
    ------
    LoadError
        With one sentence saying what is wrong (empty, too large, binary junk,
        password-protected, one column only, unreadable...).
    """
    limits = limits or LoadLimits.from_environment()
    _check_size(len(content), file_name, limits)
    if not content.strip():
        raise LoadError(f"{file_name} is empty.")
    file_format = sniff_format(content, file_name)
    if file_format == "xlsx":
        return _finish(_read_xlsx(content, file_name, sheet, limits), limits)
    reader = {
        "sav": _read_spss,
        "dta": _read_stata,
        "parquet": _read_parquet,
        "csv": _read_text,
    }[file_format]
    return _finish(reader(content, file_name, limits), limits)


def sniff_format(content: bytes, file_name: str = "") -> str:
    """The format of a file, from its leading bytes (the name only words the errors).

    Raises :class:`LoadError` for password-protected or legacy Excel files,
    for archives that are not workbooks, and for binary data of no known
    format.
    """
    head = content[:16]
    if head.startswith(_OLE2):
        if "EncryptedPackage".encode("utf-16-le") in content:
            raise LoadError(
                f"{file_name} is a password-protected Excel file: remove the password "
                "(File › Info › Protect Workbook) and upload it again."
            )
        raise LoadError(
            f"{file_name} is in the old Excel 97–2003 (.xls) format or another legacy Office format: "
            "save it as .xlsx or CSV and upload it again."
        )
    if head.startswith(_ZIP):
        if b"xl/" in content or file_name.lower().endswith((".xlsx", ".xlsm")):
            return "xlsx"
        raise LoadError(f"{file_name} is a ZIP archive, not a data table: unpack it and upload the table inside.")
    if head.startswith(_PARQUET):
        return "parquet"
    if head.startswith(_SPSS):
        return "sav"
    if head.startswith(_STATA_XML) or head[:2] in _STATA_OLD:
        return "dta"
    if _looks_binary(content[:_SNIFF_BYTES]):
        raise LoadError(
            f"{file_name} is not a table this page can read: it is neither text (CSV/TSV) "
            "nor an Excel, SPSS, Stata or Parquet file."
        )
    return "csv"


# ---------------------------------------------------------------- text files


def _looks_binary(sample: bytes) -> bool:
    """NUL bytes or many control characters mean binary data, unless UTF-16/32 says otherwise."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in sample:
        return _utf16_without_bom(sample) is None
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 12))
    return control > 0.05 * max(len(sample), 1)


def _utf16_without_bom(sample: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` for UTF-16 text without a byte-order mark, else None.

    Latin text in UTF-16 has a NUL in nearly every other byte, and only
    there: the odd bytes (little endian) or the even bytes (big endian).
    NUL is valid UTF-8, so this is decided before UTF-8 is tried.
    """
    half = max(len(sample) // 2, 1)
    odd, even = sample[1::2].count(0) / half, sample[0::2].count(0) / half
    if odd > 0.4 and even < 0.05:
        return "utf-16-le"
    if even > 0.4 and odd < 0.05:
        return "utf-16-be"
    return None


def decode_text(content: bytes) -> tuple[str, str]:
    """Decode a text file; returns (text, encoding name).

    UTF-8 (with or without BOM) and BOM-marked UTF-16 are tried first; other
    encodings are guessed by charset-normalizer from a sample, and Windows-1252
    is the last resort because every byte sequence is valid in it.
    """
    if content.startswith(b"\xef\xbb\xbf"):
        return _strict(content, "utf-8-sig"), "UTF-8"
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(content, "utf-16"), "UTF-16"
    utf16 = _utf16_without_bom(content[:_SNIFF_BYTES]) if b"\x00" in content[:_SNIFF_BYTES] else None
    if utf16 is not None:
        return _strict(content[: len(content) // 2 * 2], utf16), f"{utf16.upper()} (no byte-order mark)"
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    if _plausible_cp1252(content[:_SNIFF_BYTES]):
        return content.decode("cp1252"), "Windows-1252"
    from charset_normalizer import from_bytes

    best = from_bytes(content[:_SNIFF_BYTES]).best()
    for encoding in ([best.encoding] if best is not None else []) + ["cp1252"]:
        try:
            return content.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return content.decode("latin-1"), "latin-1"


def _plausible_cp1252(sample: bytes) -> bool:
    """Western European text in Windows-1252 (the usual registry export that is not UTF-8).

    Accented letters there are few and stand alone between ASCII letters;
    text in a multi-byte Asian encoding read this way shows long runs of
    non-ASCII characters instead, and is left to charset-normalizer.
    """
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    non_ascii = sum(ch > "\x7f" for ch in text)
    return non_ascii < 0.1 * max(len(text), 1) and re.search(r"[^\x00-\x7f]{3,}", text) is None


def _strict(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        raise LoadError(f"The file says it is {encoding.upper()} text but contains invalid characters.") from None


def sniff_delimiter(text: str) -> str:
    """The field delimiter of a text table: ``, ; tab |``.

    ``csv.Sniffer`` decides when it can; otherwise the candidate that splits
    the first lines into the same number (≥ 2) of fields most consistently,
    preferring the most fields.
    """
    lines = [ln for ln in text[:_SNIFF_BYTES].splitlines() if ln.strip()][:50]
    if not lines:
        return ","
    sample = "\n".join(lines)
    try:
        found = csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        found = None
    best, best_score = ",", (-1, 0)
    for delim in _DELIMITERS:
        counts = [len(_split(ln, delim)) for ln in lines]
        consistent = sum(c == counts[0] for c in counts)
        score = (consistent, counts[0]) if counts[0] > 1 else (-1, 0)
        if score > best_score:
            best, best_score = delim, score
    if found and len(_split(lines[0], found)) > 1 and len(_split(lines[0], found)) >= len(_split(lines[0], best)):
        return found
    return best


def _split(line: str, delim: str) -> list[str]:
    return next(csv.reader([line], delimiter=delim), [])


def _header(text: str, delim: str) -> list[str]:
    """The column names of the first line as written (empty when the line cannot be split on its own)."""
    first = text[:_SNIFF_BYTES].splitlines()[:1]
    try:
        return _split(first[0], delim) if first else []
    except csv.Error:
        return []


def _read_text(content: bytes, file_name: str, limits: LoadLimits) -> RawTable:
    text, encoding = decode_text(content)
    text = text.lstrip("\ufeff")
    notes: list[str] = []
    first_line, _, rest = text.partition("\n")
    explicit = re.fullmatch(r"\s*sep=(.)\s*", first_line[:16])
    if explicit:  # Excel's "sep=;" hint line
        delim, text = explicit.group(1), rest
    else:
        delim = sniff_delimiter(text)
    header = _header(text, delim)
    lines = text.count("\n") + 1
    _check_shape(0, len(header), file_name, limits)
    if len(header) * min(lines, limits.rows + 1) > limits.cells:
        raise LoadError(over_limit(f"{file_name} has about {len(header) * lines:,} cells ({lines:,} lines × "
                                   f"{len(header):,} columns)", "cells", limits))
    frame = _parse_delimited(text, delim, file_name, limits.rows + 1)
    if len(frame) > limits.rows:  # read no further than one row past the limit
        raise LoadError(over_limit(f"{file_name} has more than {limits.rows:,} rows", "rows", limits))
    if len(header) == frame.shape[1] and [h.strip() for h in header] != [str(c).strip() for c in frame.columns]:
        frame.columns = header  # pandas renames duplicates ("death.1"); the file's own names are reported later
    if delim != ",":
        frame, converted = _decimal_commas(frame)
        if converted:
            notes.append(f"Decimal commas read as decimal points in: {', '.join(converted)}.")
    description = f"text table, {encoding}, {_DELIMITER_NAMES.get(delim, repr(delim))}-separated"
    return RawTable(frame, file_name, "csv", description, notes=tuple(notes))


def _parse_delimited(text: str, delim: str, file_name: str, nrows: int | None = None) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # pandas only warns when a line has more fields than the header.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.StringIO(text),
                sep=delim,
                dtype=str,
                keep_default_na=False,
                na_values=list(MISSING_MARKERS),
                skip_blank_lines=True,
                skipinitialspace=True,
                index_col=False,
                nrows=nrows,
            )
    except pd.errors.ParserWarning:
        raise LoadError(f"Some lines of {file_name} have more fields than the header: "
                        "check the delimiter and the quotes.") from None
    except pd.errors.ParserError as err:
        raise LoadError(_parser_message(str(err), file_name, delim)) from None
    except pd.errors.EmptyDataError:
        raise LoadError(f"{file_name} has no table in it.") from None
    except (ValueError, csv.Error, MemoryError) as err:
        raise LoadError(f"{file_name} could not be read as a delimited text table ({_short(err)}).") from None


def _parser_message(message: str, file_name: str, delim: str) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if found:
        expected, line, saw = found.groups()
        return (f"Line {line} of {file_name} has {saw} fields but the header has {expected} "
                f"({_DELIMITER_NAMES.get(delim, delim)}-separated): check the delimiter and the quotes.")
    return f"{file_name} could not be read as a delimited text table: {_short(message)}."


def _decimal_commas(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """With ``;`` or tab as delimiter, "12,5" is a decimal comma: make it "12.5"."""
    converted: list[str] = []
    out = frame.copy()
    for column in frame.columns:
        # Registry columns repeat few distinct texts: test and rewrite each distinct one once.
        values = pd.Series(pd.unique(frame[column].dropna()), dtype=object)
        if values.empty or not values.str.contains(",", regex=False).any():
            continue
        if values.str.match(_DECIMAL_COMMA).all():
            out[column] = frame[column].map(dict(zip(values, values.str.replace(",", ".", regex=False),
                                                     strict=True)))
            converted.append(str(column))
    return out, converted


# -------------------------------------------------------------- binary formats


def _read_xlsx(content: bytes, file_name: str, sheet: str | None, limits: LoadLimits) -> RawTable:
    try:
        archive = workbook.open_workbook(content, file_name, limits)
    except workbook.WorkbookError as err:
        raise LoadError(str(err)) from None
    parts = workbook.sheet_parts(archive)
    scans = _scan_sheets(archive, parts, file_name, limits)  # before openpyxl, which reads undimensioned sheets
    try:
        book = pd.ExcelFile(io.BytesIO(content), engine="openpyxl")
    except Exception as err:
        raise LoadError(f"{file_name} looks like an Excel file but could not be opened ({_short(err)}).") from None
    names = tuple(str(s) for s in book.sheet_names)
    if sheet is not None and sheet not in names:
        raise LoadError(f"{file_name} has no sheet named {sheet!r}; its sheets are {', '.join(names)}.", names)
    narrow: list[str] = []  # sheets of one column (a read-me), passed over when no sheet is asked for
    for name in [sheet] if sheet is not None else list(names):
        frame, warnings = _read_sheet(book, scans.get(name), name, file_name, names, limits)
        if frame.empty or (sheet is None and frame.shape[1] < 2):
            narrow += [] if frame.empty else [name]
            continue
        notes = []
        if sheet is None and name != names[0]:
            passed = f"sheet(s) {', '.join(map(repr, narrow))} hold one column only" if narrow else \
                "the first sheet(s) are empty"
            notes.append(f"Sheet {name!r} was read: {passed}. Choose another sheet if this is not the data.")
        description = f"Excel workbook, sheet {name!r}" + (f" of {len(names)}" if len(names) > 1 else "")
        return RawTable(frame, file_name, "xlsx", description, sheet=name, sheet_names=names, notes=tuple(notes),
                        warnings=warnings)
    if sheet is not None:
        raise LoadError(f"Sheet {sheet!r} of {file_name} is empty.", names)
    if narrow:
        raise LoadError(f"No sheet of {file_name} holds a table of two or more columns (sheet(s) "
                        f"{', '.join(map(repr, narrow))} hold one column): a cohort needs at least a time and an "
                        "event column.", names)
    raise LoadError(f"{file_name} is an Excel workbook whose sheets are all empty.", names)


def _scan_sheets(archive, parts: dict[str, str], file_name: str, limits: LoadLimits) -> dict[str, workbook.SheetScan]:
    """Every sheet's counts; a sheet over the limits refuses the workbook before anything is parsed."""
    scans: dict[str, workbook.SheetScan] = {}
    names = tuple(parts)
    for name, part in parts.items():
        if part not in archive.namelist():
            continue
        try:
            scan = scans[name] = workbook.scan_sheet(archive, part, limits)
        except workbook.DAMAGED as err:
            raise LoadError(f"{file_name} looks like an Excel file but could not be opened (damaged sheet "
                            f"{name!r}: {_short(err)}).", names) from None
        where = f"Sheet {name!r} of {file_name}"
        advice = "Save the sheet with the data as CSV, which reads about fifty times faster."
        if scan.cells > limits.spreadsheet_cells:
            raise LoadError(over_limit(f"{where} has more than {limits.spreadsheet_cells:,} cells",
                                       "spreadsheet_cells", limits, advice), names)
        if scan.rows > limits.rows + 1:
            raise LoadError(over_limit(f"{where} has {scan.rows - 1:,} rows", "rows", limits, advice), names)
    return scans


def _read_sheet(book: pd.ExcelFile, scan: workbook.SheetScan | None, name: str, file_name: str,
                names: tuple[str, ...], limits: LoadLimits) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """One sheet, its first non-empty row as the column names (the sheet is within the limits: ``scan``)."""
    where = f"Sheet {name!r} of {file_name}"
    try:
        # dtype=object keeps text cells as text ("001" stays "001"); numbers stay numbers. header=None: the
        # names are taken as written (pandas would rename a duplicate "death" to "death.1").
        frame = book.parse(name, header=None, dtype=object, nrows=limits.rows + 2)
    except Exception as err:
        raise LoadError(f"{where} could not be read ({_short(err)}).", names) from None
    frame = frame.dropna(how="all").dropna(axis=1, how="all")
    if frame.empty:
        return frame, ()
    header = list(frame.iloc[0])
    frame = frame.iloc[1:].infer_objects()
    frame.columns = header
    warnings: tuple[str, ...] = ()
    if scan is not None and scan.formulas_without_value:
        examples = f" (e.g. {', '.join(scan.examples)})" if scan.examples else ""
        warnings = (f"{where} has {scan.formulas_without_value:,} formula cell(s) without a saved result"
                    f"{examples}: they read as empty. Open the workbook in Excel or LibreOffice and save it (so "
                    "that the results are stored), or export the sheet as CSV.",)
    return frame, warnings


def _read_spss(content: bytes, file_name: str, limits: LoadLimits) -> RawTable:
    return _read_labelled(content, file_name, "sav", "SPSS", limits)


def _read_stata(content: bytes, file_name: str, limits: LoadLimits) -> RawTable:
    return _read_labelled(content, file_name, "dta", "Stata", limits)


def _read_labelled(content: bytes, file_name: str, kind: str, program: str, limits: LoadLimits) -> RawTable:
    """SPSS or Stata through pyreadstat, from memory: value labels replace codes, dates become datetimes."""
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
    article = "an" if program == "SPSS" else "a"
    try:
        _, meta = reader(io.BytesIO(content), metadataonly=True)
        rows, columns = int(meta.number_rows or 0), int(meta.number_columns or 0)
        _check_shape(rows, columns, file_name, limits)
        # value labels replace codes, as the user sees the data in their program
        frame, _meta = reader(io.BytesIO(content), apply_value_formats=True, formats_as_category=False,
                              dates_as_pandas_datetime=True, row_limit=limits.rows + 1)
    except LoadError:
        raise
    except Exception as err:
        raise LoadError(f"{file_name} looks like {article} {program} file but could not be read "
                        f"({_short(err)}).") from None
    return RawTable(frame, file_name, kind, f"{program} data file (value labels applied)")


def _read_parquet(content: bytes, file_name: str, limits: LoadLimits) -> RawTable:
    """Parquet, checked from its metadata first; columns of lists, records or maps are left out and named."""
    import pyarrow.parquet as pq
    from pyarrow import types

    try:
        parquet = pq.ParquetFile(io.BytesIO(content))
        meta, schema = parquet.metadata, parquet.schema_arrow
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if unpacked > limits.uncompressed_bytes:
            raise LoadError(over_limit(f"{file_name} unpacks to {megabytes(unpacked)}", "uncompressed_mb",
                                       limits))
        _check_shape(meta.num_rows, len(schema), file_name, limits)
        nested = [i for i, f in enumerate(schema) if types.is_nested(f.type)]
        flat = [i for i in range(len(schema)) if i not in nested]
        if not flat:
            raise LoadError(f"{file_name} holds only columns of lists, records or maps "
                            f"({', '.join(schema.names[:5])}): a cohort needs plain columns (numbers, text, dates).")
        frame = parquet.read().select(flat).to_pandas()
    except LoadError:
        raise
    except Exception as err:
        raise LoadError(f"{file_name} looks like a Parquet file but could not be read ({_short(err)}).") from None
    for column in frame.columns[[isinstance(t, pd.CategoricalDtype) for t in frame.dtypes]]:
        frame[column] = frame[column].astype(object)  # values as written, not category codes
    warnings: tuple[str, ...] = ()
    if nested:
        left_out = ", ".join(schema.names[i] for i in nested)
        warnings = (f"Columns holding lists, records or maps cannot be analysed and were left out: {left_out}.",)
    frame.index = pd.RangeIndex(len(frame))  # a pandas index stored in the file is not a record number
    return RawTable(frame, file_name, "parquet", "Parquet file", warnings=warnings)


# ---------------------------------------------------------------- common end


def _finish(table: RawTable, limits: LoadLimits) -> RawTable:
    """Clean column names, number the records 1..n, and refuse what is not a table."""
    frame = table.frame
    if frame.shape[1] == 0 and len(frame) == 0:
        raise LoadError(f"{table.file_name} has no table in it.", table.sheet_names)
    frame = frame.copy(deep=False)  # new names and record numbers; the values are not changed here
    names, renamed = _clean_names(frame.columns)
    frame.columns = names
    if frame.shape[1] < 2:
        where = f"Sheet {table.sheet!r} of {table.file_name}" if table.sheet else table.file_name
        advice = (f"choose the sheet that holds the data (the sheets are {', '.join(table.sheet_names)})"
                  if len(table.sheet_names) > 1 else "check that the file uses a comma, semicolon, tab or | "
                  "between fields" if table.file_format == "csv" else "check that this is the file with the data")
        raise LoadError(f"{where} has only one column ({frame.columns[0]!r}): a cohort needs at least a time "
                        f"and an event column — {advice}.", table.sheet_names)
    if len(frame) == 0:
        raise LoadError(f"{table.file_name} has column names but no data rows.", table.sheet_names)
    _check_shape(len(frame), frame.shape[1], table.file_name, limits)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return RawTable(frame, table.file_name, table.file_format, table.description, table.sheet,
                    table.sheet_names, table.notes, table.warnings + renamed)


def _clean_names(columns: pd.Index) -> tuple[list[str], tuple[str, ...]]:
    """Strip blanks, name unnamed columns, and make duplicates unique; returns the names and what was renamed."""
    seen: dict[str, int] = {}
    names: list[str] = []
    duplicated: dict[str, list[str]] = {}
    for i, raw in enumerate(columns, start=1):
        name = "" if raw is None or (isinstance(raw, float) and pd.isna(raw)) else str(raw).strip()
        if not name or name.startswith("Unnamed: "):
            name = f"column {i}"
        if name in seen:
            seen[name] += 1
            duplicated.setdefault(name, [name]).append(f"{name} ({seen[name]})")
            name = f"{name} ({seen[name]})"
        seen.setdefault(name, 1)
        names.append(name)
    renamed = tuple(f"The column name {name!r} appears {len(copies)} times; they are called "
                    f"{', '.join(map(repr, copies[:3]))}{', …' if len(copies) > 3 else ''} here: check which one "
                    "holds what you map." for name, copies in list(duplicated.items())[:5])
    if len(duplicated) > 5:
        renamed += (f"{len(duplicated) - 5} more column names appear more than once.",)
    return names, renamed


def _check_shape(rows: int, columns: int, file_name: str, limits: LoadLimits) -> None:
    if columns > limits.columns:
        raise LoadError(over_limit(f"{file_name} has {columns:,} columns", "columns", limits,
                                   "A cohort file holds one row per patient and one column per variable: check the "
                                   "delimiter, or leave out columns you do not need."))
    if rows > limits.rows:
        raise LoadError(over_limit(f"{file_name} has {rows:,} rows", "rows", limits))
    if rows * columns > limits.cells:
        raise LoadError(over_limit(f"{file_name} has {rows * columns:,} cells ({rows:,} rows × {columns:,} "
                                   "columns)", "cells", limits))


def _check_size(n_bytes: int, file_name: str, limits: LoadLimits) -> None:
    if n_bytes > limits.file_bytes:
        raise LoadError(over_limit(f"{file_name} is {megabytes(n_bytes)}", "file_mb", limits))


def _short(err: object) -> str:
    """A library's error message, trimmed to one line."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:160].rstrip(".")
