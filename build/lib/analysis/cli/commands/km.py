"""``km``: Kaplan-Meier estimates and log-rank test."""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.cli import reports
from analysis.cli.options import parse_times
from analysis.cohort.model import LANDMARK_MONTHS

HELP = "Kaplan-Meier estimates and log-rank test"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", choices=["os", "rfs"], default="os")
    parser.add_argument("--group", metavar="COL", help="compare the levels of this column (or age_group)")
    parser.add_argument("--times", type=parse_times, default=LANDMARK_MONTHS, help="landmarks in months")


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    return reports.km_report(cohort, args.endpoint, group=args.group, times=args.times)
