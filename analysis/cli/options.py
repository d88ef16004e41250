"""What every command shares: the data options (``--data``, ``--mapping``, ``--filters`` ...) and loading them."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import pandas as pd

from analysis.cohort.filters import ParsedQuery, apply_filter, from_query_params, parse_query_string, with_age_group
from analysis.cohort.model import CohortError, load_demo_cohort
from analysis.ingest.options import load_cohort_for_cli

MAX_PROBLEMS_SHOWN = 10


def parse_times(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated months like 12,24,60, got {text!r}") from None
    if not values or any(t < 0 for t in values):
        raise argparse.ArgumentTypeError(f"expected non-negative months like 12,24,60, got {text!r}")
    return values


def common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    data = common.add_argument_group("data")
    data.add_argument("--data", metavar="FILE", help="cohort file (default: the synthetic demo cohort)")
    data.add_argument("--mapping", metavar="FILE", help="saved column mapping (JSON) for --data")
    data.add_argument("--map", metavar="FIELD=COLUMN", action="append", default=[],
                      help="map a cohort field to a column of --data (repeatable)")
    data.add_argument("--time-unit", choices=["days", "weeks", "months", "years"],
                      help="unit of the mapped time columns")
    data.add_argument("--categorical", metavar="COL", action="append", default=[],
                      help="treat a numeric column as categorical (repeatable, or comma-separated)")
    data.add_argument("--strict", action="store_true",
                      help="stop on any validation problem instead of excluding the flagged rows")
    data.add_argument("--filters", metavar="QUERY", default="",
                      help='share-link query, e.g. "lineage=T-ALL&age=10-18"')
    common.add_argument("--json", action="store_true", help="machine-readable output")
    return common


def split_list(values: Sequence[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def load_full_cohort(args: argparse.Namespace) -> tuple[pd.DataFrame, list[str]]:
    """All the patients of the data the options name (the demo cohort without ``--data``), and notices."""
    notes: list[str] = []
    categorical = split_list(getattr(args, "categorical", []))
    if args.data is None and (args.mapping or args.map or args.time_unit):
        raise CohortError("--mapping, --map and --time-unit describe a file: give it with --data FILE")
    if args.data is None:
        cohort = load_demo_cohort()
    else:
        loaded = load_cohort_for_cli(args.data, mapping_file=args.mapping, maps=tuple(args.map),
                                     time_unit=args.time_unit, categorical=tuple(categorical),
                                     exclude_flagged=not args.strict)
        cohort = loaded.cohort
        if loaded.n_excluded:
            notes.append(f"{loaded.n_excluded} row(s) excluded by validation (--strict stops instead):")
            notes += [f"  row {p.row}, {p.column} = {p.value!r}: {p.problem}"
                      for p in loaded.problems.head(MAX_PROBLEMS_SHOWN).itertuples(index=False)]
            if len(loaded.problems) > MAX_PROBLEMS_SHOWN:
                notes.append(f"  … and {len(loaded.problems) - MAX_PROBLEMS_SHOWN} more problem(s)")
    for column in categorical:
        if column in cohort:
            cohort[column] = cohort[column].map(lambda v: v if pd.isna(v) else f"{v:g}"
                                                if isinstance(v, float) else str(v))
    return cohort, notes


def load_view(args: argparse.Namespace) -> tuple[pd.DataFrame, ParsedQuery, list[str]]:
    """All the patients, what ``--filters`` asks for (filters and saved cohorts), and notices."""
    cohort, notes = load_full_cohort(args)
    parsed = from_query_params(parse_query_string(args.filters), cohort)
    return cohort, parsed, notes + [f"filter: {n}" for n in parsed.notices]


def load_cohort(args: argparse.Namespace) -> tuple[pd.DataFrame, list[str]]:
    """The cohort the options name, filtered; and notices about ignored filters."""
    cohort, parsed, notes = load_view(args)
    if not parsed.filters.restricts:
        return with_age_group(cohort, parsed.filters.age_cut), notes
    return apply_filter(cohort, parsed.filters), notes
