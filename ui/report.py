"""The report pack of the current view, one click away in the sidebar (PowerPoint deck, offline HTML).

The request is read from this run's state: the filters and saved cohorts,
and the "Compare by" and landmark choices of the page in view (or of the
Survival page). The deck or page is built only when its button is pressed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from analysis.cohort.model import LANDMARK_MONTHS
from analysis.figures.export import ExportError
from analysis.reports.html import report_html
from analysis.reports.pack import REPORT_ERRORS, ReportRequest, build_report
from analysis.reports.pptx import report_pptx
from ui.state import View
from ui.view_options import min_count

PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _control(key: str) -> Any:
    """A page control's value: its widget state, else (first run of a link, before the page ran) the link's."""
    if key in st.session_state:
        return st.session_state[key]
    raw = st.query_params.get(key)
    return raw.split(",") if raw is not None and key.endswith(".times") else raw


def report_request(view: View, page_path: str) -> ReportRequest:
    """The current view as a :class:`ReportRequest` (controls of the page in view, else of Survival)."""
    page = page_path or "overview"
    compare = _control(f"{page}.compare") or _control("survival.compare") or "none"
    times = _control(f"{page}.times") or _control("survival.times") or [f"{t:g}" for t in LANDMARK_MONTHS]
    conf_type = _control("survival.ci") or "log-log"
    return ReportRequest(filters=view.filters, saved=view.saved, compare=None if compare == "none" else str(compare),
                         landmarks=tuple(sorted(float(t) for t in times)),
                         conf_type=str(conf_type), min_count=min_count(view))


def _builder(view: View, request: ReportRequest, fmt: str) -> Callable[[], bytes]:
    def build() -> bytes:
        try:
            report = build_report(view.full, request, source=view.source.name, synthetic=view.source.is_demo)
            return report_pptx(report) if fmt == "pptx" else report_html(report).encode("utf-8")
        except (ExportError, *REPORT_ERRORS) as err:  # the download then says why, instead of failing silently
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
        st.download_button("PowerPoint", _builder(view, request, "pptx"), file_name="hsct2-report.pptx",
                           mime=PPTX_MIME, key="report_pptx", icon=":material/slideshow:", on_click="ignore",
                           width="stretch", help="One figure or table per slide; titles and tables editable.")
        st.download_button("HTML", _builder(view, request, "html"), file_name="hsct2-report.html",
                           mime="text/html", key="report_html", icon=":material/description:", on_click="ignore",
                           width="stretch", help="One self-contained file: opens offline, prints, can be e-mailed.")
