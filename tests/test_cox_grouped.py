"""The Cox fit on counts per covariate pattern (large cohorts of 0/1 covariates) against R and the row-by-row fit.

Registries of hundreds of thousands of patients take the grouped path
(:class:`analysis.stats.cox._risk_sets.GroupedRiskSets`); here it is forced on
small data so that R's fixtures and the row-by-row computation check it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis.stats.cox.fit as cox_fit
from analysis.analyses.models import specs_from_options
from analysis.stats._survival_data import RADIX_MIN, sort_order, stable_order, time_codes
from analysis.stats.cox._risk_sets import GroupedRiskSets
from analysis.stats.cox.diagnostics import cox_zph
from analysis.stats.cox.fit import fit_cox
from tests.test_cox import _fit, _load

ALL_INDICATOR_CASES = ["veteran_categorical", "lung_cut"]


@pytest.fixture
def grouped(monkeypatch):
    """Force the grouped path and count how often it is taken."""
    built = []
    original = GroupedRiskSets.build.__func__

    def build(cls, *args):
        built.append(args)
        return original(cls, *args)

    monkeypatch.setattr(cox_fit, "GROUPED_MIN_ROWS", 0)
    monkeypatch.setattr(cox_fit, "GROUPED_CELLS_PER_PATIENT", np.inf)
    monkeypatch.setattr(GroupedRiskSets, "build", classmethod(build))
    return built


@pytest.mark.parametrize("name", ALL_INDICATOR_CASES)
def test_grouped_fit_against_R(name, grouped):
    """R: coxph(Surv(time, status) ~ ..., ties = "efron"); summary(fit), cox.zph(fit) (see tests/r/cox.R)."""
    ref, model = _fit(name)
    assert grouped, "the grouped path was not taken"
    s = model.summary.set_index("term")
    np.testing.assert_allclose(s["coef"], ref["coef"], rtol=1e-4, atol=0)
    np.testing.assert_allclose(s["se"], ref["se"], rtol=1e-4, atol=0)
    assert model.loglik[1] == pytest.approx(ref["loglik"][1], rel=1e-6)
    assert model.score_test.statistic == pytest.approx(ref["score_test"]["statistic"], rel=1e-4)
    np.testing.assert_allclose(cox_zph(model).table["chisq"], ref["zph"]["chisq"], rtol=1e-4, atol=1e-10)


def _tied_cohort(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Whole-month times (heavy ties), three binary covariates and one three-level factor."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "atg": rng.choice(["no", "yes"], n),
                       "donor": rng.choice(["MSD", "MUD", "haplo"], n), "old": rng.integers(0, 2, n)})
    lp = 0.5 * (df["sex"] == "m") - 0.4 * (df["atg"] == "yes") + 0.3 * (df["donor"] == "haplo") + 0.6 * df["old"]
    t = rng.exponential(30 * np.exp(-lp))
    c = rng.uniform(0, 60, n)
    df["months"] = np.ceil(np.minimum(t, c))
    df["dead"] = (t <= c).astype(int)
    return df


def test_grouped_fit_equals_row_by_row_fit(monkeypatch, grouped):
    df = _tied_cohort()
    specs = specs_from_options(df, ["sex", "atg", "donor", "old"], categorical=["old"])
    fast = fit_cox(df, "months", "dead", specs)
    assert grouped
    monkeypatch.setattr(cox_fit, "GROUPED_MIN_ROWS", 10**12)
    slow = fit_cox(df, "months", "dead", specs)
    assert fast.iterations == slow.iterations
    np.testing.assert_allclose(fast.coef, slow.coef, rtol=1e-12, atol=0)
    np.testing.assert_allclose(fast.var, slow.var, rtol=1e-12, atol=0)
    np.testing.assert_allclose(fast.loglik, slow.loglik, rtol=1e-12, atol=0)
    assert fast.score_test.statistic == pytest.approx(slow.score_test.statistic, rel=1e-12)
    assert fast.concordance == slow.concordance
    monkeypatch.setattr(cox_fit, "GROUPED_MIN_ROWS", 0)
    zph_fast = cox_zph(fast).table
    monkeypatch.setattr(cox_fit, "GROUPED_MIN_ROWS", 10**12)
    np.testing.assert_allclose(zph_fast["chisq"], cox_zph(slow).table["chisq"], rtol=1e-10, atol=0)


def test_numeric_covariates_take_the_row_path(grouped):
    _ref, _model = _fit("lung_mixed")  # age per year: not 0/1
    assert not grouped


def test_aliased_level_dropped_in_the_grouped_path_as_in_R(grouped):
    ref, data, spec, specs = _load("veteran_categorical")
    data = data.assign(copy=data[spec["covariates"][1]])
    more = (*specs, *specs_from_options(data, ["copy"], categorical=["copy"]))
    model = fit_cox(data, spec["duration"], spec["event"], more)
    assert grouped
    assert any("collinear" in w for w in model.warnings)
    np.testing.assert_allclose(model.summary["coef"], ref["coef"], rtol=1e-4, atol=0)


@pytest.mark.parametrize("values", [
    np.array([3.0, 1.0, 2.0, 3.0, 1.0] * 400),  # whole numbers: counted
    np.round(np.random.default_rng(1).exponential(10, 2000), 2),  # hashed
    np.random.default_rng(2).exponential(10, 500),  # few, distinct
])
def test_time_codes_and_stable_order_are_numpy_s(values):
    distinct, inverse = np.unique(values, return_inverse=True)
    codes, found = time_codes(values)
    np.testing.assert_array_equal(found, distinct)
    np.testing.assert_array_equal(codes, inverse)
    np.testing.assert_array_equal(stable_order(values), np.argsort(values, kind="stable"))


def _continuous(n: int, seed: int) -> np.ndarray:
    """Nearly distinct doubles of both signs, with the values that radix keys must get right."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 50, n) * np.exp(rng.normal(0, 8, n))  # many exponents, both signs
    values[::997] = np.round(values[::997], 1)  # a few ties
    values[:6] = [-0.0, 0.0, np.inf, -np.inf, 5e-324, -5e-324]  # signed zeros are equal; subnormals
    return values


@pytest.mark.parametrize("seed", [3, 4])
def test_large_continuous_values_are_ordered_as_numpy_s_stable_sort(seed):
    values = _continuous(RADIX_MIN + 1234, seed)
    np.testing.assert_array_equal(stable_order(values), np.argsort(values, kind="stable"))
    order = sort_order(values)
    assert np.all(np.diff(values[order]) >= 0)  # sorted (ties in any order)
    assert np.array_equal(np.sort(order), np.arange(len(values)))


def test_missing_values_sort_last_as_numpy_s():
    values = _continuous(RADIX_MIN, 5)
    values[10] = np.nan
    np.testing.assert_array_equal(stable_order(values), np.argsort(values, kind="stable"))
