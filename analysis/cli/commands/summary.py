"""``summary``: n, deaths, relapses, counts per covariate level."""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.cli import reports

HELP = "n, deaths, relapses, counts per covariate level"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    return None


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    return reports.summary_report(cohort)
