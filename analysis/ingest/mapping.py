"""Column mapping: from a registry export's own shape to the canonical cohort.

A :class:`ColumnMapping` says which of the user's columns holds each cohort
field, how times are given, and how the user's values translate to the
standard ones. It is data: it can be saved as a small JSON file
(:func:`to_json` / :func:`from_json`) and loaded again next month, and the
command line builds the same object from ``--mapping``/``--map`` flags
(:func:`analysis.ingest.options.mapping_from_options`).

Times can be given in one of three forms (``time_form``):

``durations``
    time to death or last contact, death (event), relapse (event), time to
    relapse, in ``time_unit`` (days, weeks, months or years);
``dates``
    date of HSCT2, date of relapse, date of death or last contact, death
    (event) and optionally relapse (event; otherwise "a relapse date is
    given"); times are the differences in days / 30.4375;
``cause``
    one time to the first event and a cause code (0 censored, 1 relapse,
    2 death without relapse), as in competing-risks tutorials. Vital status
    after a relapse is then unknown: relapsed patients get ``death`` missing
    and ``followup_months = relapse_months``, so that overall survival is
    refused with a clear message (``analysis.cohort.endpoint``) instead of
    being guessed.

:func:`apply_mapping` returns the canonical frame, indexed by the record number
in the user's file (1 = first row below the header), and the problems found
while mapping, in the same table shape as ``analysis.cohort.cohort_problems``.
Every column the mapping does not name becomes a covariate.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from analysis.cohort.model import DAYS_PER_MONTH, LABELS, REQUIRED_FIELDS, STANDARD_LEVELS, STANDARD_NUMERIC
from analysis.cohort.post_transplant import OPTIONAL_FIELDS
from analysis.ingest.dates import MAX_DATE_TEXT, parse_dates
from analysis.ingest.post_transplant import (
    DATE_FIELDS,
    TIME_FIELDS,
    centre_text,
    months_between,
    optional_fields,
    read_grades,
    read_severity,
)
from analysis.ingest.post_transplant import EVENT_FIELDS as POST_HSCT2_EVENTS
from analysis.ingest.values import (
    CAUSE_TOKENS,
    EVENT_TOKENS,
    display_value,
    map_unique,
    unit_in_name,
    value_key,
    value_keys,
)

TIME_FORMS: tuple[str, ...] = ("durations", "dates", "cause")
TIME_UNITS: dict[str, float] = {  # months per unit
    "days": 1 / DAYS_PER_MONTH,
    "weeks": 7 / DAYS_PER_MONTH,
    "months": 1.0,
    "years": 12.0,
}
DATE_ORDERS: tuple[str, ...] = ("auto", "DMY", "MDY", "YMD")
#: Dates before this are possible but unusual for an allogeneic transplant (the first were done in 1968).
EARLIEST_PLAUSIBLE_DATE = pd.Timestamp("1950-01-01")

#: The fields each time form uses, required ones first.
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "durations": ("followup_months", "death", "relapse", "relapse_months"),
    "dates": ("date_hsct2", "date_last_contact", "death", "date_relapse", "relapse"),
    "cause": ("event_time", "cause"),
}
REQUIRED_BY_FORM: dict[str, tuple[str, ...]] = {
    "durations": ("followup_months", "death", "relapse", "relapse_months"),
    "dates": ("date_hsct2", "date_last_contact", "death"),
    "cause": ("event_time", "cause"),
}
EVENT_FIELDS: tuple[str, ...] = ("death", "relapse")
COVARIATE_FIELDS: tuple[str, ...] = (*STANDARD_NUMERIC, *STANDARD_LEVELS)
ALL_FIELDS: tuple[str, ...] = (
    "patient_id", *dict.fromkeys(f for fields in FORM_FIELDS.values() for f in fields), *COVARIATE_FIELDS,
    *OPTIONAL_FIELDS, *DATE_FIELDS,
)

FIELD_LABELS: dict[str, str] = {
    **LABELS,
    "followup_months": "Time to death or last contact",
    "relapse_months": "Time to relapse",
    "date_hsct2": "Date of HSCT2",
    "date_relapse": "Date of relapse",
    "date_last_contact": "Date of death or last contact",
    "event_time": "Time to first event",
    "cause": "Cause of first event",
    "months_hsct1_to_relapse": "Time HSCT1 → relapse",
    "agvhd_months": "Time to acute GVHD", "cgvhd_months": "Time to chronic GVHD", "dli_months": "Time to DLI",
    "date_agvhd": "Date of acute GVHD", "date_cgvhd": "Date of chronic GVHD", "date_dli": "Date of DLI",
}

#: Codes of the cause form (0 censored, 1 relapse, 2 death without relapse).
CAUSE_LABELS: dict[int, str] = {0: "censored", 1: "relapse", 2: "death without relapse"}

_FORMAT = "hsct2-explorer column mapping"
# Each of these is linear in the text (no nested or adjacent unbounded repetition).
_DIGIT_SEPARATOR = re.compile(r"\d[./-]\d")
_LETTERS = re.compile(r"[A-Za-z]{3}")
_YEAR = re.compile(r"\d{4}")


class MappingError(ValueError):
    """A mapping that cannot be used (unreadable file, unknown field or column)."""


# ------------------------------------------------------------------ the mapping


V = TypeVar("V")

#: ``{key: value}`` as a :class:`ColumnMapping` stores it: pairs sorted by key (hashable, compared by value).
Pairs = tuple[tuple[str, V], ...]


def as_pairs(items: Mapping[str, V] | Iterable[tuple[str, V]]) -> Pairs[V]:
    """A dict (or its pairs) in the stored form of :attr:`ColumnMapping.columns`."""
    return tuple(sorted((str(k), v) for k, v in dict(items).items()))


def as_value_maps(
    maps: Mapping[str, Mapping[str, V]] | Iterable[tuple[str, Iterable[tuple[str, V]]]],
) -> Pairs[Pairs[V]]:
    """``{field: {value key: code}}`` in the stored form of :attr:`ColumnMapping.event_values`/``level_values``."""
    return tuple(sorted((str(f), as_pairs(v)) for f, v in dict(maps).items()))


@dataclass(frozen=True, init=False)
class ColumnMapping:
    """Which user column holds each cohort field, and how to read its values.

    Dict arguments are accepted and stored as sorted tuples of pairs
    (hashable; equal mappings compare equal). Use the accessors to read them.

    Attributes
    ----------
    columns
        ``{field: user column}``; fields are in :data:`ALL_FIELDS`.
    time_form
        ``"durations"``, ``"dates"`` or ``"cause"``.
    time_unit
        Unit of the mapped duration columns (``days``/``weeks``/``months``/
        ``years``); None until chosen.
    date_order
        How to read ambiguous dates such as 03/04/2020: ``auto`` (from the
        values; day first when they cannot tell), ``DMY``, ``MDY`` or ``YMD``.
    event_values
        ``{field: {value key: code}}`` for ``death``/``relapse`` (codes 0/1) and
        ``cause`` (codes 0/1/2); keys as made by :func:`value_key`.
    level_values
        ``{field: {value key: standard level}}`` for the standard categorical
        covariates (e.g. ``"t-lineage" → "T-ALL"``).
    categorical
        User columns that are numbers but mean categories (e.g. centre codes).
    ignored
        User columns to leave out altogether (e.g. names, other IDs).
    """

    columns: Pairs[str] = ()
    time_form: str = "durations"
    time_unit: str | None = None
    date_order: str = "auto"
    event_values: Pairs[Pairs[int]] = ()
    level_values: Pairs[Pairs[str]] = ()
    categorical: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()

    def __init__(
        self,
        columns: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        time_form: str = "durations",
        time_unit: str | None = None,
        date_order: str = "auto",
        event_values: Mapping[str, Mapping[str, int]] | Iterable[tuple[str, Iterable[tuple[str, int]]]] = (),
        level_values: Mapping[str, Mapping[str, str]] | Iterable[tuple[str, Iterable[tuple[str, str]]]] = (),
        categorical: Iterable[str] = (),
        ignored: Iterable[str] = (),
    ) -> None:
        stored = {
            "columns": as_pairs(columns), "time_form": time_form, "time_unit": time_unit, "date_order": date_order,
            "event_values": as_value_maps(event_values), "level_values": as_value_maps(level_values),
            "categorical": tuple(dict.fromkeys(str(c) for c in categorical)),
            "ignored": tuple(dict.fromkeys(str(c) for c in ignored)),
        }
        for name, value in stored.items():
            object.__setattr__(self, name, value)
        if self.time_form not in TIME_FORMS:
            raise MappingError(f"time form {self.time_form!r} is not one of {', '.join(TIME_FORMS)}")
        if self.time_unit is not None and self.time_unit not in TIME_UNITS:
            raise MappingError(f"time unit {self.time_unit!r} is not one of {', '.join(TIME_UNITS)}")
        if self.date_order not in DATE_ORDERS:
            raise MappingError(f"date order {self.date_order!r} is not one of {', '.join(DATE_ORDERS)}")
        unknown = [f for f, _ in self.columns if f not in ALL_FIELDS]
        if unknown:
            raise MappingError(f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(ALL_FIELDS)}")

    # -- reading
    @property
    def column_of(self) -> dict[str, str]:
        """``{field: user column}``."""
        return dict(self.columns)

    def column(self, field_name: str) -> str | None:
        return self.column_of.get(field_name)

    def event_map(self, field_name: str) -> dict[str, int]:
        """The value → code map of an event field (the standard tokens if none was given)."""
        explicit = {k: int(v) for k, v in dict(self.event_values).get(field_name, ())}
        if explicit:
            return explicit
        return dict(CAUSE_TOKENS if field_name == "cause" else EVENT_TOKENS)

    def level_map(self, field_name: str) -> dict[str, str]:
        return dict(dict(self.level_values).get(field_name, ()))

    @property
    def active_fields(self) -> tuple[str, ...]:
        """Mapped fields that this time form uses (others are kept but ignored)."""
        used = {"patient_id", *FORM_FIELDS[self.time_form], *COVARIATE_FIELDS, *optional_fields(self.time_form)}
        return tuple(f for f, _ in self.columns if f in used)

    @property
    def mapped_columns(self) -> tuple[str, ...]:
        """User columns taken by an active field."""
        of = self.column_of
        return tuple(of[f] for f in self.active_fields)

    # -- changing (each returns a new mapping)
    def with_column(self, field_name: str, column: str | None) -> ColumnMapping:
        """Map ``field_name`` to ``column`` (None: unmap). A column serves one field only."""
        columns = {f: c for f, c in self.columns if f != field_name and c != column}
        if column is not None:
            columns[field_name] = column
        return replace(self, columns=as_pairs(columns))

    def with_event_values(self, field_name: str, values: Mapping[str, int]) -> ColumnMapping:
        current = {f: dict(v) for f, v in self.event_values}
        current[field_name] = {str(k): int(v) for k, v in values.items()}
        return replace(self, event_values=as_value_maps(current))


# ------------------------------------------------------------------ JSON file


def to_json(mapping: ColumnMapping) -> str:
    """The mapping as a small, human-readable JSON document."""
    doc = {
        "format": _FORMAT,
        "version": 1,
        "time_form": mapping.time_form,
        "time_unit": mapping.time_unit,
        "date_order": mapping.date_order,
        "columns": dict(mapping.columns),
        "event_values": {f: dict(v) for f, v in mapping.event_values},
        "level_values": {f: dict(v) for f, v in mapping.level_values},
        "categorical": list(mapping.categorical),
        "ignored": list(mapping.ignored),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def from_json(text: str | bytes) -> ColumnMapping:
    """Read a mapping saved by :func:`to_json`; :class:`MappingError` if it is not one."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MappingError("This is not a column mapping file (it is not valid JSON).") from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise MappingError("This JSON file is not a column mapping saved by the HSCT2 Explorer.")
    if doc.get("version") != 1:
        raise MappingError(f"Mapping file version {doc.get('version')!r} is not supported (expected 1).")
    try:
        return ColumnMapping(
            columns={str(k): str(v) for k, v in dict(doc.get("columns") or {}).items()},
            time_form=str(doc.get("time_form", "durations")),
            time_unit=doc.get("time_unit"),
            date_order=str(doc.get("date_order", "auto")),
            event_values={str(f): {str(k): int(c) for k, c in dict(v).items()}
                          for f, v in dict(doc.get("event_values") or {}).items()},
            level_values={str(f): {str(k): str(c) for k, c in dict(v).items()}
                          for f, v in dict(doc.get("level_values") or {}).items()},
            categorical=tuple(doc.get("categorical") or ()),
            ignored=tuple(doc.get("ignored") or ()),
        )
    except (TypeError, ValueError) as err:
        if isinstance(err, MappingError):
            raise
        raise MappingError(f"The mapping file is damaged: {err}.") from None


