"""Reading uploaded files from bytes: every format, encoding and delimiter, and every refusal."""

from __future__ import annotations

import builtins
import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.ingest import loading
from analysis.ingest.loading import LoadError, read_data_file, read_data_path, sniff_delimiter, sniff_format

FIXTURES = Path(__file__).parent / "fixtures" / "upload"


@pytest.fixture
def table() -> pd.DataFrame:
    """A small registry-like table with text IDs (leading zeros), numbers, labels and a missing value."""
    return pd.DataFrame({
        "ID": ["007", "012", "100"],
        "OS_days": [365.0, 12.5, np.nan],
        "status": ["dead", "alive", "alive"],
        "Geschlecht": ["männlich", "weiblich", "männlich"],
    })


def _csv_bytes(frame: pd.DataFrame, sep: str = ",", encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False, sep=sep).encode(encoding)


def _binary(frame: pd.DataFrame, fmt: str, tmp_path: Path) -> bytes:
    """The bytes of ``frame`` written as ``fmt`` (writing uses disk; reading must not)."""
    path = tmp_path / f"t.{fmt}"
    if fmt == "xlsx":
        frame.to_excel(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "sav":
        pyreadstat.write_sav(frame, str(path))
    elif fmt == "dta":
        pyreadstat.write_dta(frame, str(path))
    return path.read_bytes()


# ------------------------------------------------------------------ text tables


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_text_tables_with_each_delimiter_read_the_same(table, sep):
    raw = read_data_file(_csv_bytes(table, sep), "export.csv")
    assert list(raw.frame.columns) == list(table.columns)
    assert raw.frame["ID"].tolist() == ["007", "012", "100"]  # text, leading zeros kept
    assert raw.frame["Geschlecht"].tolist() == table["Geschlecht"].tolist()
    assert pd.isna(raw.frame.loc[3, "OS_days"])


@pytest.mark.parametrize("encoding, name", [
    ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8"), ("utf-16", "UTF-16"), ("cp1252", "Windows-1252"),
    ("latin-1", "Windows-1252"),
])
def test_text_encodings_are_recognised(table, encoding, name):
    raw = read_data_file(_csv_bytes(table, ";", encoding), "export.csv")
    assert raw.frame["Geschlecht"].tolist() == ["männlich", "weiblich", "männlich"]
    assert raw.frame.columns[0] == "ID"  # no BOM left on the first name
    assert name in raw.description


def test_records_are_numbered_from_one_below_the_header(table):
    raw = read_data_file(_csv_bytes(table), "export.csv")
    assert raw.frame.index.tolist() == [1, 2, 3]
    assert raw.n_rows == 3


def test_decimal_commas_are_read_when_the_delimiter_is_not_a_comma():
    raw = read_data_file(b"id;time;age\nA;12,5;3\nB;7;10,25\n", "de.csv")
    assert raw.frame["time"].tolist() == ["12.5", "7"]
    assert raw.frame["age"].tolist() == ["3", "10.25"]
    assert any("time" in note and "age" in note for note in raw.notes)


def test_text_with_commas_is_not_taken_for_decimal_commas():
    raw = read_data_file(b"id;remark\nA;late, relapse\nB;none\n", "de.csv")
    assert raw.frame["remark"].tolist() == ["late, relapse", "none"]
    assert raw.notes == ()


def test_excel_separator_hint_line_is_honoured():
    raw = read_data_file(b"sep=|\nid|t\nA|1\n", "hint.csv")
    assert list(raw.frame.columns) == ["id", "t"]


@pytest.mark.parametrize("marker", ["", "NA", ".", "N/A", "null"])
def test_missing_markers_are_missing(marker):
    raw = read_data_file(f"id,t\nA,{marker}\nB,3\n".encode(), "m.csv")
    assert pd.isna(raw.frame.loc[1, "t"])
    assert raw.frame.loc[2, "t"] == "3"


def test_blank_and_duplicated_column_names_are_made_unique():
    raw = read_data_file(b" id ,,t,t\nA,x,1,2\n", "names.csv")
    assert len(set(raw.frame.columns)) == 4
    assert raw.frame.columns[0] == "id"
    assert "column 2" in raw.frame.columns


def test_unicode_column_names_survive():
    raw = read_data_file("Überleben (Tage);Status ✝;患者\n1;0;a\n".encode(), "u.csv")
    assert list(raw.frame.columns) == ["Überleben (Tage)", "Status ✝", "患者"]


@pytest.mark.parametrize("text, expected", [
    ("a,b,c\n1,2,3\n", ","), ("a;b;c\n1,5;2;3\n", ";"), ("a\tb\n1\t2\n", "\t"), ("a|b\n1|2\n", "|"),
    ('name;note\n"x, y";2\n"z, w";3\n', ";"),
])
def test_sniff_delimiter(text, expected):
    assert sniff_delimiter(text) == expected


# -------------------------------------------------------------- binary formats


@pytest.mark.parametrize("fmt", ["xlsx", "parquet", "sav", "dta"])
def test_binary_formats_read_from_memory(table, fmt, tmp_path):
    content = _binary(table, fmt, tmp_path)
    assert sniff_format(content) == fmt
    raw = read_data_file(content, f"upload.{fmt}")
    assert raw.file_format == fmt
    assert raw.frame["ID"].tolist() == ["007", "012", "100"]
    assert raw.frame["OS_days"].iloc[:2].tolist() == [365.0, 12.5]
    assert pd.isna(raw.frame["OS_days"].iloc[2])
    assert raw.frame.index.tolist() == [1, 2, 3]


def test_spss_value_labels_replace_codes(tmp_path):
    frame = pd.DataFrame({"id": [1.0, 2.0], "dead": [0.0, 1.0]})
    path = tmp_path / "labels.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"dead": {0.0: "alive", 1.0: "dead"}})
    raw = read_data_file(path.read_bytes(), "labels.sav")
    assert raw.frame["dead"].tolist() == ["alive", "dead"]


def test_excel_dates_stay_dates(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b"], "date_hsct2": pd.to_datetime(["2019-05-03", "2020-12-31"])})
    raw = read_data_file(_binary(frame, "xlsx", tmp_path), "dates.xlsx")
    assert pd.api.types.is_datetime64_any_dtype(raw.frame["date_hsct2"])


def test_excel_skips_empty_first_sheet_and_lists_sheets(table):
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="cover", index=False)
        table.to_excel(writer, sheet_name="data", index=False)
    raw = read_data_file(buffer.getvalue(), "book.xlsx")
    assert raw.sheet == "data"
    assert raw.sheet_names == ("cover", "data")
    assert any("data" in note for note in raw.notes)
    with pytest.raises(LoadError, match=r"Sheet .cover. of book\.xlsx is empty"):
        read_data_file(buffer.getvalue(), "book.xlsx", sheet="cover")
    with pytest.raises(LoadError, match="no sheet named 'other'; its sheets are cover, data"):
        read_data_file(buffer.getvalue(), "book.xlsx", sheet="other")


def test_read_data_path_reads_a_file(table, tmp_path):
    path = tmp_path / "export.tsv"
    path.write_bytes(_csv_bytes(table, "\t"))
    assert read_data_path(path).frame.shape == (3, 4)
    with pytest.raises(LoadError, match="Cannot open"):
        read_data_path(tmp_path / "missing.csv")


def test_reading_never_touches_the_disk(table, tmp_path, monkeypatch):
    """Uploads are read from memory; opening or creating any file while reading is a failure.

    (strace confirms that pyreadstat's C reader also opens no file for a BytesIO.)
    """
    contents = {fmt: _binary(table, fmt, tmp_path) for fmt in ("xlsx", "parquet", "sav", "dta")}
    contents["csv"] = _csv_bytes(table)

    def forbidden(*args, **kwargs):
        raise AssertionError(f"file system touched: {args[:1]}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(io, "open", forbidden)
    monkeypatch.setattr(os, "open", forbidden)
    for name in ("NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, forbidden)
    for fmt, content in contents.items():
        assert read_data_file(content, f"upload.{fmt}").n_rows == 3


# ------------------------------------------------------------------- refusals


def _refused(content: bytes, name: str) -> str:
    with pytest.raises(LoadError) as info:
        read_data_file(content, name)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_empty_file_is_refused(content):
    message = _refused(content, "empty.csv")
    assert "empty" in message or "no table" in message


def test_header_only_is_refused():
    assert _refused(b"id,time,dead\n", "h.csv") == "h.csv has column names but no data rows."


def test_one_column_is_refused():
    assert _refused(b"id time dead\n1 2 0\n", "spaces.csv").startswith("spaces.csv has only one column")


def test_binary_junk_is_refused():
    junk = np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    assert "neither text" in _refused(junk, "data.csv")


def test_password_protected_excel_is_refused():
    """A real workbook encrypted with msoffcrypto-tool (see make_encrypted.py)."""
    content = (FIXTURES / "encrypted.xlsx").read_bytes()
    assert "password-protected Excel file" in _refused(content, "registry.xlsx")


def test_legacy_xls_is_refused():
    ole2_without_encryption = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert "97–2003" in _refused(ole2_without_encryption, "old.xls")


def test_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    assert "ZIP archive" in _refused(buffer.getvalue(), "data.zip")


@pytest.mark.parametrize("fmt", ["xlsx", "parquet", "sav", "dta"])
def test_truncated_binary_files_are_refused(table, fmt, tmp_path):
    content = _binary(table, fmt, tmp_path)
    message = _refused(content[: len(content) // 2], f"cut.{fmt}")
    assert "could not be" in message


def test_excel_with_only_empty_sheets_is_refused(tmp_path):
    content = _binary(pd.DataFrame(), "xlsx", tmp_path)
    assert "sheets are all empty" in _refused(content, "blank.xlsx")


def test_lines_with_too_many_fields_are_refused():
    assert "Line 3 of r.csv has 3 fields but the header has 2" in _refused(b"a,b\n1,2\n4,5,6\n", "r.csv")
    assert "more fields than the header" in _refused(b"a,b\n1,2,3\n4,5\n", "r.csv")


def test_too_large_file_is_refused():
    with pytest.raises(LoadError) as info:
        read_data_file(b"id,time\n1,2\n3,4\n" * 40_000, "big.csv", limits=loading.LoadLimits(file_mb=0.1))
    assert str(info.value) == ("big.csv is 0.6 MB; the limit is 0.1 MB. Raise it with the environment variable "
                               "HSCT2_MAX_FILE_MB.")
