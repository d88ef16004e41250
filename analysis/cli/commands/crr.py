"""``crr``: Fine-Gray subdistribution hazards (cmprsk::crr) beside cause-specific Cox, for relapse or NRM."""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.analyses.competing_regression import default_profile
from analysis.analyses.models import specs_from_options
from analysis.cli import transplant_reports
from analysis.cli.commands.cox import parse_pairs
from analysis.cli.options import parse_times, split_list

HELP = "Fine-Gray competing-risk regression (cmprsk::crr) beside cause-specific Cox"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cause", choices=["relapse", "nrm"], default="relapse",
                        help="relapse (death without relapse competes) or nrm (relapse competes)")
    parser.add_argument("--covariates", required=True, metavar="COL[,COL...]")
    parser.add_argument("--reference", action="append", default=[], metavar="COL=LEVEL")
    parser.add_argument("--profile", action="append", default=[], metavar="COL=VALUE",
                        help="predict the cumulative incidence for this covariate profile (repeatable); covariates "
                             "it does not name take their reference level or median")
    parser.add_argument("--times", type=parse_times, default=(12.0, 24.0, 60.0),
                        help="months for the predictions")


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    specs = specs_from_options(cohort, split_list([args.covariates]), tuple(split_list(args.categorical)),
                               parse_pairs(args.reference, "--reference"))
    given = parse_pairs(args.profile, "--profile", "COL=VALUE")
    # covariates the profile does not name take their reference level (factors) or median (numbers)
    profile: dict[str, object] = default_profile(cohort, specs) if given else {}
    for column, value in given.items():
        spec = next((s for s in specs if s.column == column), None)
        profile[column] = value if spec is None or spec.categorical else float(value)
    out = transplant_reports.crr_report(cohort, args.cause, specs, profile or None, args.times)
    warnings = transplant_reports.immortal_time_warnings([s.column for s in specs])
    return {**out, "immortal_time_warning": warnings} if warnings else out
