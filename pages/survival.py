"""Survival: Kaplan-Meier overlays of OS or RFS with log-rank tests, medians and landmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis.cohort import ENDPOINT_NAMES, endpoint, has_overall_survival
from analysis.curve_figure import ReferenceMarker, curve_figure, kaplan_meier_curve
from analysis.grouping import ALL
from analysis.headline import published_survival
from analysis.kaplan_meier import (
    CONF_TYPES,
    SurvivalDataError,
    fit_kaplan_meier,
    landmark_table,
    median_followup,
    median_table,
)
from analysis.logrank import (
    LogRankError,
    format_p,
    logrank_caption,
    logrank_test,
    logrank_trend_test,
    pairwise_logrank,
)
from pages._context import SAVED, compare_control, get_view, persist, stop_if_empty

LANDMARKS = ["3", "6", "12", "18", "24", "36", "48", "60", "120"]
UNITS = ["months", "years"]
WEIGHTS = {"logrank": (0.0, 0.0), "fh10": (1.0, 0.0), "fh01": (0.0, 1.0), "fh11": (1.0, 1.0)}
WEIGHT_LABELS = {
    "logrank": "Log-rank (equal weights)",
    "fh10": "Peto-Peto, FH(1, 0): early differences",
    "fh01": "Fleming-Harrington (0, 1): late differences",
    "fh11": "Fleming-Harrington (1, 1): middle",
}
CI_LABELS = {"log-log": "log-log (R default for reports)", "log": "log", "plain": "plain (linear)"}

view = get_view()
st.title("Survival")
st.caption(
    "Kaplan-Meier estimates from the day of HSCT2, with 95 % pointwise confidence intervals (Greenwood), "
    "the number at risk under the plot, and log-rank tests between groups. Numbers equal R `survival` "
    "(`survfit`, `survdiff`)."
)
stop_if_empty(view)

# ------------------------------------------------------------------ controls
endpoints = ["os", "rfs"] if has_overall_survival(view.full) else ["rfs"]
top = st.columns([1, 2, 2])
with top[0]:
    persist("survival.endpoint", endpoints[0], endpoints)
    ep_name = st.radio("Endpoint", endpoints, key="survival.endpoint", horizontal=True,
                       format_func=lambda e: e.upper(), help="OS: death from any cause. RFS: relapse or death.")
with top[1]:
    comparison = compare_control(view, "survival")
with top[2]:
    persist("survival.times", ["12", "24", "60"], LANDMARKS)
    chosen = st.multiselect("Landmarks (months)", LANDMARKS, key="survival.times",
                            help="Survival with 95 % CI and number at risk at these times after HSCT2.")
times = sorted(float(t) for t in chosen) or [12.0, 24.0, 60.0]

with st.expander("Figure and test options", expanded=False):
    col1, col2, col3 = st.columns(3)
    with col1:
        persist("survival.unit", "months", UNITS)
        unit = st.radio("Time axis in", UNITS, key="survival.unit", horizontal=True)
        persist("survival.ci", "log-log", list(CONF_TYPES))
        conf_type = st.selectbox("Confidence interval scale", list(CONF_TYPES), key="survival.ci",
                                 format_func=CI_LABELS.get)
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
        weights = st.selectbox("Test weights", list(WEIGHTS), key="survival.test", format_func=WEIGHT_LABELS.get,
                               help="Fleming-Harrington G(p, q): weights S(t−)^p (1 − S(t−))^q of the "
                                    "pooled Kaplan-Meier. FH(0, 0) is the log-rank test, FH(1, 0) R's "
                                    "survdiff(rho = 1).")
        persist("survival.trend", False)
        want_trend = st.checkbox("Test for trend across ordered groups", key="survival.trend",
                                 help="For ordered groups (e.g. age bands): scores 1, 2, … in the legend order.")

# ------------------------------------------------------------------ estimates
curves, empty = [], []
for group, rows in comparison.groups():
    if not len(rows):
        empty.append(group)
        continue
    ep = endpoint(rows, ep_name)
    try:
        curves.append(fit_kaplan_meier(ep.time, ep.event, conf_type=conf_type,
                                       label="All patients" if group == ALL else group))
    except SurvivalDataError as err:
        st.warning(f"{group}: {err}.")
for group in empty:
    st.info(f"{group}: no patients, left out.")
if not curves:
    st.warning("No group has patients to estimate survival for.")
    st.stop()

test = trend = pairwise = None
test_note = None
if len(curves) > 1:
    if comparison.overlapping:
        test_note = ("The saved cohorts share patients, so tests between them (which assume independent "
                     "groups) are not reported. The curves are still valid descriptions of each cohort.")
    else:
        everyone = endpoint(comparison.frame, ep_name)
        labels = comparison.frame["group"].to_numpy()
        order = [g for g in comparison.order if g not in empty]
        rho, gamma = WEIGHTS[weights]
        try:
            test = logrank_test(everyone.time, everyone.event, labels, rho=rho, gamma=gamma, order=order)
            if len(curves) > 2:
                pairwise = pairwise_logrank(everyone.time, everyone.event, labels, rho=rho, gamma=gamma,
                                            order=order)
            if want_trend and len(curves) > 2:
                trend = logrank_trend_test(everyone.time, everyone.event, labels, order=order)
        except LogRankError as err:
            test_note = f"The groups cannot be compared: {err}."

# ------------------------------------------------------------------ figure
references = None
if view.is_unfiltered_demo and comparison.by != SAVED:
    published = published_survival().get(ep_name, {})
    references = [ReferenceMarker(t, v, f"{t / 12:g} year(s)") for t, v in sorted(published.items())]
subtitle_parts = [logrank_caption(test)] if test is not None else []
if trend is not None:
    subtitle_parts.append(f"trend: χ² = {trend.statistic:.2f}, df = 1, {format_p(trend.p)}")
subtitle = " · ".join(subtitle_parts) or None
title = ENDPOINT_NAMES[ep_name] + ("" if comparison.by is None else f" by {comparison.label.lower()}")
fig = curve_figure(
    [kaplan_meier_curve(km) for km in curves], y_title=ENDPOINT_NAMES[ep_name], title=title, subtitle=subtitle,
    time_unit=unit, ci_band=ci_band, cumulative_events=cumulative_events, fade_below=int(fade_below) or None,
    reference_markers=references, reference_label="Published (Momm et al.), all patients",
    legend_title=comparison.label if comparison.by else None,
)
# theme=None: the figure keeps its own slide styling (fonts, colours) instead of Streamlit's theme.
st.plotly_chart(fig, width="stretch", key="survival_figure", theme=None)
if references:
    st.caption("Open diamonds: the paper's published estimates for all 75 patients at 1, 2 and 5 years.")
if test_note:
    st.warning(test_note)

# ------------------------------------------------------------------ tables


def _months(x: float) -> str:
    return "not reached" if not np.isfinite(x) else f"{x:.1f}"


def _median_text(m: float, lo: float, hi: float) -> str:
    if not np.isfinite(m):
        return "not reached"
    return f"{m:.1f} ({'–' if not np.isfinite(lo) else f'{lo:.1f}'}–{_months(hi)})"


def _survival_text(s: float, lo: float, hi: float) -> str:
    if not np.isfinite(s):
        return "beyond follow-up"
    if not (np.isfinite(lo) and np.isfinite(hi)):  # S = 1 or 0: log-log CI undefined
        return f"{100 * s:.1f} %"
    return f"{100 * s:.1f} % ({100 * lo:.1f}–{100 * hi:.1f})"


def _p(p: float) -> str:
    return "–" if not np.isfinite(p) else "< 0.001" if p < 0.001 else f"{p:.3f}"


left, right = st.columns(2)
with left:
    st.markdown("**Median survival** (months, 95 % CI as R `quantile.survfit`)")
    med = median_table(curves)
    st.dataframe(pd.DataFrame({
        "Group": med["group"], "n": med["n"], "Events": med["events"],
        "Median (95 % CI)": [_median_text(m, lo, hi) for m, lo, hi in
                             zip(med["median"], med["median_lower"], med["median_upper"], strict=True)],
        "Median follow-up": med["followup_median"].map(_months),
    }), hide_index=True, width="stretch")
    all_ep = endpoint(view.cohort if comparison.by != SAVED else comparison.frame, ep_name)
    st.caption(f"Median follow-up by reverse Kaplan-Meier (censoring as the event): "
               f"{_months(median_followup(all_ep.time, all_ep.event))} months overall.")
with right:
    st.markdown("**At the landmarks** (survival with 95 % CI, number at risk)")
    lm = landmark_table(curves, times)
    st.dataframe(pd.DataFrame({
        "Group": lm["group"], "Month": lm["time"].map(lambda t: f"{t:g}"),
        "Survival (95 % CI)": [_survival_text(s, lo, hi)
                               for s, lo, hi in zip(lm["survival"], lm["lower"], lm["upper"], strict=True)],
        "At risk": lm["n_at_risk"],
    }), hide_index=True, width="stretch")

if test is not None:
    st.markdown(f"**{test.method} test**: χ² = {test.statistic:.2f}, df = {test.df}, {format_p(test.p)}")
    tab = test.table
    st.dataframe(pd.DataFrame({
        "Group": tab["group"], "n": tab["n"], "Observed": tab["observed"].round(2),
        "Expected": tab["expected"].round(2), "O/E": (tab["observed"] / tab["expected"]).round(2),
    }), hide_index=True, width="stretch")
    if weights != "logrank":
        st.caption("Observed and expected are weighted sums, as R `survdiff(rho = )` reports them.")
if trend is not None:
    st.markdown(f"**Test for trend** (scores 1–{len(curves)} in legend order): "
                f"χ² = {trend.statistic:.2f}, df = 1, {format_p(trend.p)}")
elif want_trend and len(curves) <= 2:
    st.caption("The trend test needs at least three ordered groups; with two it equals the log-rank test.")
if pairwise is not None:
    st.markdown("**Pairwise comparisons** (Holm-adjusted p)")
    st.dataframe(pd.DataFrame({
        "Group 1": pairwise["group1"], "Group 2": pairwise["group2"], "χ²": pairwise["statistic"].round(2),
        "p": pairwise["p"].map(_p), "p (Holm)": pairwise["p_holm"].map(_p),
    }), hide_index=True, width="stretch")
