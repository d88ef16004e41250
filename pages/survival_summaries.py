"""RMST & conditional: restricted mean survival time to a horizon, and survival given alive (event-free) at s."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.analyses.survival_summaries import (
    NICE_HORIZONS,
    conditional_comparison,
    default_horizon,
    rmst_comparison,
)
from analysis.cohort.model import ENDPOINT_NAMES, survival_endpoints
from analysis.figures.post_transplant import conditional_figure, rmst_figure
from analysis.text import escape_markdown, group_text, survival_text
from ui.cache import session_memo
from ui.controls import SAVED, compare_control, landmark_control, months_control, stop_if_empty
from ui.figures import figure_caption, show_figure, show_table
from ui.links import persist
from ui.state import get_view
from ui.survival_summaries import RMST_METHOD, show_rmst
from ui.view_options import min_count, page_controls

GIVEN = [3.0, 6.0, 12.0, 24.0, 36.0, 60.0]

view = get_view()
st.title("Restricted mean survival and conditional survival")
st.caption(
    "Two summaries that need no proportional hazards: the restricted mean survival time (RMST), the mean months "
    "lived (event-free) within a horizon, and the survival of patients who are already alive (and event-free) "
    "some months after HSCT2. Numbers equal R `survival`."
)
stop_if_empty(view)

endpoints = survival_endpoints(view.full)
top = page_controls("survival_summaries").columns([1, 2])
with top[0]:
    persist("survival_summaries.endpoint", endpoints[0], endpoints)
    ep = st.radio("Endpoint", endpoints, key="survival_summaries.endpoint", format_func=lambda e: e.upper(),
                  horizontal=True,
                  help="OS: death. RFS: relapse or death. GRFS: also grade III–IV aGVHD and systemic cGVHD.")
with top[1]:
    comparison = compare_control(view, "survival_summaries")
groups = (view.filters, view.saved, st.session_state.get("survival_summaries.compare"))

# ------------------------------------------------------------------ RMST
st.subheader(f"Restricted mean survival time: {ENDPOINT_NAMES[ep]}")
suggested = default_horizon(comparison, ep)
horizons = sorted({*NICE_HORIZONS, suggested})
persist("survival_summaries.tau", suggested, horizons)
tau = page_controls("survival_summaries_tau").select_slider(
    "Horizon τ (months)", horizons, key="survival_summaries.tau",
    help="Suggested: the longest round horizon at which every group still has patients at risk.")
rmst = session_memo("survival_summaries.rmst", (*groups, ep, tau),
                    lambda: rmst_comparison(comparison, ep, tau))
if comparison.overlapping:
    st.warning("The saved cohorts share patients: their RMSTs are shown, but no differences (they assume "
               "independent groups).")
if rmst.curves:
    show_figure(rmst_figure(rmst, legend_title=comparison.label if comparison.by else None, min_count=min_count(view)),
                key="survival_summaries_rmst", caption=figure_caption(view, RMST_METHOD, saved=comparison.by == SAVED))
show_rmst(rmst, view, "survival_summaries_rmst_table")

# ------------------------------------------------------------------ conditional survival
st.subheader("Conditional survival")
left, right = page_controls("survival_summaries_given").columns(2)
with left:
    given = months_control("survival_summaries.given", "Given alive (and event-free) at", GIVEN, 12.0)
with right:
    times = landmark_control("survival_summaries.times", "Months since HSCT2 for the table",
                             help="Conditional survival at these times (those after the conditioning month).")
result = session_memo("survival_summaries.conditional", (*groups, ep, given),
                      lambda: conditional_comparison(comparison, ep, given))
for group, problem in result.problems.items():
    st.info(f"{escape_markdown(group)}: {escape_markdown(problem)}.")
if result.curves:
    caption = figure_caption(view, f"Kaplan-Meier of the patients at risk after month {given:g} (R survfit, "
                                   "subset = time > s)", saved=comparison.by == SAVED)
    show_figure(conditional_figure(result, legend_title=comparison.label if comparison.by else None,
                                   min_count=min_count(view)), key="survival_summaries_conditional", caption=caption)
    at = result.at(times)
    show_table(pd.DataFrame({
        "Group": at["group"].map(group_text), "Month": at["time"].map(lambda t: f"{t:g}"),
        "Survival given event-free (95 % CI)": [survival_text(s, lo, hi) for s, lo, hi in
                                                zip(at["survival"], at["lower"], at["upper"], strict=True)],
        "At risk": at["n_at_risk"]}), "survival_summaries_conditional_table", view, caption)
    st.caption(f"The Kaplan-Meier estimate of the patients still at risk after month {given:g} (R `survfit(..., "
               f"subset = time > {given:g})`); months in the table count from HSCT2.")
