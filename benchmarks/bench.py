"""Speed figures reported in the README: every section, with its targets where an issue set one.

    python benchmarks/bench.py [--quick] [--n 100000] [--only SECTION ...]

Each section is a module of ``benchmarks/`` with a ``TITLE``, its ``COLUMNS``
and ``rows(n, repeats)``; adding a benchmark is one module and one line in
:data:`SECTIONS`. Timings are wall-clock on the machine that runs the script
(medians of repeats); where R and lifelines are installed, their sections time
them on the same data in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The sections, in the order the README shows them.
SECTIONS = ("bench_pages", "bench_stats", "bench_scale", "bench_browser", "bench_regression", "bench_prediction",
            "bench_reports", "bench_hostile", "bench_load")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--n", type=int, default=100_000, help="size of the large cohort")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 15
    print(f"# Benchmarks ({platform.python_version()}, {platform.machine()}, "
          f"{time.strftime('%Y-%m-%d')})")
    for name in args.only or SECTIONS:
        section = importlib.import_module(f"benchmarks.{name}")
        print(f"\n| {section.TITLE} | {' | '.join(section.COLUMNS)} |")
        print("|---" * (len(section.COLUMNS) + 1) + "|")
        for row in section.rows(args.n, repeats):
            print("| " + " | ".join(row) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
