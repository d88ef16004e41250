"""GVHD & DLI: incidence of acute and chronic GVHD, and their effect on outcome without immortal-time bias."""

from __future__ import annotations

import streamlit as st

from analysis.cohort.post_transplant import time_dependent_events
from ui.controls import stop_if_empty
from ui.post_transplant import incidence_section, landmark_section, model_controls, time_dependent_section
from ui.state import get_view

view = get_view()
st.title("GVHD and DLI after HSCT2")
st.caption(
    "Events after the transplant: acute GVHD (by grade), chronic GVHD and donor lymphocyte infusions. Their "
    "incidence counts death without the event as a competing risk (Aalen-Johansen, Gray's test; R `cmprsk`). "
    "Their effect on outcome is estimated as a time-dependent covariate or from a landmark, never as an “ever "
    "had it” baseline covariate (immortal-time bias)."
)
stop_if_empty(view)
events = time_dependent_events(view.full)
if not events:
    st.info("These data have no fields for events after HSCT2 (acute or chronic GVHD, DLI) with their times. "
            "Map them on the Data page: the data dictionary lists them.")
    st.stop()

st.subheader("Cumulative incidence of GVHD")
incidence_section(view)

st.subheader("Effect on outcome: time-dependent Cox model")
endpoint, chosen, specs = model_controls(view, events)
if not chosen:
    st.info("Choose at least one event after HSCT2.")
    st.stop()
time_dependent_section(view, endpoint, chosen, specs)

st.subheader("Landmark analysis")
st.caption("The patients still at risk at the landmark, grouped by whether the event had happened by then; "
           "Kaplan-Meier, log-rank test and Cox model from the landmark on, as R on that subset.")
landmark_section(view, endpoint, chosen, specs)
