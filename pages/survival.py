"""Survival: Kaplan-Meier overlays of OS or RFS with log-rank tests, medians and landmarks."""

from __future__ import annotations

import streamlit as st

from analysis.analyses.survival import (
    CI_LABELS,
    WEIGHT_LABELS,
    WEIGHTS,
    chi2_text,
    compare_survival,
    figure_subtitle,
    format_landmark_table,
    format_median_table,
    format_pairwise_table,
    format_test_table,
)
from analysis.cohort.model import ENDPOINT_NAMES, survival_endpoints
from analysis.figures.curves import curve_figure, kaplan_meier_curve
from analysis.reports.methods import km_method
from analysis.stats.kaplan_meier import CONF_TYPES, SurvivalDataError
from analysis.text import escape_markdown, group_text, months_text
from ui.cache import session_memo
from ui.controls import SAVED, compare_control, landmark_control, stop_if_empty
from ui.figures import figure_caption, published_references, show_figure, show_table
from ui.links import persist
from ui.state import get_view
from ui.view_options import min_count, page_controls

UNITS = ["months", "years"]

view = get_view()
st.title("Survival")
st.caption(
    "Kaplan-Meier estimates from the day of HSCT2, with 95 % pointwise confidence intervals (Greenwood), "
    "the number at risk under the plot, and log-rank tests between groups. Numbers equal R `survival` "
    "(`survfit`, `survdiff`)."
)
stop_if_empty(view)

# ------------------------------------------------------------------ controls
endpoints = survival_endpoints(view.full)
controls = page_controls("survival")
top = controls.columns([1.4, 2, 2])
with top[0]:
    persist("survival.endpoint", endpoints[0], endpoints)
    ep_name = st.radio("Endpoint", endpoints, key="survival.endpoint", horizontal=True,
                       format_func=lambda e: e.upper(), help="OS: death. RFS: relapse or death. GRFS: also GVHD.")
with top[1]:
    comparison = compare_control(view, "survival")
with top[2]:
    times = landmark_control("survival.times", "Landmarks (months)",
                             help="Survival with 95 % CI and number at risk at these times after HSCT2.")

with controls.expander("Figure and test options", expanded=False):
    col1, col2, col3 = st.columns(3)
    with col1:
        persist("survival.unit", "months", UNITS)
        unit = st.radio("Time axis in", UNITS, key="survival.unit", horizontal=True)
        persist("survival.ci", "log-log", list(CONF_TYPES))
        conf_type = st.selectbox("Confidence interval scale", list(CONF_TYPES), key="survival.ci",
                                 format_func=lambda c: CI_LABELS[c])
    with col2:
        persist("survival.band", True)
        ci_band = st.checkbox("Show confidence bands", key="survival.band")
        persist("survival.events", False)
        cumulative_events = st.checkbox("Cumulative events in the risk table", key="survival.events")
        persist("survival.fade", 5, list(range(0, 101)))
        fade_below = st.number_input("Fade the tail below this many at risk (0: never)", min_value=0,
                                     max_value=100, step=1, key="survival.fade")
    with col3:
        persist("survival.test", "logrank", list(WEIGHTS))
        weights = st.selectbox("Test weights", list(WEIGHTS), key="survival.test",
                               format_func=lambda w: WEIGHT_LABELS[w],
                               help="Fleming-Harrington G(p, q): weights S(t−)^p (1 − S(t−))^q of the "
                                    "pooled Kaplan-Meier. FH(0, 0) is the log-rank test, FH(1, 0) R's "
                                    "survdiff(rho = 1).")
        persist("survival.trend", False)
        want_trend = st.checkbox("Test for trend across ordered groups", key="survival.trend",
                                 help="For ordered groups (e.g. age bands): scores 1, 2, … in the legend order.")

# ------------------------------------------------------------------ estimates
rho, gamma = WEIGHTS[weights]
try:
    # Depends on the data, the filters and these controls only: the figure options below reuse it.
    result = session_memo(
        "survival", (view.filters, view.saved, st.session_state.get("survival.compare"), ep_name, conf_type,
                     weights, want_trend),
        lambda: compare_survival(comparison, ep_name, cohort=view.cohort if comparison.by != SAVED else None,
                                 conf_type=conf_type, rho=rho, gamma=gamma, trend=want_trend))
except SurvivalDataError as err:
    st.warning(escape_markdown(f"Survival cannot be estimated: {err}."))
    st.stop()
for group, problem in result.problems.items():
    st.warning(escape_markdown(f"{group}: {problem}."))
for group in result.empty:
    st.info(escape_markdown(f"{group}: no patients, left out."))
if not result.curves:
    st.warning("No group has patients to estimate survival for.")
    st.stop()

# ------------------------------------------------------------------ figure
references, references_note = published_references(view, comparison.by, ep_name)
title = ENDPOINT_NAMES[ep_name] + ("" if comparison.by is None else f" by {comparison.label.lower()}")
fig = curve_figure(
    [kaplan_meier_curve(km, group_text(km.label)) for km in result.curves], y_title=ENDPOINT_NAMES[ep_name],
    title=title, subtitle=figure_subtitle(result), time_unit=unit, ci_band=ci_band,
    cumulative_events=cumulative_events, fade_below=int(fade_below) or None, reference_markers=references,
    reference_label="Published (Momm et al.), all patients", legend_title=comparison.label if comparison.by else None,
    min_count=min_count(view),
)
test_name = result.test.method if result.test is not None else None
method = km_method(conf_type, test_name, trend=result.trend is not None)
caption = figure_caption(view, method, saved=comparison.by == SAVED)
show_figure(fig, key="survival_figure", caption=caption)
if references_note:
    st.caption(references_note)
if result.note:
    st.warning(escape_markdown(result.note))

# ------------------------------------------------------------------ tables
left, right = st.columns(2)
with left:
    st.markdown(f"**Median {ENDPOINT_NAMES[ep_name].lower()}** (months, 95 % CI as R `quantile.survfit`)")
    show_table(format_median_table(result), "survival_medians", view, caption.with_method(
        f"median {ENDPOINT_NAMES[ep_name].lower()}, 95 % CI as R quantile.survfit"))
    st.caption(f"Median follow-up by reverse Kaplan-Meier (censoring as the event): "
               f"{months_text(result.followup_median)} months overall.")
with right:
    st.markdown("**At the landmarks** (survival with 95 % CI, number at risk)")
    show_table(format_landmark_table(result, times), "survival_landmarks", view, caption)

if result.test is not None:
    st.markdown(f"**{result.test.method} test**: {chi2_text(result.test)}")
    show_table(format_test_table(result.test), "survival_test", view, caption)
    if weights != "logrank":
        st.caption("Observed and expected are weighted sums, as R `survdiff(rho = )` reports them.")
if result.trend is not None:
    st.markdown(f"**Test for trend** (scores 1–{len(result.curves)} in legend order): {chi2_text(result.trend)}")
elif result.trend_note:
    st.caption(result.trend_note)
if result.pairwise is not None:
    st.markdown("**Pairwise comparisons** (Holm-adjusted p)")
    show_table(format_pairwise_table(result.pairwise), "survival_pairwise", view, caption)
