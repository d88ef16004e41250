"""When relapses happen: histograms of the time to relapse.

Two intervals are shown:

* HSCT2 → relapse, among the patients who relapsed after HSCT2 (the paper
  reports a median, :func:`analysis.published.published_median_relapse_months`);
* HSCT1 → the relapse that led to HSCT2 (``months_hsct1_to_relapse``), when
  the data have it; a relapse within 6 months of HSCT1 ("early relapse") is a
  known risk factor.

These are descriptive: the median is the plain median of the observed times
among patients who had the event, not a Kaplan-Meier median, and it says
nothing about how many patients relapse (that is the cumulative incidence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.curve_figure import PALETTE  # the same colour per group as the curves
from analysis.grouping import ALL, GROUP

BIN_WIDTHS = (1.0, 2.0, 3.0)
MODES = ("overlay", "stack")
SCALES = ("count", "percent")
EARLY_RELAPSE_MONTHS = 6.0

HSCT2_TO_RELAPSE = "hsct2_to_relapse"
HSCT1_TO_RELAPSE = "hsct1_to_relapse"
_TITLES = {
    HSCT2_TO_RELAPSE: "Months from HSCT2 to relapse (patients who relapsed)",
    HSCT1_TO_RELAPSE: "Months from HSCT1 to the relapse that led to HSCT2",
}
#: A small white-background template: Plotly's named templates are slow to apply.
AXIS_STYLE = {"gridcolor": "#e5e5e5", "linecolor": "#444", "showline": True, "zeroline": False, "ticks": "outside"}
LIGHT_TEMPLATE = {"layout": {"paper_bgcolor": "white", "plot_bgcolor": "white",
                             "font": {"family": "Arial, sans-serif", "size": 13}}}


class TimingError(ValueError):
    """A histogram that cannot be drawn (bad options, missing column, no times at all)."""


@dataclass(frozen=True)
class TimingHistogram:
    """Counts of an interval per bin and group.

    Attributes
    ----------
    interval : str
        ``"hsct2_to_relapse"`` or ``"hsct1_to_relapse"``.
    bin_width : float
        Months per bin; bins are [start, start + width).
    table : DataFrame
        ``group``, ``bin_start``, ``bin_end``, ``count``, ``percent`` (of the
        group's patients with a time, so each group's bars sum to 100 %).
        Groups without any time are left out.
    summary : DataFrame
        Per group: ``group``, ``n`` (patients), ``n_with_time`` (relapsed, or
        with a known interval), ``median``, ``q1``, ``q3`` (months; NaN without
        times).
    notes : tuple of str
        Plain-language remarks, e.g. a group without relapses.
    """

    interval: str
    bin_width: float
    table: pd.DataFrame
    summary: pd.DataFrame
    notes: tuple[str, ...]

    @property
    def title(self) -> str:
        return _TITLES[self.interval]


def _groups(frame: pd.DataFrame, order: Sequence[str] | None) -> list[tuple[str, pd.DataFrame]]:
    if GROUP not in frame:
        return [(ALL, frame)]
    labels = list(order) if order is not None else sorted(frame[GROUP].astype(str).unique())
    return [(g, frame[frame[GROUP] == g]) for g in labels]


def _interval_times(rows: pd.DataFrame, interval: str) -> np.ndarray:
    if interval == HSCT2_TO_RELAPSE:
        values = rows.loc[rows["relapse"] == 1, "relapse_months"]
    else:
        values = rows["months_hsct1_to_relapse"]
    values = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return values[np.isfinite(values) & (values >= 0)]


def timing_histogram(
    frame: pd.DataFrame,
    *,
    interval: str = HSCT2_TO_RELAPSE,
    order: Sequence[str] | None = None,
    bin_width: float = 1.0,
) -> TimingHistogram:
    """Histogram data of an interval, per group.

    Parameters
    ----------
    frame : DataFrame
        Cohort rows, optionally with a ``group`` column (from
        :mod:`analysis.grouping`); without it all rows form one group.
    interval : {"hsct2_to_relapse", "hsct1_to_relapse"}
    order : sequence of str, optional
        Display order of the groups.
    bin_width : {1, 2, 3}
        Months per bin.

    Raises
    ------
    TimingError
        Unknown interval or bin width; the HSCT1 interval without its column;
        or no times in any group.
    """
    if interval not in _TITLES:
        raise TimingError(f"unknown interval {interval!r}; expected one of {', '.join(_TITLES)}")
    if float(bin_width) not in BIN_WIDTHS:
        raise TimingError(f"bin width must be 1, 2 or 3 months, got {bin_width:g}")
    if interval == HSCT1_TO_RELAPSE and "months_hsct1_to_relapse" not in frame:
        raise TimingError("the data have no column months_hsct1_to_relapse (time from HSCT1 to relapse)")
    groups = [(g, rows, _interval_times(rows, interval)) for g, rows in _groups(frame, order)]
    longest = max((t.max() for _, _, t in groups if len(t)), default=None)
    if longest is None:
        what = "relapse after HSCT2" if interval == HSCT2_TO_RELAPSE else "known time from HSCT1 to relapse"
        raise TimingError(f"no patient with a {what} in the selected cohort")
    edges = np.arange(0.0, np.floor(longest / bin_width) * bin_width + bin_width + 1e-9, bin_width)
    parts, rows_summary, notes = [], [], []
    for g, rows, times in groups:
        rows_summary.append({
            "group": g, "n": len(rows), "n_with_time": len(times),
            "median": float(np.median(times)) if len(times) else np.nan,
            "q1": float(np.quantile(times, 0.25)) if len(times) else np.nan,
            "q3": float(np.quantile(times, 0.75)) if len(times) else np.nan,
        })
        notes.extend(_group_notes(g, len(rows), len(times), interval))
        if not len(times):
            continue
        counts, _ = np.histogram(times, bins=edges)
        parts.append(pd.DataFrame({"group": g, "bin_start": edges[:-1], "bin_end": edges[1:],
                                   "count": counts, "percent": 100.0 * counts / len(times)}))
    return TimingHistogram(interval, float(bin_width), pd.concat(parts, ignore_index=True),
                           pd.DataFrame(rows_summary), tuple(notes))


def _group_notes(group: str, n: int, n_times: int, interval: str) -> list[str]:
    name = "All patients" if group == ALL else f"Group {group}"
    if n_times == 0:
        what = "no relapse after HSCT2" if interval == HSCT2_TO_RELAPSE else "no known time from HSCT1 to relapse"
        return [f"{name} ({n} patient{'s' * (n != 1)}): {what}, so nothing to show."]
    if n_times == 1:
        return [f"{name}: a single time, so its 'median' is that one patient's time."]
    return []


def timing_figure(
    hist: TimingHistogram,
    *,
    mode: str = "overlay",
    scale: str = "count",
    reference: float | None = None,
    reference_label: str = "Published median",
) -> go.Figure:
    """Bar chart of a :class:`TimingHistogram` with each group's median marked.

    ``mode`` overlays translucent bars or stacks them; ``scale`` shows counts
    or % of each group's patients with a time. ``reference`` adds a dotted
    vertical line (e.g. the paper's median). For the HSCT1 interval
    the 6-month early-relapse limit is shaded.
    """
    if mode not in MODES:
        raise TimingError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if scale not in SCALES:
        raise TimingError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    # One constructor call with plain dicts: Plotly's incremental add_* calls
    # and named templates cost tens of milliseconds each (the page must rerun fast).
    shown = list(dict.fromkeys(hist.table["group"]))
    colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(hist.summary["group"])}
    summary = hist.summary.set_index("group")
    bars, shapes, notes = [], [], []
    for g in shown:
        part = hist.table[hist.table["group"] == g]
        info = summary.loc[g]
        bars.append({
            "type": "bar", "x": (part["bin_start"] + part["bin_end"]).to_numpy() / 2, "y": part[scale].to_numpy(),
            "width": hist.bin_width, "marker": {"color": colours[g], "line": {"color": "white", "width": 0.5}},
            "name": f"{_display(g)}: n={int(info['n_with_time'])}, median {info['median']:.1f} mo (dashed)",
            "opacity": 0.55 if mode == "overlay" and len(shown) > 1 else 0.9,
            "customdata": np.column_stack([part["bin_start"], part["bin_end"], part["count"], part["percent"]]),
            "hovertemplate": (f"{_display(g)}<br>%{{customdata[0]:g}}–%{{customdata[1]:g}} months<br>"
                              "%{customdata[2]} patients (%{customdata[3]:.0f} %)<extra></extra>"),
        })
        # The median values are in the legend: labels on the lines would collide.
        shapes.append(_vertical_line(float(info["median"]), colours[g], "dash", 2))
    if reference is not None:
        shapes.append(_vertical_line(reference, "black", "dot", 1.5))
        notes.append({"x": reference, "y": 1, "xref": "x", "yref": "paper", "showarrow": False,
                      "text": f"{reference_label} {reference:g} mo", "xanchor": "left", "yanchor": "top",
                      "bgcolor": "rgba(255,255,255,0.8)"})
    if hist.interval == HSCT1_TO_RELAPSE:
        shapes.append({"type": "rect", "x0": 0, "x1": EARLY_RELAPSE_MONTHS, "y0": 0, "y1": 1, "xref": "x",
                       "yref": "paper", "fillcolor": "#ff7f0e", "opacity": 0.15, "line": {"width": 0},
                       "layer": "below"})
        notes.append({"x": 0, "y": 1, "xref": "x", "yref": "paper", "showarrow": False, "xanchor": "left",
                      "yanchor": "top", "text": "early relapse<br>(< 6 mo)", "font": {"size": 11}})
    right = float(hist.table["bin_end"].max())
    # Month ticks at a calendar-like step that is a whole number of bins.
    steps = [m for m in (1, 2, 3, 6, 12, 24, 36, 60, 120) if m % hist.bin_width == 0]
    step = next((m for m in steps if right / m <= 14), steps[-1])
    y_axis = {**AXIS_STYLE, "title": {"text": "Patients" if scale == "count" else "% of the group's patients"}}
    if scale == "count" and hist.table["count"].max() <= 10:
        y_axis["dtick"] = 1  # whole patients
    layout = {
        "template": LIGHT_TEMPLATE, "barmode": "overlay" if mode == "overlay" else "stack", "bargap": 0,
        "xaxis": {**AXIS_STYLE, "title": {"text": hist.title}, "range": [0, right], "tick0": 0, "dtick": step},
        "yaxis": y_axis, "shapes": shapes, "annotations": notes, "height": 380, "showlegend": True,
        "margin": {"t": 40, "r": 20, "b": 50, "l": 60},
        "legend": {"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom", "traceorder": "normal"},
    }
    return go.Figure(data=bars, layout=layout)


def _vertical_line(x: float, colour: str, dash: str, width: float) -> dict:
    return {"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1, "xref": "x", "yref": "paper",
            "line": {"color": colour, "dash": dash, "width": width}}


def _display(group: str) -> str:
    return "All patients" if group == ALL else str(group)
