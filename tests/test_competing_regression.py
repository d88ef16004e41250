"""The Relapse models view's numbers: Fine-Gray and cause-specific Cox of relapse and NRM, profile predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.analyses.competing_regression import (
    CAUSE_SPECIFIC,
    FINE_GRAY,
    competing_regression,
    default_profile,
    predict_profile,
)
from analysis.analyses.models import covariate_spec, specs_from_options
from analysis.cohort.filters import with_age_group
from analysis.cohort.model import load_demo_cohort
from analysis.figures.forest import forest_table
from analysis.figures.regression import prediction_figure
from analysis.stats.cox.design import DesignError

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "fine_gray" / "crr_demo.json").read_text())


@pytest.fixture(scope="module")
def demo():
    return with_age_group(load_demo_cohort(), 10.0)


def _specs(cohort):
    spec = FIXTURE["spec"]
    return specs_from_options(cohort, spec["covariates"], spec["categorical"], spec["reference"], spec["cuts"])


@pytest.mark.parametrize(("cause", "code"), [("relapse", "1"), ("nrm", "2")])
def test_both_models_of_the_demo_cohort_against_R(demo, cause, code):
    """R: crr(..., failcode = cause) and CSC(Hist(time, cause) ~ ...) on the demo cohort (tests/r/fine_gray.R)."""
    result = competing_regression(demo, cause, _specs(demo))
    ref = FIXTURE["causes"][code]
    np.testing.assert_allclose(result.fine_gray.coef, ref["crr"]["coef"], rtol=1e-9)
    np.testing.assert_allclose(result.fine_gray.summary["se"], ref["crr"]["se"], rtol=1e-9)
    np.testing.assert_allclose(result.cause_specific.coef, ref["csc"]["coef_cause"], rtol=1e-9)
    np.testing.assert_allclose(result.competing.coef, ref["csc"]["coef_other"], rtol=1e-9)
    assert set(result.summary["model"]) == {FINE_GRAY, CAUSE_SPECIFIC}
    assert result.summary["term"].tolist() == FIXTURE["terms"] * 2


@pytest.mark.parametrize(("cause", "code"), [("relapse", "1"), ("nrm", "2")])
def test_profile_predictions_against_R(demo, cause, code):
    """R: predict.crr(fit, profile) and predictRisk(CSC, profile, times, cause)."""
    result = competing_regression(demo, cause, _specs(demo))
    prediction = predict_profile(result, demo, FIXTURE["profile"])
    ref = FIXTURE["causes"][code]
    np.testing.assert_allclose(prediction.fine_gray["cif"], ref["crr"]["predicted"], rtol=1e-9)
    at = prediction.at(ref["csc"]["times"])
    np.testing.assert_allclose(at["cause_specific"], ref["csc"]["risk"], rtol=1e-9)
    assert prediction.matched == "Age at HSCT2 (years) ≥ 10, Lineage T-ALL, Donor MUD"
    assert any("HSCT1 → relapse (months) enter the models per unit" in n for n in prediction.notes)
    observed = demo[(demo["age_years"] >= 10) & (demo["lineage"] == "T-ALL") & (demo["donor"] == "MUD")]
    assert prediction.observed is None or prediction.observed.n == len(observed)


def test_the_view_says_which_question_each_model_answers(demo):
    result = competing_regression(demo, "relapse", _specs(demo))
    assert "**how many**" in result.questions[0] and "**how fast**" in result.questions[1]
    assert "relapse" in result.questions[0]
    stats = result.statistics()
    assert stats["Statistic"].iloc[0] == "Patients / events / competing events"
    assert stats["Value"].iloc[0] == f"75 / {int(demo['relapse'].sum())} / {result.fine_gray.competing}"


def test_the_small_sample_guardrails_apply_to_both_models(demo):
    specs = [covariate_spec(demo, c) for c in ("age_group", "lineage", "donor", "sex", "atg", "remission")]
    result = competing_regression(demo, "nrm", specs)
    assert any(w.startswith("Fine-Gray (sHR): ") and "per coefficient" in w for w in result.warnings)
    assert any(w.startswith("Cause-specific (HR): ") and "per coefficient" in w for w in result.warnings)
    assert not any("Firth" in w for w in result.warnings)  # no Firth option on this view


def test_a_model_that_cannot_be_fitted_is_named_with_the_reason(demo):
    t_all = demo[demo["lineage"] == "T-ALL"]
    result = competing_regression(t_all, "relapse", [covariate_spec(t_all, "lineage")])
    assert result.fine_gray is None and result.cause_specific is None
    assert "nothing to estimate" in result.problems[FINE_GRAY]
    assert set(result.problems) == {FINE_GRAY, CAUSE_SPECIFIC}


def test_a_profile_with_an_unknown_level_is_refused_and_the_default_profile_is_valid(demo):
    specs = [covariate_spec(demo, "lineage", reference="B-ALL"), covariate_spec(demo, "age_years")]
    result = competing_regression(demo, "relapse", specs)
    profile = default_profile(demo, specs)
    assert profile == {"lineage": "B-ALL", "age_years": float(demo["age_years"].median())}
    fig = prediction_figure(predict_profile(result, demo, profile))
    names = {t.name for t in fig.data if t.name}
    assert {"Fine-Gray", "CSC"} <= names and any(n.startswith("Observed") for n in names)
    with pytest.raises(DesignError, match="'X-ALL' is not a level"):
        predict_profile(result, demo, {"lineage": "X-ALL", "age_years": 10})


def test_the_forest_shows_both_models_side_by_side(demo):
    result = competing_regression(demo, "relapse", _specs(demo))
    table = forest_table(result.models)
    assert set(table["model"].dropna()) == {FINE_GRAY, CAUSE_SPECIFIC}
    sub = table[table["level"] == "T-ALL"]
    assert len(sub) == 2 and sub["hr"].notna().all()
