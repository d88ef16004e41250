"""The caption a figure carries when it leaves the page: which data, which patients, which method, when.

A clinician who puts an exported figure on a slide loses the page around it.
:class:`FigureCaption` holds what the page knew (data source, filters, n of N,
saved-cohort definitions, the method and its test, the date, the software
version); :meth:`FigureCaption.lines` words it, and :func:`with_caption`
returns a copy of a figure with the caption printed under it, the figure
grown to hold it.

>>> caption = FigureCaption(source="Demo cohort (synthetic)", synthetic=True, filters="Lineage: T-ALL",
...                         n=17, n_total=75, method="Kaplan-Meier, log-rank test")
>>> fig = with_caption(fig, caption)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import plotly.graph_objects as go

from analysis._version import __version__
from analysis.figures.style import MUTED_COLOUR, SMALL_FONT_SIZE, text_width
from analysis.text import disclosure_rule

SYNTHETIC_NOTICE = ("Synthetic demo cohort: generated to reproduce the published aggregates of Momm et al. "
                    "(Pediatric Blood & Cancer); not real patients.")
_LINE_HEIGHT = 1.45  # of the font size


@dataclass(frozen=True)
class FigureCaption:
    """What a figure shows, for a reader who sees it without the page.

    Attributes
    ----------
    source : str
        The data: "Demo cohort (synthetic)" or the uploaded file's name.
    synthetic : bool
        The data are the synthetic demo cohort (the caption says so).
    filters : str
        The filters in words ("no filters" when none).
    n, n_total : int
        Patients passing the filters, of all patients in the data.
    saved : tuple of (name, definition)
        Saved cohorts shown in the figure, with their filters in words.
    method : str
        Estimator and test, e.g. "Kaplan-Meier, 95 % CI log-log; log-rank test".
    date : datetime.date
        When the figure was made.
    version : str
        The software version.
    min_count : int or None
        Disclosure threshold in force (counts below it shown as "<n"), None when off.
    """

    source: str
    synthetic: bool
    filters: str
    n: int
    n_total: int
    saved: tuple[tuple[str, str], ...] = ()
    method: str = ""
    date: dt.date = field(default_factory=dt.date.today)
    version: str = __version__
    min_count: int | None = None

    def with_method(self, method: str) -> FigureCaption:
        """The same caption for another figure's method."""
        return replace(self, method=method)

    def lines(self) -> list[str]:
        """The caption as short lines of plain text (no markup), most important first."""
        data = f"Data: {self.source}" + (", not real patients" if self.synthetic else "")
        out = [f"{data}. Patients: {self.n} of {self.n_total}. Filters: {self.filters}."]
        out += [f"Saved cohort “{name}”: {definition}." for name, definition in self.saved]
        if self.method:
            out.append(f"Method: {self.method}.")
        if self.min_count:
            out.append(disclosure_rule(self.min_count))
        out.append(f"Made {self.date.isoformat()} with HSCT2 Explorer {self.version}.")
        return out

    def text(self) -> str:
        """The caption as one paragraph."""
        return " ".join(self.lines())


def _wrap_to_width(line: str, size: float, width_px: float) -> list[str]:
    """``line`` broken at spaces so that no piece is wider than ``width_px`` at ``size`` px."""
    pieces, current = [], ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size) > width_px:
            pieces.append(current)
            current = word
        else:
            current = candidate
    pieces.append(current)
    return pieces


def with_caption(fig: go.Figure, caption: FigureCaption | Sequence[str], *, width: int = 1200,
                 font_size: float = SMALL_FONT_SIZE) -> go.Figure:
    """A copy of ``fig`` with the caption printed under it; the figure grows by the caption's height.

    Lines are wrapped to ``width`` CSS pixels (the export width), so the caption
    is never cut at the right edge of a slide.
    """
    lines = caption.lines() if isinstance(caption, FigureCaption) else list(caption)
    spec = fig.to_plotly_json()
    layout = spec.setdefault("layout", {})
    margin = dict(layout.get("margin") or {})
    left, right = margin.get("l", 80), margin.get("r", 80)
    wrapped = [piece for line in lines for piece in _wrap_to_width(line, font_size, width - 36)]
    block = int(len(wrapped) * font_size * _LINE_HEIGHT + 16)
    height = layout.get("height") or 600
    bottom = margin.get("b", 80)
    layout["height"] = height + block
    margin["b"] = bottom + block
    layout["margin"] = margin
    annotations = list(layout.get("annotations") or [])
    annotations.append({
        "text": "<br>".join(wrapped), "xref": "paper", "yref": "paper", "x": (12 - left) / max(width - left - right, 1),
        "y": 0, "xanchor": "left", "yanchor": "top", "align": "left", "showarrow": False,
        "yshift": -(bottom - 4), "font": {"size": font_size, "color": MUTED_COLOUR},
        "name": "caption",
    })
    layout["annotations"] = annotations
    return go.Figure(spec, _validate=False)
