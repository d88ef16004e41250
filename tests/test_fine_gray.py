"""analysis.stats.fine_gray and analysis.stats.cox.cause_specific against R (tests/r/fine_gray.R) and by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.stats.cox.cause_specific import baseline_jumps, fit_cause_specific
from analysis.stats.cox.design import DesignError
from analysis.stats.cox.fit import fit_cox
from analysis.stats.fine_gray import FineGrayError, fit_fine_gray
from analysis.stats.profiles import design_row

FIXTURES = Path(__file__).parent / "fixtures" / "fine_gray"
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))
CAUSES = [(name, cause) for name in CASES for cause in (1, 2)]
TIGHT = {"rtol": 1e-9, "atol": 1e-12}


def _load(name: str):
    ref = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return ref, pd.read_csv(FIXTURES / f"{name}.csv")


def _options(spec: dict) -> dict:
    return {"categorical": spec["categorical"], "reference": spec["reference"] or {}, "cuts": spec["cuts"] or {}}


def _fit(name: str, cause: int):
    ref, data = _load(name)
    spec = ref["spec"]
    model = fit_fine_gray(data, spec["duration"], spec["status"], spec["covariates"], cause=cause, **_options(spec))
    return ref, ref["causes"][str(cause)]["crr"], model


def test_fixtures_cover_the_cases_the_issue_names():
    """cmprsk's own example, ties, a factor with a non-default reference, transplant data, the demo cohort."""
    assert {"crr_example", "crr_ties", "crr_bmt", "crr_cgvhd", "crr_demo"} <= set(CASES)


@pytest.mark.parametrize(("name", "cause"), CAUSES)
def test_fine_gray_against_R(name, cause):
    """R: crr(ftime, fstatus, cov1 = design, failcode = cause); summary(fit) (tests/r/fine_gray.R)."""
    ref, r, model = _fit(name, cause)
    s = model.summary
    assert list(s["term"]) == ref["terms"]
    assert model.converged == r["converged"]
    np.testing.assert_allclose(model.coef, r["coef"], **TIGHT)
    for column, key in (("hr", "shr"), ("se", "se"), ("z", "z"), ("p", "p"), ("lower", "lower"), ("upper", "upper")):
        np.testing.assert_allclose(s[column], r[key], **TIGHT, err_msg=column)
    np.testing.assert_allclose(model.var, np.array(r["var"]), **TIGHT)
    np.testing.assert_allclose(model.information, np.array(r["inf"]), **TIGHT)
    np.testing.assert_allclose(model.loglik, (r["loglik_null"], r["loglik"]), **TIGHT)
    assert model.n == ref["n"]


@pytest.mark.parametrize(("name", "cause"), CAUSES)
def test_fine_gray_prediction_against_R(name, cause):
    """R: predict.crr(fit, cov1 = profile): 1 - exp(-cumsum(exp(z'b) bfitj)) at fit$uftime."""
    ref, r, model = _fit(name, cause)
    np.testing.assert_allclose(model.baseline["time"], r["uftime"], **TIGHT)
    np.testing.assert_allclose(model.baseline["jump"], r["bfitj"], **TIGHT)
    row = design_row(model.design, ref["profile"])
    np.testing.assert_allclose(row, ref["profile_row"])
    np.testing.assert_allclose(model.predict(row)["cif"], r["predicted"], **TIGHT)


@pytest.mark.parametrize(("name", "cause"), CAUSES)
def test_cause_specific_risk_against_R(name, cause):
    """R: predictRisk(CSC(Hist(time, status) ~ ...), newdata = profile, times, cause) (product limit)."""
    ref, data = _load(name)
    spec = ref["spec"]
    csc = fit_cause_specific(data, spec["duration"], spec["status"], spec["covariates"], **_options(spec))
    r = ref["causes"][str(cause)]["csc"]
    np.testing.assert_allclose(csc.models[cause].coef, r["coef_cause"], rtol=1e-9)
    row = design_row(csc.models[cause].design, ref["profile"])
    np.testing.assert_allclose(csc.absolute_risk(cause, row, r["times"])[:, 0], r["risk"], rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ by hand


def _no_competing(seed: int = 3, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"t": np.round(rng.exponential(5, n), 0) + 1, "c": rng.integers(0, 2, n),
                         "x": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})


def test_without_competing_events_the_model_is_a_breslow_cox_model():
    """With no competing cause every patient leaves the risk set at his time: crr's likelihood is Cox's
    partial likelihood with Breslow's ties, and its jumps are Breslow's baseline hazard at z = 0."""
    df = _no_competing()
    fg = fit_fine_gray(df, "t", "c", ["x", "g"])
    x = fg.design.matrix
    order = np.argsort(df["t"].to_numpy(), kind="stable")
    t, e, xs = df["t"].to_numpy()[order], df["c"].to_numpy()[order], x[order]

    def breslow_score(beta):
        r = np.exp(xs @ beta)
        u = np.zeros(len(beta))
        for time in np.unique(t[e == 1]):
            risk = t >= time
            d = ((t == time) & (e == 1)).sum()
            u += xs[(t == time) & (e == 1)].sum(axis=0) - d * (r[risk] @ xs[risk]) / r[risk].sum()
        return u

    assert np.max(np.abs(breslow_score(fg.coef))) < 1e-4  # crr stops at its gradient tolerance
    times = np.unique(t[e == 1])
    r = np.exp(xs @ fg.coef)
    expected = [((t == u) & (e == 1)).sum() / r[t >= u].sum() for u in times]
    np.testing.assert_allclose(fg.baseline["jump"], expected, rtol=1e-12)


