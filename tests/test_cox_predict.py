"""Predicted survival and cause-specific cumulative incidence for a profile, against R (tests/r/cox_predict.R)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.models import specs_from_options
from analysis.cohort.model import DEMO_COHORT_PATH, age_group, competing_cause, endpoint, load_demo_cohort, rfs_time
from analysis.stats.cox.cause_specific import predict_cumulative_incidence
from analysis.stats.cox.design import DesignError
from analysis.stats.cox.fit import fit_cox
from analysis.stats.cox.predict import baseline_hazard, design_row, predict_survival, survival_matrix

FIXTURES = Path(__file__).parent / "fixtures" / "cox_predict"
SURVFIT_CASES = ["lung_mixed", "lung_months_ties", "veteran_categorical", "pbc_cut", "demo_os", "demo_rfs"]
CSC_CASES = ["pbc_competing", "pbc_competing_ties", "demo_competing"]
TOL = {"rtol": 0, "atol": 1e-6}


def _demo(ref: dict) -> pd.DataFrame:
    assert hashlib.md5(DEMO_COHORT_PATH.read_bytes()).hexdigest() == ref["csv_md5"], \
        "data/demo_cohort.csv changed: rerun Rscript tests/r/cox_predict.R"
    cohort = load_demo_cohort()
    return cohort.assign(age_group=age_group(cohort["age_years"], 10), rfs_time=rfs_time(cohort),
                         rfs_event=endpoint(cohort, "rfs").event, cause=competing_cause(cohort))


def _case(name: str) -> tuple[dict, pd.DataFrame, tuple]:
    ref = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data = _demo(ref) if name.startswith("demo") else pd.read_csv(FIXTURES / f"{name}.csv")
    spec = ref["spec"]
    specs = specs_from_options(data, spec["covariates"], spec["categorical"], spec["reference"] or {},
                               spec["cuts"] or {})
    return ref, data, specs


@pytest.mark.parametrize("name", SURVFIT_CASES)
def test_predicted_survival_against_R(name):
    """R: sf <- survfit(coxph(Surv(time, status) ~ ..., ties = "efron"), newdata = profile); every row of sf
    (stype 2, ctype 2, conf.type "log": R's defaults for an Efron fit) and summary(sf, times = ...)."""
    ref, data, specs = _case(name)
    assert (ref["stype"], ref["ctype"], ref["conf_type"]) == (2, 2, "log")
    spec = ref["spec"]
    model = fit_cox(data, spec["duration"], spec["event"], specs)
    np.testing.assert_allclose(model.coef, ref["coef"], rtol=1e-9)
    for curve in ref["curves"]:
        table = predict_survival(model, curve["profile"]).table
        np.testing.assert_allclose(table["time"], curve["time"], rtol=1e-12)
        for ours, theirs in [("n_risk", "n_risk"), ("n_event", "n_event"), ("n_censor", "n_censor")]:
            np.testing.assert_array_equal(table[ours], curve[theirs])
        for ours, theirs in [("survival", "surv"), ("cumhaz", "cumhaz"), ("std_err", "std_err"),
                             ("lower", "lower"), ("upper", "upper")]:
            np.testing.assert_allclose(table[ours], np.array(curve[theirs], dtype=float), **TOL)
        at = predict_survival(model, curve["profile"]).survival_at(curve["at"]["time"])
        for column, theirs in [("survival", "surv"), ("lower", "lower"), ("upper", "upper")]:
            np.testing.assert_allclose(at[column], curve["at"][theirs], **TOL)
        # summary.survfit prints the standard error of the survival itself: S · se(Λ)
        np.testing.assert_allclose(at["std_err"] * at["survival"], curve["at"]["std_err"], **TOL)


@pytest.mark.parametrize("name", CSC_CASES)
def test_cause_specific_cumulative_incidence_against_R(name):
    """R: predictRisk(CSC(Hist(time, cause) ~ ..., data), newdata = profiles, times, cause = 1 and 2)
    (riskRegression 2022.11.28, product.limit = TRUE, Efron ties)."""
    ref, data, specs = _case(name)
    spec = ref["spec"]
    fits = [fit_cox(data.assign(_event=(data[spec["event"]] == k).astype(int)), spec["duration"], "_event", specs)
            for k in (1, 2)]
    np.testing.assert_allclose(fits[0].coef, ref["coef1"], rtol=1e-9)
    np.testing.assert_allclose(fits[1].coef, ref["coef2"], rtol=1e-9)
    for i, profile in enumerate(ref["profiles"]):
        at = predict_cumulative_incidence(*fits, profile).at(ref["times"])
        np.testing.assert_allclose(at["cif1"], ref["cause1"][i], **TOL)
        np.testing.assert_allclose(at["cif2"], ref["cause2"][i], **TOL)
        np.testing.assert_allclose(at["cif1"] + at["cif2"] + at["survival"], 1.0, atol=1e-12)


@pytest.fixture(scope="module")
def lung():
    ref, data, specs = _case("lung_mixed")
    return ref, fit_cox(data, "time", "status", specs)


def test_profile_as_mapping_or_design_row_gives_the_same_curve(lung):
    ref, model = lung
    profile = ref["curves"][1]["profile"]
    row = design_row(model.design, profile)
    assert list(row) == [75.0, 0.0, 0.0, 1.0, 0.0]  # age; sex=female; ph.ecog 0, 2, 3 (reference 1)
    pd.testing.assert_frame_equal(predict_survival(model, row).table, predict_survival(model, profile).table)


def test_survival_matrix_equals_the_single_profile_curves(lung):
    ref, model = lung
    rows = np.array([design_row(model.design, c["profile"]) for c in ref["curves"]])
    times = [90.0, 365.0, 1000.0]
    matrix = survival_matrix(model, rows, times, baseline=baseline_hazard(model))
    for i, curve in enumerate(ref["curves"]):
        np.testing.assert_allclose(matrix[i], predict_survival(model, curve["profile"]).survival_at(times)["survival"],
                                   rtol=1e-12)


def test_survival_before_the_first_and_beyond_the_last_time(lung):
    _, model = lung
    at = predict_survival(model, {"age": 60, "sex": "male", "ph.ecog": 1}).survival_at([0.0, 1e6])
    assert at["survival"].iloc[0] == 1.0 and at["lower"].iloc[0] == 1.0 and at["std_err"].iloc[0] == 0.0
    assert np.isnan(at["survival"].iloc[1])


@pytest.mark.parametrize(("profile", "message"), [
    ({"age": 60, "sex": "male"}, "the profile has no value for ph.ecog"),
    ({"age": 60, "sex": "other", "ph.ecog": 1}, "Sex = other does not occur among the patients"),
    ({"age": "old", "sex": "male", "ph.ecog": 1}, "age must be a number"),
    ({"age": 60, "sex": "male", "ph.ecog": 7}, "ph.ecog = 7 does not occur"),
])
def test_a_profile_the_model_cannot_use_is_named(lung, profile, message):
    _, model = lung
    with pytest.raises(DesignError, match=message):
        predict_survival(model, profile)


def test_cause_specific_models_on_different_patients_are_refused(lung):
    ref, data, specs = _case("pbc_competing")
    m1 = fit_cox(data.assign(_e=(data["status"] == 1).astype(int)), "time", "_e", specs)
    m2 = fit_cox(data.iloc[:200].assign(_e=(data["status"].iloc[:200] == 2).astype(int)), "time", "_e", specs)
    with pytest.raises(ValueError, match="same patients"):
        predict_cumulative_incidence(m1, m2, ref["profiles"][0])
