"""Risk factors: Cox models of OS, RFS, relapse and NRM with forest plots, refitted on the filtered cohort."""

from __future__ import annotations

from typing import cast

import numpy as np
import streamlit as st

from analysis.analyses.risk_factors import INTERVALS, analyse_risk_factors, subgroup_effects, subgroup_factors
from analysis.cohort.model import ENDPOINT_NAMES, label, levels
from analysis.cohort.published import published_hazard_ratios
from analysis.figures.forest import forest_figure, forest_table, published_rows, subgroup_forest_table, term_text
from analysis.reports.methods import cox_method
from analysis.stats.cox.design import DesignError
from analysis.stats.cox.fit import CoxModel
from analysis.text import DASH, count, escape_markdown, p_cell
from ui.cache import published_targets, session_memo
from ui.centres import centre_section
from ui.controls import section_tabs, stop_if_empty
from ui.figures import figure_caption, show_figure, show_table
from ui.links import persist
from ui.model_controls import covariate_control, covariate_specs, endpoint_control
from ui.state import get_view
from ui.survival_summaries import nonproportional_section
from ui.view_options import min_count, page_controls

CI_LABELS = {"auto": "Profile likelihood below 10 events per coefficient", "profile": "Profile likelihood",
             "wald": "Wald"}
view = get_view()
st.title("Risk factors")
st.caption(
    "Cox proportional hazards models refitted on the filtered patients (Efron ties; numbers equal R "
    "`coxph`). Relapse and NRM are cause-specific: the competing event censors. With fewer than 10 events per "
    "coefficient the 95 % confidence intervals come from the profile likelihood and p from likelihood-ratio "
    "tests (Wald otherwise); the page names what makes an estimate unstable."
)
stop_if_empty(view)

# ------------------------------------------------------------------ model controls
controls = page_controls("risk_factors")
top = controls.columns([1, 3])
with top[0]:
    ep = endpoint_control(view, "risk_factors")
with top[1]:
    chosen = covariate_control(view, "risk_factors", ep)
with controls.expander("Reference levels, numeric covariates, penalty", expanded=False):
    specs = covariate_specs(view, "risk_factors", chosen)
    persist("risk_factors.firth", False)
    firth = st.checkbox("Firth-penalized fit", key="risk_factors.firth",
                        help="Penalty ½·log det I(β) (Firth 1993, Heinze & Schemper 2001): finite estimates "
                             "when a level has no events (monotone likelihood).")
    persist("risk_factors.univariable", False)
    show_uni = st.checkbox("Show univariable estimates beside the multivariable ones", key="risk_factors.univariable")
    persist("risk_factors.ci", "auto", list(INTERVALS))
    intervals = st.radio("Confidence intervals and p-values", list(INTERVALS), key="risk_factors.ci", horizontal=True,
                         format_func=CI_LABELS.get, help="The profile likelihood follows the likelihood itself; "
                         "Wald intervals assume it is quadratic, which fails with few events.")


def _analysis():
    # Depends on the data, the filters and the model controls only: the sections and display options reuse it.
    return session_memo("risk_factors", (view.filters, ep, tuple(specs), firth, show_uni, intervals),
                        lambda: analyse_risk_factors(view.cohort, ep, specs, penalty="firth" if firth else None,
                                                     univariable=show_uni, intervals=intervals))


def _model_section() -> None:
    result = _analysis()
    for column, problem in result.univariable_problems.items():
        st.info(escape_markdown(f"Univariable {label(column)}: {problem}"))
    if result.model is None:
        st.warning(escape_markdown(f"The multivariable model cannot be fitted: {result.problem}"))
        return
    model = result.model
    for warning in result.warnings:
        st.warning(escape_markdown(warning))
    if result.needs_penalty and not firth:
        st.info("Tick **Firth-penalized fit** under the options for finite estimates.")
    models: dict[str, CoxModel | dict[str, CoxModel]] = {"Multivariable": model}
    if show_uni:
        models["Univariable"] = result.univariable
    table = forest_table(models, order=chosen)
    markers = None
    if view.is_unfiltered_demo and not firth:
        published = published_hazard_ratios(published_targets(), ep)
        if len(published):
            markers = published_rows(table, published)
            st.caption("Open red diamonds: the paper's multivariable hazard ratios (whole cohort).")
    penalty = ", Firth-penalized" if model.penalty else ""
    fig = forest_figure(table, title=f"{ENDPOINT_NAMES[ep]}: Cox model{penalty}", published=markers,
                        subtitle=f"n = {model.n} patients, {count(model.events, 'event')}; "
                                 f"95 % CI: {result.intervals}", min_count=min_count(view))
    show_figure(fig, key="risk_forest", caption=figure_caption(view, cox_method(ep, "firth" if firth else None)))
    st.caption(f"Intervals and p of the multivariable model: {result.intervals_text}. Arrows at the axis edge: "
               "the interval (or the estimate) runs beyond the axis; the HR column gives the numbers. "
               "Model statistics and the proportional-hazards check: under “Model checks”.")
    if "centre" in view.full:
        centre_section(view, ep, specs)


