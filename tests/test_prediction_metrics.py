"""Brier score, integrated Brier score, time-dependent AUC and Uno's C against riskRegression::Score and
scikit-survival (fixtures made by tests/r/prediction_metrics.R), and hand-computable cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sksurv.metrics import concordance_index_ipcw
from sksurv.nonparametric import CensoringDistributionEstimator
from sksurv.util import Surv

from analysis.stats.prediction_metrics import (
    CensoringSurvival,
    brier_scores,
    integrated_brier_score,
    time_dependent_auc,
    uno_concordance,
)

FIXTURES = Path(__file__).parent / "fixtures" / "prediction_metrics"
CASES = ["lung", "lung_months_ties", "veteran", "demo_os"]
TOL = {"rtol": 0, "atol": 1e-9}


def _case(name: str):
    ref = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data = pd.read_csv(FIXTURES / f"{name}.csv")
    risk = data[[f"risk_{i + 1}" for i in range(len(ref["times"]))]].to_numpy()
    return ref, data, risk


@pytest.mark.parametrize("name", CASES)
def test_brier_and_integrated_brier_against_R(name):
    """R: Score(list(model = risk), Hist(time, status) ~ 1, data, times, metrics = "brier", summary = "ibs",
    cens.model = "km", se.fit = FALSE, null.model = FALSE)$Brier$score (Brier and IBS at each time)."""
    ref, data, risk = _case(name)
    brier = brier_scores(data["time"], data["status"], risk, ref["times"])
    np.testing.assert_allclose(brier, ref["brier"], **TOL)
    ibs = [integrated_brier_score(ref["times"], brier, t) for t in ref["times"]]
    np.testing.assert_allclose(ibs, ref["ibs"], **TOL)


@pytest.mark.parametrize("name", CASES)
def test_time_dependent_auc_against_R(name):
    """R: Score(list(model = risk), Hist(time, status) ~ 1, data, times, metrics = "auc",
    cens.model = "km")$AUC$score."""
    ref, data, risk = _case(name)
    auc = [time_dependent_auc(data["time"], data["status"], risk[:, k], t) for k, t in enumerate(ref["times"])]
    np.testing.assert_allclose(auc, np.array(ref["auc"], dtype=float), **TOL)


@pytest.mark.parametrize("name", CASES)
def test_uno_concordance_equals_scikit_survival(name):
    """scikit-survival: concordance_index_ipcw(y, y, lp, tau) (censoring estimated on the same data).

    R's survival::concordance(Surv(time, status) ~ lp, timewt = "n/G2", reverse = TRUE, ymax = tau)
    weights by G(T_i-) instead of G(T_i) and differs by up to ~6e-4 (see the next test).
    """
    ref, data, _ = _case(name)
    y = Surv.from_arrays(data["status"].to_numpy() == 1, data["time"].to_numpy(dtype=float))
    expected = concordance_index_ipcw(y, y, data["lp"].to_numpy(), tau=ref["tau"])[0]
    ours = uno_concordance(data["time"], data["status"], data["lp"], tau=ref["tau"])
    assert ours == pytest.approx(expected, abs=1e-12)
    assert ours == pytest.approx(ref["uno_survival"], abs=1e-3)


@pytest.mark.parametrize("name", ["lung", "veteran", "demo_os"])
def test_uno_concordance_with_left_limit_weights_against_R(name):
    """R: survival::concordance(Surv(time, status) ~ lp, timewt = "n/G2", reverse = TRUE, ymax = tau): the same
    pairs weighted by 1 / G(T_i-)². (With whole-month times, lung_months_ties, R's tie handling differs by 5e-4.)"""
    ref, data, _ = _case(name)
    ours = uno_concordance(data["time"], data["status"], data["lp"], tau=ref["tau"], left_limit=True)
    assert ours == pytest.approx(ref["uno_survival"], abs=1e-12)


def test_censoring_survival_equals_scikit_survival_with_ties():
    rng = np.random.default_rng(7)
    time = np.round(rng.exponential(10, 400)) + 1
    event = rng.random(400) < 0.5
    g = CensoringSurvival.fit(time, event)
    theirs = CensoringDistributionEstimator().fit(Surv.from_arrays(event, time)).predict_proba(time)
    np.testing.assert_allclose(g.at(time), theirs, atol=1e-14)
    assert g.before(time.min()) == 1.0 and g.at(0.0) == 1.0


def test_uno_concordance_with_random_ties_equals_scikit_survival():
    rng = np.random.default_rng(11)
    time = np.round(rng.exponential(10, 2000)) + 1
    event = rng.random(2000) < 0.6
    risk = np.round(rng.normal(size=2000), 1)  # many tied risks
    y = Surv.from_arrays(event, time)
    for tau in (None, 12.0):
        assert uno_concordance(time, event, risk, tau) == pytest.approx(
            concordance_index_ipcw(y, y, risk, tau=tau)[0], abs=1e-12)


def test_perfect_and_useless_predictions():
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    event = np.ones(6, dtype=int)
    grid = [1.5, 3.5]
    perfect = np.column_stack([(time <= t).astype(float) for t in grid])
    np.testing.assert_array_equal(brier_scores(time, event, perfect, grid), [0.0, 0.0])
    half = np.full((6, 2), 0.5)
    np.testing.assert_array_equal(brier_scores(time, event, half, grid), [0.25, 0.25])
    assert uno_concordance(time, event, -time) == 1.0  # earlier death, higher risk
    assert uno_concordance(time, event, time) == 0.0
    assert uno_concordance(time, event, np.zeros(6)) == 0.5
    assert time_dependent_auc(time, event, np.zeros(6), 3.5) == 0.5
    assert time_dependent_auc(time, event, -time, 3.5) == 1.0


def test_integrated_brier_score_is_a_left_step_integral():
    # Brier 0.1 on [1, 2), 0.3 on [2, 4): (0.1·1 + 0.3·2) / 4 with 0 on [0, 1)
    assert integrated_brier_score([1.0, 2.0, 4.0], [0.1, 0.3, 0.9], 4.0) == pytest.approx(0.7 / 4)
    assert integrated_brier_score([1.0, 2.0], [0.1, 0.3], 0.0) == 0.0


def test_metrics_without_cases_controls_or_follow_up_are_nan():
    time = np.array([1.0, 2.0, 3.0])
    assert np.isnan(time_dependent_auc(time, [0, 0, 0], np.zeros(3), 2.0))  # no case
    assert np.isnan(time_dependent_auc(time, [1, 1, 1], np.zeros(3), 5.0))  # no control
    assert np.isnan(uno_concordance(time, [0, 0, 0], np.zeros(3)))
    # the last patient is censored at 3: G(4) = 0, the Brier score at 4 cannot be estimated
    assert np.isnan(brier_scores(time, [1, 1, 0], np.zeros((3, 1)), [4.0])[0])