def read_mapping_file(path: str | Path) -> ColumnMapping:
    try:
        return from_json(Path(path).read_bytes())
    except OSError as err:
        raise MappingError(f"Cannot open mapping file {path}: {err.strerror or err}.") from None


def parse_map_flags(maps: Iterable[str]) -> dict[str, str | None]:
    """``["death=dead", "followup_months=OS days", "age_years="]`` → ``{field: column}``.

    An empty column (``age_years=``) unmaps the field, so that the proposal's
    choice can be undone from the command line; the column then stays a
    covariate under its own name.
    """
    out: dict[str, str | None] = {}
    for item in maps:
        name, sep, column = str(item).partition("=")
        name, column = name.strip(), column.strip()
        if not sep or not name:
            raise MappingError(f"--map expects FIELD=COLUMN, got {item!r}")
        if name not in ALL_FIELDS:
            raise MappingError(f"--map: unknown field {name!r}; the fields are {', '.join(ALL_FIELDS)}")
        out[name] = column or None
    return out


def form_of_fields(fields: Iterable[str]) -> str | None:
    """The time form that explicitly named fields imply (None if they imply none)."""
    fields = set(fields)
    if fields & {"event_time", "cause"}:
        return "cause"
    if fields & {"date_hsct2", "date_relapse", "date_last_contact", *DATE_FIELDS}:
        return "dates"
    if fields & {"followup_months", "relapse_months"}:
        return "durations"
    return None


