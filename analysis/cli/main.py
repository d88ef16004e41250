"""Command line: the dashboard's numbers without the UI (``python -m analysis`` or ``hsct2``).

    python -m analysis summary [--data FILE] [--filters QUERY] [--json]
    python -m analysis calibration [--json]
    python -m analysis km --endpoint os|rfs [--group COL] [--times 12,24,60] ...
    python -m analysis cif [--group COL] [--times 12,24,60] ...
    python -m analysis cox --endpoint os|rfs|relapse|nrm --covariates COL[,COL...] ...
    python -m analysis report --format pptx|html --out FILE [--group COL] [--filters QUERY] [--data FILE]
    python -m analysis figure km-os|km-rfs|cif-relapse|cif-nrm|forest --format png|svg --out FILE ...

``--filters`` takes the same query string as the dashboard's share link
(``"lineage=T-ALL&age=10-18"``, or the whole link). Times are in months.
Each command is a module of :mod:`analysis.cli.commands`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from types import ModuleType

import pandas as pd

from analysis._version import __version__
from analysis.cli.commands import COMMANDS
from analysis.cli.options import common_options, load_cohort
from analysis.cohort.model import CohortError
from analysis.figures.export import ExportError
from analysis.text import jsonable


def _command(name: str) -> ModuleType:
    return importlib.import_module(f"analysis.cli.commands.{name}")


def _parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"HSCT2 Explorer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        command = _command(name)
        command.add_arguments(sub.add_parser(name, parents=[common], help=command.HELP))
    return parser


def _print_text(result: dict, indent: int = 0) -> None:
    pad = "  " * indent
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{pad}{key}:")
            _print_text(value, indent + 1)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            print(f"{pad}{key}:")
            frame = pd.json_normalize(value, sep=".")
            print("\n".join(pad + "  " + line for line in frame.to_string(index=False).splitlines()))
        else:
            print(f"{pad}{key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cohort, notes = load_cohort(args)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        result = jsonable(_command(args.command).run(args, cohort))
    except (CohortError, ValueError, KeyError, OSError, ExportError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_text(result)
    if args.command == "calibration" and not result.get("all_passed", False):
        return 1
    return 0
