"""analysis.stats.cox.fit against R's coxph (fixtures made by tests/r/cox.R) and hand-computable cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.analyses.models import specs_from_options
from analysis.stats.cox._risk_sets import RiskSets as _RiskSets
from analysis.stats.cox.concordance import concordance, concordance_counts
from analysis.stats.cox.design import CovariateSpec
from analysis.stats.cox.firth import firth_terms as _firth_terms
from analysis.stats.cox.fit import CoxFitError, aeq_times, fit_cox
from analysis.stats.cox.likelihood import efron as _efron

FIXTURES = Path(__file__).parent / "fixtures" / "cox"
COXPH_CASES = sorted(p.stem for p in FIXTURES.glob("*.json")
                     if not p.stem.startswith("firth") and not p.stem.endswith("subgroups"))
FIRTH_CASES = sorted(p.stem for p in FIXTURES.glob("firth_*.json"))


def _load(name: str):
    # R's Inf is written as the string "Infinity"; Python's json reads the bare token.
    text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    ref = json.loads(text.replace('"Infinity"', "Infinity").replace('"-Infinity"', "-Infinity"))
    data = pd.read_csv(FIXTURES / f"{name}.csv")
    spec = ref["spec"]
    specs = specs_from_options(data, spec["covariates"], spec["categorical"], spec["reference"] or {},
                               spec.get("cuts") or {})
    return ref, data, spec, specs


def _fit(name: str, **kwargs):
    ref, data, spec, specs = _load(name)
    return ref, fit_cox(data, spec["duration"], spec["event"], specs, **kwargs)


def test_fixtures_exist():
    assert len(COXPH_CASES) >= 8 and len(FIRTH_CASES) >= 2


@pytest.mark.parametrize("name", COXPH_CASES)
def test_fit_cox_against_R(name):
    """R: coxph(Surv(time, status) ~ ..., ties = "efron"); summary(fit) (see tests/r/cox.R)."""
    ref, model = _fit(name)
    s = model.summary.set_index("term")
    assert list(s.index) == ref["terms"]
    rel = {"rtol": 1e-4, "atol": 0}
    np.testing.assert_allclose(s["coef"], ref["coef"], **rel)
    np.testing.assert_allclose(s["hr"], ref["hr"], **rel)
    np.testing.assert_allclose(s["se"], ref["se"], **rel)
    np.testing.assert_allclose(s["lower"], ref["lower"], **rel)
    np.testing.assert_allclose(s["upper"], ref["upper"], **rel)
    np.testing.assert_allclose(s["z"], ref["z"], **rel)
    np.testing.assert_allclose(s["p"], ref["p"], rtol=0, atol=1e-4)
    assert model.n == ref["n"] and model.events == ref["events"]
    assert model.iterations == ref["iter"]


@pytest.mark.parametrize("name", COXPH_CASES)
def test_model_tests_and_concordance_against_R(name):
    """R: fit$loglik, summary(fit)$logtest, $sctest, fit$concordance["concordance"]."""
    ref, model = _fit(name)
    np.testing.assert_allclose(model.loglik, ref["loglik"], rtol=1e-8)
    assert model.lr_test.statistic == pytest.approx(ref["lr_test"]["statistic"], rel=1e-4)
    assert model.lr_test.df == ref["lr_test"]["df"]
    assert model.lr_test.p == pytest.approx(ref["lr_test"]["p"], abs=1e-4)
    assert model.score_test.statistic == pytest.approx(ref["score_test"]["statistic"], rel=1e-4)
    assert model.concordance == pytest.approx(ref["concordance"], abs=1e-4)


@pytest.mark.parametrize("name", COXPH_CASES)
def test_concordance_counts_against_R(name):
    """R: fit$concordance[c("concordant", "discordant", "tied.x", "tied.y")]."""
    ref, model = _fit(name)
    counts = concordance_counts(model.time, model.event, model.linear_predictor)
    for key in ("concordant", "discordant", "tied_x", "tied_y"):
        assert counts[key] == ref["concordance_counts"][key], key


def _brute_force_counts(time, event, risk):
    out = {"concordant": 0, "discordant": 0, "tied_x": 0}
    for i in range(len(time)):
        if not event[i]:
            continue
        for j in range(len(time)):
            if time[j] > time[i] or (time[j] == time[i] and not event[j]):
                key = "concordant" if risk[i] > risk[j] else "discordant" if risk[i] < risk[j] else "tied_x"
                out[key] += 1
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.booleans(), st.integers(0, 4)), min_size=1, max_size=30))
def test_concordance_counts_match_pairwise_definition(rows):
    time = np.array([r[0] for r in rows], dtype=float)
    event = np.array([r[1] for r in rows])
    risk = np.array([r[2] for r in rows], dtype=float)
    fast = concordance_counts(time, event, risk)
    slow = _brute_force_counts(time, event, risk)
    for key, value in slow.items():
        assert fast[key] == value, key


def test_concordance_without_comparable_pairs_is_nan():
    assert np.isnan(concordance(np.array([1.0, 2.0]), np.array([0, 0]), np.array([0.1, 0.2])))


def test_null_loglik_by_hand_with_efron_ties():
    """Times 1, 2, 2, 3 (3 censored): risk sets 4, then 3 with two tied deaths.

    Efron: log L(0) = -[log 4 + log 3 + log(3 - 2/2)] = -log 24.
    """
    time = np.array([1.0, 2.0, 2.0, 3.0])
    event = np.array([1, 1, 1, 0])
    x = np.array([[0.0], [1.0], [0.0], [1.0]])
    rs = _RiskSets.build(time, event)
    loglik, score, _info = _efron(np.ascontiguousarray(x[rs.order].T), np.zeros(1), rs)
    assert loglik == pytest.approx(-np.log(24))
    # score: x summed over the deaths (1) minus the risk-set means 2/4, 2/3 and (2 - 1/2)/(3 - 1)
    assert score[0] == pytest.approx(1 - (2 / 4 + 2 / 3 + 1.5 / 2))


def test_firth_penalized_score_is_gradient_of_penalized_loglik():
    """The analytic penalty score equals a central finite difference of l + ½ log det I."""
    _ref, data, spec, _specs = _load("firth_lung_small")
    rng = np.random.default_rng(1)
    time = data[spec["duration"]].to_numpy(float)
    event = data[spec["event"]].to_numpy(int)
    x = np.column_stack([(data["age"] - data["age"].mean()) / 10, (data["sex"] == "female").astype(float),
                         rng.normal(size=len(data))])
    rs = _RiskSets.build(time, event)
    xs = x[rs.order]
    beta = np.array([0.2, -0.4, 0.3])
    _, score, _, _ = _firth_terms(xs, beta, rs)
    h = 1e-6
    numeric = [(_firth_terms(xs, beta + h * e, rs)[0] - _firth_terms(xs, beta - h * e, rs)[0]) / (2 * h)
               for e in np.eye(3)]
    np.testing.assert_allclose(score, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", FIRTH_CASES)
def test_firth_fit_against_R(name):
    """R: optim() of coxph(init = beta, iter.max = 0)$loglik + 0.5 log det(solve(var)) (tests/r/cox.R)."""
    ref, model = _fit(name, penalty="firth")
    s = model.summary.set_index("term").loc[ref["terms"]]
    assert model.converged
    np.testing.assert_allclose(s["coef"], ref["coef"], rtol=1e-4)
    np.testing.assert_allclose(s["se"], ref["se"], rtol=1e-4)
    assert model.loglik[1] == pytest.approx(ref["loglik"], rel=1e-6)
    assert "Firth" in model.penalty


def test_separation_is_flagged_against_R():
    """R warns "Loglik converged before variable 1; coefficient may be infinite" for group=b."""
    ref, model = _fit("separation")
    assert any("infinite" in w for w in ref["warnings"])
    assert model.infinite == ("group=b",)
    assert any("no maximum" in w for w in model.warnings)
    firth = _fit("separation", penalty="firth")[1]
    assert firth.infinite == ()
    assert np.isfinite(firth.summary["upper"]).all()


def test_no_events_raises():
    data = pd.DataFrame({"t": [1.0, 2.0, 3.0], "e": [0, 0, 0], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(CoxFitError, match="no events among these 3 patients"):
        fit_cox(data, "t", "e", [CovariateSpec("x", categorical=False)])


def test_constant_covariate_raises_with_reason():
    data = pd.DataFrame({"t": [1.0, 2.0, 3.0], "e": [1, 0, 1], "g": ["a", "a", "a"]})
    with pytest.raises(CoxFitError, match="single level"):
        fit_cox(data, "t", "e", [CovariateSpec("g", categorical=True)])


def test_collinear_term_left_out_like_R_NA():
    ref, data, spec, specs = _load("lung_mixed")
    data = data.assign(age2=data["age"] * 2)
    specs = (*specs, CovariateSpec("age2", categorical=False))
    model = fit_cox(data, spec["duration"], spec["event"], specs)
    assert "age2" not in set(model.summary["term"])
    assert any("age2 is collinear" in w for w in model.warnings)
    np.testing.assert_allclose(model.summary.set_index("term").loc[ref["terms"], "coef"], ref["coef"], rtol=1e-4)


def test_missing_covariates_drop_rows():
    ref, data, spec, specs = _load("lung_wtloss")
    extra = pd.DataFrame({spec["duration"]: [5.0, 7.0], spec["event"]: [1, 1], "wt.loss": [np.nan, np.nan]})
    model = fit_cox(pd.concat([data, extra], ignore_index=True), spec["duration"], spec["event"], specs)
    assert model.n == ref["n"]
    np.testing.assert_allclose(model.summary["coef"], ref["coef"], rtol=1e-4)


def test_level_counts_in_summary():
    _ref, data, spec, specs = _load("veteran_categorical")
    model = fit_cox(data, spec["duration"], spec["event"], specs)
    row = model.summary.set_index("term").loc["celltype=adeno"]
    adeno = data[data["celltype"] == "adeno"]
    assert row["n"] == len(adeno) and row["events"] == adeno["status"].sum()


def test_aeq_times_merges_rounding_error_ties():
    t = np.array([1.0, 1.0 + 1e-12, 2.0, 3.0])
    out = aeq_times(t)
    assert out[0] == out[1] == 1.0 and list(out[2:]) == [2.0, 3.0]
    assert aeq_times(np.array([1.0, 2.0])) is not None


def test_unknown_penalty_raises():
    _ref, data, spec, specs = _load("lung_wtloss")
    with pytest.raises(ValueError, match="unknown penalty 'ridge'"):
        fit_cox(data, spec["duration"], spec["event"], specs, penalty="ridge")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=1, max_size=12))
def test_uninformative_data_are_refused_exactly_when_no_risk_set_has_a_survivor(rows) -> None:
    """The one-pass check equals its definition: some event time with more patients at risk than events."""
    time = np.array([t for t, _ in rows], dtype=float)
    status = np.array([int(e) for _, e in rows])
    informative = any((time >= t).sum() > ((time == t) & (status == 1)).sum() for t in time[status == 1])
    frame = pd.DataFrame({"t": time, "e": status, "x": np.arange(len(time)) % 2})
    if status.sum() == 0:
        return
    try:
        fit_cox(frame, "t", "e", ["x"])
    except CoxFitError as err:
        refused = "carry no information" in str(err)
    else:
        refused = False
    assert refused == (not informative)
