"""How a user's values and column names are matched: keys, tokens, units in names.

Shared by the mapping (:mod:`analysis.ingest.mapping`), the date reader
(:mod:`analysis.ingest.dates`) and the proposal (:mod:`analysis.ingest.proposal`):

* :func:`value_key` makes ``" Yes "``, ``"yes"`` and ``"YES"`` one key, and
  ``1``, ``1.0`` and ``"1.0"`` another;
* :data:`EVENT_TOKENS` / :data:`CAUSE_TOKENS` are the values understood
  without an explicit map;
* :func:`unit_in_name` reads the time unit a column name states (``OS_days``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.text import map_unique

_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$")
#: A text longer than this is never read as a number (the pattern backtracks on long runs of digits).
MAX_NUMBER_TEXT = 64

#: Event values understood without an explicit map (keys as made by :func:`value_key`).
EVENT_TOKENS: dict[str, int] = {
    "1": 1, "0": 0, "yes": 1, "no": 0, "y": 1, "n": 0, "true": 1, "false": 0,
    "dead": 1, "alive": 0, "died": 1, "deceased": 1, "death": 1, "living": 0,
    "relapse": 1, "relapsed": 1, "no relapse": 0, "event": 1, "no event": 0, "censored": 0,
    "ja": 1, "nein": 0, "tot": 1, "verstorben": 1, "lebt": 0, "lebend": 0,
}
#: Cause values understood without an explicit map.
CAUSE_TOKENS: dict[str, int] = {
    "0": 0, "1": 1, "2": 2, "censored": 0, "alive": 0, "none": 0, "no event": 0,
    "relapse": 1, "relapsed": 1, "progression": 1,
    "death": 2, "dead": 2, "death without relapse": 2, "nrm": 2, "trm": 2, "non-relapse mortality": 2,
    "transplant related mortality": 2, "transplant-related mortality": 2,
}


def is_missing(value: object) -> bool:
    """None, NaN, NaT or pd.NA; a text is never missing (not even an empty one)."""
    # pd.isna takes any object; the stubs list only pandas' own scalar types.
    return value is None or (not isinstance(value, str) and pd.isna(value))  # type: ignore[call-overload]


def value_key(value: object) -> str | None:
    """How a user's value is matched in value maps: trimmed, lower case, ``1.0`` → ``"1"``.

    Missing values give None.
    """
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return f"{int(number)}" if number.is_integer() else f"{number:g}"
    text = re.sub(r"\s+", " ", str(value)).strip().lower()
    if len(text) <= MAX_NUMBER_TEXT and _NUMBER.match(text):  # "1.0" in a text file is the number 1
        return value_key(float(text))
    return text or None


def value_keys(values: pd.Series) -> pd.Series:
    """:func:`value_key` of every value (None where missing)."""
    return map_unique(values, value_key)


def display_value(value: object) -> str | None:
    """A user's value as text for the problem table (one type, so the table renders anywhere)."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    if isinstance(value, float) and value.is_integer():
        return f"{int(value)}"
    return str(value)


def observed_keys(values: pd.Series, limit: int = 50) -> list[str]:
    """The distinct value keys of a column (at most ``limit``), in order of first appearance."""
    keys: dict[str, None] = {}
    for value in pd.unique(values):  # a missing value has no key (dropping them first copies the column)
        key = value_key(value)
        if key is not None:
            keys.setdefault(key)
        if len(keys) >= limit:
            break
    return list(keys)


_UNIT_SUFFIX = re.compile(
    r"^(?P<base>.+?)_(?:in_)?(?P<unit>days?|d|weeks?|wks?|w|months?|mon|mo|m|years?|yrs?|y)$"
)
_UNIT_NAMES = {"d": "days", "day": "days", "days": "days", "w": "weeks", "wk": "weeks", "wks": "weeks",
               "week": "weeks", "weeks": "weeks", "m": "months", "mo": "months", "mon": "months",
               "month": "months", "months": "months", "y": "years", "yr": "years", "yrs": "years",
               "year": "years", "years": "years"}


def normalise_name(name: str) -> str:
    """``"OS (days)"`` → ``"os_days"``: lower case, runs of other characters as one ``_``."""
    return re.sub(r"[^0-9a-zäöüß]+", "_", str(name).lower()).strip("_")


def unit_in_name(name: str) -> str | None:
    """The time unit a column name states (``OS_days`` → ``"days"``), if any."""
    found = _UNIT_SUFFIX.match(normalise_name(name))
    return _UNIT_NAMES[found.group("unit")] if found else None
