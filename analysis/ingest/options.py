"""A cohort from command-line style options: ``--data``, ``--mapping``, ``--map``, ``--time-unit``.

The command line (and a notebook) describe a file's shape with flags instead of
the Data page's widgets; :func:`mapping_from_options` builds the same
:class:`~analysis.ingest.mapping.ColumnMapping` from them, and
:func:`load_cohort_for_cli` reads, maps and validates a file in one call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from analysis.cohort.model import REQUIRED_FIELDS, STANDARD_LEVELS, STANDARD_NUMERIC
from analysis.ingest.loading import read_data_path
from analysis.ingest.mapping import (
    EVENT_FIELDS,
    FORM_FIELDS,
    ColumnMapping,
    MappingError,
    as_pairs,
    as_value_maps,
    form_of_fields,
    parse_map_flags,
    read_mapping_file,
)
from analysis.ingest.proposal import propose_mapping, propose_values
from analysis.ingest.validation import check_upload


def mapping_from_options(frame: pd.DataFrame, *, mapping: ColumnMapping | None = None,
                         maps: Mapping[str, str | None] | None = None, time_unit: str | None = None,
                         categorical: Sequence[str] = ()) -> ColumnMapping:
    """The mapping the command line describes: a base mapping, then flags on top.

    The base is ``mapping`` (from ``--mapping FILE``) or else the proposal for
    ``frame``. Fields named in ``maps`` replace the base's; when they imply a
    different time form, the base's fields of the other forms are dropped.
    Value maps for newly mapped columns are proposed from the data.
    """
    base = mapping if mapping is not None else propose_mapping(frame)
    maps = dict(maps or {})
    missing = [c for c in maps.values() if c is not None and c not in frame.columns]
    if missing:
        raise MappingError(f"--map names column(s) not in the file: {', '.join(map(repr, missing))}; "
                           f"its columns are {', '.join(map(repr, frame.columns))}")
    form = form_of_fields(f for f, c in maps.items() if c is not None) or base.time_form
    if form != base.time_form:
        other = {f for fs in FORM_FIELDS.values() for f in fs} - set(FORM_FIELDS[form])
        base = replace(base, columns=as_pairs({f: c for f, c in base.columns if f not in other}), time_form=form)
    for name, column in maps.items():
        base = base.with_column(name, column)
        if name in (*EVENT_FIELDS, "cause", *STANDARD_LEVELS):  # the base's value map was for another column
            base = replace(base, event_values=as_value_maps({f: dict(v) for f, v in base.event_values if f != name}),
                           level_values=as_value_maps({f: dict(v) for f, v in base.level_values if f != name}))
    if time_unit is not None:
        base = replace(base, time_unit=time_unit)
    if categorical:
        unknown = [c for c in categorical if c not in frame.columns]
        if unknown:
            raise MappingError(f"--categorical names column(s) not in the file: {', '.join(map(repr, unknown))}")
        base = replace(base, categorical=(*base.categorical, *categorical))
    return propose_values(frame, base)


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
      flags on top (:func:`mapping_from_options`).

    Rows with problems are excluded (``n_excluded`` says how many, ``problems``
    lists them) unless ``exclude_flagged`` is False, when any problem raises
    :class:`CohortError`. A mapping problem (a field not mapped, no time unit)
    always raises.
    """
    raw = read_data_path(path)
    if mapping_file is None and not maps and time_unit is None and not categorical:
        if not is_canonical(raw.frame):
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