# ------------------------------------------------------------------ applying it


@dataclass(frozen=True)
class MappedData:
    """The user's table in the canonical shape, before validation.

    Attributes
    ----------
    frame
        Canonical columns (``patient_id``, ``followup_months``, ``death``,
        ``relapse``, ``relapse_months``, standard covariates) followed by the
        user's other columns as covariates; indexed by record number in the
        file (1 = first row below the header). Values that could not be read
        are missing here and listed in ``problems``.
    problems
        What went wrong while mapping: row (record number, <NA> for a whole
        column), column (the user's column), value (as in the file), problem.
    sources
        ``{canonical column: the user's column(s) it was made from}`` (two for
        a time computed from two dates), to report later problems in the
        user's words.
    notes
        Things done that the user should know (generated IDs, dropped date
        columns, how ambiguous dates were read).
    """

    frame: pd.DataFrame
    problems: pd.DataFrame
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


IMPOSSIBLE, IMPLAUSIBLE = "impossible", "implausible"


class _Problems:
    """Collects problems as (row, column, value, problem, field, severity).

    ``severity`` is ``"impossible"`` (the row cannot be analysed as it is) or
    ``"implausible"`` (possible but unusual: the row is kept, with a warning).
    """

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def column(self, column: str, problem: str, field_name: str | None = None) -> None:
        self.rows.append({"row": None, "column": column, "value": None, "problem": problem, "field": field_name,
                          "severity": IMPOSSIBLE})

    def cells(self, mask: pd.Series, raw: pd.Series, column: str, problem: str | pd.Series, field_name: str,
              severity: str = IMPOSSIBLE) -> None:
        """One problem per flagged cell; ``problem`` is one text, or a text per row."""
        for row in mask.index[mask.to_numpy(dtype=bool)]:
            text = problem if isinstance(problem, str) else str(problem.get(row))
            self.rows.append({"row": row, "column": column, "value": raw.get(row), "problem": text,
                              "field": field_name, "severity": severity})

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(self.rows, columns=["row", "column", "value", "problem", "field", "severity"])
        out["row"] = pd.array(out["row"].to_numpy(), dtype="Int64")
        out["value"] = [display_value(v) for v in out["value"]]
        return out


