"""Predicted cumulative incidence for a covariate profile, over the observed curve of the matching patients.

The observed curve (Aalen-Johansen, CI band) is drawn first; the Fine-Gray and
the cause-specific predictions are lines without bands (model-based, for one
profile). The risk table gives the matching patients and, for the model lines,
all patients of the models (they are fitted on everyone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import plotly.graph_objects as go

from analysis.analyses.competing_regression import CAUSE_CODES, CompetingRegression, ProfilePrediction
from analysis.figures.cif import cif_curve
from analysis.figures.curves import Curve, curve_figure
from analysis.figures.forest import forest_figure, forest_table
from analysis.stats.cox.fit import CoxModel

TITLES = {"relapse": "Cumulative incidence of relapse", "nrm": "Non-relapse mortality"}


def _model_curve(name: str, table, everyone) -> Curve:
    """A model's prediction, held after its last event time up to the end of follow-up."""
    t = np.append(table["time"].to_numpy(float), everyone.last_time)
    estimate = table["cif"].to_numpy(float)
    return Curve(label=name, time=t, estimate=np.append(estimate, estimate[-1]), lower=None, upper=None,
                 at_risk=everyone.n_at_risk, censor_times=np.empty(0), start=0.0)


def models_forest(result: CompetingRegression, *, title: str, order: Sequence[str] | None = None,
                  subtitle: str | None = None, min_count: int | None = None) -> go.Figure:
    """Fine-Gray sHR and cause-specific HR side by side in one forest plot."""
    # forest_table reads design, summary, event and infinite, which a Fine-Gray model has as a Cox model does
    models = cast("Mapping[str, CoxModel]", result.models)
    return forest_figure(forest_table(models, order=order), title=title, subtitle=subtitle, min_count=min_count)


def prediction_figure(prediction: ProfilePrediction, *, time_unit: str = "months",
                      min_count: int | None = None) -> go.Figure:
    """The observed curve of the matching patients and both models' predictions for the profile."""
    code = CAUSE_CODES[prediction.cause]
    curves = []
    if prediction.observed is not None:
        curves.append(cif_curve(prediction.observed, code, "Observed"))
    for name, table in (("Fine-Gray", prediction.fine_gray), ("CSC", prediction.cause_specific)):
        if table is not None and len(table):
            curves.append(_model_curve(name, table, prediction.everyone))
    title = TITLES[prediction.cause]
    return curve_figure(curves, y_title=title, title=f"{title} predicted for: {prediction.matched}",
                        subtitle="Observed: matching patients (Aalen-Johansen). Models: Fine-Gray, cause-specific Cox "
                                 "(CSC)",
                        time_unit=time_unit, x_max=float(prediction.everyone.last_time), fade_below=None,
                        min_count=min_count)
