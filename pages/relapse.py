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
from analysis.figures.cif import CAUSE_TITLES, relapse_cause_figure, states_figure
from analysis.figures.timing import timing_figure
from analysis.reports.methods import cif_method
from analysis.stats.competing_risks import CompetingRisksError
from analysis.text import escape_markdown, sentence
from ui.cache import published_targets, session_memo
from ui.controls import SAVED, compare_control, landmark_control, section_tabs, stop_if_empty
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

with page_controls("relapse").columns([2, 3])[0]:
    comparison = compare_control(view, "relapse")
hide = min_count(view)
INCIDENCE, STATES, TIMING = "Cumulative incidence", "Patient states", "Relapse timing"
# What the estimates depend on besides the data: the filters, the saved cohorts, the comparison, disclosure.
_key = (view.filters, view.saved, st.session_state.get("relapse.compare"), hide)


def _estimates():
    """The curves, tests and states of the view, or None (with a message) when they cannot be estimated."""
    try:
        return session_memo("relapse", _key, lambda: compare_relapse(comparison))
    except CompetingRisksError as err:
        st.warning(escape_markdown(f"Cumulative incidence cannot be estimated: {err}."))
        return None


def _figure(name: str, build):
    """One figure of the open section, made when it is first shown (the others cost nothing)."""
    return session_memo("relapse.figures", (*_key, name), build)


def _incidence(result, caption) -> None:
    for g in result.empty:
        st.info(escape_markdown(f"{g}: no patients, left out."))
    for note in result.notes:
        st.info(escape_markdown(note))
    causes = {CAUSE_TITLES[c]: c for c in CAUSES}
    title, tab = section_tabs("relapse.cause", list(causes))
    cause = causes[title]
    with tab:
        try:
            figure = _figure(f"cif{cause}", lambda: relapse_cause_figure(result, cause, min_count=hide))
        except CompetingRisksError as err:
            st.info(escape_markdown(sentence(str(err))))
        else:
            show_figure(figure, key=f"relapse_cif_{cause}", caption=caption)
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
    with page_controls("relapse_landmarks").columns([2, 3])[0]:
        times = landmark_control("relapse.times", "Landmarks for the table (months)",
                                 help="Cumulative incidence with 95 % CI at these times after HSCT2.")
    show_table(format_landmark_table(result, times), "relapse_landmarks", view, caption)


def _states(result, caption) -> None:
    st.markdown("**Where are the patients now?**")
    figure = _figure("states", lambda: states_figure(result.states, min_count=hide))
    show_figure(figure, key="relapse_states", caption=caption.with_method(
        "patient states from Aalen-Johansen CIR and NRM and Kaplan-Meier OS (stacked, see below)"))
    if not result.states_split:
        st.info("These data carry one time and a cause code: whether a patient is alive after a relapse is "
                "unknown, so the split into alive / dead after relapse is unavailable and shown as one band, "
                "“relapsed”.")
    with st.expander("How the four bands are estimated", expanded=False):
        st.markdown(STATES_METHOD + (" Clipping was needed somewhere in this view." if result.states_clipped
                                     else " No clipping was needed here."))


def _timing(caption) -> None:
    st.markdown("**When do relapses happen?**")
    c1, c2, c3 = page_controls("relapse_timing").columns(3)
    with c1:
        persist("relapse.bin", 1, [1, 2, 3])
        bin_width = st.radio("Bin width (months)", [int(b) for b in BIN_WIDTHS], key="relapse.bin",
                             horizontal=True)
    with c2:
        persist("relapse.mode", "overlay", list(MODES))
        mode = st.radio("Groups", list(MODES), key="relapse.mode", horizontal=True,
                        format_func={"overlay": "Overlaid", "stack": "Stacked"}.get)
    with c3:
        persist("relapse.scale", "count", list(SCALES))
        scale = st.radio("Bars show", list(SCALES), key="relapse.scale", horizontal=True,
                         format_func={"count": "Patients", "percent": "% of the group"}.get)
    order = [g for g, rows in comparison.positions() if len(rows)]
    reference = published_median_relapse_months(published_targets()) if view.is_unfiltered_demo else None
    try:
        hist = timing_histogram(comparison.frame, order=order, bin_width=bin_width)
    except TimingError as err:
        st.info(escape_markdown(sentence(str(err))))
    else:
        for note in hist.notes:
            st.info(escape_markdown(note))
        show_figure(timing_figure(hist, mode=mode, scale=scale, reference=reference, min_count=hide),
                    key="relapse_timing", caption=caption.with_method("histogram of the months from HSCT2 to relapse"))
        st.caption(
            "Among patients who relapsed after HSCT2; dashed lines mark each group's median (the plain median of "
            "the observed times, descriptive only: how many relapse is told by the cumulative incidence)."
            + (f" Dotted line: the published median of {reference:g} months (Momm et al.)." if reference else "")
        )
    if "months_hsct1_to_relapse" in view.full:
        st.markdown("**Time from HSCT1 to the relapse that led to HSCT2**")
        try:
            hist1 = timing_histogram(comparison.frame, interval=HSCT1_TO_RELAPSE, order=order, bin_width=bin_width)
        except TimingError as err:
            st.info(escape_markdown(sentence(str(err))))
        else:
            show_figure(timing_figure(hist1, mode=mode, scale=scale, min_count=hide), key="relapse_timing_hsct1",
                        caption=caption.with_method("histogram of the months from HSCT1 to the relapse before HSCT2"))
            st.caption("Shaded: relapse within 6 months of HSCT1 (early relapse), a known risk factor for HSCT2.")


caption = figure_caption(view, cif_method(), saved=comparison.by == SAVED)
section, body = section_tabs("relapse.section", [INCIDENCE, STATES, TIMING])
with body:
    if section == TIMING:
        _timing(caption)
    elif (result := _estimates()) is not None:
        if section == INCIDENCE:
            _incidence(result, caption.with_method(cif_method(gray=result.tests is not None)))
        else:
            _states(result, caption)
