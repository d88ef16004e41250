"""analysis.stats.cox.diagnostics against R's cox.zph (fixtures made by tests/r/cox.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.model_checks import proportional_hazards, separation_findings, small_sample_warnings
from analysis.stats.cox.design import CovariateSpec
from analysis.stats.cox.diagnostics import _km_transform, cox_zph, events_per_covariate
from analysis.stats.cox.fit import fit_cox
from tests.test_cox import COXPH_CASES, _fit


@pytest.mark.parametrize("name", COXPH_CASES)
def test_cox_zph_against_R(name):
    """R: cox.zph(fit)$table (transform = "km", terms = TRUE, global = TRUE)."""
    ref, model = _fit(name)
    table = cox_zph(model).table
    assert list(table["covariate"]) == ref["zph"]["term"]
    assert list(table["df"]) == ref["zph"]["df"]
    np.testing.assert_allclose(table["chisq"], ref["zph"]["chisq"], rtol=1e-4, atol=1e-10)
    np.testing.assert_allclose(table["p"], ref["zph"]["p"], rtol=0, atol=1e-4)


def test_zph_verdict_in_plain_language():
    ref, model = _fit("veteran_mixed")
    table = proportional_hazards(model).table.set_index("covariate")
    assert ref["zph"]["p"][ref["zph"]["term"].index("karno")] < 0.05
    assert "appears to change over follow-up" in table.loc["karno", "verdict"]
    assert "No evidence against proportional hazards" in table.loc["age", "verdict"]


def test_km_transform_is_one_minus_km_just_before_each_death_time():
    """Deaths at 1 (of 4 at risk), 3 (of 2) and 5 (2 of 4): S = 3/4 after 1, 3/8 after 3."""
    np.testing.assert_allclose(_km_transform(np.array([4.0, 2.0, 4.0]), np.array([1.0, 1.0, 2.0])),
                               [0, 0.25, 1 - 3 / 8])


def test_events_per_covariate_counts_coefficients():
    ref, model = _fit("lung_mixed")
    assert events_per_covariate(model) == pytest.approx(ref["events"] / len(ref["coef"]))


def test_few_events_per_covariate_warns():
    ref, model = _fit("separation")
    assert ref["events"] / len(ref["coef"]) < 10
    assert any("per coefficient, fewer than 10" in w for w in small_sample_warnings(model))
    ref, model = _fit("lung_mixed")
    assert not any("per coefficient" in w for w in small_sample_warnings(model))


def test_level_without_events_is_named():
    _ref, model = _fit("separation")
    findings = separation_findings(model)
    assert any("No events among the 20 patients in the level group = b" in f for f in findings)
    assert any(f.startswith("group=b: the estimate diverges") for f in findings)


def test_reference_level_without_events_is_named():
    """R: coxph(Surv(t, e) ~ g) on these data: "Ran out of iterations and did not converge", coef 22.1."""
    data = pd.DataFrame({
        "t": [1.0, 2, 3, 4, 5, 6, 7, 8],
        "e": [1, 1, 0, 1, 0, 0, 0, 0],
        "g": ["b", "b", "b", "b", "a", "a", "a", "a"],
    })
    model = fit_cox(data, "t", "e", [CovariateSpec("g", categorical=True, reference="a")])
    findings = separation_findings(model)
    assert any("reference level g = a" in f for f in findings)
    assert not model.converged
    assert any("did not converge" in w for w in model.warnings)
