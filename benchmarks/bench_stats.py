"""The statistics alone at n = 100,000: estimators, the Cox fit and where its time goes, a figure."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from benchmarks.bench_pages import median_seconds
from benchmarks.large_cohort import make_large_cohort

TITLE = "statistics alone"
COLUMNS = ("median",)


def statistics_seconds(cohort, repeats: int) -> dict[str, float]:
    from analysis.cohort.model import competing_cause, endpoint, rfs_time
    from analysis.stats.competing_risks import cumulative_incidence, gray_test
    from analysis.stats.kaplan_meier import fit_kaplan_meier
    from analysis.stats.logrank import logrank_test

    os_ = endpoint(cohort, "os")
    group = cohort["lineage"].to_numpy()
    t, c = rfs_time(cohort), competing_cause(cohort)
    out = {
        "Kaplan-Meier (OS, all patients)": median_seconds(lambda: fit_kaplan_meier(os_.time, os_.event), repeats),
        "log-rank test (OS by lineage)": median_seconds(lambda: logrank_test(os_.time, os_.event, group), repeats),
        "cumulative incidence (relapse, NRM)": median_seconds(lambda: cumulative_incidence(t, c), repeats),
        "Gray's test (relapse by lineage)": median_seconds(lambda: gray_test(t, c, group), repeats),
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




def figure_seconds(n: int, repeats: int) -> float:
    """Building a four-curve Kaplan-Meier figure with its risk table for ``n`` patients."""
    from analysis.figures.curves import curve_figure, kaplan_meier_curve
    from analysis.stats.kaplan_meier import fit_kaplan_meier

    rng = np.random.default_rng(5)
    curves = [kaplan_meier_curve(fit_kaplan_meier(np.round(rng.exponential(40, n // 4), 2),
                                                  rng.integers(0, 2, n // 4), label=str(i))) for i in range(4)]
    return median_seconds(lambda: curve_figure(curves, y_title="OS"), repeats)


def rows(n: int, repeats: int) -> Iterator[tuple[str, ...]]:
    cohort = make_large_cohort(n)
    k = max(3, repeats // 3)
    for name, seconds in statistics_seconds(cohort, k).items():
        yield f"{name}, {n:,} patients", f"{1000 * seconds:.0f} ms"
    for name, seconds in cox_seconds(n, k).items():
        yield f"{name}, {n:,} patients", f"{1000 * seconds:.0f} ms"
    yield f"Kaplan-Meier figure, 4 curves with risk table, {n:,} patients", f"{1000 * figure_seconds(n, k):.0f} ms"
    from benchmarks.bench_upload import load_map_validate_seconds

    yield f"load + map + validate a {n:,}-row CSV", f"{load_map_validate_seconds(n):.2f} s"
