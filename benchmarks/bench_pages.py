"""Whole-app reruns after a filter change, through Streamlit's AppTest (frame + page, warm).

"New filter" estimates a subset not seen before; "filter seen before" may reuse
the results this session already computed. AppTest adds its own overhead, so
these are upper bounds for a live server.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator

from benchmarks.large_cohort import make_large_cohort
from tests.apptest_support import open_app

TITLE = "page rerun after a filter change (whole app, AppTest)"
COLUMNS = ("new filter", "filter seen before")


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


PAGES = ("overview", "survival", "relapse", "risk_factors", "data")
ANALYSIS_PAGES = ("survival", "relapse", "risk_factors")


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




def rows(n: int, repeats: int) -> Iterator[tuple[str, ...]]:
    for page in PAGES:
        fresh, seen = page_rerun_seconds(page, repeats)
        yield f"{page}, demo cohort (N = 75)", f"{1000 * fresh:.0f} ms", f"{1000 * seen:.0f} ms"
    session = large_session(make_large_cohort(n))
    for page in ANALYSIS_PAGES:
        fresh, seen = page_rerun_seconds(page, max(3, repeats // 3), session)
        yield f"{page}, {n:,} patients", f"{fresh:.2f} s", f"{seen:.2f} s"
