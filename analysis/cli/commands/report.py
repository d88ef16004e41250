"""``report``: the report pack of a view as a PowerPoint deck or an offline HTML file."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from analysis.cli.options import load_view, parse_times
from analysis.cohort.model import LANDMARK_MONTHS
from analysis.reports.html import report_html
from analysis.reports.pack import SAVED, Report, ReportRequest, build_report
from analysis.reports.pptx import report_pptx

HELP = "the report pack of a view: PowerPoint deck or offline HTML"
DEMO_SOURCE = "Demo cohort (synthetic)"


def add_view_arguments(parser: argparse.ArgumentParser) -> None:
    """The view's options, shared with ``figure``."""
    parser.add_argument("--group", metavar="COL",
                        help='compare the levels of this column (or age_group, or "saved cohorts" for the '
                             "cohorts of --filters)")
    parser.add_argument("--times", type=parse_times, default=LANDMARK_MONTHS, help="landmarks in months")
    parser.add_argument("--min-count", type=int, default=None, metavar="N",
                        help="disclosure control: show counts below N as <N (default: on with 5 for --data, "
                             "off for the demo; 0 switches it off)")
    parser.add_argument("--out", required=True, metavar="FILE", help="where to write")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["pptx", "html"], required=True)
    add_view_arguments(parser)


def view_report(args: argparse.Namespace) -> Report:
    """The report pack of the view the options describe (data, --filters, --group, --times, --min-count)."""
    full, parsed, _ = load_view(args)
    synthetic = args.data is None
    threshold = args.min_count if args.min_count is not None else (None if synthetic else 5)
    request = ReportRequest(filters=parsed.filters, saved=parsed.saved, compare=args.group,
                            landmarks=tuple(args.times), min_count=threshold or None)
    if args.group == SAVED and not parsed.saved:
        raise ValueError('--group "saved cohorts" needs saved cohorts in --filters (cmp=NAME:QUERY)')
    source = DEMO_SOURCE if synthetic else Path(args.data).name
    return build_report(full, request, source=source, synthetic=synthetic)


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    del cohort  # the report needs all patients and the filters apart: view_report loads them
    report = view_report(args)
    out = Path(args.out)
    if args.format == "pptx":
        out.write_bytes(report_pptx(report))
    else:
        out.write_text(report_html(report), encoding="utf-8")
    return {"written": str(out), "format": args.format, "figures": len(report.figures),
            "tables": len(report.tables), "not_computed": list(report.problems)}
