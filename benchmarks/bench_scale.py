"""Registry scale: every figure of the one-million-patient issue next to its target, R and lifelines beside.

The same synthetic data go to every tool (written to a CSV that R reads, then
timed in-process with ``system.time``: R's start-up is not counted); medians
of repeats. Page reruns go through Streamlit's AppTest (frame + page, a new
filter each run), an upper bound for a live server.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.analyses.models import specs_from_options
from analysis.analyses.survival import compare_survival
from analysis.cohort.filters import with_age_group, with_coded_text
from analysis.cohort.grouping import compare_by
from analysis.cohort.model import competing_cause, endpoint, rfs_time
from analysis.figures.curves import curve_figure, kaplan_meier_curve
from analysis.ingest.loading import read_data_file
from analysis.ingest.proposal import propose_mapping
from analysis.ingest.validation import check_upload
from analysis.stats.competing_risks import cumulative_incidence, gray_test
from analysis.stats.cox.fit import fit_cox
from analysis.stats.kaplan_meier import fit_kaplan_meier
from analysis.stats.logrank import logrank_test
from benchmarks.bench_cox import COVARIATES, synthetic_cohort
from benchmarks.bench_pages import ANALYSIS_PAGES, large_session, median_seconds, page_rerun_seconds
from benchmarks.bench_upload import load_map_validate, registry_export, registry_parquet
from benchmarks.large_cohort import make_large_cohort
from tests.apptest_support import open_app
from ui.upload import CHECKED, RAW

try:
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test as lifelines_logrank
except ImportError:  # a development dependency: without it the lifelines column says "—"
    CoxPHFitter = KaplanMeierFitter = lifelines_logrank = None

TITLE = "registry scale (issue: one million patients)"
COLUMNS = ("this project", "target", "R", "lifelines")
R_SCRIPT = Path(__file__).with_name("r_timings.R")
MILLION = 1_000_000
PAGE_TARGETS = {"overview": 1.5, "survival": 1.5, "relapse": 1.5, "risk_factors": 1.5}
#: The pages' other tabs (only the open tab is computed): each is a rerun of its own.
OTHER_SECTIONS = {"relapse": ("Patient states", "Relapse timing"), "risk_factors": ("Model checks", "Subgroups")}


def r_seconds(task: str, data: pd.DataFrame, repeats: int) -> float | None:
    """Median seconds of R doing ``task`` (see r_timings.R) on ``data``; None without Rscript or on failure."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        data.to_csv(path, index=False)
        done = subprocess.run([rscript, str(R_SCRIPT), task, str(path), str(repeats)], capture_output=True,
                              text=True, timeout=1800, check=False)
    try:
        return float(done.stdout.split()[-1])
    except (IndexError, ValueError):
        return None


