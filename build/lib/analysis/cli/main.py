"""Command line: the dashboard's numbers without the UI (``python -m analysis`` or ``hsct2``).

    python -m analysis summary [--data FILE] [--filters QUERY] [--json]
    python -m analysis calibration [--json]
    python -m analysis km --endpoint os|rfs [--group COL] [--times 12,24,60] ...
    python -m analysis cif [--group COL] [--times 12,24,60] ...
    python -m analysis cox --endpoint os|rfs|relapse|nrm --covariates COL[,COL...] ...

``--filters`` takes the same query string as the dashboard's share link
(``"lineage=T-ALL&age=10-18"``, or the whole link). Times are in months.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

import pandas as pd

from analysis._version import __version__
from analysis.cli import reports
from analysis.cohort.filters import apply_filter, from_query_params, parse_query_string, with_age_group
from analysis.cohort.model import LANDMARK_MONTHS, CohortError, load_demo_cohort
from analysis.ingest.options import load_cohort_for_cli
from analysis.text import jsonable

MAX_PROBLEMS_SHOWN = 10


def _times(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated months like 12,24,60, got {text!r}") from None
    if not values or any(t < 0 for t in values):
        raise argparse.ArgumentTypeError(f"expected non-negative months like 12,24,60, got {text!r}")
    return values


def _common_options() -> argparse.ArgumentParser:
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


def _split_list(values: Sequence[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _load(args: argparse.Namespace) -> tuple[pd.DataFrame, list[str]]:
    """The cohort the options name, filtered; and notices about ignored filters."""
    notes: list[str] = []
    categorical = _split_list(getattr(args, "categorical", []))
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
    parsed = from_query_params(parse_query_string(args.filters), cohort)
    notes += [f"filter: {n}" for n in parsed.notices]
    if not parsed.filters.restricts:
        return with_age_group(cohort, parsed.filters.age_cut), notes
    return apply_filter(cohort, parsed.filters), notes


# ------------------------------------------------------------------ commands


def _summary(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    return reports.summary_report(cohort)


def _calibration(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    return reports.calibration_json(cohort)


def _km(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    return reports.km_report(cohort, args.endpoint, group=args.group, times=args.times)


def _cif(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    return reports.cif_report(cohort, group=args.group, times=args.times)


def _cox(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    reference = {}
    for item in args.reference:
        column, sep, level = item.partition("=")
        if not sep:
            raise CohortError(f"--reference expects COL=LEVEL, got {item!r}")
        reference[column] = level
    return reports.cox_report(cohort, args.endpoint, _split_list([args.covariates]),
                      categorical=tuple(_split_list(args.categorical)), reference=reference)


def _parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"HSCT2 Explorer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("summary", parents=[common], help="n, deaths, relapses, counts per covariate level")
    sub.add_parser("calibration", parents=[common], help="the demo cohort against every published target")
    km = sub.add_parser("km", parents=[common], help="Kaplan-Meier estimates and log-rank test")
    km.add_argument("--endpoint", choices=["os", "rfs"], default="os")
    km.add_argument("--group", metavar="COL", help="compare the levels of this column (or age_group)")
    km.add_argument("--times", type=_times, default=LANDMARK_MONTHS, help="landmarks in months")
    cif = sub.add_parser("cif", parents=[common], help="cumulative incidence of relapse and NRM, Gray's test")
    cif.add_argument("--group", metavar="COL")
    cif.add_argument("--times", type=_times, default=LANDMARK_MONTHS)
    cox = sub.add_parser("cox", parents=[common], help="Cox proportional hazards model")
    cox.add_argument("--endpoint", choices=["os", "rfs", "relapse", "nrm"], default="os")
    cox.add_argument("--covariates", required=True, metavar="COL[,COL...]")
    cox.add_argument("--reference", action="append", default=[], metavar="COL=LEVEL")
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace, pd.DataFrame], dict]] = {
    "summary": _summary, "calibration": _calibration, "km": _km, "cif": _cif, "cox": _cox,
}


def _print_text(result: dict, indent: int = 0) -> None:
    pad = "  " * indent
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{pad}{key}:")
            _print_text(value, indent + 1)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            print(f"{pad}{key}:")
            frame = pd.json_normalize(value, sep=".")
            print("\n".join(pad + "  " + line for line in frame.to_string(index=False).splitlines()))
        else:
            print(f"{pad}{key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cohort, notes = _load(args)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        if args.command == "calibration" and args.data is not None:
            raise CohortError("calibration compares the demo cohort with the paper; it takes no --data")
        result = jsonable(COMMANDS[args.command](args, cohort))
    except (CohortError, ValueError, KeyError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_text(result)
    if args.command == "calibration" and not result.get("all_passed", False):
        return 1
    return 0
