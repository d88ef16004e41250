"""Time to build the report pack of the demo cohort (the issue asks < 10 s) and to export one figure.

    python -m benchmarks.bench_reports

"cold" starts the export browser (Chromium through kaleido) first, as the
first report after a server start does; "warm" reuses the running browser,
as every later export does. The report compares by lineage: five figures
(OS, RFS, relapse, NRM, forest) and six tables.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.cohort.model import load_demo_cohort
from analysis.figures import export
from analysis.reports.html import report_html
from analysis.reports.pack import ReportRequest, build_report
from analysis.reports.pptx import report_pptx

TITLE = "report pack, demo cohort (N = 75), by lineage"
COLUMNS = ("median", "runs")


def _report():
    return build_report(load_demo_cohort(), ReportRequest(compare="lineage"), source="Demo cohort (synthetic)",
                        synthetic=True)


def _time(run: Callable[[], object], repeats: int) -> tuple[float, int]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), repeats


def _cold(run: Callable[[], object]) -> float:
    export.stop_export_server()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def rows(n: int, repeats: int) -> Iterator[tuple[str, ...]]:
    del n  # the report is of the demo cohort
    repeats = max(3, repeats // 5)
    report = _report()
    fig = report.figures[0].figure
    yield ("PowerPoint deck, cold (browser start included)", f"{_cold(lambda: report_pptx(_report())):.2f} s", "1")
    for label, run in [
        ("figures and tables only (no rendering)", _report),
        ("PowerPoint deck, warm (build + 5 PNGs at 2×)", lambda: report_pptx(_report())),
        ("offline HTML, warm (build + 5 SVGs)", lambda: report_html(_report())),
        ("one figure as PNG (3×), warm", lambda: export.figure_image(fig, "png")),
        ("one figure as SVG, warm", lambda: export.figure_image(fig, "svg")),
    ]:
        median, runs = _time(run, repeats)
        yield (label, f"{median:.2f} s", str(runs))


if __name__ == "__main__":
    print(f"| {TITLE} | {' | '.join(COLUMNS)} |")
    for row in rows(0, 15):
        print("| " + " | ".join(row) + " |", flush=True)
