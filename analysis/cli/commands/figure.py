"""``figure``: one figure of the report pack as PNG or SVG, with its caption."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from analysis.cli.commands.report import add_view_arguments, view_report
from analysis.figures.export import figure_image
from analysis.reports.caption import with_caption

HELP = "one figure (km-os, km-rfs, cif-relapse, cif-nrm, forest) as PNG or SVG"
NAMES = ("km-os", "km-rfs", "cif-relapse", "cif-nrm", "forest")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=NAMES, metavar="NAME", help=f"one of {', '.join(NAMES)}")
    parser.add_argument("--format", choices=["png", "svg"], default="png")
    parser.add_argument("--scale", type=float, default=3, help="pixels per CSS pixel of a PNG (default 3)")
    parser.add_argument("--no-caption", action="store_true", help="leave out the caption under the figure")
    add_view_arguments(parser)


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    del cohort  # the caption needs all patients and the filters apart: view_report loads them
    report = view_report(args)
    item = report.item(args.name)
    if item.figure is None:
        raise ValueError(f"{args.name} is a table, not a figure")
    fig = item.figure if args.no_caption else with_caption(item.figure, report.caption.with_method(item.method))
    out = Path(args.out)
    out.write_bytes(figure_image(fig, args.format, scale=args.scale))
    return {"written": str(out), "format": args.format, "figure": item.title}
