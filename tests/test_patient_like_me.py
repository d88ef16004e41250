"""The Patient-like-me analysis: profiles, matching patients, out-of-support warnings, the sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.models import covariate_spec
from analysis.analyses.patient_like_me import (
    MIN_MATCHING,
    ProfileError,
    clean_profile,
    default_profile,
    default_window,
    fit_prediction_models,
    matching_mask,
    predict_patient,
    profile_fields,
    with_derived,
)
from analysis.cohort.model import age_group, competing_cause, rfs_time
from analysis.stats.competing_risks import cumulative_incidence
from analysis.stats.cox.cause_specific import predict_cumulative_incidence
from analysis.stats.cox.predict import predict_survival
from analysis.text import survival_text

PAPER = ("age_group", "lineage", "sex", "atg")


@pytest.fixture(scope="module")
def cohort(demo_cohort):
    return demo_cohort.assign(age_group=age_group(demo_cohort["age_years"], 10))


@pytest.fixture(scope="module")
def models(cohort):
    return fit_prediction_models(cohort, [covariate_spec(cohort, c, standard_reference=True) for c in PAPER])


def test_profile_fields_and_the_typical_patient(cohort):
    fields = profile_fields(cohort)
    assert "age_group" not in fields and fields[:2] == ["age_years", "months_hsct1_to_relapse"]
    typical = default_profile(cohort)
    assert typical["age_years"] == round(float(cohort["age_years"].median()), 1)
    assert typical["lineage"] == cohort["lineage"].mode().iloc[0]
    assert with_derived(typical, 10.0)["age_group"] == ("≥ 10 y" if typical["age_years"] >= 10 else "< 10 y")


@pytest.mark.parametrize(("raw", "message"), [
    ({"height": 1}, "'height' is not a covariate of these data"),
    ({"age_years": "twelve"}, "Age at HSCT2 \\(years\\) must be a number"),
    ({"lineage": "X-ALL"}, "Lineage = 'X-ALL' is not one of B-ALL, T-ALL"),
])
def test_a_profile_the_data_cannot_hold_is_named(cohort, raw, message):
    with pytest.raises(ProfileError, match=message):
        clean_profile(cohort, raw)


def test_clean_profile_converts_numbers(cohort):
    assert clean_profile(cohort, {"age_years": "12", "sex": "male"}) == {"age_years": 12.0, "sex": "male"}


def test_matching_on_levels_and_within_a_window(cohort):
    profile = {"lineage": "T-ALL", "age_years": 12.0}
    by_level = matching_mask(cohort, profile, ["lineage"], {})
    assert by_level.sum() == (cohort["lineage"] == "T-ALL").sum()
    both = matching_mask(cohort, profile, ["lineage", "age_years"], {"age_years": 2.0})
    expected = (cohort["lineage"] == "T-ALL") & ((cohort["age_years"] - 12).abs() <= 2)
    np.testing.assert_array_equal(both, expected.to_numpy())
    assert matching_mask(cohort, profile, [], {}).all()
    iqr = np.subtract(*np.percentile(cohort["age_years"], [75, 25]))
    assert default_window(cohort["age_years"]) == float(f"{iqr / 2:.2g}")


def test_predictions_are_the_estimators_own(cohort, models):
    profile = with_derived(default_profile(cohort), 10)
    p = predict_patient(models, profile, ["lineage"], {})
    expected = predict_survival(models.models["os"], profile).survival_at([12, 24, 60])
    np.testing.assert_allclose(p.survival["os"].at["survival"], expected["survival"])
    cif = predict_cumulative_incidence(models.models["relapse"], models.models["nrm"], profile).at([24])
    np.testing.assert_allclose(p.incidence.at([24])["cif1"], cif["cif1"])
    assert p.survival["os"].matching_km.n == p.n_matching == int((cohort["lineage"] == profile["lineage"]).sum())
    assert p.survival["rfs"].cohort_km.n == len(cohort)
    first, second = (survival_text(r["survival"], r["lower"], r["upper"]) for _, r in expected.iloc[:2].iterrows())
    assert first.replace("(", "(95 % CI ") + " at 1 year" in p.sentences[0]
    assert second + " at 2 years" in p.sentences[0]
    assert p.sentences[0].startswith("Predicted overall survival for this profile")
    assert "Predicted relapse incidence" in p.sentences[-1]
    pd.testing.assert_frame_equal(p.cohort_incidence.cif_at([24]),
                                  cumulative_incidence(rfs_time(cohort), competing_cause(cohort)).cif_at([24]))
    landmarks = p.landmarks()
    assert list(landmarks["endpoint"]) == ["os"] * 3 + ["rfs"] * 3


def test_out_of_support_warnings(cohort, models):
    inside = predict_patient(models, with_derived(default_profile(cohort), 10), ["lineage"], {})
    assert not any("fewer than 5" in w for w in inside.warnings)
    assert not any("outside the values" in w for w in inside.warnings)
    assert any("OS model: 35 events for 4 coefficients (8.8 per coefficient, fewer than 10)" in w
               for w in inside.warnings)
    old = with_derived({**default_profile(cohort), "age_years": 29.0, "lineage": "T-ALL", "donor": "haplo"}, 10)
    outside = predict_patient(models, old, ["lineage", "donor", "age_years"], {"age_years": 1.0})
    assert outside.n_matching < MIN_MATCHING
    assert any(w.startswith(f"Only {outside.n_matching} patient") for w in outside.warnings)
    assert any("Age at HSCT2 (years) = 29 lies outside the values of the patients the model was fitted on" in w
               for w in outside.warnings)
    assert outside.survival["os"].curve is not None  # the age group is still one the model knows


def test_a_level_the_fitted_patients_lack(cohort):
    b_all = cohort[cohort["lineage"] == "B-ALL"]
    specs = [covariate_spec(b_all, c, standard_reference=True) for c in ("lineage", "donor")]
    models = fit_prediction_models(b_all[b_all["donor"] != "haplo"], specs)
    profile = {**default_profile(cohort), "lineage": "T-ALL", "donor": "haplo"}
    p = predict_patient(models, profile, [], {})
    assert any(w == "Lineage = T-ALL: none of the patients the model was fitted on has it." for w in p.warnings)
    assert p.survival["os"].curve is None
    assert p.survival["os"].problem == "Donor = haplo does not occur among the patients the model was fitted on"
    assert p.incidence is None and "haplo" in p.incidence_problem
    assert not any("overall survival" in s for s in p.sentences)


def test_models_that_cannot_be_fitted_say_why(cohort):
    alive = cohort.assign(death=0, relapse=0, relapse_months=np.nan)
    models = fit_prediction_models(alive, [covariate_spec(alive, "lineage")])
    assert set(models.problems) == {"os", "rfs", "relapse", "nrm"}
    assert models.problems["os"].startswith("There are no events")
    p = predict_patient(models, default_profile(alive), [], {})
    assert p.survival["os"].curve is None and p.incidence is None and p.sentences == ()
