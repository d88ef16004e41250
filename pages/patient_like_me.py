"""Patient like me: a profile's predicted OS, RFS, relapse and NRM beside what happened to patients like it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.analyses.patient_like_me import RESEARCH_NOTE, fit_prediction_models, predict_patient
from analysis.figures.prediction import incidence_figure, prediction_figure
from analysis.text import escape_markdown, landmark_label, survival_text
from ui.cache import session_memo
from ui.controls import stop_if_empty
from ui.figures import show_figure
from ui.model_controls import covariate_control, covariate_specs
from ui.profile_controls import match_control, profile_control
from ui.state import get_view

PAGE = "patient_like_me"

view = get_view()
st.title("Patient like me")
st.caption(
    "What happened to patients like this one? The multivariable Cox models of the filtered patients predict OS "
    "and RFS for the profile with 95 % confidence intervals (numbers equal R `survfit(fit, newdata = profile)`); "
    "relapse and non-relapse mortality come from the two cause-specific Cox models (R `riskRegression`). Beside "
    "them: the Kaplan-Meier curves of all filtered patients and of those who match the profile."
)
st.info(RESEARCH_NOTE, icon=":material/science:")
stop_if_empty(view)

with st.container(border=True):
    st.markdown("**The patient**")
    profile = profile_control(view, PAGE)
top = st.columns([3, 2])
with top[0]:
    chosen = covariate_control(view, PAGE, "os")
    st.caption("One covariate set for the OS, RFS, relapse and NRM models.")
with top[1]:
    match_on, windows = match_control(view, PAGE, chosen)
with st.expander("Reference levels and numeric covariates", expanded=False):
    specs = covariate_specs(view, PAGE, chosen)

models = session_memo(f"{PAGE}.models", (view.filters, tuple(specs)), lambda: fit_prediction_models(view.cohort, specs))
prediction = session_memo(f"{PAGE}.prediction", (view.filters, tuple(specs), tuple(profile.items()), tuple(match_on),
                                                 tuple(windows.items())),
                          lambda: predict_patient(models, profile, match_on, windows))

# ------------------------------------------------------------------ out of support
if prediction.warnings:
    with st.container(border=True):
        st.markdown("**Out of support: read these predictions with care**")
        for warning in prediction.warnings:
            st.warning(escape_markdown(warning), icon=":material/warning:")

# ------------------------------------------------------------------ survival
st.subheader("Survival")
for name, p in prediction.survival.items():
    if p.problem:
        st.warning(escape_markdown(f"No {name.upper()} prediction for this profile: {p.problem}"))
for sentence in prediction.sentences:
    st.markdown(escape_markdown(sentence))
show_figure(prediction_figure(prediction), key="patient_prediction")


def _landmark_rows() -> pd.DataFrame:
    rows = []
    for name, p in prediction.survival.items():
        matching = p.matching_km.survival_at(prediction.times) if p.matching_km is not None else None
        everyone = p.cohort_km.survival_at(prediction.times)
        for i, t in enumerate(prediction.times):
            predicted = p.at.iloc[i] if p.curve is not None else None
            rows.append({
                "Endpoint": name.upper(), "Time": landmark_label(t),
                "Predicted (95 % CI)": "–" if predicted is None else survival_text(predicted["survival"],
                                                                                  predicted["lower"],
                                                                                  predicted["upper"]),
                f"Matching patients (n = {prediction.n_matching})": "–" if matching is None else survival_text(
                    *matching.iloc[i][["survival", "lower", "upper"]]),
                f"All filtered patients (n = {view.n})": survival_text(*everyone.iloc[i][["survival", "lower",
                                                                                           "upper"]]),
                "At risk (all filtered)": int(everyone.iloc[i]["n_at_risk"]),
            })
    return pd.DataFrame(rows)


st.dataframe(_landmark_rows(), hide_index=True, width="stretch")
st.caption("Kaplan-Meier columns: log-log 95 % CI (R `survfit` default for reports). Predicted: log-scale CI "
           "(R `survfit.coxph` default). “Beyond follow-up”: later than the last patient followed.")

# ------------------------------------------------------------------ relapse and NRM
st.subheader("Relapse and non-relapse mortality")
if prediction.incidence is None:
    st.warning(escape_markdown(f"No relapse / NRM prediction for this profile: {prediction.incidence_problem}"))
show_figure(incidence_figure(prediction), key="patient_incidence")
st.caption("The RFS curve above comes from its own Cox model, relapse and NRM from the two cause-specific models: "
           "predicted RFS, relapse and NRM need not add up to 100 %.")
