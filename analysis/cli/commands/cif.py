"""``cif``: cumulative incidence of relapse and NRM, Gray's test."""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.cli import reports
from analysis.cli.options import parse_times
from analysis.cohort.model import LANDMARK_MONTHS

HELP = "cumulative incidence of relapse and NRM, Gray's test"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", metavar="COL")
    parser.add_argument("--times", type=parse_times, default=LANDMARK_MONTHS)


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    return reports.cif_report(cohort, group=args.group, times=args.times)
