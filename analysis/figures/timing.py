"""Histograms of when relapses happen (:mod:`analysis.analyses.relapse_timing` counts them)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from analysis.analyses.relapse_timing import (
    EARLY_RELAPSE_MONTHS,
    HSCT1_TO_RELAPSE,
    MODES,
    SCALES,
    TimingError,
    TimingHistogram,
)
from analysis.figures.style import SMALL_FONT_SIZE, TEMPLATE, axis, colour
from analysis.text import group_text, masked_count


def timing_figure(
    hist: TimingHistogram,
    *,
    mode: str = "overlay",
    scale: str = "count",
    reference: float | None = None,
    reference_label: str = "Published median",
    min_count: int | None = None,
) -> go.Figure:
    """Bar chart of a :class:`TimingHistogram` with each group's median marked.

    ``mode`` overlays translucent bars or stacks them; ``scale`` shows counts
    or % of each group's patients with a time. ``reference`` adds a dotted
    vertical line (e.g. the paper's median). For the HSCT1 interval
    the 6-month early-relapse limit is shaded. ``min_count`` (disclosure
    control): bins holding 1 to ``min_count − 1`` patients are drawn empty and
    their hover says "<min_count"; a note under the figure says so.
    """
    if mode not in MODES:
        raise TimingError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if scale not in SCALES:
        raise TimingError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    # One constructor call with plain dicts: Plotly's incremental add_* calls
    # and named templates cost tens of milliseconds each (the page must rerun fast).
    shown = list(dict.fromkeys(hist.table["group"]))
    colours = {g: colour(i) for i, g in enumerate(hist.summary["group"])}
    summary = hist.summary.set_index("group")
    bars, shapes, notes = [], [], []
    for g in shown:
        part = hist.table[hist.table["group"] == g]
        info = summary.loc[g]
        small = (part["count"] > 0) & (part["count"] < min_count) if min_count else part["count"] < 0
        counts = [masked_count(v, min_count) for v in part["count"]]
        bars.append({
            "type": "bar", "x": (part["bin_start"] + part["bin_end"]).to_numpy() / 2,
            "y": part[scale].where(~small, 0).to_numpy(),
            "width": hist.bin_width, "marker": {"color": colours[g], "line": {"color": "white", "width": 0.5}},
            "name": (f"{group_text(g)}: n={masked_count(info['n_with_time'], min_count)}, "
                     f"median {info['median']:.1f} mo (dashed)"),
            "opacity": 0.55 if mode == "overlay" and len(shown) > 1 else 0.9,
            "customdata": np.column_stack([part["bin_start"], part["bin_end"], np.asarray(counts, dtype=object),
                                           part["percent"].where(~small)]),
            "hovertemplate": (f"{group_text(g)}<br>%{{customdata[0]:g}}–%{{customdata[1]:g}} months<br>"
                              "%{customdata[2]} patients" + ("" if min_count else " (%{customdata[3]:.0f} %)")
                              + "<extra></extra>"),
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
                      "yanchor": "top", "text": "early relapse<br>(< 6 mo)", "font": {"size": SMALL_FONT_SIZE}})
    if min_count:
        notes.append({"x": 0, "y": -0.22, "xref": "paper", "yref": "paper", "showarrow": False, "xanchor": "left",
                      "yanchor": "top", "font": {"size": SMALL_FONT_SIZE},
                      "text": f"Disclosure control: bins with fewer than {min_count} patients are drawn empty."})
    right = float(hist.table["bin_end"].max())
    # Month ticks at a calendar-like step that is a whole number of bins.
    steps = [m for m in (1, 2, 3, 6, 12, 24, 36, 60, 120) if m % hist.bin_width == 0]
    step = next((m for m in steps if right / m <= 14), steps[-1])
    y_axis = axis(title={"text": "Patients" if scale == "count" else "% of the group's patients"})
    if scale == "count" and hist.table["count"].max() <= 10:
        y_axis["dtick"] = 1  # whole patients
    layout = {
        "template": TEMPLATE, "barmode": "overlay" if mode == "overlay" else "stack", "bargap": 0,
        "xaxis": axis(title={"text": hist.title}, range=[0, right], tick0=0, dtick=step),
        "yaxis": y_axis, "shapes": shapes, "annotations": notes, "height": 380, "showlegend": True,
        "margin": {"t": 40, "r": 20, "b": 100 if min_count else 50, "l": 60},
        "legend": {"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom", "traceorder": "normal"},
    }
    return go.Figure(data=bars, layout=layout)


def _vertical_line(x: float, colour: str, dash: str, width: float) -> dict:
    return {"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1, "xref": "x", "yref": "paper",
            "line": {"color": colour, "dash": dash, "width": width}}
