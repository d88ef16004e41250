"""How a figure or a table is shown on a page and leaves it: styling, caption, presentation mode, exports.

* :func:`show_figure`: a Plotly figure with the camera button's 3× PNG, and under it (with a caption)
  the caption text and downloads of the figure as PNG and SVG, both rendered on the server by
  :func:`analysis.figures.export.figure_image` with the caption printed under the figure;
* :func:`show_table`: a table with small counts hidden under disclosure control, and downloads as
  CSV and XLSX (cells neutralised against formula injection);
* :func:`figure_caption`: the caption of the current view for a method.

Any page can call them (``show_figure(fig, key="...", caption=figure_caption(view, "Cox model"))``).
Exports are made only when the button is pressed (deferred downloads), so a rerun costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.cohort.published import published_km_labels, published_n, published_survival
from analysis.figures.curves import ReferenceMarker
from analysis.figures.export import EXPORT_WIDTH, ExportError, figure_image
from analysis.figures.style import for_presentation
from analysis.reports.caption import FigureCaption, with_caption
from analysis.reports.tables import table_csv, table_xlsx
from analysis.text import escape_markdown, join_words, mask_small_counts
from ui.cache import published_targets
from ui.state import View
from ui.view_options import captions_on, min_count, presentation_on

#: The camera button of every figure saves a slide-ready PNG (3× the screen resolution).
FIGURE_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 3},
}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def figure_caption(view: View, method: str = "", *, saved: bool = False) -> FigureCaption:
    """The caption of the current view: data, filters, n of N, the saved cohorts (when shown), ``method``."""
    return FigureCaption(
        source=view.source.name, synthetic=view.source.is_demo, filters=view.filters.describe(), n=view.n,
        n_total=view.n_total, saved=tuple((s.name, s.filters.describe()) for s in view.saved) if saved else (),
        method=method, min_count=min_count(view),
    )


def published_references(view: View, compare_by: str | None,
                         endpoint: str) -> tuple[list[ReferenceMarker] | None, str | None]:
    """The paper's Kaplan-Meier estimates as markers, and the sentence that goes under the figure.

    They describe all patients of the unfiltered cohort, so they are drawn only beside the one curve of
    all patients; on a grouped plot they would read as belonging to one of the curves.
    """
    if not view.is_unfiltered_demo:
        return None, None
    if compare_by is not None:
        return None, ("The paper's published estimates are for all patients: choose “Compare by: Nothing” to see "
                      "them beside the curve of all patients.")
    targets = published_targets()
    published, labels = published_survival(targets).get(endpoint, {}), published_km_labels(targets).get(endpoint, {})
    markers = [ReferenceMarker(t, v, labels[t]) for t, v in sorted(published.items())]
    if not markers:
        return None, None
    return markers, (f"Open diamonds: the paper's published estimates for all {published_n(targets)} patients "
                     f"at {join_words([m.label for m in markers])}.")


def _image(fig: go.Figure, caption: FigureCaption | None, fmt: str) -> Callable[[], bytes]:
    def render() -> bytes:
        shown = fig if caption is None else with_caption(fig, caption, width=EXPORT_WIDTH)
        try:
            return figure_image(shown, fmt)
        except ExportError as err:  # the download then holds the reason, not a broken image
            return f"{err}".encode()
    return render


def show_figure(fig: go.Figure, key: str, caption: FigureCaption | None = None) -> None:
    """Render a Plotly figure with its own slide styling; with a ``caption``, the caption and the exports.

    In presentation mode the figure's type and lines are larger (:func:`analysis.figures.style.for_presentation`)
    and the caption is shown; elsewhere it is shown when "Captions" is on. The PNG (3×) and SVG downloads
    always carry the caption printed under the figure.
    """
    config = {**FIGURE_CONFIG, "toImageButtonOptions": {**FIGURE_CONFIG["toImageButtonOptions"],
                                                         "filename": f"hsct2-{key}"}}
    shown = for_presentation(fig) if presentation_on() else fig
    # theme=None: the figure keeps its own fonts and colours instead of Streamlit's theme.
    st.plotly_chart(shown, width="stretch", theme=None, key=key, config=config)
    if caption is None:
        return
    if captions_on():
        st.caption(escape_markdown(caption.text()))
    if presentation_on():
        return
    png, svg, _ = st.columns([1, 1, 6])
    png.download_button("PNG", _image(fig, caption, "png"), file_name=f"hsct2-{key}.png", mime="image/png",
                        key=f"{key}.png", icon=":material/download:", on_click="ignore",
                        help="The figure with its caption, 3× resolution, for a slide.")
    svg.download_button("SVG", _image(fig, caption, "svg"), file_name=f"hsct2-{key}.svg", mime="image/svg+xml",
                        key=f"{key}.svg", icon=":material/download:", on_click="ignore",
                        help="The figure with its caption as a vector drawing (scales without blurring).")


def disclosed(table: pd.DataFrame, view: View) -> pd.DataFrame:
    """``table`` as it may be shown: small counts hidden when disclosure control is on."""
    return mask_small_counts(table, min_count(view))


def show_table(table: pd.DataFrame, key: str, view: View, caption: FigureCaption | None = None,
               **dataframe_options) -> None:
    """A table with small counts hidden (disclosure control) and CSV/XLSX downloads of what is shown.

    ``dataframe_options`` go to ``st.dataframe`` (e.g. ``column_config``). In presentation mode the
    table is a plain, large-type table without downloads.
    """
    shown = disclosed(table, view)
    if presentation_on():
        st.table(shown.astype(str).set_index(shown.columns[0]))
    else:
        st.dataframe(shown, hide_index=True, width="stretch", **dataframe_options)
    if caption is not None and captions_on():
        st.caption(escape_markdown(caption.text()))
    if presentation_on():
        return
    notes = caption.lines() if caption is not None else []
    csv, xlsx, _ = st.columns([1, 1, 6])
    csv.download_button("CSV", lambda: table_csv(shown, notes), file_name=f"hsct2-{key}.csv", mime="text/csv",
                        key=f"{key}.csv", icon=":material/download:", on_click="ignore")
    xlsx.download_button("XLSX", lambda: table_xlsx(shown, notes), file_name=f"hsct2-{key}.xlsx", mime=XLSX_MIME,
                         key=f"{key}.xlsx", icon=":material/download:", on_click="ignore")