def apply_mapping(frame: pd.DataFrame, mapping: ColumnMapping) -> MappedData:
    """Turn the user's table into the canonical cohort shape.

    Parameters
    ----------
    frame
        As read by :mod:`analysis.ingest.loading` (index = record number in the file).
    mapping
        The column mapping.

    Returns
    -------
    MappedData
        The canonical frame and the mapping-stage problems (unreadable numbers
        or dates, dates in the wrong order, event values not mapped to 0/1,
        fields not mapped). Schema problems (negative times, duplicated IDs,
        ages out of range...) are found afterwards by
        :func:`analysis.ingest.validation.check_upload`.
    """
    problems = _Problems()
    notes: list[str] = []
    of = _checked_columns(frame, mapping, problems)
    # The canonical columns are collected here and made one frame at the end: a frame grown column by
    # column and then reordered merges its columns into blocks, a copy that at a million rows cost ~0.4 s.
    out: dict[str, Any] = {}
    sources: dict[str, tuple[str, ...]] = {}

    if "patient_id" in of:
        out["patient_id"] = _id_text(frame[of["patient_id"]])
        sources["patient_id"] = (of["patient_id"],)
    else:
        out["patient_id"] = [f"row {i}" for i in frame.index]
        notes.append("No ID column is mapped: patients are named by their row in the file.")

    factor = TIME_UNITS.get(mapping.time_unit or "", np.nan)
    if mapping.time_form == "durations":
        _durations(frame, of, mapping, factor, out, problems, sources)
    elif mapping.time_form == "dates":
        notes += _dates(frame, of, mapping, out, problems, sources)
    else:
        _cause_coded(frame, of, mapping, factor, out, problems, sources)
    for name in REQUIRED_FIELDS:
        if name not in out:
            out[name] = np.nan

    _standard_covariates(frame, of, mapping, factor, out, problems, sources)
    _post_transplant(frame, of, mapping, factor, out, problems, sources)
    other, other_notes = _other_covariates(frame, mapping, set(of.values()), set(out))
    out.update(other)
    notes += other_notes
    position = {c: i for i, c in enumerate(frame.columns)}
    standard = sorted((c for c in COVARIATE_FIELDS if c in out), key=lambda c: position[of[c]])
    order = [*REQUIRED_FIELDS, *standard, *(c for c in OPTIONAL_FIELDS if c in out)]
    order += [c for c in out if c not in order]
    mapped = pd.DataFrame({c: out[c] for c in order}, index=frame.index, copy=False)
    return MappedData(mapped, problems.frame(), sources, tuple(notes))


