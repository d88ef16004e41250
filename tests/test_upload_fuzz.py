"""Property-based tests: malformed files and values end in a clear message or a valid cohort.

Hypothesis throws random bytes, damaged real files, tables with Unicode column
names, wrong types, mixed date formats, huge numbers and empty cells at the
loader, the mapping and the validator. Every case must end in one of two ways:

* a valid cohort (``cohort_problems`` finds nothing in it), or
* a :class:`LoadError`, :class:`MappingError` or :class:`CohortError` whose
  message is one plain sentence (no traceback, no line break).
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from analysis.cohort.model import CohortError, cohort_problems
from analysis.ingest.dates import parse_dates
from analysis.ingest.loading import LoadError, read_data_file
from analysis.ingest.mapping import ALL_FIELDS, DATE_ORDERS, TIME_FORMS, TIME_UNITS, ColumnMapping, MappingError
from analysis.ingest.proposal import propose_mapping
from analysis.ingest.validation import check_upload

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLEAR_ERRORS = (LoadError, MappingError, CohortError)


def _count(outcome: str) -> None:
    """Tally outcomes for ``--hypothesis-show-statistics`` (outside a hypothesis test: nothing)."""
    with contextlib.suppress(InvalidArgument):
        event(outcome)


def _assert_clear(message: str) -> None:
    _count("clear message")
    assert message.strip(), "empty message"
    assert "\n" not in message and "Traceback" not in message, message
    assert len(message) < 600, message


def _end_to_end(content: bytes, name: str, mapping: ColumnMapping | None = None) -> pd.DataFrame | None:
    """Load, map, validate, exclude: a valid cohort, or None after a clear message."""
    try:
        raw = read_data_file(content, name)
    except CLEAR_ERRORS as err:
        _assert_clear(str(err))
        return None
    assert raw.frame.shape[1] >= 2 and raw.n_rows >= 1
    assert raw.frame.index.tolist() == list(range(1, raw.n_rows + 1))
    assert raw.frame.columns.is_unique
    return _map_and_validate(raw.frame, mapping if mapping is not None else propose_mapping(raw.frame))


def _map_and_validate(frame: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame | None:
    checked = check_upload(frame, mapping)
    problems = checked.problems
    assert list(problems.columns) == ["row", "column", "value", "problem"]
    assert problems["problem"].map(lambda p: isinstance(p, str) and p != "").all()
    assert set(checked.flagged_rows) <= set(frame.index)
    try:
        cohort = checked.cohort(exclude_flagged=True)
    except CohortError as err:
        _assert_clear(str(err))
        return None
    _count("valid cohort")
    assert cohort_problems(cohort).empty
    assert len(cohort) + checked.n_flagged == len(frame)
    return cohort


# ------------------------------------------------------------------ bytes


@FUZZ
@given(content=st.binary(max_size=3000), name=st.sampled_from(["a.csv", "a.xlsx", "a.sav", "a.dta", "a.parquet"]))
def test_random_bytes(content, name):
    _end_to_end(content, name)


@FUZZ
@given(prefix=st.sampled_from([b"PK\x03\x04", b"PAR1", b"$FL2", b"<stata_dta>", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
                               b"\xef\xbb\xbf", b"\xff\xfe", b"sep=;\n"]),
       rest=st.binary(max_size=2000))
def test_random_bytes_behind_real_signatures(prefix, rest):
    _end_to_end(prefix + rest, "upload.bin")


def _real_files() -> dict[str, bytes]:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "os_days": [10.0, 200.0, 35.5], "dead": [1.0, 0.0, 1.0],
                          "relapse": [0.0, 1.0, 0.0], "relapse_days": [np.nan, 100.0, np.nan]})
    out: dict[str, bytes] = {"csv": frame.to_csv(index=False).encode()}
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    out["xlsx"] = buffer.getvalue()
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    out["parquet"] = buffer.getvalue()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:  # writing test inputs; the reader itself never touches disk
        for fmt, write in (("sav", pyreadstat.write_sav), ("dta", pyreadstat.write_dta)):
            path = Path(tmp) / f"f.{fmt}"
            write(frame, str(path))
            out[fmt] = path.read_bytes()
    return out


REAL_FILES = _real_files()


def test_the_undamaged_files_give_a_cohort():
    for fmt, content in REAL_FILES.items():
        cohort = _end_to_end(content, f"f.{fmt}")
        assert cohort is not None and len(cohort) == 3, fmt


@FUZZ
@given(fmt=st.sampled_from(sorted(REAL_FILES)), data=st.data())
def test_damaged_real_files(fmt, data):
    content = bytearray(REAL_FILES[fmt])
    how = data.draw(st.sampled_from(["truncate", "flip", "insert"]))
    at = data.draw(st.integers(0, len(content) - 1))
    if how == "truncate":
        content = content[:at]
    elif how == "flip":
        for offset in data.draw(st.lists(st.integers(0, len(content) - 1), min_size=1, max_size=8)):
            content[offset] ^= data.draw(st.integers(1, 255))
    else:
        content[at:at] = data.draw(st.binary(min_size=1, max_size=50))
    _end_to_end(bytes(content), f"damaged.{fmt}")


# ------------------------------------------------------------------ tables


NAMES = st.one_of(
    st.sampled_from(["ID", "OS_days", "status", "dead", "time_to_relapse", "relapsed", "age", "gender",
                     "immunophenotype", "ftime", "date_hsct2", "date_relapse", "date_last_contact", "cause",
                     "followup_months", "death", "relapse", "relapse_months", "patient_id", "sex", "lineage"]),
    st.text(min_size=1, max_size=12),  # any Unicode, including separators and quotes
)
CELLS = st.one_of(
    st.none(),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["1e308", "-1e400", "inf", "NaN", "9" * 40, "0", "1", "2", "-0", "1,5", " 12 "]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["yes", "no", "dead", "alive", "T", "B-ALL", "T-lineage", "m", "f", "x", "TRUE"]),
    st.sampled_from(["2019-03-04", "04.03.2019", "03/04/2019", "31/12/2019", "12/31/2019", "20190304",
                     "4 Mar 2019", "2019-02-30", "0000-00-00", "31.12.99"]),
    st.text(max_size=8),
)


@st.composite
def tables(draw) -> pd.DataFrame:
    names = draw(st.lists(NAMES, min_size=1, max_size=7, unique=True))
    n_rows = draw(st.integers(0, 12))
    data = {name: draw(st.lists(CELLS, min_size=n_rows, max_size=n_rows)) for name in names}
    return pd.DataFrame(data, columns=names, dtype=object)


@FUZZ
@given(frame=tables(), sep=st.sampled_from([",", ";", "\t", "|"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_random_tables_as_text(frame, sep, encoding):
    text = frame.to_csv(index=False, sep=sep)
    try:
        content = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    _end_to_end(content, "random.csv")


@FUZZ
@given(frame=tables())
def test_random_tables_as_excel(frame):
    # Excel cannot hold control characters; drop them so that most drawn tables can be written.
    frame = frame.map(lambda v: _CONTROL.sub("", v) if isinstance(v, str) else v)
    frame.columns = [_CONTROL.sub("", c) or "blank" for c in frame.columns]
    buffer = io.BytesIO()
    try:
        frame.to_excel(buffer, index=False)
    except Exception:  # names or cells openpyxl itself refuses to write (control characters)
        assume(False)
    _end_to_end(buffer.getvalue(), "random.xlsx")


@st.composite
def mappings(draw, columns: list[str]) -> ColumnMapping:
    fields = draw(st.lists(st.sampled_from(ALL_FIELDS), max_size=8, unique=True))
    chosen = {f: draw(st.sampled_from([*columns, "not a column"])) for f in fields}
    events = {f: draw(st.dictionaries(st.sampled_from(["1", "0", "yes", "x", "2"]), st.integers(0, 2), max_size=3))
              for f in ("death", "relapse", "cause")}
    levels = {"lineage": draw(st.dictionaries(st.sampled_from(["t", "b", "x"]),
                                              st.sampled_from(["T-ALL", "B-ALL", "junk"]), max_size=2))}
    return ColumnMapping(
        columns={f: c for f, c in chosen.items()},
        time_form=draw(st.sampled_from(TIME_FORMS)),
        time_unit=draw(st.sampled_from([None, *TIME_UNITS])),
        date_order=draw(st.sampled_from(DATE_ORDERS)),
        event_values={f: v for f, v in events.items() if v},
        level_values={f: v for f, v in levels.items() if v},
        categorical=tuple(draw(st.lists(st.sampled_from(columns), max_size=2))),
        ignored=tuple(draw(st.lists(st.sampled_from(columns), max_size=2))),
    )


@FUZZ
@given(data=st.data())
def test_random_mappings_of_random_tables(data):
    frame = data.draw(tables())
    assume(len(frame) > 0)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    mapping = data.draw(mappings([str(c) for c in frame.columns]))
    _map_and_validate(frame, mapping)


@FUZZ
@given(n=st.integers(1, 30), data=st.data())
def test_plausible_exports_with_wrong_types(n, data):
    """A complete mapping over typed columns, with some values of the wrong type or size."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    frame = pd.DataFrame({
        "ID": [f"P{i}" for i in range(n)],
        "OS_days": rng.exponential(400, n).round(),
        "status": rng.choice(["dead", "alive"], n),
        "relapsed": rng.choice([0, 1], n),
        "time_to_relapse_days": rng.exponential(200, n).round(),
        "age": rng.uniform(0, 25, n),
    }, index=pd.RangeIndex(1, n + 1)).astype(object)
    for _ in range(data.draw(st.integers(0, 6))):
        row = data.draw(st.integers(1, n))
        column = data.draw(st.sampled_from(list(frame.columns)))
        frame.at[row, column] = data.draw(CELLS | st.sampled_from([1e300, -1.0, float("inf"), True, b"bytes"]))
    mapping = replace(propose_mapping(frame), time_unit=data.draw(st.sampled_from(list(TIME_UNITS))))
    cohort = _map_and_validate(frame, mapping)
    if cohort is not None:
        assert cohort["followup_months"].notna().all()


@FUZZ
@given(values=st.lists(CELLS | st.datetimes().map(pd.Timestamp) | st.integers(), max_size=20),
       order=st.sampled_from(DATE_ORDERS))
def test_parse_dates_never_raises(values, order):
    series = pd.Series(values, dtype=object)
    parsed = parse_dates(series, order)
    assert (parsed.bad == (series.notna() & parsed.dates.isna())).all() or parsed.bad.sum() <= series.notna().sum()
    assert not (parsed.bad & parsed.dates.notna()).any()
    years = parsed.dates.dropna().dt.year
    assert ((years >= 1678) & (years <= 2261)).all()  # what a timestamp holds; plausibility is the mapping's


@pytest.mark.parametrize("content", [b"", b"\n", b",,,\n,,,\n", b'"unterminated,quote\n1,2\n', b"\x00\x00\x00\x00"])
def test_edge_files(content):
    assert _end_to_end(content, "edge.csv") is None
