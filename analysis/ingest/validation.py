"""Validating an upload: one problem table, and a cohort with or without the flagged rows.

Two stages find problems, and both report them in the same shape, ``row``,
``column``, ``value``, ``problem``:

1. mapping (:func:`analysis.ingest.mapping.apply_mapping`): values that are not
   numbers or dates, dates in the wrong order, event labels not mapped to
   0/1, fields not mapped, a missing time unit;
2. the canonical schema (``analysis.cohort.cohort_problems``, pandera):
   negative or missing times, relapse after last contact, events not 0/1,
   duplicated IDs, ages outside 0–30, categories not among the standard ones.

``row`` is the record number in the user's file: 1 is the first row below
the column names (:data:`ROW_NUMBERING`), the same for every format. ``column``
and ``value`` are the user's own column name and value, not the canonical
ones. A value reported at the mapping stage is not reported again by the
schema (an unreadable date would otherwise also be a "missing value").

The user then fixes the file, or keeps the data without the flagged rows
(:meth:`CheckedUpload.cohort`). Problems with a whole column (a field not
mapped) cannot be excluded: the mapping has to change.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.cohort.model import (
    CohortError,
    cohort_problems,
    normalise_cohort,
)
from analysis.ingest.mapping import REQUIRED_BY_FORM, ColumnMapping, MappedData, apply_mapping
from analysis.ingest.values import is_missing

ROW_NUMBERING = (
    "Row = record number in your file: 1 is the first row below the column names "
    "(row 2 in a spreadsheet; case 1 in SPSS or Stata)."
)
PROBLEM_COLUMNS = ["row", "column", "value", "problem"]


@dataclass(frozen=True)
class CheckedUpload:
    """A mapped upload and every problem found in it.

    Attributes
    ----------
    mapped
        The canonical frame before validation (index = record number).
    problems
        ``row, column, value, problem``, sorted by row; whole-column problems
        (row <NA>) first.
    """

    mapped: MappedData
    problems: pd.DataFrame

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

    def cohort(self, *, exclude_flagged: bool) -> pd.DataFrame:
        """The validated canonical cohort (``analysis.cohort.as_cohort``).

        With ``exclude_flagged`` the rows with problems are left out;
        without it any problem raises :class:`CohortError` (with ``problems``).
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
        frame = self.mapped.frame.drop(index=self.flagged_rows)
        if frame.empty:
            raise CohortError("Every row has a problem: nothing is left to analyse.", self.problems)
        return normalise_cohort(frame)  # the rows left passed cohort_problems in check_upload


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
    problems = pd.concat([p for p in parts if not p.empty] or [stage1], ignore_index=True)
    problems = problems.drop_duplicates(subset=["row", "column", "value", "problem"])
    problems = problems.sort_values(["row", "column"], na_position="first", kind="stable")
    return CheckedUpload(mapped, problems[PROBLEM_COLUMNS].reset_index(drop=True))


def _schema_problems(raw: pd.DataFrame, mapped: MappedData, stage1: pd.DataFrame) -> pd.DataFrame:
    """``cohort_problems`` of the mapped frame, in the user's column names and values.

    A cell already reported at the mapping stage (same row, and the same field
    or one of the user columns it was made from) is not reported again.
    """
    found = cohort_problems(mapped.frame)
    if found.empty:
        return found.assign(field=[])
    sources = mapped.sources
    rows = stage1[stage1["row"].notna()]
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