def test_competing_failures_stay_in_the_risk_set_with_censoring_weights():
    """Three patients, no censoring before the competing death: G = 1, so the competing patient keeps weight 1.

    Times 1 (competing), 2 (event, x = 1), 3 (event, x = 0): at t = 2 the risk set is all three, at t = 3 the
    competing patient (x = 0) and the last one. The jumps at b: 1 / (e^{0} + e^{b} + 1), 1 / (1 + 1).
    """
    df = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0], "c": [2, 1, 1, 0], "x": [0.0, 1.0, 0.0, 1.0]})
    fg = fit_fine_gray(df, "t", "c", ["x"])
    b = fg.coef[0]
    np.testing.assert_allclose(fg.baseline["jump"], [1 / (2 + 2 * np.exp(b)), 1 / (1 + 1 + np.exp(b))], rtol=1e-12)


def test_a_level_without_events_of_the_cause_is_flagged():
    df = pd.DataFrame({"t": np.arange(1.0, 13.0), "c": [1, 2, 1, 0, 1, 2, 2, 0, 2, 0, 2, 0],
                       "g": ["a"] * 6 + ["b"] * 6})
    fg = fit_fine_gray(df, "t", "c", ["g"])
    assert fg.infinite == ("g=b",)
    assert any("No finite estimate for g=b" in w for w in fg.warnings)


def test_no_events_of_the_cause_is_a_clear_error():
    df = pd.DataFrame({"t": [1.0, 2.0, 3.0], "c": [2, 0, 2], "x": [0.0, 1.0, 2.0]})
    with pytest.raises(FineGrayError, match="no events of this cause among these 3 patients"):
        fit_fine_gray(df, "t", "c", ["x"])


def test_constant_covariates_leave_nothing_to_estimate():
    df = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0], "c": [1, 2, 1, 0], "x": [1.0] * 4})
    with pytest.raises(FineGrayError, match="nothing to estimate"):
        fit_fine_gray(df, "t", "c", ["x"])


def test_missing_values_are_left_out_as_crr_does():
    df = _no_competing().assign(c=lambda d: np.where(np.arange(len(d)) % 3 == 0, 2, d["c"]))
    full = fit_fine_gray(df, "t", "c", ["x"])
    holes = df.assign(x=df["x"].where(np.arange(len(df)) != 5))
    fewer = fit_fine_gray(holes, "t", "c", ["x"])
    assert fewer.n == full.n - 1
    np.testing.assert_allclose(fit_fine_gray(holes.drop(index=5), "t", "c", ["x"]).coef, fewer.coef)


def test_prediction_needs_one_value_per_term():
    fg = fit_fine_gray(_no_competing(), "t", "c", ["x", "g"])
    with pytest.raises(FineGrayError, match="needs 2 values"):
        fg.predict(np.array([0.0]))


def test_profile_rows_name_unknown_levels_and_missing_values():
    fg = fit_fine_gray(_no_competing(), "t", "c", ["x", "g"])
    np.testing.assert_array_equal(design_row(fg.design, {"x": 0.5, "g": "b"}), [0.5, 1.0])
    np.testing.assert_array_equal(design_row(fg.design, {"x": 0.5, "g": "a"}), [0.5, 0.0])
    with pytest.raises(DesignError, match="'c' is not a level"):
        design_row(fg.design, {"x": 0.5, "g": "c"})
    with pytest.raises(DesignError, match="no value for x"):
        design_row(fg.design, {"g": "a"})


def test_cause_specific_baseline_is_efron_and_beyond_the_data_is_unknown():
    """With one event per time Efron's jump is 1 / Σ risk; the risk after the last time is NaN (R's NA)."""
    df = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0, 5.0], "c": [1, 2, 1, 0, 2], "x": [0.0, 1.0, 1.0, 0.0, 1.0]})
    csc = fit_cause_specific(df, "t", "c", ["x"])
    model = csc.models[1]
    times, jumps = baseline_jumps(model)
    r = np.exp(df["x"].to_numpy() * model.coef[0])
    np.testing.assert_allclose(times, [1.0, 3.0])
    np.testing.assert_allclose(jumps, [1 / r.sum(), 1 / r[2:].sum()], rtol=1e-12)
    risk = csc.absolute_risk(1, np.array([0.0]), [0.5, 1.0, 5.0, 6.0])[:, 0]
    assert risk[0] == 0 and risk[1] == pytest.approx(jumps[0]) and np.isnan(risk[3])
    assert csc.curve(1, np.array([1.0]))["cif"].is_monotonic_increasing
    assert fit_cox(df.assign(e=(df["c"] == 1).astype(int)), "t", "e", ["x"]).coef == pytest.approx(model.coef)
