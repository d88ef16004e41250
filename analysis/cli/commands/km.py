"""``km``: Kaplan-Meier estimates and log-rank test; RMST, conditional survival, landmark analysis."""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.cli import reports, transplant_reports
from analysis.cli.options import parse_times
from analysis.cohort.model import LANDMARK_MONTHS, CohortError
from analysis.cohort.post_transplant import POST_HSCT2_EVENTS

HELP = "Kaplan-Meier estimates and log-rank test (--rmst, --conditional, --landmark)"


def _months(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of months, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of months, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", choices=["os", "rfs", "grfs"], default="os")
    parser.add_argument("--group", metavar="COL", help="compare the levels of this column (or age_group)")
    parser.add_argument("--times", type=parse_times, default=LANDMARK_MONTHS, help="landmarks in months")
    extra = parser.add_mutually_exclusive_group()
    extra.add_argument("--rmst", type=_months, metavar="TAU", help="restricted mean survival time to TAU months")
    extra.add_argument("--conditional", type=_months, metavar="S",
                       help="survival given alive (event-free) at S months")
    extra.add_argument("--landmark", type=_months, metavar="L",
                       help="survival from month L by the status of --landmark-event at L")
    parser.add_argument("--landmark-event", choices=list(POST_HSCT2_EVENTS), metavar="FIELD",
                        help="with --landmark: agvhd, cgvhd or dli")


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    if args.rmst is not None:
        return transplant_reports.rmst_report(cohort, args.endpoint, args.rmst, args.group)
    if args.conditional is not None:
        return transplant_reports.conditional_report(cohort, args.endpoint, args.conditional, args.times, args.group)
    if args.landmark is not None:
        if args.landmark_event is None:
            raise CohortError("--landmark needs --landmark-event agvhd|cgvhd|dli")
        return transplant_reports.landmark_report(cohort, args.endpoint, args.landmark_event, args.landmark,
                                                  args.times)
    return reports.km_report(cohort, args.endpoint, group=args.group, times=args.times)
