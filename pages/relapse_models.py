"""Relapse models: Fine-Gray subdistribution hazards beside cause-specific Cox, and predictions for a profile."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.analyses.competing_regression import CAUSE_EVENTS, competing_regression, predict_profile
from analysis.figures.regression import models_forest, prediction_figure
from analysis.stats.cox.design import DesignError
from analysis.text import cif_text, count, escape_markdown, percent
from ui.cache import session_memo
from ui.controls import landmark_control, stop_if_empty
from ui.figures import figure_caption, show_figure, show_table
from ui.links import persist
from ui.model_controls import covariate_control, covariate_specs
from ui.regression_profile import profile_control
from ui.state import get_view
from ui.view_options import min_count, page_controls

CAUSES = {"relapse": "Relapse (CIR)", "nrm": "Non-relapse mortality"}
METHOD = ("Fine-Gray subdistribution hazards (R cmprsk::crr, robust variance) and cause-specific Cox "
          "(Efron ties, R coxph with the competing event censored)")

view = get_view()
st.title("Relapse and NRM models")
st.caption(
    "Competing-risk regression on the filtered patients, both ways reviewers ask for: Fine-Gray subdistribution "
    "hazards (numbers equal R `cmprsk::crr`, its robust variance) and cause-specific Cox models (Efron ties, "
    "the competing event censored, as `coxph`). Time from HSCT2 to relapse or death without relapse."
)
stop_if_empty(view)

controls = page_controls("relapse_models")
top = controls.columns([1, 3])
with top[0]:
    persist("relapse_models.cause", "relapse", list(CAUSES))
    cause = st.radio("Event of interest", list(CAUSES), key="relapse_models.cause", format_func=CAUSES.get,
                     help="Relapse: death without relapse competes. NRM: relapse competes.")
with top[1]:
    chosen = covariate_control(view, "relapse_models", cause)
with controls.expander("Reference levels and numeric covariates", expanded=False):
    specs = covariate_specs(view, "relapse_models", chosen)

result = session_memo("relapse_models", (view.filters, cause, tuple(specs)),
                      lambda: competing_regression(view.cohort, cause, specs))
caption = figure_caption(view, METHOD)

with st.expander("Which question does each model answer?", expanded=True):
    for question in result.questions:
        st.markdown(question)
for name, problem in result.problems.items():
    st.warning(f"{name}: cannot be fitted. {escape_markdown(problem)}")
for warning in result.warnings:
    st.warning(escape_markdown(warning))

if result.models:
    first = next(iter(result.models.values()))
    fig = models_forest(result, order=chosen, title=f"{CAUSES[cause]}: subdistribution and cause-specific hazard "
                        "ratios", subtitle=f"n = {first.n} patients, {count(first.events, 'event')} "
                        f"({CAUSE_EVENTS[cause]})", min_count=min_count(view))
    show_figure(fig, key="relapse_models_forest", caption=caption)
    st.caption("Dark squares: Fine-Gray sHR (how many); open circles: cause-specific HR (how fast). Both with "
               "95 % CI; the Fine-Gray CI uses crr's robust (sandwich) variance.")
    show_table(result.statistics(), "relapse_models_statistics", view, caption)

# ------------------------------------------------------------------ prediction for a profile
st.subheader("Predicted cumulative incidence for a patient profile")
if not result.models:
    st.stop()
st.caption("Choose a profile: both models predict its cumulative incidence, drawn over the Aalen-Johansen curve "
           "of the filtered patients who share its factors (R `predict.crr`; `riskRegression::predictRisk` on "
           "`CSC`, product-limit).")
with page_controls("relapse_models_profile"):
    profile = profile_control(view, "relapse_models", specs)
    times = landmark_control("relapse_models.times", "Months for the table",
                             help="Predicted and observed cumulative incidence at these times after HSCT2.")
try:
    prediction = session_memo("relapse_models.prediction", (view.filters, cause, tuple(specs),
                                                            tuple(sorted(profile.items()))),
                              lambda: predict_profile(result, view.cohort, profile))
except DesignError as err:
    st.warning(f"No prediction for this profile: {escape_markdown(err)}")
    st.stop()
for note in prediction.notes:
    st.info(escape_markdown(note))
show_figure(prediction_figure(prediction, min_count=min_count(view)), key="relapse_models_prediction",
            caption=caption.with_method(f"{METHOD}; predict.crr and riskRegression::predictRisk (CSC)"))
at = prediction.at(times)
table = pd.DataFrame({"Month": [f"{t:g}" for t in at["time"]], "Fine-Gray": at["fine_gray"].map(percent),
                      "Cause-specific Cox": at["cause_specific"].map(percent)})
if prediction.observed is not None:
    risk = prediction.observed.n_at_risk(at["time"])
    table["Observed (matching patients)"] = [
        cif_text(c, lo, hi, n) for c, lo, hi, n in
        zip(at["observed"], at["observed_lower"], at["observed_upper"], risk, strict=True)]
show_table(table, "relapse_models_prediction_table", view, caption)
