"""Speed figures reported in the README.

    python benchmarks/bench.py [--quick] [--markdown]

* warm rerun of every page after a filter change, on the demo cohort
  (AppTest, whole script run: frame + page; median of repeated runs);
* warm rerun of the analysis pages on a 100,000-patient generated cohort;
* the statistics alone at n = 100,000: Kaplan-Meier + log-rank,
  cumulative incidence + Gray's test, a 5-covariate Cox fit (median of
  repeats; the Cox figures are best of repeats, with where the time goes);
* load + map + validate of a 100,000-row CSV.

Timings are wall-clock on the machine that runs the script; AppTest adds its
own overhead, so page figures are upper bounds for a live server.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.large_cohort import make_large_cohort  # noqa: E402
from tests.apptest_support import open_app  # noqa: E402

PAGES = ("overview", "survival", "relapse", "risk_factors", "data")
ANALYSIS_PAGES = ("survival", "relapse", "risk_factors")


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def page_rerun_seconds(page: str, repeats: int, session: dict | None = None) -> tuple[float, float]:
    """Median time of a full rerun after a filter change: (new filter, filter seen before).

    New filter: the age range narrows by half a year each run, so every run
    estimates a subset not seen before. Seen before: the sex filter toggles
    between two values, so the page can reuse this session's stored results.
    The first run after opening the page is excluded (warm).
    """
    at = open_app(page, session=session, timeout=300)
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].message}")
    lo, hi = at.slider(key="flt_age").value
    fresh = []
    for i in range(1, repeats + 1):
        at.slider(key="flt_age").set_value((lo + 0.5 * (i % 8), hi))
        at.multiselect(key="flt_sex").set_value(["male"] if i >= 8 else [])
        start = time.perf_counter()
        at.run()
        fresh.append(time.perf_counter() - start)
    seen = []
    for i in range(repeats + 2):
        at.multiselect(key="flt_sex").set_value([["male"], []][i % 2])
        start = time.perf_counter()
        at.run()
        if i >= 2:
            seen.append(time.perf_counter() - start)
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].message}")
    return statistics.median(fresh), statistics.median(seen)


def large_session(cohort) -> dict:
    from ui.state import ActiveData, DataSource

    return {"_active_data": ActiveData(cohort, DataSource("generated 100k cohort", False, 0))}


def statistics_seconds(cohort, repeats: int) -> dict[str, float]:
    from analysis.cohort.model import competing_cause, endpoint, rfs_time
    from analysis.stats.competing_risks import cumulative_incidence, gray_test
    from analysis.stats.kaplan_meier import fit_kaplan_meier
    from analysis.stats.logrank import logrank_test

    os_ = endpoint(cohort, "os")
    group = cohort["lineage"].to_numpy()
    t, c = rfs_time(cohort), competing_cause(cohort)
    out = {
        "Kaplan-Meier (OS, all patients)": _median_seconds(lambda: fit_kaplan_meier(os_.time, os_.event), repeats),
        "log-rank test (OS by lineage)": _median_seconds(lambda: logrank_test(os_.time, os_.event, group), repeats),
        "cumulative incidence (relapse, NRM)": _median_seconds(lambda: cumulative_incidence(t, c), repeats),
        "Gray's test (relapse by lineage)": _median_seconds(lambda: gray_test(t, c, group), repeats),
    }
    return out


def cox_seconds(n: int, repeats: int) -> dict[str, float]:
    """The 5-covariate Cox fit and where its time goes (best of ``repeats``)."""
    from benchmarks.bench_cox import bench_cox_fit

    parts = bench_cox_fit(n, repeats)
    return {
        "Cox fit, 5 covariates (whole fit_cox)": parts["fit_cox_s"],
        "  of which: design matrix": parts["design_s"],
        "  of which: sorting and risk sets": parts["sort_and_risk_sets_s"],
        f"  of which: one Efron Newton step (× {parts['iterations']} iterations)": parts["one_efron_iteration_s"],
        "  of which: concordance": parts["concordance_s"],
        "PH check (cox.zph), after the fit": parts["cox_zph_s"],
    }


def upload_seconds(n: int) -> float | None:
    try:
        from benchmarks.bench_upload import load_map_validate_seconds
    except ImportError:
        return None
    return load_map_validate_seconds(n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--n", type=int, default=100_000, help="size of the large cohort")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 15
    print(f"# Benchmarks ({platform.python_version()}, {platform.machine()}, "
          f"{time.strftime('%Y-%m-%d')})\n")
    print("| page rerun after a filter change (whole app, AppTest) | new filter | filter seen before |")
    print("|---|---|---|")
    for page in PAGES:
        fresh, seen = page_rerun_seconds(page, repeats)
        print(f"| {page}, demo cohort (N = 75) | {1000 * fresh:.0f} ms | {1000 * seen:.0f} ms |", flush=True)
    cohort = make_large_cohort(args.n)
    session = large_session(cohort)
    for page in ANALYSIS_PAGES:
        fresh, seen = page_rerun_seconds(page, max(3, repeats // 3), session)
        print(f"| {page}, {args.n:,} patients | {fresh:.2f} s | {seen:.2f} s |", flush=True)
    print("\n| statistics alone | median |\n|---|---|")
    for name, seconds in statistics_seconds(cohort, max(3, repeats // 3)).items():
        print(f"| {name}, {args.n:,} patients | {1000 * seconds:.0f} ms |", flush=True)
    for name, seconds in cox_seconds(args.n, max(3, repeats // 3)).items():
        print(f"| {name}, {args.n:,} patients | {1000 * seconds:.0f} ms |", flush=True)
    upload = upload_seconds(args.n)
    if upload is not None:
        print(f"| load + map + validate a {args.n:,}-row CSV | {upload:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
