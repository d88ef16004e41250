"""Restricted mean survival time and conditional survival against R (tests/r/rmst.R) and by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.stats._survival_data import EmptyGroupError
from analysis.stats.conditional import conditional_kaplan_meier
from analysis.stats.kaplan_meier import fit_kaplan_meier
from analysis.stats.rmst import RMSTError, restricted_mean, rmst_difference

FIXTURES = Path(__file__).parent / "fixtures" / "rmst"
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))
TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def _load(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")), pd.read_csv(FIXTURES / f"{name}.csv")


def _curves(data: pd.DataFrame):
    return {g: fit_kaplan_meier(rows["time"], rows["status"], label=g) for g, rows in data.groupby("group")}


def test_fixtures_cover_a_horizon_past_the_end_and_at_an_event_time():
    assert {"lung", "aml", "demo_os", "demo_rfs"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_restricted_mean_against_R(name):
    """R: summary(survfit(Surv(time, status) ~ group), rmean = tau)$table[, c("rmean", "se(rmean)")]."""
    ref, data = _load(name)
    curves = _curves(data)
    for r in ref["rmst"]:
        means = [restricted_mean(curves[g], r["tau"]) for g in r["groups"]]
        np.testing.assert_allclose([m.estimate for m in means], r["rmst"], **TIGHT)
        np.testing.assert_allclose([m.se for m in means], r["se"], **TIGHT)
        np.testing.assert_allclose([m.lower for m in means], r["lower"], **TIGHT)
        np.testing.assert_allclose([m.upper for m in means], r["upper"], **TIGHT)
        diff = rmst_difference(*means)
        ref_diff = r["difference"]
        for key in ("estimate", "se", "lower", "upper"):
            np.testing.assert_allclose(getattr(diff, key), ref_diff[key], **TIGHT)
        if ref_diff["z"] is None:
            assert np.isnan(diff.z) and np.isnan(diff.p)
        else:
            np.testing.assert_allclose([diff.z, diff.p], [ref_diff["z"], ref_diff["p"]], **TIGHT)


@pytest.mark.parametrize("name", CASES)
def test_conditional_survival_against_R(name):
    """R: summary(survfit(Surv(time, status) ~ 1, subset = time > s, conf.type = "log-log"), times = ...)."""
    ref, data = _load(name)
    for r in ref["conditional"]:
        cond = conditional_kaplan_meier(data["time"], data["status"], r["given"])
        assert cond.curve.n == r["n"] and cond.n_total == len(data)
        at = cond.survival_at(r["times"])
        np.testing.assert_allclose(at["survival"], r["surv"], **TIGHT)
        np.testing.assert_allclose(at["lower"], r["lower"], **TIGHT)
        np.testing.assert_allclose(at["upper"], r["upper"], **TIGHT)
        np.testing.assert_array_equal(at["n_at_risk"], r["n_risk"])


def test_rmst_of_a_curve_without_events_is_the_horizon():
    km = fit_kaplan_meier([5.0, 8.0, 12.0], [0, 0, 0])
    m = restricted_mean(km, 10.0)
    assert (m.estimate, m.se) == (10.0, 0.0)


def test_rmst_by_hand():
    """Deaths at 2 and 4 among 4 patients (censored at 3 and 6): S = 1, 0.75 from 2, 0.375 from 4.

    Area to 5: 2·1 + 2·0.75 + 1·0.375 = 3.875. Variance: at t = 2 (n 4, d 1) the area after is
    1.5 + 0.375 = 1.875, at t = 4 (n 2, d 1) it is 0.375: 1.875²/12 + 0.375²/2.
    """
    km = fit_kaplan_meier([2.0, 3.0, 4.0, 6.0], [1, 0, 1, 0])
    m = restricted_mean(km, 5.0)
    assert m.estimate == pytest.approx(3.875)
    assert m.se == pytest.approx((1.875**2 / 12 + 0.375**2 / 2) ** 0.5)


def test_rmst_needs_a_positive_horizon_and_one_horizon_for_a_difference():
    km = fit_kaplan_meier([2.0, 3.0], [1, 0])
    with pytest.raises(RMSTError, match="positive number of months"):
        restricted_mean(km, 0.0)
    with pytest.raises(RMSTError, match="share one horizon"):
        rmst_difference(restricted_mean(km, 2.0), restricted_mean(km, 3.0))


def test_conditional_survival_is_the_ratio_of_survivals():
    rng = np.random.default_rng(4)
    t = np.round(rng.exponential(20, 80), 1)
    e = rng.integers(0, 2, 80)
    full = fit_kaplan_meier(t, e)
    cond = conditional_kaplan_meier(t, e, 10.0)
    times = np.array([15.0, 20.0, 30.0])
    expected = full.survival_at(times)["survival"].to_numpy() / full.survival_at([10.0])["survival"].iloc[0]
    np.testing.assert_allclose(cond.survival_at(times)["survival"], expected, rtol=1e-12)


def test_conditional_survival_after_everybody_left_is_a_clear_error():
    with pytest.raises(EmptyGroupError, match="no patient is still followed after 10 months"):
        conditional_kaplan_meier([2.0, 5.0], [1, 0], 10.0)
    with pytest.raises(ValueError, match="0 or more months"):
        conditional_kaplan_meier([2.0, 5.0], [1, 0], -1.0)
