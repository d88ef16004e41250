"""The GVHD & DLI view's sections: incidence, time-dependent Cox, landmark analysis.

Widget keys (kept in the share link): ``gvhd.compare``, ``gvhd.incidence``, ``gvhd.times``,
``gvhd.endpoint``, ``gvhd.events``, ``gvhd.covariates``, ``gvhd.naive``, ``gvhd.landmark``, ``gvhd.landmark_event``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from analysis.analyses.models import covariate_spec
from analysis.analyses.post_transplant import gvhd_incidence, landmark_analysis, time_dependent_cox
from analysis.cohort.model import ENDPOINT_NAMES, CohortError, label, survival_endpoints
from analysis.cohort.post_transplant import EVENT_NAMES, GVHD_ENDPOINT_NAMES, available_gvhd_endpoints
from analysis.figures.forest import forest_figure, forest_table
from analysis.figures.post_transplant import gvhd_figure, landmark_figure
from analysis.stats.competing_risks import CompetingRisksError
from analysis.text import cif_text, escape_markdown, group_text, hazard_ratio_text, p_cell, p_value
from ui.cache import session_memo
from ui.controls import compare_control, landmark_control, months_control
from ui.figures import figure_caption, show_figure, show_table
from ui.links import persist
from ui.model_controls import available_covariates
from ui.state import View
from ui.view_options import min_count, page_controls

LANDMARKS = [3.0, 6.0, 12.0, 24.0]


def incidence_section(view: View) -> None:
    """Cumulative incidence of aGVHD II–IV / III–IV and cGVHD per group, with Gray's test and landmarks."""
    endpoints = available_gvhd_endpoints(view.full)
    if not endpoints:
        st.info("These data have no GVHD fields with their times: no incidence to show.")
        return
    left, mid, right = page_controls("gvhd_incidence").columns([2, 2, 3])
    with left:
        persist("gvhd.incidence", endpoints[0], endpoints)
        which = st.radio("GVHD", endpoints, key="gvhd.incidence", format_func=lambda e: GVHD_ENDPOINT_NAMES[e])
    with mid:
        comparison = compare_control(view, "gvhd")
    with right:
        times = landmark_control("gvhd.times", "Landmarks (months)", help="Cumulative incidence at these times.")
    try:
        result = session_memo("gvhd.incidence", (view.filters, view.saved, which,
                                                 st.session_state.get("gvhd.compare")),
                              lambda: gvhd_incidence(comparison, which))
    except (CohortError, CompetingRisksError) as err:
        st.warning(escape_markdown(err))
        return
    for note in result.notes:
        st.info(escape_markdown(note))
    if result.test_note:
        st.caption(f"Gray's test: {escape_markdown(result.test_note)}.")
    caption = figure_caption(view, "Aalen-Johansen cumulative incidence, death without GVHD competing; Gray's "
                                   "test (R cmprsk::cuminc)", saved=comparison.by == "saved cohorts")
    try:
        show_figure(gvhd_figure(result, legend_title=comparison.label if comparison.by else None,
                                min_count=min_count(view)), key="gvhd_cif", caption=caption)
    except CompetingRisksError as err:
        st.info(escape_markdown(err))
    rows = []
    for group, fit in result.fits.items():
        at = fit.cif_at(times)
        at = at[at["cause"] == 1]
        rows.append({"Group": group_text(group), "n": fit.n, "Events": fit.events[1],
                     "Deaths": fit.events[2],  # deaths without this GVHD, the competing event
                     **{f"{t:g} months": cif_text(c, lo, hi, n) for t, c, lo, hi, n in
                        zip(at["time"], at["cif"], at["lower"], at["upper"], at["n_at_risk"], strict=True)}})
    show_table(pd.DataFrame(rows), "gvhd_incidence", view, caption)
    st.caption("Events: patients with this GVHD; deaths: deaths without it (the competing event).")


def _baseline_specs(view: View, page_key: str) -> list:
    available = [c for c in available_covariates(view) if c != "centre"]
    persist(page_key, [], available)
    chosen = st.multiselect("Adjust for (baseline covariates)", available, key=page_key, format_func=label)
    return [covariate_spec(view.full, c, standard_reference=True) for c in chosen]


def model_controls(view: View, events: Sequence[str]) -> tuple[str, list[str], list]:
    """Endpoint, the events as time-dependent covariates, and baseline covariates to adjust for."""
    endpoints = [*survival_endpoints(view.full), "relapse", "nrm"]
    c1, c2, c3 = page_controls("gvhd_model").columns([2, 2, 3])
    with c1:
        persist("gvhd.endpoint", endpoints[0], endpoints)
        endpoint = st.selectbox("Endpoint", endpoints, key="gvhd.endpoint", format_func=lambda e: ENDPOINT_NAMES[e])
    with c2:
        persist("gvhd.events", list(events[:1]), list(events))
        chosen = st.multiselect("Events after HSCT2", list(events), key="gvhd.events",
                                format_func=lambda e: EVENT_NAMES[e])
    with c3:
        specs = _baseline_specs(view, "gvhd.covariates")
    return endpoint, chosen, specs


