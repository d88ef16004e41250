"""(start, stop] Cox models, strata, tmerge-style splitting and the cluster-robust variance against R.

Fixtures: tests/r/cox_counting.R (survival 3.5-3).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.stats.cox._risk_sets import RiskSets
from analysis.stats.cox.counting import CountingRiskSets, counting_efron, fit_counting
from analysis.stats.cox.design import CovariateSpec, build_design, specs_for
from analysis.stats.cox.fit import CoxFitError, fit_cox
from analysis.stats.cox.likelihood import efron
from analysis.stats.cox.robust import robust_variance, score_residuals
from analysis.stats.cox.time_dependent import split_at_events

FIXTURES = Path(__file__).parent / "fixtures" / "cox_counting"
TIGHT = {"rtol": 1e-9, "atol": 1e-12}


def _load(name: str) -> tuple[dict, pd.DataFrame]:
    ref = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    path = FIXTURES / f"{name}.csv"
    return ref, (pd.read_csv(path) if path.exists() else pd.DataFrame())


def _assert_fit(model, ref: dict, se_column: str = "se") -> None:
    s = model.summary
    assert list(s["term"]) == ref["terms"]
    np.testing.assert_allclose(s["coef"], ref["coef"], **TIGHT)
    np.testing.assert_allclose(s["hr"], ref["hr"], **TIGHT)
    np.testing.assert_allclose(s["se"], ref[se_column], **TIGHT)
    np.testing.assert_allclose(s["z"], ref["z"], **TIGHT)
    np.testing.assert_allclose(s["p"], ref["p"], **TIGHT)
    np.testing.assert_allclose(s["lower"], ref["lower"], **TIGHT)
    np.testing.assert_allclose(s["upper"], ref["upper"], **TIGHT)


def _split(data: pd.DataFrame, time: str, event: str, switches: dict[str, str]):
    split = split_at_events(data[time].to_numpy(), data[event].to_numpy(),
                            {name: data[column].to_numpy() for name, column in switches.items()})
    rows = data.iloc[split.row_of].reset_index(drop=True)
    for name in switches:
        rows[name] = split.covariates[name].to_numpy()
    return split, rows


def test_counting_process_rows_against_R():
    """R: coxph(Surv(start, stop, event) ~ age + surgery + transplant, data = heart, ties = "efron")."""
    ref, heart = _load("heart")
    design = build_design(heart, [CovariateSpec(c, False) for c in ("age", "surgery", "transplant")])
    model = fit_counting(heart["start"].to_numpy(), heart["stop"].to_numpy(), heart["event"].to_numpy(), design)
    _assert_fit(model, ref["fit"])
    np.testing.assert_allclose(model.loglik, ref["fit"]["loglik"], **TIGHT)
    np.testing.assert_allclose(model.lr_test.statistic, ref["fit"]["lr"], **TIGHT)
    np.testing.assert_allclose(model.score_test.statistic, ref["fit"]["score"], **TIGHT)
    assert (model.n, model.events, model.iterations) == (ref["fit"]["n"], ref["fit"]["events"], ref["fit"]["iter"])


def test_counting_score_residuals_against_R():
    """R: residuals(coxph(Surv(start, stop, event) ~ ..., heart), type = "score")."""
    ref, heart = _load("heart")
    design = build_design(heart, [CovariateSpec(c, False) for c in ("age", "surgery", "transplant")])
    start, stop, event = heart["start"].to_numpy(), heart["stop"].to_numpy(), heart["event"].to_numpy()
    model = fit_counting(start, stop, event, design)
    resid = score_residuals(model, CountingRiskSets.build(start, stop, event))
    np.testing.assert_allclose(resid, np.array(ref["score_residuals"]), rtol=1e-9, atol=1e-11)


def test_split_equals_tmerge_against_R():
    """R: tmerge(base, base, id, death = event(os_time, death)); tmerge(., ., agvhd = tdc(...), cgvhd = tdc(...))."""
    ref, base = _load("cgvhd_td")
    split, _ = _split(base, "os_time", "death", {"agvhd": "agvhd_time", "cgvhd": "cgvhd_time"})
    assert split.n_rows == ref["rows"]
    np.testing.assert_array_equal(base["id"].to_numpy()[split.row_of], ref["id"])
    np.testing.assert_allclose(split.start, ref["tstart"])
    np.testing.assert_allclose(split.stop, ref["tstop"])
    np.testing.assert_array_equal(split.event, ref["event"])
    np.testing.assert_array_equal(split.covariates["agvhd"], ref["agvhd"])
    np.testing.assert_array_equal(split.covariates["cgvhd"], ref["cgvhd"])


def test_time_dependent_gvhd_against_R():
    """R: coxph(Surv(tstart, tstop, death) ~ agvhd + cgvhd + dx + age) on the tmerge rows of cgvhd."""
    ref, base = _load("cgvhd_td")
    split, rows = _split(base, "os_time", "death", {"agvhd": "agvhd_time", "cgvhd": "cgvhd_time"})
    design = build_design(rows, specs_for(rows, ["agvhd", "cgvhd", "dx", "age"]))
    model = fit_counting(split.start, split.stop, split.event, design)
    _assert_fit(model, ref["fit"])
    np.testing.assert_allclose(model.loglik, ref["fit"]["loglik"], **TIGHT)


def test_the_baseline_ever_model_differs_from_the_time_dependent_one():
    """The immortal-time-biased baseline model ("ever had GVHD") is a different model: R gives both."""
    ref, base = _load("cgvhd_td")
    ever = base.assign(agvhd=base["agvhd_time"].notna().astype(int), cgvhd=base["cgvhd_time"].notna().astype(int))
    model = fit_cox(ever, "os_time", "death", ["agvhd", "cgvhd", "dx", "age"])
    _assert_fit(model, ref["ever"])
    assert abs(ref["ever"]["coef"][1] - ref["fit"]["coef"][1]) > 0.1


def test_ties_switches_at_the_edges_and_strata_against_R():
    """R: tdc() at 0, at the end of follow-up, after it and missing; coxph(... + td + strata(centre))."""
    ref, syn = _load("synthetic_td")
    split, rows = _split(syn, "time", "status", {"td": "switch"})
    assert split.n_rows == ref["rows"]
    np.testing.assert_allclose(split.start, ref["tstart"])
    np.testing.assert_array_equal(split.covariates["td"], ref["td"])
    design = build_design(rows, specs_for(rows, ["x", "td"]))
    strata = pd.factorize(rows["centre"], sort=True)[0]
    model = fit_counting(split.start, split.stop, split.event, design, strata=strata)
    _assert_fit(model, ref["fit"])
    np.testing.assert_allclose(model.loglik, ref["fit"]["loglik"], **TIGHT)
    only = fit_counting(None, syn["time"].to_numpy(), syn["status"].to_numpy(),
                        build_design(syn, specs_for(syn, ["x"])), strata=pd.factorize(syn["centre"], sort=True)[0])
    _assert_fit(only, ref["strata_only"])


@pytest.mark.parametrize(("name", "covariates", "reference"), [
    ("lung_centres", ["age", "sex", "ph.ecog"], {}),
    ("multicentre", ["age", "donor"], {"donor": "MSD"}),
])
def test_cluster_robust_variance_against_R(name, covariates, reference):
    """R: coxph(Surv(time, status) ~ ..., cluster = centre): robust se, z, p, CI and the robust Wald test."""
    ref, data = _load(name)
    model = fit_cox(data, "time", "status", covariates, reference=reference)
    rs = CountingRiskSets.build(None, model.time, model.event)
    robust = robust_variance(model, rs, data["centre"].to_numpy()[model.design.kept])
    r = ref["cluster"]
    s = robust.summary
    np.testing.assert_allclose(s["coef"], r["coef"], **TIGHT)
    np.testing.assert_allclose(s["se"], r["robust_se"], **TIGHT)
    np.testing.assert_allclose(s["naive_se"], r["naive_se"], **TIGHT)
    for column in ("z", "p", "lower", "upper"):
        np.testing.assert_allclose(s[column], r[column], **TIGHT, err_msg=column)
    np.testing.assert_allclose(robust.wald_test.statistic, r["robust_wald"], **TIGHT)
    assert robust.clusters == ref["centres"]


@pytest.mark.parametrize(("name", "covariates", "reference"), [
    ("lung_centres", ["age", "sex", "ph.ecog"], {}),
    ("multicentre", ["age", "donor"], {"donor": "MSD"}),
])
def test_stratified_by_centre_against_R(name, covariates, reference):
    """R: coxph(Surv(time, status) ~ ... + strata(centre), ties = "efron")."""
    ref, data = _load(name)
    design = build_design(data, specs_for(data, covariates, reference=reference))
    model = fit_counting(None, data["time"].to_numpy(), data["status"].to_numpy(), design,
                         strata=pd.factorize(data["centre"], sort=True)[0])
    _assert_fit(model, ref["strata"])
    np.testing.assert_allclose(model.loglik, ref["strata"]["loglik"], **TIGHT)


def test_right_censored_score_residuals_against_R():
    """R: residuals(coxph(Surv(time, status) ~ age + sex + ph.ecog, lung), type = "score")."""
    ref, data = _load("lung_centres")
    model = fit_cox(data, "time", "status", ["age", "sex", "ph.ecog"])
    resid = score_residuals(model, CountingRiskSets.build(None, model.time, model.event))
    np.testing.assert_allclose(resid, np.array(ref["score_residuals"]), rtol=1e-9, atol=1e-11)


# ------------------------------------------------------------------ by hand


def test_without_start_times_or_strata_the_likelihood_is_the_ordinary_one():
    rng = np.random.default_rng(7)
    n = 50
    time = np.round(rng.exponential(10, n))
    event = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2))
    beta = np.array([0.3, -0.2])
    ll, u, info = counting_efron(x, beta, CountingRiskSets.build(None, time, event))
    rs = RiskSets.build(time, event)
    ll0, u0, info0 = efron(np.ascontiguousarray(x[rs.order].T), beta, rs)
    np.testing.assert_allclose([ll, *u], [ll0, *u0], rtol=1e-12)
    np.testing.assert_allclose(info, info0, rtol=1e-12)


def test_a_patient_split_into_rows_gives_the_same_fit():
    """Cutting follow-up at arbitrary times without changing covariates leaves the partial likelihood alone."""
    rng = np.random.default_rng(8)
    n = 40
    data = pd.DataFrame({"t": np.round(rng.exponential(10, n)) + 1, "e": rng.integers(0, 2, n),
                         "x": rng.normal(size=n)})
    whole = fit_cox(data, "t", "e", ["x"])
    split, rows = _split(data.assign(cut=data["t"] / 2), "t", "e", {"c": "cut"})
    assert split.n_rows == 2 * n
    model = fit_counting(split.start, split.stop, split.event, build_design(rows, specs_for(rows, ["x"])))
    np.testing.assert_allclose(model.coef, whole.coef, rtol=1e-10)
    np.testing.assert_allclose(model.var, whole.var, rtol=1e-10)


def test_one_stratum_is_no_stratum():
    data = pd.DataFrame({"t": [1.0, 2, 2, 3, 4, 5, 6, 7], "e": [1, 1, 0, 1, 0, 1, 1, 0],
                         "x": [0.1, 1.2, -0.3, 0.4, 2.0, -1.0, 0.5, 0.0]})
    design = build_design(data, specs_for(data, ["x"]))
    one = fit_counting(None, data["t"].to_numpy(), data["e"].to_numpy(), design, strata=np.zeros(8, dtype=int))
    np.testing.assert_allclose(one.coef, fit_cox(data, "t", "e", ["x"]).coef, rtol=1e-10)


def test_intervals_must_end_after_they_start():
    design = build_design(pd.DataFrame({"x": [0.0, 1.0]}), [CovariateSpec("x", False)])
    with pytest.raises(CoxFitError, match="must end after it starts"):
        fit_counting(np.array([0.0, 2.0]), np.array([1.0, 2.0]), np.array([1, 1]), design)


def test_no_events_is_a_clear_error():
    design = build_design(pd.DataFrame({"x": [0.0, 1.0]}), [CovariateSpec("x", False)])
    with pytest.raises(CoxFitError, match="no events among these 2 rows"):
        fit_counting(None, np.array([1.0, 2.0]), np.array([0, 0]), design)


def test_robust_variance_needs_a_cluster_per_row():
    data = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6], "e": [1, 1, 0, 1, 1, 0], "x": [0, 1, 0, 1, 1, 0.5]})
    model = fit_cox(data, "t", "e", ["x"])
    rs = CountingRiskSets.build(None, model.time, model.event)
    with pytest.raises(ValueError, match="every row needs a cluster"):
        robust_variance(model, rs, np.array(["a", "b", None, "a", "b", "a"], dtype=object))


def test_one_patient_per_cluster_is_the_ordinary_sandwich():
    """Clusters of one: Σ dfbeta dfbetaᵀ, the Lin-Wei robust variance of independent patients."""
    data = pd.DataFrame({"t": np.arange(1.0, 13.0), "e": [1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1],
                         "x": [0.3, 1.1, -0.2, 0.8, 1.5, 0.1, -0.7, 0.4, 0.9, -1.2, 0.0, 0.6]})
    model = fit_cox(data, "t", "e", ["x"])
    rs = CountingRiskSets.build(None, model.time, model.event)
    dfbeta = score_residuals(model, rs) @ model.var
    robust = robust_variance(model, rs, np.arange(12))
    np.testing.assert_allclose(robust.var, dfbeta.T @ dfbeta, rtol=1e-12)
    assert robust.clusters == 12
