"""What the loader refuses before parsing (limits, bombs), and what it reads that it once misread."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from analysis.ingest import workbook
from analysis.ingest.limits import ENVIRONMENT, LoadLimits
from analysis.ingest.loading import LoadError, read_data_file
from analysis.ingest.mapping import _mostly_dates

TABLE = pd.DataFrame({"id": ["a", "b", "c", "d", "e"], "os_days": [10.0, 20, 30, 40, 50], "dead": [1, 0, 1, 0, 0]})


def _bytes(frame: pd.DataFrame, fmt: str, tmp_path: Path) -> bytes:
    path = tmp_path / f"t.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "xlsx":
        frame.to_excel(path, index=False, engine="openpyxl")  # openpyxl stores a formula without its result
    elif fmt == "parquet":
        frame.to_parquet(path)
    else:
        (pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta)(frame, str(path))
    return path.read_bytes()


def _refusal(content: bytes, name: str, **limits) -> str:
    with pytest.raises(LoadError) as info:
        read_data_file(content, name, limits=LoadLimits(**limits))
    return str(info.value)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "sav", "dta"])
def test_every_format_honours_the_row_limit(fmt, tmp_path):
    content = _bytes(TABLE, fmt, tmp_path)
    message = _refusal(content, f"t.{fmt}", rows=3)
    assert "rows; the limit is 3 rows" in message and "HSCT2_MAX_ROWS" in message
    assert read_data_file(content, f"t.{fmt}", limits=LoadLimits(rows=5)).n_rows == 5


@pytest.mark.parametrize("fmt", ["csv", "parquet", "sav", "dta"])
def test_every_format_honours_the_cell_and_column_limits(fmt, tmp_path):
    content = _bytes(TABLE, fmt, tmp_path)
    assert "cells" in _refusal(content, f"t.{fmt}", cells=14) and "HSCT2_MAX_CELLS" in _refusal(
        content, f"t.{fmt}", cells=14)
    assert "3 columns; the limit is 2 columns" in _refusal(content, f"t.{fmt}", columns=2)


def test_a_spreadsheet_has_its_own_cell_limit(tmp_path):
    message = _refusal(_bytes(TABLE, "xlsx", tmp_path), "t.xlsx", spreadsheet_cells=10)
    assert message.startswith("Sheet 'Sheet1' of t.xlsx has more than 10 cells; the limit is 10 cells in a "
                              "spreadsheet. Save the sheet with the data as CSV")
    assert message.endswith("Raise it with the environment variable HSCT2_MAX_SPREADSHEET_CELLS.")


def test_the_unpacked_size_of_a_workbook_is_limited(tmp_path):
    content = _bytes(TABLE, "xlsx", tmp_path)
    assert "unpacks to" in _refusal(content, "t.xlsx", uncompressed_mb=0.001)


def test_limits_come_from_the_environment():
    limits = LoadLimits.from_environment({ENVIRONMENT["rows"]: "2_000_000", ENVIRONMENT["file_mb"]: "12.5",
                                          ENVIRONMENT["cells"]: "many", ENVIRONMENT["columns"]: "-3"})
    assert limits.rows == 2_000_000 and limits.file_mb == 12.5
    assert limits.cells == LoadLimits().cells and limits.columns == LoadLimits().columns  # not usable: default
    assert set(ENVIRONMENT) == {f for f in LoadLimits.__dataclass_fields__}


def test_read_data_file_reads_its_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("HSCT2_MAX_ROWS", "2")
    with pytest.raises(LoadError, match="HSCT2_MAX_ROWS"):
        read_data_file(TABLE.to_csv(index=False).encode(), "t.csv")


# ------------------------------------------------------------------ workbooks


def test_the_sheet_scan_counts_rows_cells_and_formulas_without_results(tmp_path):
    frame = TABLE.assign(twice=[f"=B{i + 2}*2" for i in range(5)])
    archive = zipfile.ZipFile(io.BytesIO(_bytes(frame, "xlsx", tmp_path)))
    parts = workbook.sheet_parts(archive)
    scan = workbook.scan_sheet(archive, parts["Sheet1"], LoadLimits())
    assert (scan.rows, scan.cells, scan.formulas_without_value) == (6, 24, 5)
    assert scan.examples == ("D2", "D3", "D4")


def test_the_sheet_scan_reads_namespace_prefixed_xml(tmp_path):
    plain = zipfile.ZipFile(io.BytesIO(_bytes(TABLE, "xlsx", tmp_path)))
    xml = plain.read("xl/worksheets/sheet1.xml").decode()
    prefixed = xml.replace("<worksheet", "<x:worksheet").replace("</worksheet", "</x:worksheet")
    for tag in ("sheetData", "row", "c", "v", "is", "t", "dimension", "sheetViews", "sheetView", "selection",
                "sheetFormatPr", "pageMargins", "cols", "col"):
        prefixed = prefixed.replace(f"<{tag} ", f"<x:{tag} ").replace(f"<{tag}>", f"<x:{tag}>")
        prefixed = prefixed.replace(f"</{tag}>", f"</x:{tag}>").replace(f"<{tag}/>", f"<x:{tag}/>")
    prefixed = prefixed.replace('xmlns="', 'xmlns:x="', 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for info in plain.infolist():
            out.writestr(info.filename, prefixed if info.filename.endswith("sheet1.xml") else plain.read(info))
    scan = workbook.scan_sheet(zipfile.ZipFile(buffer), "xl/worksheets/sheet1.xml", LoadLimits())
    assert (scan.rows, scan.cells) == (6, 18)


def test_formula_cells_without_a_result_are_named(tmp_path):
    raw = read_data_file(_bytes(TABLE.assign(twice=["=B2*2"] * 5), "xlsx", tmp_path), "f.xlsx")
    assert raw.frame["twice"].isna().all()
    assert raw.warnings[0].startswith("Sheet 'Sheet1' of f.xlsx has 5 formula cell(s) without a saved result "
                                      "(e.g. D2, D3, D4): they read as empty.")


def test_a_read_me_sheet_is_passed_over_and_can_still_be_chosen():
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer) as writer:
        pd.DataFrame({"About": ["export of May"]}).to_excel(writer, sheet_name="readme", index=False)
        TABLE.to_excel(writer, sheet_name="cohort", index=False)
    raw = read_data_file(buffer.getvalue(), "book.xlsx")
    assert raw.sheet == "cohort" and raw.n_rows == 5
    assert "sheet(s) 'readme' hold one column only" in raw.notes[0]
    with pytest.raises(LoadError) as info:
        read_data_file(buffer.getvalue(), "book.xlsx", sheet="readme")
    assert "Sheet 'readme' of book.xlsx has only one column ('About')" in str(info.value)
    assert "choose the sheet that holds the data (the sheets are readme, cohort)" in str(info.value)
    assert "delimiter" not in str(info.value) and info.value.sheet_names == ("readme", "cohort")


def test_duplicate_names_in_a_workbook_are_kept_and_named(tmp_path):
    frame = pd.DataFrame([["a", 1, 0, 1], ["b", 2, 1, 0]], columns=["id", "time", "dead", "dead"])
    raw = read_data_file(_bytes(frame, "xlsx", tmp_path), "dup.xlsx")
    assert list(raw.frame.columns) == ["id", "time", "dead", "dead (2)"]  # pandas alone says "dead.1"
    assert raw.frame["dead (2)"].tolist() == [1, 0]
    assert raw.warnings == ("The column name 'dead' appears 2 times; they are called 'dead', 'dead (2)' here: "
                            "check which one holds what you map.",)


def test_duplicate_names_in_a_text_file_keep_the_files_own_name():
    raw = read_data_file(b"id,death,t,death\na,1,2,0\n", "dup.csv")
    assert list(raw.frame.columns) == ["id", "death", "t", "death (2)"]
    assert "appears 2 times" in raw.warnings[0]


# ------------------------------------------------------------------ encodings, Parquet


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(encoding):
    text = "id;Geschlecht;Überleben\nA;männlich;12\nB;weiblich;7\n"
    raw = read_data_file(text.encode(encoding), "export.csv")
    assert list(raw.frame.columns) == ["id", "Geschlecht", "Überleben"]
    assert raw.frame["Geschlecht"].tolist() == ["männlich", "weiblich"]
    assert "no byte-order mark" in raw.description


def test_nested_parquet_columns_are_left_out_and_named():
    table = pa.table({"id": ["a", "b"], "time": [1.0, 2.0], "visits": pa.array([[1], [2, 3]]),
                      "where": pa.array([{"city": "Ulm"}, {"city": "Bonn"}]),
                      "centre": pa.array(["x", "y"]).dictionary_encode()})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    raw = read_data_file(buffer.getvalue(), "n.parquet")
    assert list(raw.frame.columns) == ["id", "time", "centre"]
    assert raw.frame["centre"].dtype == object  # the values, not category codes
    assert raw.warnings == ("Columns holding lists, records or maps cannot be analysed and were left out: visits, "
                            "where.",)


def test_only_short_values_are_taken_for_dates():
    assert _mostly_dates(pd.Series(["2019-01-02", "03.04.2020"]))
    assert not _mostly_dates(pd.Series(["January 2019 " * 500, "2019-01-02"]))
    assert not _mostly_dates(pd.Series(["a" * 10_000 + "2019"]))


def test_decompressed_sheet_is_not_parsed_when_over_the_limit(monkeypatch, tmp_path):
    """The refusal comes from the scan: openpyxl is never asked to open the workbook."""
    def never(*args, **kwargs):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(pd, "ExcelFile", never)
    frame = pd.DataFrame(np.ones((50, 4)))
    assert "more than 100 cells" in _refusal(_bytes(frame, "xlsx", tmp_path), "b.xlsx", spreadsheet_cells=100)
