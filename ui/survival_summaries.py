"""Restricted mean survival time tables, shared by the RMST & conditional view and the Risk factors page."""

from __future__ import annotations

import streamlit as st

from analysis.analyses.risk_factors import RiskFactorAnalysis
from analysis.analyses.survival_summaries import RMSTComparison, nonproportional_rmst, rmst_caption
from analysis.cohort.model import label
from analysis.text import escape_markdown
from ui.cache import session_memo
from ui.figures import figure_caption, show_table
from ui.state import View

RMST_METHOD = "Restricted mean survival time, SE as R print(survfit(...), rmean = τ); difference with a z test"


def show_rmst(result: RMSTComparison, view: View, key: str, *, heading: str | None = None) -> None:
    """The RMST table of a comparison, the differences' caption, and what rests on extrapolation."""
    if heading:
        st.markdown(heading)
    for group, problem in result.problems.items():
        st.warning(f"{escape_markdown(group)}: {escape_markdown(problem)}")
    show_table(result.format_table(), key, view, figure_caption(view, RMST_METHOD))
    st.caption(escape_markdown(rmst_caption(result)) + ". RMST = area under the Kaplan-Meier curve to the "
               "horizon (R `print(survfit(...), rmean = τ)`); differences from the first group, 95 % CI, z test.")
    if result.beyond:
        st.info(f"Followed for less than {result.tau:g} months: {escape_markdown(', '.join(result.beyond))}. "
                "Their curve is carried on at its last value (as R does), so their RMST is partly extrapolated.")


def nonproportional_section(view: View, analysis: RiskFactorAnalysis) -> None:
    """Where cox.zph rejects proportional hazards: the RMST by level of each such factor, as the summary to report."""
    found = session_memo("risk_factors.rmst", (view.filters, analysis.endpoint, analysis.specs),
                         lambda: nonproportional_rmst(view.cohort, analysis))
    for result in found:
        name = escape_markdown(label(str(result.by)))
        show_rmst(result, view, f"risk_rmst_{result.by}",
                  heading=f"**Hazards not proportional for {name}**: restricted mean survival to {result.tau:g} "
                          "months, the summary to report instead of the HR")
