"""Figures of Patient like me and Model validation: valid Plotly, what they draw, faded tails."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from analysis.analyses.models import covariate_spec
from analysis.analyses.patient_like_me import default_profile, fit_prediction_models, predict_patient, with_derived
from analysis.analyses.validation import validate_models
from analysis.cohort.model import age_group
from analysis.figures.prediction import FADED_OPACITY, incidence_figure, prediction_figure
from analysis.figures.validation import calibration_figure


@pytest.fixture(scope="module")
def cohort(demo_cohort):
    return demo_cohort.assign(age_group=age_group(demo_cohort["age_years"], 10))


@pytest.fixture(scope="module")
def prediction(cohort):
    models = fit_prediction_models(cohort, [covariate_spec(cohort, c, standard_reference=True)
                                            for c in ("age_group", "lineage", "sex", "atg")])
    return predict_patient(models, with_derived(default_profile(cohort), 10), ["lineage"], {})


def test_prediction_figure_is_valid_and_draws_both_endpoints(prediction):
    fig = prediction_figure(prediction)
    go.Figure(fig.to_dict())  # validates every property
    layout = fig.to_dict()["layout"]
    titles = [a["text"] for a in layout["annotations"]]
    assert "<b>Overall survival</b>" in titles and "<b>Relapse-free survival</b>" in titles
    lines = [t for t in fig.data if t.name == "Predicted for this profile (Cox, 95 % CI)" and t.opacity is None]
    assert [t.xaxis for t in lines] == ["x", "x2"]  # one per panel, the legend entry once
    assert sum(bool(t.showlegend) for t in lines) == 1
    os_line = lines[0]
    table = prediction.survival["os"].curve.table
    np.testing.assert_allclose(os_line.y[1:6], table["survival"].to_numpy()[:5])


def test_tails_with_few_patients_are_faded(prediction):
    fig = prediction_figure(prediction)
    faded = [t for t in fig.data if t.opacity == FADED_OPACITY]
    assert faded  # the demo cohort's curves all end with fewer than 5 patients followed
    table = prediction.survival["os"].curve.table
    first_few = table.loc[table["n_risk"] < 5, "time"].iloc[0]
    os_faded = next(t for t in faded if t.name == "Predicted for this profile (Cox, 95 % CI)")
    assert os_faded.x[0] == first_few


def test_incidence_figure(prediction):
    fig = incidence_figure(prediction)
    go.Figure(fig.to_dict())
    names = [t.name for t in fig.data]
    assert names == ["Relapse, all filtered patients (27 events)", "Relapse, predicted for this profile",
                     "NRM, all filtered patients (16 events)", "NRM, predicted for this profile"]
    predicted = fig.data[1]
    np.testing.assert_allclose(predicted.y[-1], prediction.incidence.table["cif1"].iloc[-1])


def test_calibration_figure(cohort):
    validation = validate_models(cohort, "os", [covariate_spec(cohort, "lineage")], folds=3, repeats=1, seed=2)
    fig = calibration_figure(validation)
    go.Figure(fig.to_dict())
    panels = [a["text"] for a in fig.to_dict()["layout"]["annotations"] if a["text"].startswith("<b>")]
    assert panels == ["<b>Cox model</b>", "<b>Random survival forest</b>", "<b>No covariates (Kaplan-Meier)</b>"]
    apparent = [t for t in fig.data if t.name == "Apparent (fitted on everyone)"]
    assert len(apparent) == 3
    cal = validation.calibration
    rows = cal[(cal["model"] == "cox") & (cal["kind"] == "apparent")]
    np.testing.assert_allclose(apparent[0].x, rows["predicted"])
