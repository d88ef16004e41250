"""Relapse: cumulative incidence of relapse and NRM with Gray's test, patient states, relapse timing."""

from __future__ import annotations

import streamlit as st

from analysis.analyses.relapse import (
    CAUSES,
    STATES_METHOD,
    compare_relapse,
    format_gray_table,
    format_landmark_table,
)
from analysis.analyses.relapse_timing import BIN_WIDTHS, HSCT1_TO_RELAPSE, MODES, SCALES, TimingError, timing_histogram
from analysis.cohort.published import published_median_relapse_months
from analysis.figures.cif import CAUSE_TITLES, relapse_figures
from analysis.figures.timing import timing_figure
from analysis.reports.methods import cif_method
from analysis.stats.competing_risks import CompetingRisksError
from analysis.text import sentence
from ui.cache import published_targets, session_memo
from ui.controls import SAVED, compare_control, landmark_control, stop_if_empty
from ui.figures import figure_caption, show_figure, show_table
from ui.links import persist
from ui.state import get_view
from ui.view_options import min_count, page_controls

view = get_view()
st.title("Relapse and non-relapse mortality")
st.caption(
    "Relapse after HSCT2 and death without relapse compete: a patient who dies first can no longer relapse. "
    "Both are estimated as cumulative incidence (Aalen-Johansen), never as 1 − Kaplan-Meier, so that "
    "relapse-free survival + relapse incidence + NRM = 100 % at every time."
)
stop_if_empty(view)

left, right = page_controls("relapse").columns([2, 3])
with left:
    comparison = compare_control(view, "relapse")
with right:
    times = landmark_control("relapse.times", "Landmarks for the table (months)",
                             help="Cumulative incidence with 95 % CI at these times after HSCT2.")
hide = min_count(view)


def _estimate():
    estimates = compare_relapse(comparison)
    return estimates, relapse_figures(estimates, min_count=hide)


try:
    # Everything that depends only on the data, the filters and the comparison, not on the controls below.
    result, figures = session_memo("relapse", (view.filters, view.saved, st.session_state.get("relapse.compare"),
                                               hide), _estimate)
except CompetingRisksError as err:
    st.warning(f"Cumulative incidence cannot be estimated: {err}.")
    st.stop()
for g in result.empty:
    st.info(f"{g}: no patients, left out.")

st.subheader("Cumulative incidence of relapse and of non-relapse mortality")
caption = figure_caption(view, cif_method(gray=result.tests is not None), saved=comparison.by == SAVED)
for note in result.notes:
    st.info(note)
for tab, cause in zip(st.tabs([CAUSE_TITLES[c] for c in CAUSES]), CAUSES, strict=True):
    with tab:
        if cause in figures.problems:
            st.info(sentence(figures.problems[cause]))
        else:
            show_figure(figures.figures[cause], key=f"relapse_cif_{cause}", caption=caption)

if result.tests is not None:
    st.markdown("**Gray's test** (do the groups' cumulative incidences differ?)")
    show_table(format_gray_table(result.tests), "relapse_gray", view, caption,
               column_config={"χ²": st.column_config.NumberColumn(format="%.2f"),
                              "p": st.column_config.NumberColumn(format="%.4f")})
    if comparison.overlapping:
        st.warning("The saved cohorts share patients, so Gray's test (which assumes independent groups) "
                   "is not reported. The curves are still valid descriptions of each cohort.")

st.markdown("**At the landmarks**: cumulative incidence (95 % CI on the log(−log) scale, variance as R "
            "`cmprsk::timepoints`) and patients still at risk")
show_table(format_landmark_table(result, times), "relapse_landmarks", view, caption)

# ------------------------------------------------------------------ patient states
st.subheader("Where are the patients now?")
show_figure(figures.states_figure, key="relapse_states", caption=caption.with_method(
    "patient states from Aalen-Johansen CIR and NRM and Kaplan-Meier OS (stacked, see below)"))
if not result.states_split:
    st.info("These data carry one time and a cause code: whether a patient is alive after a relapse is unknown, "
            "so the split into alive / dead after relapse is unavailable and shown as one band, “relapsed”.")
with st.expander("How the four bands are estimated", expanded=False):
    st.markdown(STATES_METHOD + (" Clipping was needed somewhere in this view." if result.states_clipped
                                 else " No clipping was needed here."))

# ------------------------------------------------------------------ timing
st.subheader("When do relapses happen?")
c1, c2, c3 = page_controls("relapse_timing").columns(3)
with c1:
    persist("relapse.bin", 1, [1, 2, 3])
    bin_width = st.radio("Bin width (months)", [int(b) for b in BIN_WIDTHS], key="relapse.bin", horizontal=True)
with c2:
    persist("relapse.mode", "overlay", list(MODES))
    mode = st.radio("Groups", list(MODES), key="relapse.mode", horizontal=True,
                    format_func={"overlay": "Overlaid", "stack": "Stacked"}.get)
with c3:
    persist("relapse.scale", "count", list(SCALES))
    scale = st.radio("Bars show", list(SCALES), key="relapse.scale", horizontal=True,
                     format_func={"count": "Patients", "percent": "% of the group"}.get)

reference = published_median_relapse_months(published_targets()) if view.is_unfiltered_demo else None
try:
    hist = timing_histogram(comparison.frame, order=result.groups, bin_width=bin_width)
except TimingError as err:
    st.info(sentence(str(err)))
else:
    for note in hist.notes:
        st.info(note)
    show_figure(timing_figure(hist, mode=mode, scale=scale, reference=reference, min_count=hide),
                key="relapse_timing", caption=caption.with_method("histogram of the months from HSCT2 to relapse"))
    st.caption(
        "Among patients who relapsed after HSCT2; dashed lines mark each group's median (the plain median of "
        "the observed times, descriptive only: how many relapse is the cumulative incidence above)."
        + (f" Dotted line: the published median of {reference:g} months (Momm et al.)."
           if reference else "")
    )

if "months_hsct1_to_relapse" in view.full:
    st.markdown("**Time from HSCT1 to the relapse that led to HSCT2**")
    try:
        hist1 = timing_histogram(comparison.frame, interval=HSCT1_TO_RELAPSE, order=result.groups,
                                 bin_width=bin_width)
    except TimingError as err:
        st.info(sentence(str(err)))
    else:
        show_figure(timing_figure(hist1, mode=mode, scale=scale, min_count=hide), key="relapse_timing_hsct1",
                    caption=caption.with_method("histogram of the months from HSCT1 to the relapse before HSCT2"))
        st.caption("Shaded: relapse within 6 months of HSCT1 (early relapse), a known risk factor for HSCT2.")
