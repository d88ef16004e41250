"""The report pack of the current view, one click away in the sidebar (PowerPoint deck, offline HTML).

The request is read from this run's state: the filters and saved cohorts,
and the "Compare by" and landmark choices of the page in view (or of the
Survival page). The deck or page is built only when its button is pressed.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from analysis.cohort.model import LANDMARK_MONTHS
from analysis.figures.export import ExportError
from analysis.reports.html import report_html
from analysis.reports.pack import ReportRequest, build_report
from analysis.reports.pptx import report_pptx
from ui.state import View
from ui.view_options import min_count

PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def report_request(view: View, page_path: str) -> ReportRequest:
    """The current view as a :class:`ReportRequest` (controls of the page in view, else of Survival)."""
    state = st.session_state
    page = page_path or "overview"
    compare = state.get(f"{page}.compare", state.get("survival.compare", "none"))
    times = state.get(f"{page}.times", state.get("survival.times")) or [f"{t:g}" for t in LANDMARK_MONTHS]
    return ReportRequest(filters=view.filters, saved=view.saved, compare=None if compare == "none" else compare,
                         landmarks=tuple(sorted(float(t) for t in times)),
                         conf_type=state.get("survival.ci", "log-log"), min_count=min_count(view))


def _builder(view: View, request: ReportRequest, fmt: str) -> Callable[[], bytes]:
    def build() -> bytes:
        report = build_report(view.full, request, source=view.source.name, synthetic=view.source.is_demo)
        try:
            return report_pptx(report) if fmt == "pptx" else report_html(report).encode("utf-8")
        except ExportError as err:
            return f"The report could not be built: {err}".encode()
    return build


def report_buttons(view: View, page_path: str) -> None:
    """Two sidebar downloads: the view as a PowerPoint deck and as an offline HTML report."""
    if view.n == 0:
        return
    request = report_request(view, page_path)
    with st.sidebar:
        st.markdown("### Report of this view")
        st.caption("Title, data, filters and n; survival and relapse curves with the numbers at risk, the forest "
                   "plot, the landmark tables and a methods paragraph.")
        left, right = st.columns(2)
        left.download_button("PowerPoint", _builder(view, request, "pptx"), file_name="hsct2-report.pptx",
                             mime=PPTX_MIME, key="report_pptx", icon=":material/slideshow:", on_click="ignore")
        right.download_button("HTML", _builder(view, request, "html"), file_name="hsct2-report.html",
                              mime="text/html", key="report_html", icon=":material/description:", on_click="ignore")