def _checked_columns(frame: pd.DataFrame, mapping: ColumnMapping, problems: _Problems) -> dict[str, str]:
    """``{field: column}`` of the usable mapped columns; whole-column problems are reported."""
    column_of = mapping.column_of
    of = {f: column_of[f] for f in mapping.active_fields}
    for name, column in of.items():
        if column not in frame.columns:
            problems.column(column, f"mapped to “{FIELD_LABELS.get(name, name)}” but not in the file", name)
    of = {f: c for f, c in of.items() if c in frame.columns}
    for column in dict.fromkeys(of.values()):
        serving = [FIELD_LABELS.get(f, f) for f, c in of.items() if c == column]
        if len(serving) > 1:
            problems.column(column, f"mapped to {len(serving)} fields ({', '.join(serving)}): choose one")
    for name in REQUIRED_BY_FORM[mapping.time_form]:
        if name not in of:
            problems.column(FIELD_LABELS[name], "required field: choose the column that holds it", name)
    durations: list[str] = [f for f in ("followup_months", "relapse_months", "event_time") if f in of
                            and f in FORM_FIELDS[mapping.time_form]]
    for name in ("months_hsct1_to_relapse", "agvhd_months", "cgvhd_months", "dli_months"):
        if name in of and _stated_unit(of[name]) is None:
            durations.append(name)
    if durations and mapping.time_unit is None:
        problems.column(", ".join(of[f] for f in durations),
                        "choose the time unit of these columns (days, weeks, months or years)", durations[0])
    return of


def _stated_unit(column: str) -> str | None:
    return unit_in_name(column)


def _id_text(values: pd.Series) -> pd.Series:
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # every value a str (one pass in C)
        text = values.str.strip()
        out = text.astype(object)
        out[text == ""] = None
        return out
    return map_unique(values, _trimmed_text)


