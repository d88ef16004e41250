"""Reading the dates of a registry export: ISO, day-first, month-first, mixed.

Spreadsheets and statistics packages hand over real dates; text exports carry
strings in whatever the local convention is (``31.12.2019``, ``12/31/2019``,
``2019-12-31``, ``31-Dec-2019``), sometimes several in one column.

The rule for numeric dates ``a/b/c`` (any of ``. / -`` as separator):

* ``DMY`` or ``MDY`` given: that order;
* ``auto``: a value whose first part exceeds 12 is day-first, one whose second
  part exceeds 12 is month-first; values that cannot tell (both ≤ 12) follow
  the column's evidence, and day-first when the column has none either way
  (European registries) — with a note saying so. A column with evidence *both*
  ways (13/01/2020 and 01/13/2020) cannot tell how to read 03/04/2020: such
  values are reported as unreadable, naming the reason.

Two-digit years follow Python's ``%y``: 69–99 → 1900s, 00–68 → 2000s.
Years 1678–2261 (the range of a pandas timestamp) are read; whether a date is
plausible for a transplant (not in the future, not before 1950) is decided by
the mapping. Values that are not dates are reported as bad, each with a
reason (:attr:`ParsedDates.reasons`). Inspection is linear and bounded: a
value longer than :data:`MAX_DATE_TEXT` characters is not a date.
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
_MONTH_NAME = re.compile(r"[A-Za-zÄÖÜäöüé]{3}")
_YEAR = re.compile(r"\d{4}")
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
#: The longest text read as a date ("Wednesday, 31 December 2019 23:59:59" is 36 characters).
MAX_DATE_TEXT = 40
NOT_A_DATE = "not a date"


@dataclass(frozen=True)
class ParsedDates:
    """Dates of one column (NaT where missing or unreadable), which values were unreadable, and why.

    ``reasons`` holds, for each unreadable value, a plain-language reason
    (``"not a date"`` unless something more precise can be said); None elsewhere.
    """

    dates: pd.Series
    bad: pd.Series
    notes: tuple[str, ...] = ()
    reasons: pd.Series | None = None

    def reason(self, row: object) -> str:
        if self.reasons is None:
            return NOT_A_DATE
        found = self.reasons.get(row)
        return found if isinstance(found, str) else NOT_A_DATE


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
    text = text.where(text.str.len() <= MAX_DATE_TEXT)  # a long text is not a date; nothing else reads it
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
    reasons = pd.Series(None, index=index, dtype=object)
    if numeric.any():
        parsed, note, why = _day_month(text[numeric], order)
        dates[numeric] = parsed
        reasons[numeric] = why
        notes += [note] if note else []
    remaining &= ~numeric

    named = remaining & text.str.contains(_MONTH_NAME, na=False) & text.str.contains(_YEAR, na=False)
    if named.any():
        dates[named] = pd.to_datetime(text[named], format="mixed", dayfirst=order != "MDY",
                                      errors="coerce").dt.normalize()
    bad = present & dates.isna()
    return _checked(dates, values, bad, tuple(notes), reasons)


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


def _day_month(text: pd.Series, order: str) -> tuple[pd.Series, str | None, pd.Series]:
    """``a/b/c`` dates: decide which of a and b is the day (see the module docstring).

    Returns the dates, a note for the user, and the reason of each value that could not be read.
    """
    parts = text.str.extract(_NUMERIC)
    a, b, year = parts[0].astype(int), parts[2].astype(int), parts[3].astype(int)
    year = year.where(year >= 100, (1900 + year).where(year >= 69, 2000 + year))
    note = None
    reasons = pd.Series(None, index=text.index, dtype=object)
    says_day_first, says_month_first = a > 12, b > 12
    if order == "MDY":
        day_first = pd.Series(False, index=text.index)
        reasons[says_day_first] = "not a month-first date (the date order is set to MDY)"
    elif order == "DMY":
        day_first = pd.Series(True, index=text.index)
        reasons[says_month_first] = "not a day-first date (the date order is set to DMY)"
    else:
        ambiguous = ~says_day_first & ~says_month_first & (a != b)
        if says_day_first.any() and says_month_first.any():
            day_first = ~says_month_first
            example_d, example_m = text[says_day_first].iloc[0], text[says_month_first].iloc[0]
            reasons[ambiguous] = (f"cannot tell day from month: the column has day-first dates ({example_d}) and "
                                  f"month-first dates ({example_m}); set the date order")
            day_first = day_first.where(~ambiguous, other=True)
            a = a.where(~ambiguous, 0)  # not a valid day: the value stays unread, with its reason
            note = (f"the column mixes day-first dates (such as {example_d}) and month-first dates (such as "
                    f"{example_m}): {int(ambiguous.sum())} date(s) that could be either are not read.")
        elif says_month_first.any():
            day_first = pd.Series(False, index=text.index)
        else:
            day_first = pd.Series(True, index=text.index)
            if ambiguous.any() and not says_day_first.any():
                note = (f"{int(ambiguous.sum())} date(s) such as {text[ambiguous].iloc[0]} could be day-first or "
                        "month-first; they were read day-first (change “Date order” if that is wrong).")
    day, month = a.where(day_first, b), b.where(day_first, a)
    return _from_parts(year, month, day), note, reasons


def _checked(dates: pd.Series, raw: pd.Series, bad: pd.Series, notes: tuple[str, ...],
             reasons: pd.Series | None = None) -> ParsedDates:
    """Dates outside the years a timestamp holds are unreadable too (a typo, or a number that is not a date)."""
    out_of_range = dates.notna() & ((dates.dt.year < _FIRST_YEAR) | (dates.dt.year > _LAST_YEAR))
    dates = dates.where(~out_of_range)
    bad = (bad | out_of_range) & raw.notna()
    why = pd.Series(None, index=raw.index, dtype=object) if reasons is None else reasons.copy()
    why[out_of_range] = f"not a date in the years {_FIRST_YEAR}–{_LAST_YEAR}"
    why = why.where(bad)
    return ParsedDates(dates, bad, notes, why.where(why.notna() | ~bad, NOT_A_DATE))