def lifelines_seconds(fn: Callable[[], object], repeats: int) -> float | None:
    return None if CoxPHFitter is None else median_seconds(fn, repeats)


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{1000 * seconds:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _kaplan_meier_rows(cohort: pd.DataFrame, repeats: int) -> Iterator[tuple[str, ...]]:
    os_ = endpoint(cohort, "os")
    group = cohort["lineage"].astype(str).to_numpy()
    frame = pd.DataFrame({"time": os_.time, "event": os_.event, "group": group})
    n = len(cohort)
    ours = median_seconds(lambda: fit_kaplan_meier(os_.time, os_.event), repeats)
    life = lifelines_seconds(lambda: KaplanMeierFitter().fit(os_.time, os_.event), repeats)
    yield f"Kaplan-Meier, {n:,} patients", _s(ours), "", _s(r_seconds("km", frame, repeats)), _s(life)
    b = group == "T-ALL"
    ours = median_seconds(lambda: logrank_test(os_.time, os_.event, group), repeats)
    life = lifelines_seconds(lambda: lifelines_logrank(os_.time[b], os_.time[~b], os_.event[b], os_.event[~b]),
                             repeats)
    yield f"log-rank test, 2 groups, {n:,} patients", _s(ours), "", _s(r_seconds("logrank", frame, repeats)), _s(life)


def _cox_row(n: int, repeats: int, target: str) -> tuple[str, ...]:
    df = synthetic_cohort(n)
    specs = specs_from_options(df, COVARIATES)
    ours = median_seconds(lambda: fit_cox(df, "followup_months", "death", specs).concordance, repeats)
    life = None
    if n <= 100_000 and CoxPHFitter is not None:  # lifelines needs tens of seconds at a million
        dummies = pd.get_dummies(df, columns=["sex", "lineage", "atg"], drop_first=True, dtype=float)
        life = lifelines_seconds(lambda: CoxPHFitter().fit(dummies, "followup_months", "death").concordance_index_,
                                 max(1, repeats // 3))
    return (f"Cox, {len(COVARIATES)} covariates, Efron, with concordance, {n:,} patients", _s(ours), target,
            _s(r_seconds("cox", df, repeats)), _s(life))


def _competing_risks_row(cohort: pd.DataFrame, repeats: int, target: str) -> tuple[str, ...]:
    t, c = rfs_time(cohort), competing_cause(cohort)
    group = cohort["donor"].astype(str).to_numpy()  # four groups

    def ours() -> None:  # as the Relapse page: groups split by position, one fit per group, a test per cause
        codes, names = pd.factorize(group)
        for i in range(len(names)):
            rows = np.flatnonzero(codes == i)
            cumulative_incidence(t[rows], c[rows])
        for cause in (1, 2):
            gray_test(t, c, group, cause_of_interest=cause)

    frame = pd.DataFrame({"time": t, "cause": c, "group": group})
    return (f"CIF + Gray's test, 4 groups, both causes, {len(cohort):,} patients", _s(median_seconds(ours, repeats)),
            target, _s(r_seconds("cuminc", frame, repeats)), "—")


def _figure_row(cohort: pd.DataFrame) -> tuple[str, ...]:
    """What the browser gets for a 4-curve Kaplan-Meier figure: points per curve and JSON size."""
    result = compare_survival(compare_by(with_coded_text(with_age_group(cohort, 10.0)), "donor"), "os")
    fig = curve_figure([kaplan_meier_curve(km) for km in result.curves], y_title="OS")
    points = max(len(trace.x) for trace in fig.data if trace.x is not None)
    kb = len(fig.to_json()) / 1000
    steps = max(len(km.table) for km in result.curves)
    return (f"survival figure, 4 curves, {len(cohort):,} patients: points per trace (of {steps:,} steps)",
            f"{points:,} ({kb:,.0f} kB JSON)", "a few thousand", "", "")


def _upload_rows(repeats: int) -> Iterator[tuple[str, ...]]:
    """A 1,000,000-row registry export (1 % broken rows) read, mapped and validated as the Data page does."""
    for what, content, target in (("Parquet", registry_parquet(MILLION), "≤ 3 s"),
                                  ("CSV (semicolons, decimal commas)", registry_export(MILLION), "≤ 8 s")):
        seconds = median_seconds(lambda content=content: load_map_validate(content), repeats)
        yield (f"upload: load + map + validate a {MILLION:,}-row {what} ({len(content) / 1e6:.0f} MB)",
               _s(seconds), target, "", "")


def peak_memory_mb(path: str) -> float:
    """Peak resident memory of a fresh process that uploads the CSV at ``path`` and reruns every page on it."""
    content = Path(path).read_bytes()  # the bytes an upload hands to the app (the uploader keeps them)
    raw = read_data_file(content, "registry.csv")
    checked = check_upload(raw.frame, replace(propose_mapping(raw.frame), time_unit="days"))
    # The Data page keeps the file's table and the checked upload in the session beside the active cohort.
    session = {**large_session(checked.cohort(exclude_flagged=True)), RAW: {"table": raw}, CHECKED: checked}
    at = open_app("overview", session=session, timeout=600)  # one user's session
    lo, hi = at.slider(key="flt_age").value
    for page in ("overview", *ANALYSIS_PAGES):
        at.switch_page(f"pages/{page}.py")
        at.run()
        at.slider(key="flt_age").set_value((lo + 0.5, hi))  # and a new filter on every page
        at.run()
        lo += 0.5
    return _peak_rss_mb()


def _peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (of this program only; ru_maxrss would include the peak of
    the benchmark process that started it, which Linux carries across exec)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_row() -> tuple[str, ...]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.csv"
        path.write_bytes(registry_export(MILLION))
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_scale", "memory", str(path)],
                              capture_output=True, text=True, timeout=3600, check=False,
                              cwd=Path(__file__).resolve().parent.parent)
    try:
        mb = float(done.stdout.split()[-1])
    except (IndexError, ValueError):
        return "peak memory of the app process with that cohort", "failed", "≤ 2 GB", "", ""
    return ("peak memory of the app process: that CSV uploaded, every page rerun on it", f"{mb / 1024:.2f} GB",
            "≤ 2 GB", "", "")


def rows(n: int, repeats: int) -> Iterator[tuple[str, ...]]:
    k = max(3, repeats // 5)
    big = make_large_cohort(MILLION)
    yield from _kaplan_meier_rows(big, k)
    yield _cox_row(100_000, k, "")
    yield _cox_row(MILLION, k, "≤ 0.6 s")
    yield _competing_risks_row(make_large_cohort(100_000), k, "faster than R")
    yield _competing_risks_row(big, k, "≤ 0.5 s")
    yield _figure_row(big)
    yield from _upload_rows(k)
    yield _memory_row()
    session = large_session(big)
    for page in ("overview", *ANALYSIS_PAGES):
        for section in (None, *OTHER_SECTIONS.get(page, ())):
            opened = session if section is None else {**session, f"{page}.section": section}
            fresh, _seen = page_rerun_seconds(page, 3, opened)
            where = f"{page} page" if section is None else f"{page} page, {section} tab"
            yield (f"{where}, new filter, {MILLION:,} patients (AppTest)", _s(fresh), f"≤ {PAGE_TARGETS[page]} s",
                   "", "")


if __name__ == "__main__":
    if sys.argv[1:2] == ["memory"]:
        print(f"{peak_memory_mb(sys.argv[2]):.0f}")