def _trimmed_text(value: object) -> str | None:
    """A value as trimmed text; None for a value without a key (missing or blank)."""
    text = display_value(value)
    return None if value_key(value) is None or text is None else text.strip()


def _numbers(frame: pd.DataFrame, column: str, field_name: str, problems: _Problems) -> pd.Series:
    """A column as floats; values that are not numbers are reported and become missing."""
    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(float)
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.astype(float)
    else:
        values = pd.to_numeric(raw, errors="coerce").astype(float)  # surrounding blanks are allowed
        bad = values.isna() & raw.notna()
        problems.cells(bad, raw, column, "not a number", field_name)
    infinite = cast(pd.Series, np.isinf(values))  # a Series: numpy ufuncs keep the pandas type
    problems.cells(infinite, raw, column, "not a finite number", field_name)
    return values.where(~infinite)


def _events(frame: pd.DataFrame, column: str, field_name: str, codes: Mapping[str, int],
            problems: _Problems, allowed: Iterable[int] = (0, 1)) -> pd.Series:
    """Map event labels to codes; labels without a code are reported and become missing."""
    raw = frame[column]
    keys = value_keys(raw)
    values = keys.map(dict(codes)).astype(float)
    unmapped = values.isna() & keys.notna()
    what = "/".join(str(a) for a in allowed)
    problems.cells(unmapped, raw, column, f"value not mapped to an event code ({what})", field_name)
    return values


def _durations(frame, of, mapping, factor, out, problems, sources) -> None:
    for name in ("followup_months", "relapse_months"):
        if name in of:
            out[name] = _numbers(frame, of[name], name, problems) * factor
            sources[name] = (of[name],)
    for name in EVENT_FIELDS:
        if name in of:
            out[name] = _events(frame, of[name], name, mapping.event_map(name), problems)
            sources[name] = (of[name],)


def _cause_coded(frame, of, mapping, factor, out, problems, sources) -> None:
    """One time and a cause: 1 relapse, 2 death without relapse, 0 censored."""
    if "event_time" not in of or "cause" not in of:
        return
    time = _numbers(frame, of["event_time"], "event_time", problems) * factor
    cause = _events(frame, of["cause"], "cause", mapping.event_map("cause"), problems, allowed=(0, 1, 2))
    out["followup_months"] = time
    out["relapse"] = np.where(cause.isna(), np.nan, (cause == 1).astype(float))
    out["relapse_months"] = time.where(cause == 1)
    # After a relapse the data do not say whether the patient died: unknown, not 0.
    out["death"] = np.where(cause.isna() | (cause == 1), np.nan, (cause == 2).astype(float))
    for name in ("followup_months", "relapse_months"):
        sources[name] = (of["event_time"],)
    sources["relapse"] = sources["death"] = (of["cause"],)


def _dates(frame, of, mapping, out, problems, sources) -> list[str]:
    notes: list[str] = []
    parsed: dict[str, pd.Series] = {}
    for name in ("date_hsct2", "date_last_contact", "date_relapse"):
        if name in of:
            result = parse_dates(frame[of[name]], mapping.date_order)
            problems.cells(result.bad, frame[of[name]], of[name], result.reasons, name)
            parsed[name] = _plausible_dates(result.dates, frame[of[name]], of[name], name, problems)
            notes += [f"{of[name]}: {note}" for note in result.notes]
    if "date_hsct2" not in parsed or "date_last_contact" not in parsed:
        return notes
    start, last = parsed["date_hsct2"], parsed["date_last_contact"]
    raw_last = frame[of["date_last_contact"]]
    before = last < start
    problems.cells(before, raw_last, of["date_last_contact"], "date of death or last contact is before HSCT2",
                   "followup_months")
    out["followup_months"] = (last - start).dt.days / DAYS_PER_MONTH
    sources["followup_months"] = (of["date_last_contact"], of["date_hsct2"])
    if "death" in of:
        out["death"] = _events(frame, of["death"], "death", mapping.event_map("death"), problems)
        sources["death"] = (of["death"],)
    rel_date = parsed.get("date_relapse", pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]"))
    rel_unreadable = (frame[of["date_relapse"]].notna() & rel_date.isna() if "date_relapse" in of
                      else pd.Series(False, index=frame.index))
    if "relapse" in of:
        relapse = _events(frame, of["relapse"], "relapse", mapping.event_map("relapse"), problems)
        sources["relapse"] = (of["relapse"],)
        if "date_relapse" in of:
            stray = (relapse == 0) & rel_date.notna()
            problems.cells(stray, frame[of["date_relapse"]], of["date_relapse"],
                           "a relapse date is given but relapse is 0", "relapse")
    else:
        # An unreadable relapse date says "relapse" but not when: unknown, not 0.
        relapse = rel_date.notna().astype(float).where(~rel_unreadable)
        if "date_relapse" in of:
            sources["relapse"] = (of["date_relapse"],)
            notes.append(f"Relapse = a date in {of['date_relapse']} (no relapse event column is mapped).")
    out["relapse"] = relapse
    if "date_relapse" in of:
        raw_rel = frame[of["date_relapse"]]
        problems.cells(rel_date < start, raw_rel, of["date_relapse"], "relapse date is before HSCT2",
                       "relapse_months")
        late = (rel_date > last) & (last >= start)
        why = pd.Series({row: f"relapse after last contact ({display_value(rel_date[row])} > "
                              f"{display_value(last[row])})" for row in late.index[late.to_numpy(dtype=bool)]},
                        dtype=object)
        problems.cells(late, raw_rel, of["date_relapse"], why, "relapse_months")
        out["relapse_months"] = (rel_date - start).dt.days / DAYS_PER_MONTH
        sources["relapse_months"] = (of["date_relapse"], of["date_hsct2"])
    else:
        out["relapse_months"] = np.nan
    return notes


