"""Reading the optional fields of an upload: GVHD, DLI and the centre, in a registry's own words.

The mapping (:mod:`analysis.ingest.mapping`) maps them like the other fields;
the value rules live here:

* events (``agvhd``, ``cgvhd``, ``dli``) are 0/1 events read with the usual
  tokens (yes/no, 1/0, ...);
* their times are durations in the file's time unit (a unit in the column
  name wins), or, when times are given as dates, dates of onset
  (``date_agvhd``, ...) from which the months since HSCT2 are computed;
* the aGVHD grade is 0–4 or Roman I–IV ("grade II", "II", "2");
* the cGVHD severity is limited / extensive (Seattle) or mild / moderate /
  severe (NIH), with their usual abbreviations;
* the centre is kept as text (centre codes are groups, not quantities).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.cohort.post_transplant import OPTIONAL_FIELDS
from analysis.ingest.values import display_value, map_unique, value_key

#: With times as dates: the date fields and the time each gives.
DATE_FIELDS: dict[str, str] = {"date_agvhd": "agvhd_months", "date_cgvhd": "cgvhd_months", "date_dli": "dli_months"}
EVENT_FIELDS: tuple[str, ...] = ("agvhd", "cgvhd", "dli")
TIME_FIELDS: tuple[str, ...] = ("agvhd_months", "cgvhd_months", "dli_months")

GRADE_TOKENS: dict[str, int] = {
    **{str(g): g for g in range(5)}, "none": 0, "no": 0, "no gvhd": 0,
    **{roman: g for g, roman in ((1, "i"), (2, "ii"), (3, "iii"), (4, "iv"))},
    **{f"grade {word}": g for g, words in ((0, ("0",)), (1, ("1", "i")), (2, ("2", "ii")), (3, ("3", "iii")),
                                           (4, ("4", "iv"))) for word in words},
}
SEVERITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "limited": ("limited", "l", "lim", "limited cgvhd"),
    "extensive": ("extensive", "e", "ext", "extensive cgvhd"),
    "mild": ("mild", "nih mild"),
    "moderate": ("moderate", "mod", "nih moderate"),
    "severe": ("severe", "sev", "nih severe"),
}


def optional_fields(form: str) -> tuple[str, ...]:
    """The optional fields a time form uses: their times as durations, or as dates with dates."""
    if form == "dates":
        return tuple(f for f in OPTIONAL_FIELDS if f not in TIME_FIELDS) + tuple(DATE_FIELDS)
    return OPTIONAL_FIELDS


def read_grades(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """aGVHD grades as 0–4 (floats, NaN missing) and the mask of values that are not a grade."""
    keys = map_unique(raw, value_key)
    grades = keys.map(GRADE_TOKENS).astype(float)
    return grades, grades.isna() & keys.notna()


def severity_lookup(explicit: Mapping[str, str]) -> dict[str, str]:
    """Value key -> severity: the user's own map first, then the usual words."""
    lookup: dict[str, str] = {}
    for level, words in SEVERITY_SYNONYMS.items():
        for word in (*words, level):
            key = value_key(word)
            if key is not None:
                lookup[key] = level
    return {**lookup, **explicit}


def read_severity(raw: pd.Series, explicit: Mapping[str, str]) -> pd.Series:
    """cGVHD severities as the standard words; values not recognised pass through for validation to name."""
    lookup = severity_lookup(explicit)

    def level(value: object) -> str | None:
        key = value_key(value)
        if key is None:
            return None
        return lookup.get(key) or display_value(value).strip()  # type: ignore[union-attr]

    return map_unique(raw, level)


def centre_text(raw: pd.Series) -> pd.Series:
    """Centre labels as text: ``3`` and ``3.0`` are centre "3"."""
    return map_unique(raw, lambda v: None if value_key(v) is None else display_value(v).strip())  # type: ignore


def months_between(start: pd.Series, end: pd.Series, days_per_month: float) -> pd.Series:
    """Months from HSCT2 to a dated event (NaN where either date is missing)."""
    return (end - start).dt.days / days_per_month

