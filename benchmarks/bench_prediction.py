"""Patient like me and model validation: page reruns, one profile's predictions (beside R), cross-validation.

    python -m benchmarks.bench_prediction [--cv-n 10000]

* the Patient like me page, whole app through AppTest, warm: after a sidebar
  filter change (new filter / filter seen before) and after a profile change;
* predicted OS with its CI and relapse / NRM incidence for one profile
  (fit of the four models excluded): ours and, where ``Rscript`` is installed,
  R's ``survfit(fit, newdata)`` and ``predictRisk(CSC(...))`` on the same data;
* cross-validation of the three models (Cox, random survival forest, no
  covariates), 5 folds × 10 repeats, on the demo cohort and on ``--cv-n``
  generated patients (:mod:`benchmarks.large_cohort`).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.analyses.models import covariate_spec
from analysis.analyses.patient_like_me import default_profile, fit_prediction_models, predict_patient, with_derived
from analysis.analyses.validation import validate_models
from analysis.cohort.model import age_group, load_demo_cohort
from benchmarks.bench_pages import median_seconds, page_rerun_seconds
from benchmarks.large_cohort import make_large_cohort
from tests.apptest_support import open_app

TITLE = "patient like me and model validation"
COLUMNS = ("ours", "R")
PAPER = ("age_group", "lineage", "sex", "atg")
CV_N = 10_000

#: R: the same profile's survfit (with CI) and CSC + predictRisk, the models fitted once beforehand.
R_SCRIPT = r"""
suppressPackageStartupMessages({library(survival); library(riskRegression)})
d <- read.csv(commandArgs(TRUE)[1], stringsAsFactors = FALSE)
d$rfs_time <- ifelse(d$relapse == 1, d$relapse_months, d$followup_months)
d$cause <- ifelse(d$relapse == 1, 1L, ifelse(d$death == 1, 2L, 0L))
d$age_group <- factor(d$age_years >= 10)
for (v in c("lineage", "sex", "atg")) d[[v]] <- factor(d[[v]])
new <- d[1, ]
fit <- coxph(Surv(followup_months, death) ~ age_group + lineage + sex + atg, data = d, ties = "efron", x = TRUE)
csc <- CSC(Hist(rfs_time, cause) ~ age_group + lineage + sex + atg, data = d)
time_of <- function(f) median(sapply(1:7, function(i) system.time(f())[["elapsed"]]))
cat(time_of(function() summary(survfit(fit, newdata = new), times = c(12, 24, 60))),
    time_of(function() { predictRisk(csc, newdata = new, times = c(12, 24, 60), cause = 1)
                         predictRisk(csc, newdata = new, times = c(12, 24, 60), cause = 2) }), "\n")
"""


def _paper_models(cohort):
    cohort = cohort.assign(age_group=age_group(cohort["age_years"], 10))
    specs = [covariate_spec(cohort, c, standard_reference=True) for c in PAPER]
    return cohort, specs


def profile_change_seconds(repeats: int) -> float:
    """Median whole-app rerun after the profile's age changes (a new value each run, so nothing is reused)."""
    at = open_app("patient_like_me", timeout=120)
    key = "patient_like_me.profile.age_years"
    times = []
    for i in range(repeats):
        at.number_input(key=key).set_value(3.0 + 0.5 * i)
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    return statistics.median(times[1:])


def prediction_seconds(cohort, repeats: int) -> float:
    """One profile's predictions (OS and RFS with CIs, relapse and NRM, the matching patients), models fitted."""
    cohort, specs = _paper_models(cohort)
    models = fit_prediction_models(cohort, specs)
    profile = with_derived(default_profile(cohort), 10)
    return median_seconds(lambda: predict_patient(models, profile, ["lineage", "atg"], {}), repeats)


def r_prediction_seconds(cohort) -> tuple[float, float] | None:
    """R's survfit(newdata) and CSC + predictRisk for one profile (median of 7), or None without Rscript."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cohort.csv"
        cohort.to_csv(path, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT, encoding="utf-8")
        out = subprocess.run(["Rscript", str(script), str(path)], capture_output=True, text=True, check=True)
    survfit_s, csc_s = (float(v) for v in out.stdout.split())
    return survfit_s, csc_s


def cross_validation_seconds(cohort, folds: int = 5, repeats: int = 10) -> float:
    cohort, specs = _paper_models(cohort)
    start = time.perf_counter()
    validate_models(cohort, "os", specs, folds=folds, repeats=repeats, seed=1)
    return time.perf_counter() - start


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f} ms"


def rows(n: int, repeats: int, cv_n: int = CV_N) -> Iterator[tuple[str, ...]]:
    fresh, seen = page_rerun_seconds("patient_like_me", repeats)
    yield "patient_like_me page, demo cohort (N = 75): new filter", _ms(fresh), ""
    yield "patient_like_me page, demo cohort (N = 75): filter seen before", _ms(seen), ""
    yield "patient_like_me page, demo cohort (N = 75): new profile", _ms(profile_change_seconds(repeats + 1)), ""
    demo = load_demo_cohort()
    large = make_large_cohort(cv_n)
    for cohort, what in ((demo, "demo cohort (N = 75)"), (large, f"{cv_n:,} patients")):
        r = r_prediction_seconds(cohort)
        r_text = "" if r is None else f"{_ms(r[0])} + {_ms(r[1])}"
        yield (f"one profile's OS/RFS with CI + relapse/NRM (R: survfit + CSC predictRisk), {what}",
               _ms(prediction_seconds(cohort, repeats)), r_text)
    yield "cross-validation of 3 models, 5 folds × 10 repeats, demo cohort (N = 75)", \
        f"{cross_validation_seconds(demo):.1f} s", ""
    yield f"cross-validation of 3 models, 5 folds × 10 repeats, {cv_n:,} patients", \
        f"{cross_validation_seconds(large):.0f} s", ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cv-n", type=int, default=CV_N, help="patients of the large cross-validation")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"| {TITLE} | {' | '.join(COLUMNS)} |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for row in rows(0, args.repeats, args.cv_n):
        print("| " + " | ".join(row) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