def _plausible_dates(dates: pd.Series, raw: pd.Series, column: str, name: str, problems: _Problems) -> pd.Series:
    """A date after today cannot have happened (the row is flagged, its date unused); one before
    :data:`EARLIEST_PLAUSIBLE_DATE` is possible but unusual for a transplant (a warning, kept)."""
    future = dates > pd.Timestamp.today().normalize()
    problems.cells(future, raw, column, "a date in the future", name)
    early = dates < EARLIEST_PLAUSIBLE_DATE
    problems.cells(early, raw, column, f"a date before {EARLIEST_PLAUSIBLE_DATE.year}: unusual for a transplant",
                   name, IMPLAUSIBLE)
    return dates.where(~future)


def _standard_covariates(frame, of, mapping, factor, out, problems, sources) -> None:
    for name in STANDARD_NUMERIC:
        if name in of:
            values = _numbers(frame, of[name], name, problems)
            if name == "months_hsct1_to_relapse":
                # An interval before HSCT2, often exported in its own unit: a unit in its name wins.
                stated = _stated_unit(of[name])
                values = values * (TIME_UNITS[stated] if stated else factor)
            out[name] = values
            sources[name] = (of[name],)
    for name, levels in STANDARD_LEVELS.items():
        if name not in of:
            continue
        raw = frame[of[name]]
        explicit = mapping.level_map(name)
        standard = {value_key(level): level for level in levels}

        def to_level(value, explicit=explicit, standard=standard):
            key = value_key(value)
            if key is None:
                return None
            # Unmapped values pass through unchanged: validation names them.
            return explicit.get(key) or standard.get(key) or _trimmed_text(value)

        out[name] = map_unique(raw, to_level)
        sources[name] = (of[name],)


def _post_transplant(frame, of, mapping, factor, out, problems, sources) -> None:
    """GVHD, DLI and the centre (:mod:`analysis.ingest.post_transplant`)."""
    for name in POST_HSCT2_EVENTS:
        if name in of:
            out[name] = _events(frame, of[name], name, mapping.event_map(name), problems)
            sources[name] = (of[name],)
    for name in TIME_FIELDS:
        if name in of:
            stated = _stated_unit(of[name])
            out[name] = _numbers(frame, of[name], name, problems) * (TIME_UNITS[stated] if stated else factor)
            sources[name] = (of[name],)
    if any(name in of for name in DATE_FIELDS) and "date_hsct2" in of:
        _post_transplant_dates(frame, of, mapping, out, problems, sources)
    if "agvhd_grade" in of:
        grades, bad = read_grades(frame[of["agvhd_grade"]])
        problems.cells(bad, frame[of["agvhd_grade"]], of["agvhd_grade"], "not a grade 0–4 (0, I–IV)", "agvhd_grade")
        out["agvhd_grade"] = grades
        sources["agvhd_grade"] = (of["agvhd_grade"],)
    if "cgvhd_severity" in of:
        out["cgvhd_severity"] = read_severity(frame[of["cgvhd_severity"]], mapping.level_map("cgvhd_severity"))
        sources["cgvhd_severity"] = (of["cgvhd_severity"],)
    if "centre" in of:
        out["centre"] = centre_text(frame[of["centre"]])
        sources["centre"] = (of["centre"],)