def time_dependent_section(view: View, endpoint: str, events: list[str], specs: list) -> None:
    """The time-dependent Cox model (default) and, on request, the naive baseline model with its warning."""
    persist("gvhd.naive", False)
    naive = page_controls("gvhd_naive").checkbox(
        "Also show the naive model with “ever had it” as a baseline covariate (biased)", key="gvhd.naive")
    result = session_memo("gvhd.td", (view.filters, endpoint, tuple(events), tuple(specs), naive),
                          lambda: time_dependent_cox(view.cohort, endpoint, events, specs, baseline=naive))
    for note in result.notes:
        st.info(escape_markdown(note))
    if result.model is None:
        st.warning(f"The time-dependent model cannot be fitted: {escape_markdown(result.problem)}")
        return
    for warning in result.model.warnings:
        st.warning(escape_markdown(warning))
    switched = ", ".join(f"{EVENT_NAMES[e]} in {n}" for e, n in result.switched.items())
    fig = forest_figure(forest_table({"Time-dependent Cox": result.model}, order=events),
                        title=f"{ENDPOINT_NAMES[endpoint]}: events after HSCT2 as time-dependent covariates",
                        subtitle=f"{result.n_patients} patients in {result.rows} (start, stop] rows; "
                                 f"switched on: {switched}", min_count=min_count(view))
    caption = figure_caption(view, "Cox model with time-dependent covariates, Efron ties (R coxph on tmerge rows)")
    show_figure(fig, key="gvhd_td_forest", caption=caption)
    st.caption("Each event is 0 until its onset and 1 afterwards (R `coxph(Surv(tstart, tstop, event) ~ ...)` "
               "on `tmerge` rows); n and events per level count rows. LR test: "
               f"χ² = {result.model.lr_test.statistic:.2f}, df = {result.model.lr_test.df}, "
               f"{p_value(result.model.lr_test.p)}.")
    if naive:
        for warning in result.warnings:
            st.error(warning)
        if result.baseline is not None:
            s = result.baseline.summary
            names = [f"{result.baseline.design.label_of(c)}: {lvl}" if isinstance(lvl, str) else
                     result.baseline.design.label_of(c) for c, lvl in zip(s["covariate"], s["level"], strict=True)]
            show_table(pd.DataFrame({"Term": names, "HR (95 % CI), biased": [
                hazard_ratio_text(h, lo, hi) for h, lo, hi in zip(s["hr"], s["lower"], s["upper"], strict=True)],
                "p": s["p"].map(p_cell)}), "gvhd_naive", view,
                caption.with_method("Cox model with “ever had it” at baseline: immortal-time biased"))


def landmark_section(view: View, endpoint: str, events: Sequence[str], specs: list) -> None:
    """Survival from a landmark by the status of one event at it."""
    c1, c2 = page_controls("gvhd_landmark").columns(2)
    with c1:
        landmark = months_control("gvhd.landmark", "Landmark (months after HSCT2)", LANDMARKS, 6.0)
    with c2:
        persist("gvhd.landmark_event", events[0], list(events))
        event = st.selectbox("Grouped by", list(events), key="gvhd.landmark_event",
                             format_func=lambda e: f"{EVENT_NAMES[e]} by the landmark")
    result = session_memo("gvhd.landmark", (view.filters, endpoint, event, landmark, tuple(specs)),
                          lambda: landmark_analysis(view.cohort, endpoint, event, landmark, specs))
    st.caption(f"{result.n} patients still at risk after month {landmark:g} ({result.excluded} had the endpoint "
               "or were censored before and are left out), followed from the landmark.")
    for name, problem in result.problems.items():
        st.info(f"{escape_markdown(name)}: {escape_markdown(problem)}")
    if len(result.curves):
        show_figure(landmark_figure(result, min_count=min_count(view)), key="gvhd_landmark",
                    caption=figure_caption(view, f"Landmark analysis at {landmark:g} months: Kaplan-Meier, log-rank "
                                                 "and Cox model from the landmark (R survfit, survdiff, coxph)"))
    if result.model is not None:
        s = result.model.summary.iloc[0]
        name = f"{EVENT_NAMES[event]} by month {landmark:g}"
        st.markdown(f"**Cox model from the landmark**: {name[0].upper()}{name[1:]}: HR "
                    f"{hazard_ratio_text(s['hr'], s['lower'], s['upper'])}, {p_value(s['p'])}"
                    + (" (adjusted)" if specs else ""))
