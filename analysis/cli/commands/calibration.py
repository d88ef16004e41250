"""``calibration``: the demo cohort against every published target."""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.cli import reports
from analysis.cohort.model import CohortError

HELP = "the demo cohort against every published target"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    return None


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    if args.data is not None:
        raise CohortError("calibration compares the demo cohort with the paper; it takes no --data")
    return reports.calibration_json(cohort)