def _post_transplant_dates(frame, of, mapping, out, problems, sources) -> None:
    """Months from HSCT2 to dated GVHD / DLI; a date without an event column means the event happened."""
    start = parse_dates(frame[of["date_hsct2"]], mapping.date_order).dates
    for name, target in DATE_FIELDS.items():
        if name not in of:
            continue
        parsed = parse_dates(frame[of[name]], mapping.date_order)
        problems.cells(parsed.bad, frame[of[name]], of[name], "not a date", name)
        out[target] = months_between(start, parsed.dates, DAYS_PER_MONTH)
        sources[target] = (of[name], of["date_hsct2"])
        event = target.removesuffix("_months")
        if event not in of:
            out[event] = parsed.dates.notna().astype(float).where(~parsed.bad)
            sources[event] = (of[name],)


def _other_covariates(frame: pd.DataFrame, mapping: ColumnMapping, used: set[str],
                      present: set[str]) -> tuple[dict[str, pd.Series], list[str]]:
    """Every column not mapped nor ignored: numbers stay numbers, the rest becomes text."""
    notes: list[str] = []
    dropped: list[str] = []
    columns: dict[str, pd.Series] = {}
    taken = present | set(REQUIRED_FIELDS) | set(COVARIATE_FIELDS) | set(OPTIONAL_FIELDS) | {"age_group"}
    for column in frame.columns:
        if column in used or column in mapping.ignored:
            continue
        raw = frame[column]
        if pd.api.types.is_datetime64_any_dtype(raw) or _mostly_dates(raw):
            dropped.append(column)
            continue
        name = column
        while name in taken or name.startswith("_"):
            name = f"{name.lstrip('_')} (file)"
        taken.add(name)
        columns[name] = _covariate(raw, as_category=column in mapping.categorical)
        if name != column:
            notes.append(f"Column {column!r} is called {name!r} here (its name is a cohort field).")
    if dropped:
        notes.append(f"Date columns not mapped as HSCT2/relapse/last-contact dates are left out: "
                     f"{', '.join(dropped)}.")
    return columns, notes


def _mostly_dates(raw: pd.Series) -> bool:
    """A column of dates (real ones, or text such as 2001-01-02 or 02.01.2001).

    Linear in the column and bounded: at most 50 values are looked at, and a
    value longer than a written-out date (:data:`MAX_DATE_TEXT`) is not one.
    """
    sample = raw.dropna().head(50)
    if sample.empty:
        return False
    if all(isinstance(v, dt.date | pd.Timestamp | np.datetime64) for v in sample):
        return True
    if not all(isinstance(v, str) and len(v) <= MAX_DATE_TEXT and _date_like(v) for v in sample):
        return False
    return not parse_dates(sample.astype(object)).bad.any()


def _date_like(text: str) -> bool:
    """Digits around a date separator (2001-01-02, 02.01.2001), or a month name and a four-digit year."""
    return bool(_DIGIT_SEPARATOR.search(text) or (_LETTERS.search(text) and _YEAR.search(text)))


def _covariate(raw: pd.Series, as_category: bool) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw):
        return raw.map({True: "yes", False: "no"}).astype(object)
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.astype(float)
    else:
        distinct = pd.Series(pd.unique(raw), dtype=object).dropna()  # each distinct text is read once
        if pd.to_numeric(distinct, errors="coerce").isna().any():  # some text: a categorical covariate
            return map_unique(raw, _trimmed_text)
        values = pd.to_numeric(raw, errors="coerce").astype(float)
    if np.isinf(values).any():
        values = values.where(~np.isinf(values))
    if as_category:
        return map_unique(values, lambda v: None if v is None or pd.isna(v) else display_value(float(v)))
    return values