def _checks_section() -> None:
    result = _analysis()
    if result.model is None:
        st.warning(escape_markdown(f"The multivariable model cannot be fitted: {result.problem}"))
        return
    caption = figure_caption(view, cox_method(ep, "firth" if firth else None))
    # Full width, one under the other: the plain-language columns need the room.
    st.subheader("Model statistics")
    show_table(result.statistics(), "risk_statistics", view, caption)
    st.subheader("Proportional hazards")
    if result.proportional_hazards is None:
        st.info("Not tested: the model did not give finite estimates.")
    else:
        ph = result.proportional_hazards.table.assign(
            covariate=lambda d: d["covariate"].map(lambda c: "Global" if c == "GLOBAL" else label(c)),
            chisq=lambda d: d["chisq"].map(lambda x: f"{x:.2f}" if np.isfinite(x) else DASH),
            p=lambda d: d["p"].map(p_cell))  # text, so that a test that could not be done shows "–", not NaN
        show_table(ph.rename(columns={"covariate": "Covariate", "chisq": "χ²", "verdict": "Verdict"}),
                   "risk_ph", view, caption.with_method("Grambsch-Therneau score test (R cox.zph)"))
        st.caption("Score test of Grambsch & Therneau on the Kaplan-Meier time scale (R `cox.zph`).")
        nonproportional_section(view, result)


def _subgroup_section() -> None:
    st.subheader("Effect of one factor within subgroups")
    binary = subgroup_factors(view.cohort, specs)
    if not binary:
        st.info("Add a two-level factor (or a numeric covariate cut at a value) to see its effect within subgroups.")
        return
    sub_cols = page_controls("risk_factors_subgroups").columns([1, 2])
    with sub_cols[0]:
        persist("risk_factors.subgroup", "atg" if "atg" in binary else binary[0], binary)
        factor = st.selectbox("Effect of", binary, key="risk_factors.subgroup", format_func=label)
    others = [s.column for s in specs if s.column != factor and (s.categorical or s.cut is not None)]
    with sub_cols[1]:
        persist("risk_factors.subgroup_by", others, others)
        by = st.multiselect("Within the levels of", others, key="risk_factors.subgroup_by", format_func=label)
    if not by:
        return
    spec_of = {s.column: s for s in specs}
    within = [spec_of[b] for b in by]
    try:
        effects = session_memo("risk_factors.subgroups", (view.filters, ep, spec_of[factor], tuple(within)),
                               lambda: subgroup_effects(view.cohort, ep, spec_of[factor], within))
    except (DesignError, ValueError) as err:
        st.warning(escape_markdown(str(err)))
        return
    effect = term_text(effects.term, levels(view.cohort, factor))
    sub_fig = forest_figure(subgroup_forest_table(effects), title=f"Hazard ratio of {effect} within subgroups",
                            subtitle="each subgroup fitted alone; interaction p from a likelihood-ratio test of "
                                     "factor × subgroup", min_count=min_count(view))
    show_figure(sub_fig, key="risk_subgroups", caption=figure_caption(
        view, f"{cox_method(ep)} per subgroup; likelihood-ratio test of the interaction"))
    for row in effects.interaction.itertuples(index=False):
        if row.note:
            st.caption(escape_markdown(f"{label(cast(str, row.by))}: {cast(str, row.note)}"))


MODEL, CHECKS, SUBGROUPS = "Multivariable model", "Model checks", "Subgroups"
section, body = section_tabs("risk_factors.section", [MODEL, CHECKS, SUBGROUPS])
with body:
    {MODEL: _model_section, CHECKS: _checks_section, SUBGROUPS: _subgroup_section}[section]()
