"""``cox``: Cox proportional hazards model."""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.cli import reports
from analysis.cli.options import split_list
from analysis.cohort.model import CohortError

HELP = "Cox proportional hazards model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", choices=["os", "rfs", "relapse", "nrm"], default="os")
    parser.add_argument("--covariates", required=True, metavar="COL[,COL...]")
    parser.add_argument("--reference", action="append", default=[], metavar="COL=LEVEL")


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    reference = {}
    for item in args.reference:
        column, sep, level = item.partition("=")
        if not sep:
            raise CohortError(f"--reference expects COL=LEVEL, got {item!r}")
        reference[column] = level
    return reports.cox_report(cohort, args.endpoint, split_list([args.covariates]),
                              categorical=tuple(split_list(args.categorical)), reference=reference)
