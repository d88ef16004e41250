"""``cif``: cumulative incidence of relapse and NRM (or of GVHD), Gray's test."""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.cli import reports, transplant_reports
from analysis.cli.options import parse_times
from analysis.cohort.model import LANDMARK_MONTHS

HELP = "cumulative incidence of relapse and NRM (or of acute / chronic GVHD), Gray's test"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", choices=["relapse", "agvhd", "cgvhd"], default="relapse",
                        help="relapse: relapse and NRM; agvhd: grade II–IV and III–IV; cgvhd (death without "
                             "GVHD competing)")
    parser.add_argument("--group", metavar="COL")
    parser.add_argument("--times", type=parse_times, default=LANDMARK_MONTHS)


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    if args.endpoint != "relapse":
        return transplant_reports.gvhd_report(cohort, args.endpoint, args.group, args.times)
    return reports.cif_report(cohort, group=args.group, times=args.times)
