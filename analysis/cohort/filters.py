"""Cohort filters as data: one frozen object, one function that applies it,
and one round trip to and from a URL query string.

The same query string drives the dashboard's share links and the command line
(``python -m analysis --filters "lineage=T-ALL&age=10-18"``):

=================  =============================================  =====================
key                meaning                                        example
=================  =============================================  =====================
``age``            age at HSCT2, inclusive range in years         ``age=10-18``
``cut``            age cut for the "age group" factor (years)     ``cut=10``
any categorical    allowed levels, comma separated                ``donor=MSD,MUD``
any numeric        inclusive range                                ``months_hsct1_to_relapse=0-6``
``cmp``            a saved cohort, ``name:key=value;key=value``   ``cmp=T ≥10:lineage=T-ALL;age=10-30``
=================  =============================================  =====================

Unknown keys and impossible values are left out and reported as notices (sentences
for the person who opened the link), never raised: a stale link must still open.
What can be used is kept: the known levels of a list, every value of a repeated
key, the last usable value of a repeated range.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs

import numpy as np
import pandas as pd

from analysis.cohort.model import age_group, categorical_covariates, label, levels, numeric_covariates

DEFAULT_AGE_CUT = 10.0
AGE_KEY, CUT_KEY, SAVED_KEY = "age", "cut", "cmp"
MAX_SAVED_COHORTS = 4
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class CohortFilter:
    """A complete set of restrictions on a cohort.

    ``levels`` and ``ranges`` are sorted tuples of pairs so that the object is
    hashable (usable as a cache key) and two equal filters compare equal.
    An absent column means "no restriction".
    """

    age_range: tuple[float, float] | None = None
    age_cut: float = DEFAULT_AGE_CUT
    levels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ranges: tuple[tuple[str, tuple[float, float]], ...] = ()

    def allowed_levels(self, column: str) -> tuple[str, ...] | None:
        return dict(self.levels).get(column)

    def allowed_range(self, column: str) -> tuple[float, float] | None:
        return dict(self.ranges).get(column)

    def with_levels(self, column: str, allowed: Iterable[str] | None) -> CohortFilter:
        """A copy restricting ``column`` to ``allowed`` (None or empty: no restriction)."""
        kept = {k: v for k, v in self.levels if k != column}
        if allowed:
            kept[column] = tuple(allowed)
        return replace(self, levels=tuple(sorted(kept.items())))

    def with_range(self, column: str, bounds: tuple[float, float] | None) -> CohortFilter:
        kept = {k: v for k, v in self.ranges if k != column}
        if bounds is not None:
            kept[column] = (float(bounds[0]), float(bounds[1]))
        return replace(self, ranges=tuple(sorted(kept.items())))

    @property
    def restricts(self) -> bool:
        """True when any patient could be excluded (the age cut alone excludes no one)."""
        return self.age_range is not None or bool(self.levels) or bool(self.ranges)

    def describe(self) -> str:
        """A short human-readable description, e.g. ``lineage: T-ALL · age 10–18 y``."""
        parts = [f"{col}: {', '.join(vals)}" for col, vals in self.levels]
        if self.age_range is not None:
            parts.append(f"age {self.age_range[0]:g}–{self.age_range[1]:g} y")
        parts += [f"{col} {lo:g}–{hi:g}" for col, (lo, hi) in self.ranges]
        return " · ".join(parts) if parts else "all patients"


@dataclass(frozen=True)
class SavedCohort:
    """A named filter set, kept in the share link, used to overlay cohorts."""

    name: str
    filters: CohortFilter = field(default_factory=CohortFilter)


@dataclass(frozen=True)
class FilterOptions:
    """What can be filtered in a cohort: computed once per dataset, not per rerun.

    ``levels`` holds the categorical columns with 1–30 observed levels (in
    display order); ``ranges`` the other numeric columns with their whole-number
    bounds; ``age_bounds`` the age slider's bounds (None without ages).
    """

    age_bounds: tuple[float, float] | None
    levels: dict[str, list[str]]
    ranges: dict[str, tuple[float, float]]


MAX_FILTER_LEVELS = 30


def _whole_bounds(values: pd.Series) -> tuple[float, float] | None:
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return None
    return float(np.floor(values.min())), float(np.ceil(values.max()))


def filter_options(cohort: pd.DataFrame) -> FilterOptions:
    """The filterable columns of ``cohort`` and their levels or bounds."""
    age = _whole_bounds(cohort["age_years"]) if "age_years" in cohort else None
    level_map = {}
    for column in categorical_covariates(cohort):
        if column != "age_group":
            found = levels(cohort, column)
            if 1 <= len(found) <= MAX_FILTER_LEVELS:
                level_map[column] = found
    ranges = {}
    for column in numeric_covariates(cohort):
        bounds = _whole_bounds(cohort[column]) if column != "age_years" else None
        if bounds and bounds[0] < bounds[1]:
            ranges[column] = bounds
    return FilterOptions(age, level_map, ranges)


def with_age_group(cohort: pd.DataFrame, age_cut: float) -> pd.DataFrame:
    """A copy of ``cohort`` with the derived ``age_group`` column (if ages are known)."""
    out = cohort.copy()
    if "age_years" in out:
        out["age_group"] = age_group(out["age_years"], age_cut)
    return out


def with_coded_text(cohort: pd.DataFrame) -> pd.DataFrame:
    """``cohort`` with its text covariates as pandas categoricals, coded once.

    The values are unchanged; filtering, counting and building model designs
    then work on small integer codes instead of hashing text, which matters
    for registries of a million patients. The identifier stays text.
    """
    text = [c for c in cohort.columns if cohort[c].dtype == object and c != "patient_id"]
    return cohort.astype({c: "category" for c in text}) if text else cohort


def apply_filter(cohort: pd.DataFrame, filters: CohortFilter) -> pd.DataFrame:
    """The patients of ``cohort`` that pass ``filters``, with ``age_group`` added.

    A patient whose value is missing in a restricted column is excluded:
    an unknown lineage is not "T-ALL".
    """
    return with_age_group(cohort.loc[filter_mask(cohort, filters)], filters.age_cut)


def filter_mask(cohort: pd.DataFrame, filters: CohortFilter) -> np.ndarray:
    """Boolean array: which rows of ``cohort`` pass ``filters``."""
    keep = np.ones(len(cohort), dtype=bool)
    if filters.age_range is not None and "age_years" in cohort:
        lo, hi = filters.age_range
        keep &= cohort["age_years"].between(lo, hi).to_numpy()
    for column, allowed in filters.levels:
        if column in cohort:
            values = cohort[column]
            if values.dtype != object and not isinstance(values.dtype, pd.CategoricalDtype):
                # categorical codes stored as numbers compare as text
                values = values.astype("string")
            keep &= values.isin(allowed).fillna(False).to_numpy(dtype=bool)
    for column, (lo, hi) in filters.ranges:
        if column in cohort:
            keep &= pd.to_numeric(cohort[column], errors="coerce").between(lo, hi).to_numpy()
    return keep


# --------------------------------------------------------------------- URL round trip


def _fmt(x: float) -> str:
    return f"{x:g}"


def filter_to_params(filters: CohortFilter) -> dict[str, str]:
    """Query parameters (one string value each) for ``filters``."""
    params: dict[str, str] = {}
    if filters.age_range is not None:
        params[AGE_KEY] = f"{_fmt(filters.age_range[0])}-{_fmt(filters.age_range[1])}"
    if filters.age_cut != DEFAULT_AGE_CUT:
        params[CUT_KEY] = _fmt(filters.age_cut)
    for column, allowed in filters.levels:
        params[column] = ",".join(allowed)
    for column, (lo, hi) in filters.ranges:
        params[column] = f"{_fmt(lo)}-{_fmt(hi)}"
    return params


def saved_to_param(saved: SavedCohort) -> str:
    inner = ";".join(f"{k}={v}" for k, v in filter_to_params(saved.filters).items())
    return f"{clean_cohort_name(saved.name)}:{inner}"


def clean_cohort_name(name: str) -> str:
    """Cohort names travel inside the link, so the separators are replaced."""
    return re.sub(r"[:;=&]", " ", name).strip()[:40] or "cohort"


def to_query_params(filters: CohortFilter, saved: Iterable[SavedCohort] = ()) -> dict[str, str | list[str]]:
    """Everything the share link holds about the cohort: filters and saved cohorts."""
    params: dict[str, str | list[str]] = dict(filter_to_params(filters))
    saved_values = [saved_to_param(s) for s in saved]
    if saved_values:
        params[SAVED_KEY] = saved_values
    return params


@dataclass(frozen=True)
class ParsedQuery:
    """Result of reading a query: what could be used, and what was ignored and why."""

    filters: CohortFilter
    saved: tuple[SavedCohort, ...]
    notices: tuple[str, ...]


def _as_list(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _parse_range(text: str) -> tuple[float, float] | None:
    match = _RANGE.match(text)
    if not match:
        return None
    lo, hi = float(match.group(1)), float(match.group(2))
    return (lo, hi) if lo <= hi else None


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"“{v}”" for v in values)


class _LinkReader:
    """Reads the filter keys of one link (or of one saved cohort in it), in the words a person reads.

    Every key may repeat (``sex=male&sex=female``): the levels of all its
    values are kept, and of a range or cut the last value that can be used.
    Whatever cannot be used is named in ``notices``; what can is kept.
    """

    def __init__(self, cohort: pd.DataFrame) -> None:
        self.cohort = cohort
        self.categorical = set(categorical_covariates(cohort))
        self.numeric = set(numeric_covariates(cohort)) - {"age_years"}
        self.filters = CohortFilter()
        self.notices: list[str] = []

    def read(self, key: str, values: list[str]) -> None:
        if key in self.categorical:
            self._levels(key, values)
        elif key in (AGE_KEY, CUT_KEY) or key in self.numeric:
            self._last_usable(key, values)
        else:
            self.notices.append(f"The link holds “{key}”, which is not a filter of these data; it was left out.")

    def _levels(self, key: str, values: list[str]) -> None:
        wanted = list(dict.fromkeys(v for value in values for v in value.split(",") if v))
        known = set(levels(self.cohort, key))
        bad = [v for v in wanted if v not in known]
        if bad:
            self.notices.append(f"The link asks for {label(key)} {_quoted(bad)}, which these data do not have; "
                                f"{'it was' if len(bad) == 1 else 'they were'} left out.")
        self.filters = self.filters.with_levels(key, [v for v in wanted if v in known])

    def _last_usable(self, key: str, values: list[str]) -> None:
        parsed = [(v, self._value(key, v)) for v in values]
        usable = [p for _, p in parsed if p is not None]
        if usable:
            if key == CUT_KEY:
                self.filters = replace(self.filters, age_cut=usable[-1])
            elif key == AGE_KEY:
                self.filters = replace(self.filters, age_range=usable[-1])
            else:
                self.filters = self.filters.with_range(key, usable[-1])
        bad = [v for v, p in parsed if p is None]
        if not bad:
            return
        if key == AGE_KEY:
            self.notices.append(f"The link's age range {_quoted(bad)} is not two ages like 10-18; "
                                + ("it was left out." if usable else "all ages are shown."))
        elif key == CUT_KEY:
            self.notices.append(f"The link's age cut {_quoted(bad)} is not a number of years between 0 and 30; "
                                f"the cut is {self.filters.age_cut:g} years.")
        else:
            self.notices.append(f"The link's range for {label(key)} {_quoted(bad)} is not two numbers like 0-6; "
                                "it was left out.")

    @staticmethod
    def _value(key: str, text: str):
        """The cut (a float) or range (a pair) a value gives, or None when it cannot be used."""
        if key == CUT_KEY:
            try:
                cut = float(text)
            except ValueError:
                return None
            return cut if np.isfinite(cut) and 0 < cut < 30 else None
        bounds = _parse_range(text)
        if bounds is None or (key == AGE_KEY and bounds[0] < 0):
            return None
        return bounds


def _parse_filter_params(params: Mapping[str, list[str]], cohort: pd.DataFrame) -> tuple[CohortFilter, list[str]]:
    reader = _LinkReader(cohort)
    for key, values in params.items():
        reader.read(key, values)
    return reader.filters, reader.notices


def _saved_pairs(inner: str) -> dict[str, list[str]]:
    pairs: dict[str, list[str]] = {}
    for part in inner.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            pairs.setdefault(key, []).append(value)
    return pairs


# Each ``_apply_*`` returns the filter with one link parameter applied, or unchanged and the notice saying why.


def _apply_age_range(flt: CohortFilter, value: str) -> tuple[CohortFilter, str | None]:
    bounds = _parse_range(value)
    if bounds is None or bounds[0] < 0:
        return flt, f"ignored age range “{value}”: expected two ages like 10-18"
    return replace(flt, age_range=bounds), None


def _apply_age_cut(flt: CohortFilter, value: str) -> tuple[CohortFilter, str | None]:
    try:
        cut = float(value)
    except ValueError:
        cut = float("nan")
    if not np.isfinite(cut) or not 0 < cut < 30:
        return flt, f"ignored age cut “{value}”: expected a number of years between 0 and 30"
    return replace(flt, age_cut=cut), None


def _apply_levels(flt: CohortFilter, cohort: pd.DataFrame, key: str, value: str) -> tuple[CohortFilter, str | None]:
    wanted = [v for v in value.split(",") if v]
    known = set(levels(cohort, key))
    bad = [v for v in wanted if v not in known]
    notice = f"ignored unknown {key} value(s): {', '.join(bad)}" if bad else None
    return flt.with_levels(key, [v for v in wanted if v in known]), notice


def _apply_range(flt: CohortFilter, key: str, value: str) -> tuple[CohortFilter, str | None]:
    bounds = _parse_range(value)
    if bounds is None:
        return flt, f"ignored {key} range “{value}”: expected two numbers like 0-6"
    return flt.with_range(key, bounds), None


def from_query_params(
    params: Mapping[str, str | Iterable[str]],
    cohort: pd.DataFrame,
    *,
    ignore: Iterable[str] = (),
) -> ParsedQuery:
    """Read filters and saved cohorts from query parameters.

    ``ignore`` names parameters owned by someone else (e.g. a page's own
    controls); they are neither used nor reported. A key may repeat; the
    notices are sentences for the person who opened the link.
    """
    ignore = set(ignore)
    repeated = {k: _as_list(v) for k, v in params.items() if k != SAVED_KEY and k not in ignore}
    flt, notices = _parse_filter_params(repeated, cohort)
    saved: list[SavedCohort] = []
    for raw in _as_list(params.get(SAVED_KEY, [])):
        name, sep, inner = raw.partition(":")
        if not sep or not name.strip():
            notices.append(f"The link's saved cohort “{raw}” is not a name followed by filters; it was left out.")
            continue
        sub, sub_notices = _parse_filter_params(_saved_pairs(inner), cohort)
        notices += [f"Saved cohort “{name}”: {n}" for n in sub_notices]
        if len(saved) < MAX_SAVED_COHORTS:
            saved.append(SavedCohort(clean_cohort_name(name), sub))
        else:
            notices.append(f"The link holds more than {MAX_SAVED_COHORTS} saved cohorts, the most that can be "
                           f"compared; “{name}” was left out.")
    return ParsedQuery(flt, tuple(saved), tuple(notices))


def parse_query_string(query: str) -> dict[str, list[str]]:
    """``"a=1&b=2"`` (optionally starting with ``?`` or a full link) to a dict of lists."""
    query = query.split("?", 1)[-1]
    return parse_qs(query, keep_blank_values=False)


def filter_from_query(query: str, cohort: pd.DataFrame) -> CohortFilter:
    """The filters of a share link (``"lineage=T-ALL&age=10-18"``, or the whole link), for a script.

    Where the dashboard ignores a value it cannot use and says so, a script
    should stop: :class:`ValueError` lists every such value. Saved cohorts
    (``cmp=``) are not part of a single filter and are refused too.
    """
    parsed = from_query_params(parse_query_string(query), cohort)
    problems = list(parsed.notices) + ([f"{len(parsed.saved)} saved cohort(s) in the query"] if parsed.saved else [])
    if problems:
        raise ValueError("cannot use the filter query: " + "; ".join(problems))
    return parsed.filters
