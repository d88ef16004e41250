"""Validating an upload: one problem table, and a cohort with or without the flagged rows.

Two stages find problems, and both report them in the same shape, ``row``,
``column``, ``value``, ``problem``:

1. mapping (:func:`analysis.mapping.apply_mapping`): values that are not
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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.cohort import (
    REQUIRED_FIELDS,
    STANDARD_LEVELS,
    STANDARD_NUMERIC,
    CohortError,
    cohort_problems,
    normalise_cohort,
)
from analysis.loading import read_data_path
from analysis.mapping import (
    REQUIRED_BY_FORM,
    ColumnMapping,
    MappedData,
    MappingError,
    apply_mapping,
    mapping_from_options,
    parse_map_flags,
    read_mapping_file,
)

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
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


# -------------------------------------------------------------- command line


CANONICAL_FIELDS: tuple[str, ...] = (*REQUIRED_FIELDS, *STANDARD_NUMERIC, *STANDARD_LEVELS)


def is_canonical(frame: pd.DataFrame) -> bool:
    """The file already has the cohort's own columns (``data/demo_cohort.csv`` is an example)."""
    return all(c in frame.columns for c in REQUIRED_FIELDS)


def canonical_mapping(frame: pd.DataFrame) -> ColumnMapping:
    """The identity mapping of a file in the canonical format (times in months)."""
    return ColumnMapping(columns={c: c for c in CANONICAL_FIELDS if c in frame.columns},
                         time_form="durations", time_unit="months")


@dataclass(frozen=True)
class LoadedCohort:
    """A user's file, mapped and validated, as the command line uses it."""

    cohort: pd.DataFrame
    n_excluded: int
    problems: pd.DataFrame
    name: str
    mapping: ColumnMapping
    notes: tuple[str, ...] = field(default_factory=tuple)


def suggest_command_line(mapping: ColumnMapping) -> str:
    """The ``--map``/``--time-unit`` flags that spell out a mapping."""
    flags = [f"--map {f}={c!r}" if " " in c else f"--map {f}={c}" for f, c in mapping.columns]
    if mapping.time_unit:
        flags.append(f"--time-unit {mapping.time_unit}")
    return " ".join(flags)


def load_cohort_for_cli(path: str | Path, *, mapping_file: str | Path | None = None, maps: Sequence[str] = (),
                        time_unit: str | None = None, categorical: Sequence[str] = (),
                        exclude_flagged: bool = True) -> LoadedCohort:
    """Read, map and validate ``--data FILE`` for ``python -m analysis``.

    * No mapping option and a file with the canonical columns
      (``patient_id, followup_months, death, relapse, relapse_months``):
      the file is validated as it is (times in months).
    * No mapping option and another shape: :class:`MappingError` naming the
      missing columns and the ``--map`` flags the proposal would use; nothing
      is guessed silently.
    * ``--mapping FILE`` and/or ``--map FIELD=COLUMN``/``--time-unit``/
      ``--categorical``: the saved mapping (or else the proposal) with the
      flags on top (:func:`analysis.mapping.mapping_from_options`).

    Rows with problems are excluded (``n_excluded`` says how many, ``problems``
    lists them) unless ``exclude_flagged`` is False, when any problem raises
    :class:`CohortError`. A mapping problem (a field not mapped, no time unit)
    always raises.
    """
    raw = read_data_path(path)
    if mapping_file is None and not maps and time_unit is None and not categorical:
        if not is_canonical(raw.frame):
            from analysis.mapping_proposal import propose_mapping

            missing = [c for c in REQUIRED_FIELDS if c not in raw.frame.columns]
            proposed = propose_mapping(raw.frame)
            proposal = suggest_command_line(proposed)
            if proposed.time_unit is None and proposed.time_form != "dates":
                proposal += " --time-unit days|weeks|months|years"
            raise MappingError(
                f"{raw.file_name} is not in the cohort format (no column {', '.join(missing)}): "
                f"describe it with --mapping FILE or --map FIELD=COLUMN"
                + (f", e.g. {proposal}" if proposal else "")
            )
        mapping = canonical_mapping(raw.frame)
    else:
        base = read_mapping_file(mapping_file) if mapping_file is not None else None
        mapping = mapping_from_options(raw.frame, mapping=base, maps=parse_map_flags(maps), time_unit=time_unit,
                                       categorical=tuple(categorical))
    checked = check_upload(raw.frame, mapping)
    cohort = checked.cohort(exclude_flagged=exclude_flagged)
    return LoadedCohort(cohort, checked.n_flagged, checked.problems, raw.file_name, mapping,
                        raw.notes + checked.mapped.notes)
