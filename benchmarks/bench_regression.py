"""The transplant reviewers' regressions at registry scale, beside R on the same data.

Fine-Gray with 5 covariates (target: ≤ 2 s on 100,000 patients), cause-specific
Cox, the time-dependent Cox model on (start, stop] rows, the centre-robust and
centre-stratified models, RMST. R's ``coxph`` does the Cox variants on the same
data in the same run. R's ``cmprsk::crr`` is timed on 2,000 and 8,000 patients
of the same generator, and once on the full cohort with a timeout
(``HSCT2_R_CRR_TIMEOUT`` seconds, default 600): its Fortran loops over every
pair of patients at every failure time, so its time grows with about n³.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.analyses.centres import centre_analysis
from analysis.analyses.models import specs_from_options
from analysis.analyses.post_transplant import time_dependent_cox
from analysis.analyses.survival_summaries import rmst_comparison
from analysis.cohort.grouping import compare_by
from analysis.cohort.model import competing_cause, rfs_time
from analysis.stats.cox.cause_specific import fit_cause_specific
from analysis.stats.fine_gray import fit_fine_gray
from benchmarks.bench_pages import median_seconds
from benchmarks.large_cohort import make_large_cohort

TITLE = "competing-risk, time-dependent and centre models"
COLUMNS = ("median", "R on the same data")
COVARIATES = ["age_years", "sex", "lineage", "atg", "months_hsct1_to_relapse"]
R_CRR_TIMEOUT = float(os.environ.get("HSCT2_R_CRR_TIMEOUT", "600"))

_R_CRR = """
suppressPackageStartupMessages(library(cmprsk))
d <- read.csv(commandArgs(TRUE)[1])
x <- as.matrix(d[, c("age", "male", "tall", "atg", "hsct1")])
t0 <- proc.time()[["elapsed"]]
fit <- crr(d$time, d$cause, x)
cat(proc.time()[["elapsed"]] - t0, "\\n")
"""
_R_COX = """
suppressPackageStartupMessages(library(survival))
d <- read.csv(commandArgs(TRUE)[1])
time_of <- function(expr) { t0 <- proc.time()[["elapsed"]]; force(expr); proc.time()[["elapsed"]] - t0 }
f <- Surv(os, death) ~ age + male + tall + atg + hsct1
cl <- time_of(coxph(f, data = d, cluster = centre, ties = "efron"))
st <- time_of(coxph(update(f, . ~ . + strata(centre)), data = d, ties = "efron"))
td <- time_of({
  base <- d[d$os > 0, c("id", "os", "death", "age", "male", "tall", "atg", "hsct1")]  # as the Python side
  s <- tmerge(base, base, id = id, death = event(os, death))
  s <- tmerge(s, d[!is.na(d$agvhd_months) & d$os > 0, ], id = id, agvhd = tdc(agvhd_months))
  s <- tmerge(s, d[!is.na(d$cgvhd_months) & d$os > 0, ], id = id, cgvhd = tdc(cgvhd_months))
  coxph(Surv(tstart, tstop, death) ~ agvhd + cgvhd + age + male + tall + atg + hsct1, data = s, ties = "efron")
})
cat(cl, st, td, "\\n")
"""


def regression_cohort(n: int, seed: int = 2027) -> pd.DataFrame:
    """The large benchmark cohort with acute and chronic GVHD times and 100 centres."""
    cohort = make_large_cohort(n)
    rng = np.random.default_rng(seed)
    fu = cohort["followup_months"].to_numpy()
    agvhd_t = np.round(0.4 + rng.weibull(1.5, n) * 0.8, 2)
    agvhd = (rng.random(n) < 0.45) & (agvhd_t < fu)
    cgvhd_t = np.round(3 + rng.weibull(1.3, n) * 4, 2)
    cgvhd = (rng.random(n) < 0.3) & (cgvhd_t < fu)
    return cohort.assign(agvhd=agvhd.astype(float), agvhd_grade=np.where(agvhd, rng.integers(1, 5, n), 0).astype(float),
                         agvhd_months=np.where(agvhd, agvhd_t, np.nan), cgvhd=cgvhd.astype(float),
                         cgvhd_months=np.where(cgvhd, cgvhd_t, np.nan),
                         centre=[f"C{c:03d}" for c in rng.integers(0, 100, n)])


def _r_frame(cohort: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "id": np.arange(len(cohort)), "time": rfs_time(cohort), "cause": competing_cause(cohort),
        "os": cohort["followup_months"], "death": cohort["death"], "age": cohort["age_years"],
        "male": (cohort["sex"] == "male").astype(float), "tall": (cohort["lineage"] == "T-ALL").astype(float),
        "atg": (cohort["atg"] == "yes").astype(float), "hsct1": cohort["months_hsct1_to_relapse"],
        "agvhd_months": cohort["agvhd_months"], "cgvhd_months": cohort["cgvhd_months"], "centre": cohort["centre"],
    })


def _rscript(code: str, frame: pd.DataFrame, timeout: float) -> list[float] | None:
    """Run R on ``frame``; the seconds it prints, or None on timeout (R still inside its loops)."""
    with tempfile.TemporaryDirectory() as tmp:
        data, script = Path(tmp) / "data.csv", Path(tmp) / "script.R"
        frame.to_csv(data, index=False)
        script.write_text(code)
        # Rscript runs R as a child: on timeout the whole process group is stopped, not Rscript alone
        proc = subprocess.Popen(["Rscript", str(script), str(data)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None
        return [float(v) for v in out.split()] if proc.returncode == 0 else None


def _fmt(seconds: float | None, timeout: float | None = None) -> str:
    if seconds is None:
        return f"did not finish in {timeout:.0f} s (stopped)"
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{1000 * seconds:.0f} ms"


def python_rows(cohort: pd.DataFrame, repeats: int) -> list[tuple[str, float]]:
    n = len(cohort)
    frame = cohort[COVARIATES].assign(_t=rfs_time(cohort), _c=competing_cause(cohort))
    cox_specs = specs_from_options(cohort, COVARIATES)
    comparison = compare_by(cohort, "lineage")
    return [
        (f"Fine-Gray (cmprsk::crr), 5 covariates, {n:,} patients",
         median_seconds(lambda: fit_fine_gray(frame, "_t", "_c", COVARIATES, cause=1), repeats)),
        (f"cause-specific Cox of relapse and NRM (CSC), {n:,} patients",
         median_seconds(lambda: fit_cause_specific(frame, "_t", "_c", COVARIATES), repeats)),
        (f"time-dependent Cox (aGVHD, cGVHD + 5 covariates), {n:,} patients",
         median_seconds(lambda: time_dependent_cox(cohort, "os", ["agvhd", "cgvhd"], cox_specs), repeats)),
        (f"Cox with centre-robust variance and stratified by centre (100 centres), {n:,} patients",
         median_seconds(lambda: centre_analysis(cohort, "os", cox_specs), repeats)),
        (f"RMST to 60 months by lineage with the difference, {n:,} patients",
         median_seconds(lambda: rmst_comparison(comparison, "os", 60.0), repeats)),
    ]


def rows(n: int, repeats: int) -> Iterator[tuple[str, ...]]:
    cohort = regression_cohort(n)
    k = max(3, repeats // 3)
    timed = python_rows(cohort, k)
    r_texts = ["–"] * len(timed)
    if shutil.which("Rscript"):
        frame = _r_frame(cohort)
        crr = _rscript(_R_CRR, frame, R_CRR_TIMEOUT)
        r_texts[0] = _fmt(crr[0] if crr else None, R_CRR_TIMEOUT)
        cox = _rscript(_R_COX, frame, 900)
        if cox:
            r_texts[2] = f"{_fmt(cox[2])} (tmerge + coxph)"
            r_texts[3] = f"{_fmt(cox[0] + cox[1])} (coxph cluster + strata)"
    for (name, seconds), r_text in zip(timed, r_texts, strict=True):
        yield name, _fmt(seconds), r_text
    if not shutil.which("Rscript"):
        return
    for small in (2_000, 8_000):
        sub = regression_cohort(small)
        frame = sub[COVARIATES].assign(_t=rfs_time(sub), _c=competing_cause(sub))
        ours = median_seconds(lambda frame=frame: fit_fine_gray(frame, "_t", "_c", COVARIATES, cause=1), k)
        theirs = _rscript(_R_CRR, _r_frame(sub), R_CRR_TIMEOUT)
        yield (f"Fine-Gray, 5 covariates, {small:,} patients (R's crr for scale)", _fmt(ours),
               _fmt(theirs[0] if theirs else None, R_CRR_TIMEOUT))
