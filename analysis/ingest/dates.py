"""Reading the dates of a registry export: ISO, day-first, month-first, mixed.

Spreadsheets and statistics packages hand over real dates; text exports carry
strings in whatever the local convention is (``31.12.2019``, ``12/31/2019``,
``2019-12-31``, ``31-Dec-2019``), sometimes several in one column.

The rule for numeric dates ``a/b/c`` (any of ``. / -`` as separator):

* ``DMY`` or ``MDY`` given: that order;
* ``auto``: a value whose first part exceeds 12 is day-first, one whose second
  part exceeds 12 is month-first; values that cannot tell (both ≤ 12) follow
  the column's evidence, and day-first when the column has none either way
  (European registries) — with a note saying so.

Two-digit years follow Python's ``%y``: 69–99 → 1900s, 00–68 → 2000s.
Values that are not dates, or fall outside 1900–2100, are reported as bad.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.ingest.values import map_unique

_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_NUMERIC = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})$")
_YEAR_FIRST = re.compile(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH_NAME = re.compile(r"[A-Za-zÄÖÜäöüé]{3,}")
_FIRST_YEAR, _LAST_YEAR = 1900, 2100


@dataclass(frozen=True)
class ParsedDates:
    """Dates of one column (NaT where missing or unreadable) and which values were unreadable."""

    dates: pd.Series
    bad: pd.Series
    notes: tuple[str, ...] = ()


def parse_dates(values: pd.Series, order: str = "auto") -> ParsedDates:
    """Read a column of dates; see the module docstring for the rules.

    Parameters
    ----------
    values
        The user's column: datetimes, date objects, strings or numbers
        (``20190131`` is read as YYYYMMDD; other numbers are not dates).
    order
        ``"auto"``, ``"DMY"``, ``"MDY"`` or ``"YMD"``.
    """
    index = values.index
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = _naive(values)
        return _checked(dates, values, pd.Series(False, index=index), ())
    dates = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    present = values.notna()
    text = map_unique(values, _as_text).where(present)
    objects = map_unique(values, lambda v: isinstance(v, dt.date | pd.Timestamp | np.datetime64)).astype(bool)
    if objects.any():
        dates[objects] = _naive(pd.to_datetime(values[objects], errors="coerce"))
    remaining = present & ~objects & text.notna()
    notes: list[str] = []

    iso = remaining & text.str.match(_ISO, na=False)
    if iso.any():
        dates[iso] = pd.to_datetime(text[iso], format="ISO8601", errors="coerce").dt.normalize()
    remaining &= ~iso

    year_first = remaining & text.str.match(_YEAR_FIRST, na=False)
    if year_first.any():
        parts = text[year_first].str.extract(_YEAR_FIRST).astype(int)
        dates[year_first] = _from_parts(parts[0], parts[1], parts[2])
    remaining &= ~year_first

    compact = remaining & text.str.match(_COMPACT, na=False)
    if compact.any():
        parts = text[compact].str.extract(_COMPACT).astype(int)
        dates[compact] = _from_parts(parts[0], parts[1], parts[2])
    remaining &= ~compact

    numeric = remaining & text.str.match(_NUMERIC, na=False)
    if numeric.any():
        parsed, note = _day_month(text[numeric], order)
        dates[numeric] = parsed
        notes += [note] if note else []
    remaining &= ~numeric

    named = remaining & text.str.contains(_MONTH_NAME, na=False) & text.str.contains(r"\d{4}", na=False)
    if named.any():
        dates[named] = pd.to_datetime(text[named], format="mixed", dayfirst=order != "MDY",
                                      errors="coerce").dt.normalize()
    bad = present & dates.isna()
    return _checked(dates, values, bad, tuple(notes))


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return str(int(value))  # 20190131 as a number
    if isinstance(value, float | np.floating) and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return None


def _naive(dates: pd.Series) -> pd.Series:
    out = pd.to_datetime(dates, errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.astype("datetime64[ns]").dt.normalize()


def _from_parts(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"year": year, "month": month, "day": day})
    ok = frame["year"].between(_FIRST_YEAR, _LAST_YEAR) & frame["month"].between(1, 12) & frame["day"].between(1, 31)
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(frame[ok], errors="coerce")
    return out


def _day_month(text: pd.Series, order: str) -> tuple[pd.Series, str | None]:
    """``a/b/c`` dates: decide which of a and b is the day (see the module docstring)."""
    parts = text.str.extract(_NUMERIC)
    a, b, year = parts[0].astype(int), parts[2].astype(int), parts[3].astype(int)
    year = year.where(year >= 100, (1900 + year).where(year >= 69, 2000 + year))
    note = None
    if order == "MDY":
        day_first = pd.Series(False, index=text.index)
    elif order == "DMY":
        day_first = pd.Series(True, index=text.index)
    else:
        says_day_first, says_month_first = a > 12, b > 12
        ambiguous = ~says_day_first & ~says_month_first & (a != b)
        if says_day_first.any() and says_month_first.any():
            day_first = ~says_month_first
            note = "the column mixes day-first and month-first dates; ambiguous ones were read day-first."
        elif says_month_first.any():
            day_first = pd.Series(False, index=text.index)
        else:
            day_first = pd.Series(True, index=text.index)
            if ambiguous.any() and not says_day_first.any():
                note = (f"{int(ambiguous.sum())} date(s) such as {text[ambiguous].iloc[0]} could be day-first or "
                        "month-first; they were read day-first (change “Date order” if that is wrong).")
    day, month = a.where(day_first, b), b.where(day_first, a)
    return _from_parts(year, month, day), note


def _checked(dates: pd.Series, raw: pd.Series, bad: pd.Series, notes: tuple[str, ...]) -> ParsedDates:
    """Dates outside 1900–2100 are unreadable too (a typo, or a number that is not a date)."""
    out_of_range = dates.notna() & ((dates.dt.year < _FIRST_YEAR) | (dates.dt.year > _LAST_YEAR))
    dates = dates.where(~out_of_range)
    return ParsedDates(dates, (bad | out_of_range) & raw.notna(), notes)
