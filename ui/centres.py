"""The Risk factors page's centre option: a centre-robust variance or a model stratified by centre.

Shown only when the data have a ``centre`` column. Widget key ``risk_factors.centre``
(``none``, ``cluster``, ``strata``), kept in the share link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import streamlit as st

from analysis.analyses.centres import centre_analysis
from analysis.cohort.model import ENDPOINT_NAMES
from analysis.figures.forest import forest_figure, forest_table
from analysis.stats.cox.design import CovariateSpec
from analysis.text import escape_markdown, masked_count
from ui.cache import session_memo
from ui.figures import figure_caption, show_figure, show_table
from ui.links import persist
from ui.state import View
from ui.view_options import min_count, page_controls

CHOICES = {"none": "Ignore the centre", "cluster": "Centre-robust (sandwich) variance",
           "strata": "Stratified by centre"}


def centre_section(view: View, endpoint: str, specs: Sequence[CovariateSpec]) -> None:
    """Patients per centre, and the model with a centre-robust variance or stratified by centre."""
    st.subheader("Centres")
    per = view.cohort["centre"].dropna().astype(str).value_counts()
    if per.empty:
        st.info("No patient has a recorded centre.")
        return
    hide = min_count(view)
    st.caption(f"{len(per)} centres in the filtered cohort; patients per centre: median {per.median():g}, "
               f"range {masked_count(int(per.min()), hide)}–{masked_count(int(per.max()), hide)}. Patients of one "
               "centre share care the covariates do not record.")
    persist("risk_factors.centre", "none", list(CHOICES))
    how = page_controls("risk_factors_centre").radio(
        "Account for the centre", list(CHOICES), key="risk_factors.centre", format_func=CHOICES.get, horizontal=True,
        help="Robust: the same hazard ratios, CIs from the spread between centres (R cluster = centre). "
             "Stratified: a baseline hazard per centre, hazard ratios within centres (R strata(centre)).")
    if how == "none":
        return
    result = session_memo("risk_factors.centres", (view.filters, endpoint, tuple(specs)),
                          lambda: centre_analysis(view.cohort, endpoint, specs))
    for warning in result.warnings_for(how):
        st.warning(escape_markdown(warning))
    for problem in result.problems.values():
        st.warning(f"Cannot be fitted: {escape_markdown(problem)}")
    if result.model is None:
        return
    if how == "cluster" and result.robust is not None:
        models = {"Model-based CI": result.model, "Centre-robust CI": replace(result.model,
                                                                             summary=result.robust.summary)}
        title = f"{ENDPOINT_NAMES[endpoint]}: centre-robust confidence intervals"
    elif how == "strata" and result.stratified is not None:
        models = {"Cox": result.model, "Stratified by centre": result.stratified}
        title = f"{ENDPOINT_NAMES[endpoint]}: stratified by centre"
    else:
        return
    method = ("Cox model, Efron ties, cluster-robust (sandwich) variance by centre (R coxph(cluster = centre))"
              if how == "cluster" else "Cox model stratified by centre, Efron ties (R coxph(... + strata(centre)))")
    caption = figure_caption(view, method)
    show_figure(forest_figure(forest_table(models), title=title, min_count=min_count(view),
                              subtitle=f"{result.model.n} patients in {result.n_centres} centres"),
                key=f"risk_centres_{how}", caption=caption)
    with st.expander("Patients and events per centre"):
        show_table(result.per_centre.rename(columns={"centre": "Centre", "patients": "Patients",
                                                     "events": "Events"}), "risk_centres", view, caption)
