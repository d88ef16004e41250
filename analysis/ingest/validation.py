"""Validating an upload: what is impossible (rows left out) and what is unusual (rows kept, with a warning).

Two stages find problems, and both report them in the same shape, ``row``,
``column``, ``value``, ``problem``:

1. mapping (:func:`analysis.ingest.mapping.apply_mapping`): values that are not
   numbers or dates, dates in the wrong order or in the future, event labels
   not mapped to 0/1, fields not mapped, a missing time unit;
2. the canonical schema (``analysis.cohort.model``): negative or missing times,
   times longer than a human life, relapse after last contact, events not 0/1,
   duplicated IDs, categories not among the standard ones.

Each finding is either **impossible** (:attr:`CheckedUpload.problems`: the row
cannot be analysed, and is left out when the user keeps the data) or
**implausible** (:attr:`CheckedUpload.warnings`: possible but unusual for this
tool, such as an adult age, 40 years of follow-up or a date in 1930; the row is
kept). Warnings are summarised once per kind (:attr:`CheckedUpload.warning_groups`,
with their count), and each kind can be excluded in one step
(``cohort(exclude_warnings=[key])``).

``row`` is the record number in the user's file: 1 is the first row below
the column names (:data:`ROW_NUMBERING`), the same for every format. ``column``
and ``value`` are the user's own column name and value, not the canonical
ones. A value reported at the mapping stage is not reported again by the
schema (an unreadable date would otherwise also be a "missing value").

Problems with a whole column (a field not mapped) cannot be excluded: the
mapping has to change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from analysis.cohort.model import (
    CohortError,
    cohort_problems,
    cohort_warnings,
    normalise_cohort,
)
from analysis.ingest.mapping import IMPLAUSIBLE, REQUIRED_BY_FORM, ColumnMapping, MappedData, apply_mapping
from analysis.ingest.values import is_missing

ROW_NUMBERING = (
    "Row = record number in your file: 1 is the first row below the column names "
    "(row 2 in a spreadsheet; case 1 in SPSS or Stata)."
)
PROBLEM_COLUMNS = ["row", "column", "value", "problem"]
GROUP_COLUMNS = ["key", "column", "problem", "rows", "values"]


def _no_problems() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype="Int64"), "column": pd.Series(dtype=object),
                         "value": pd.Series(dtype=object), "problem": pd.Series(dtype=object)})


@dataclass(frozen=True)
class CheckedUpload:
    """A mapped upload and every problem found in it.

    Attributes
    ----------
    mapped
        The canonical frame before validation (index = record number).
    problems
        Impossible values: ``row, column, value, problem``, sorted by row;
        whole-column problems (row <NA>) first.
    warnings
        Implausible values, in the same shape: the rows are kept unless the
        user excludes their kind.
    """

    mapped: MappedData
    problems: pd.DataFrame
    warnings: pd.DataFrame = field(default_factory=_no_problems)

    @property
    def n_rows(self) -> int:
        return len(self.mapped.frame)

    @property
    def column_problems(self) -> pd.DataFrame:
        return self.problems[self.problems["row"].isna()]

    @property
    def flagged_rows(self) -> list[int]:
        """Record numbers with at least one problem."""
        return sorted({int(r) for r in self.problems["row"].dropna()})

    @property
    def n_flagged(self) -> int:
        return len(self.flagged_rows)

    @property
    def is_valid(self) -> bool:
        return self.problems.empty

    @property
    def can_exclude(self) -> bool:
        """Excluding the flagged rows leaves a cohort (no whole-column problem, some rows left)."""
        return self.column_problems.empty and self.n_flagged < self.n_rows

    @property
    def warning_groups(self) -> pd.DataFrame:
        """One row per kind of warning: ``key`` (to exclude it), column, problem, rows (count), values (range)."""
        rows = []
        for (column, problem), group in self.warnings.groupby(["column", "problem"], sort=False):
            rows.append({"key": f"{column}: {problem}", "column": column, "problem": problem,
                         "rows": int(group["row"].nunique()), "values": _value_range(group["value"])})
        return pd.DataFrame(rows, columns=GROUP_COLUMNS)

    def warned_rows(self, keys: Iterable[str]) -> list[int]:
        """Record numbers with a warning of one of the kinds ``keys`` (see :attr:`warning_groups`)."""
        wanted = set(keys)
        mask = [f"{c}: {p}" in wanted for c, p in zip(self.warnings["column"], self.warnings["problem"], strict=True)]
        return sorted({int(r) for r in self.warnings.loc[mask, "row"].dropna()})

    def cohort(self, *, exclude_flagged: bool, exclude_warnings: Iterable[str] = ()) -> pd.DataFrame:
        """The validated canonical cohort (``analysis.cohort.as_cohort``).

        With ``exclude_flagged`` the rows with impossible values are left out;
        without it any such problem raises :class:`CohortError` (with
        ``problems``). Rows with implausible values are kept, except those of
        the warning kinds listed in ``exclude_warnings``.
        """
        if not self.column_problems.empty:
            first = self.column_problems.iloc[0]
            more = len(self.column_problems) - 1
            raise CohortError(
                f"The mapping is incomplete: {first['column']}: {first['problem']}"
                + (f" (and {more} more column problem(s))." if more else "."),
                self.problems,
            )
        if not self.problems.empty and not exclude_flagged:
            first = self.problems.iloc[0]
            raise CohortError(
                f"{len(self.problems)} problem(s) in {self.n_flagged} row(s), e.g. row {first['row']}, "
                f"{first['column']}: {first['problem']}. Fix the file or exclude the flagged rows.",
                self.problems,
            )
        left_out = sorted(set(self.flagged_rows) | set(self.warned_rows(exclude_warnings)))
        frame = self.mapped.frame.drop(index=left_out)
        if frame.empty:
            raise CohortError(f"No row is left to analyse: {_most_common(self, exclude_warnings)}.", self.problems)
        return normalise_cohort(frame)  # the rows left passed cohort_problems in check_upload


def _most_common(checked: CheckedUpload, exclude_warnings: Iterable[str]) -> str:
    """What empties the cohort, in words: the commonest kinds of problem and how many rows each flags."""
    found = pd.concat([checked.problems, checked.warnings[checked.warnings["row"].isin(
        checked.warned_rows(exclude_warnings))]], ignore_index=True)
    counts = found.groupby(["column", "problem"], sort=False)["row"].nunique().sort_values(ascending=False)
    parts = [f"{key[0]}: {key[1]} ({n} row{'s' if n != 1 else ''})"  # type: ignore[index]
             for key, n in counts.head(3).items()]
    more = len(counts) - 3
    return f"every row has a problem — {'; '.join(parts)}" + (f"; and {more} other kind(s)" if more > 0 else "")


def _value_range(values: pd.Series) -> str:
    """``"31–90"`` for numbers, the first values for text."""
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if len(numbers) == len(values.dropna()) and len(numbers):
        low, high = numbers.min(), numbers.max()
        return f"{low:g}" if low == high else f"{low:g}–{high:g}"
    shown = [str(v) for v in pd.unique(values.dropna())[:3]]
    return ", ".join(shown) + (", …" if values.nunique() > 3 else "")


def check_upload(frame: pd.DataFrame, mapping: ColumnMapping) -> CheckedUpload:
    """Map ``frame`` and collect the problems of both stages (see the module docstring)."""
    mapped = apply_mapping(frame, mapping)
    stage1 = mapped.problems
    blocking = stage1["row"].isna() & (
        stage1["field"].isin(REQUIRED_BY_FORM[mapping.time_form]) | stage1["problem"].str.startswith("choose the")
    )
    parts = [stage1]
    if not blocking.any():
        parts.append(_schema_problems(frame, mapped, stage1))
    found = pd.concat([p for p in parts if not p.empty] or [stage1], ignore_index=True)
    found = found.drop_duplicates(subset=["row", "column", "value", "problem"])
    found = found.sort_values(["row", "column"], na_position="first", kind="stable")
    implausible = found["severity"].eq(IMPLAUSIBLE).to_numpy()
    problems = found[~implausible][PROBLEM_COLUMNS].reset_index(drop=True)
    warnings = found[implausible][PROBLEM_COLUMNS].reset_index(drop=True)
    return CheckedUpload(mapped, problems, warnings)


def _schema_problems(raw: pd.DataFrame, mapped: MappedData, stage1: pd.DataFrame) -> pd.DataFrame:
    """``cohort_problems`` of the mapped frame, in the user's column names and values.

    A cell already reported at the mapping stage (same row, and the same field
    or one of the user columns it was made from) is not reported again.
    """
    found = pd.concat([cohort_problems(mapped.frame).assign(severity="impossible"),
                       cohort_warnings(mapped.frame).assign(severity=IMPLAUSIBLE)], ignore_index=True)
    if found.empty:
        return found.assign(field=[])
    sources = mapped.sources
    rows = stage1[stage1["row"].notna() & stage1["severity"].ne(IMPLAUSIBLE)]  # a warning hides nothing
    seen = {(int(r), f) for r, f in zip(rows["row"], rows["field"], strict=True)}
    seen |= {(int(r), c) for r, c in zip(rows["row"], rows["column"], strict=True)}

    def reported(row, canonical: str) -> bool:
        if pd.isna(row):
            return False
        return (int(row), canonical) in seen or any((int(row), c) in seen for c in sources.get(canonical, ()))

    found = found[[not reported(r, c) for r, c in zip(found["row"], found["column"], strict=True)]].copy()
    values = []
    for row, canonical, value in zip(found["row"], found["column"], found["value"], strict=True):
        source = sources.get(canonical, ())
        if pd.notna(row) and len(source) == 1 and source[0] in raw.columns:
            values.append(_text(raw.at[int(row), source[0]]))
        else:
            values.append(_text(value))
    found["field"] = found["column"]
    found["value"] = values
    found["column"] = [" − ".join(sources.get(c, (c,))) for c in found["column"]]
    return found


def _text(value: object) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


