"""Timing of the Cox fit on a large synthetic cohort (100,000 patients, 5 covariates).

Run: ``python -m benchmarks.bench_cox`` (prints a JSON line); the lead's
benchmarks/bench.py calls :func:`bench_cox_fit`. For scale, R's
``coxph(Surv(time, status) ~ ., ties = "efron")`` takes about 0.18 s on such data here.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from analysis.analyses.models import specs_from_options
from analysis.stats.cox._risk_sets import RiskSets as _RiskSets
from analysis.stats.cox.concordance import concordance
from analysis.stats.cox.design import build_design
from analysis.stats.cox.diagnostics import cox_zph
from analysis.stats.cox.fit import fit_cox
from analysis.stats.cox.likelihood import efron as _efron
from analysis.stats.cox.likelihood import scaling as _scaling

COVARIATES = ["age_years", "sex", "lineage", "atg", "months_hsct1_to_relapse"]


def synthetic_cohort(n: int = 100_000, seed: int = 1) -> pd.DataFrame:
    """Two numeric and three binary covariates; times rounded to 0.01 months (so with ties)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age_years": rng.uniform(0.5, 20, n).round(1),
        "sex": rng.choice(["female", "male"], n),
        "lineage": rng.choice(["B-ALL", "T-ALL"], n, p=[0.8, 0.2]),
        "atg": rng.choice(["no", "yes"], n),
        "months_hsct1_to_relapse": rng.gamma(2.0, 12.0, n).round(1),
    })
    lp = (0.05 * df["age_years"] + 0.6 * (df["lineage"] == "T-ALL") - 0.4 * (df["sex"] == "male")
          - 0.3 * (df["atg"] == "yes") - 0.01 * df["months_hsct1_to_relapse"])
    t_event = rng.exponential(20 * np.exp(-lp))
    t_cens = rng.uniform(0, 60, n)
    df["followup_months"] = np.minimum(t_event, t_cens).round(2) + 0.01
    df["death"] = (t_event <= t_cens).astype(int)
    return df


def _best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_cox_fit(n: int = 100_000, repeat: int = 5) -> dict:
    """Seconds (best of ``repeat``) for the full multivariable fit and its parts."""
    df = synthetic_cohort(n)
    specs = specs_from_options(df, COVARIATES)
    model = fit_cox(df, "followup_months", "death", specs)
    design = build_design(df, specs)
    t = df["followup_months"].to_numpy(float)
    e = df["death"].to_numpy(int)
    rs = _RiskSets.build(t, e)
    means, scale = _scaling(design.matrix)
    xt = np.ascontiguousarray(((design.matrix - means) * scale)[rs.order].T)
    beta = model.coef / scale
    return {
        "n": n,
        "covariates": len(COVARIATES),
        "events": model.events,
        "iterations": model.iterations,
        "fit_cox_s": _best_of(lambda: fit_cox(df, "followup_months", "death", specs), repeat),
        "design_s": _best_of(lambda: build_design(df, specs), repeat),
        "sort_and_risk_sets_s": _best_of(lambda: _RiskSets.build(t, e), repeat),
        "one_efron_iteration_s": _best_of(lambda: _efron(xt, beta, rs), repeat),
        "concordance_s": _best_of(lambda: concordance(model.time, model.event, model.linear_predictor), repeat),
        "cox_zph_s": _best_of(lambda: cox_zph(model), repeat),
    }


if __name__ == "__main__":
    print(json.dumps(bench_cox_fit()))
