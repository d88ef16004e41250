"""Tables as files: CSV and XLSX, every text cell neutralised against formula injection.

What a table says (its caption: data, filters, n, method) goes into the XLSX
file as a second sheet, "About"; the CSV holds the table alone, so that it
reads back as a table.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.text import formula_safe, formula_safe_frame

ABOUT_SHEET = "About"
_MAX_SHEET_NAME = 31  # Excel's limit


def table_csv(table: pd.DataFrame, notes: Sequence[str] = ()) -> bytes:
    """``table`` as UTF-8 CSV (with a byte-order mark, so Excel reads ≥ and – right); ``notes`` are not written."""
    del notes  # the CSV stays a plain table; the XLSX carries the caption
    return formula_safe_frame(table).to_csv(index=False).encode("utf-8-sig")


def table_xlsx(table: pd.DataFrame | Mapping[str, pd.DataFrame], notes: Sequence[str] = ()) -> bytes:
    """``table`` (or several, by sheet name) as an XLSX workbook, with ``notes`` on an "About" sheet."""
    tables = {"Table": table} if isinstance(table, pd.DataFrame) else dict(table)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables.items():
            sheet = _sheet_name(name)
            safe = formula_safe_frame(frame)
            safe.to_excel(writer, sheet_name=sheet, index=False)
            _fit_columns(writer.sheets[sheet], safe)
        if notes:
            about = pd.DataFrame({"About this table": [formula_safe(n) for n in notes]})
            about.to_excel(writer, sheet_name=ABOUT_SHEET, index=False)
            writer.sheets[ABOUT_SHEET].column_dimensions["A"].width = 120
    return buffer.getvalue()


def _sheet_name(name: str) -> str:
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in str(name)).strip() or "Table"
    return cleaned[:_MAX_SHEET_NAME]


def _fit_columns(sheet, frame: pd.DataFrame) -> None:
    for i, column in enumerate(frame.columns):
        widest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
        sheet.column_dimensions[_column_letter(i)].width = min(max(widest + 2, 8), 60)


def _column_letter(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
