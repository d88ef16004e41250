"""``cox``: Cox proportional hazards model; time-dependent events, centre-robust or centre-stratified."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import pandas as pd

from analysis.analyses.models import specs_from_options
from analysis.cli import reports, transplant_reports
from analysis.cli.options import split_list
from analysis.cohort.model import CohortError

HELP = "Cox proportional hazards model (time-dependent events, --cluster or --strata centre)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", choices=["os", "rfs", "relapse", "nrm", "grfs"], default="os")
    parser.add_argument("--covariates", default="", metavar="COL[,COL...]")
    parser.add_argument("--reference", action="append", default=[], metavar="COL=LEVEL")
    parser.add_argument("--time-varying", action="append", default=[], metavar="FIELD",
                        help="an event after HSCT2 (agvhd, cgvhd, dli) as a covariate switching on at its time")
    parser.add_argument("--baseline-ever", action="store_true",
                        help="with --time-varying: also the naive 'ever had it' model (immortal-time biased)")
    centre = parser.add_mutually_exclusive_group()
    centre.add_argument("--cluster", metavar="centre", help="cluster-robust (sandwich) variance by centre")
    centre.add_argument("--strata", metavar="centre", help="a baseline hazard per centre")
    parser.add_argument("--intervals", choices=["auto", "profile", "wald"], default="auto",
                        help="95 %% CIs and p: profile likelihood and likelihood-ratio tests, or Wald (auto: profile "
                             "below 10 events per coefficient)")


def parse_pairs(items: Sequence[str], flag: str, form: str = "COL=LEVEL") -> dict[str, str]:
    """``["sex=male", "donor=MSD"]`` -> ``{"sex": "male", "donor": "MSD"}``."""
    out = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep:
            raise CohortError(f"{flag} expects {form}, got {item!r}")
        out[column.strip()] = value.strip()
    return out


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    covariates = split_list([args.covariates])
    events = split_list(args.time_varying)
    reference = parse_pairs(args.reference, "--reference")
    if not covariates and not events:
        raise CohortError("give --covariates (and/or --time-varying FIELD)")
    categorical = tuple(split_list(args.categorical))
    if events:
        if args.cluster or args.strata:
            raise CohortError("--time-varying cannot be combined with --cluster or --strata here")
        specs = specs_from_options(cohort, covariates, categorical, reference) if covariates else ()
        return transplant_reports.time_varying_report(cohort, args.endpoint, events, specs,
                                                      baseline=args.baseline_ever)
    if args.cluster or args.strata:
        transplant_reports.check_centre_column(args.cluster or args.strata, cohort)
        specs = specs_from_options(cohort, covariates, categorical, reference)
        return transplant_reports.centre_report(cohort, args.endpoint, specs,
                                                how="cluster" if args.cluster else "strata")
    out = reports.cox_report(cohort, args.endpoint, covariates, categorical=categorical, reference=reference,
                             intervals=args.intervals)
    warnings = transplant_reports.immortal_time_warnings(covariates)
    return {**out, "immortal_time_warning": warnings} if warnings else out
