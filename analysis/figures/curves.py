"""Step curves with confidence bands and a number-at-risk table under the x-axis.

One builder for every time-to-event figure of the dashboard: Kaplan-Meier
survival (decreasing, starts at 1) and cumulative incidence (increasing,
starts at 0). It knows nothing about how a curve was estimated; a caller
describes each curve with a :class:`Curve` and calls :func:`curve_figure`.

Usage
-----
>>> from analysis.stats.kaplan_meier import fit_kaplan_meier
>>> from analysis.figures.curves import curve_figure, kaplan_meier_curve
>>> km = fit_kaplan_meier(time, event, label="B-ALL")
>>> fig = curve_figure([kaplan_meier_curve(km)], y_title="Overall survival")

For another estimator build :class:`Curve` directly::

    Curve(label="T-ALL", time=t, estimate=cif, lower=lo, upper=hi, start=0.0,
          censor_times=ct, at_risk=lambda x: ..., cumulative_events=lambda x: ...)

Conventions
-----------
* Times are **months** in every :class:`Curve`; ``time_unit="years"`` only
  changes the display (ticks, hover, axis title).
* ``time``/``estimate``/``lower``/``upper`` are the values of a right-
  continuous step function from each time on; the figure starts every curve
  at (0, ``start``). NaN in ``lower``/``upper`` (R's NA where the estimate is
  0 or 1) draws a band of zero width there.
* ``at_risk(t)`` returns, for an array of month values, the number of
  patients with follow-up time >= t (R ``summary(fit, times=)$n.risk``);
  ``cumulative_events(t)`` the number of events at times <= t.
* Estimates are probabilities (0-1); the y-axis shows percent.

What the figure shows
---------------------
* one colour per curve from the Okabe-Ito colour-blind-safe palette, step line
  (at most ~2,000 steps per curve: beyond that, the last step in each of 2,000
  equal time bins, which looks the same on screen),
  shaded pointwise CI band, censor ticks (thinned to ``max_censor_marks`` per
  curve so 100,000 patients do not put 100,000 marks in the browser);
* the tail of a curve where fewer than ``fade_below`` patients remain at risk
  drawn faded (a caption says so);
* hover: time, estimate with CI, number at risk;
* under the plot, a number-at-risk table: one row per curve in its colour,
  numbers at exactly the x tick positions (the x ticks are set here, not by
  Plotly, so the two cannot drift apart); optional cumulative events in
  brackets;
* optional reference markers (e.g. published survival at 1/2/5 years).

The figure has two stacked axes pairs sharing x (``xaxis2.matches = "x"``):
``x``/``y`` the curves, ``x2``/``y2`` the table (its y categories are the curve
labels). Table traces are ``mode="text"`` on ``y2``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from analysis.figures.style import (
    AXIS_LINE_COLOUR,
    FONT_FAMILY,
    FONT_SIZE,
    GRID_COLOUR,
    MUTED_COLOUR,
    PALETTE,
    REFERENCE_MARKER,
    SMALL_FONT_SIZE,
    TEXT_COLOUR,
    TITLE_FONT_SIZE,
    rgba,
    text_width,
)
from analysis.text import MONTHS_PER_YEAR, count, masked_count, wrap_label

FADED_OPACITY = 0.3
#: Height of the curves' panel in CSS pixels (the risk table and the margins come on top).
PLOT_HEIGHT = 440
_ROW_HEIGHT = 26
_MAX_STEPS = 2000
#: No named Plotly template: copying one costs a quarter of a second per figure; the few settings are explicit.
_TEMPLATE = go.layout.Template()
_AXIS_GAP = 86  # room under the curves for the tick labels and the axis title
_TICK_STEPS = {"months": (1, 2, 3, 6, 12, 24, 36, 60, 120), "years": (0.25, 0.5, 1, 2, 5, 10, 20)}
_ROW_LABEL_SIZE = FONT_SIZE - 1
_ROW_LABEL_STANDOFF = 14
_MIN_LEFT_MARGIN = 90  # the y-axis tick labels (100%) and its title
_LEGEND_SIZE = FONT_SIZE - 1
_LEGEND_WRAP = 30  # characters per legend line: a long saved-cohort name wraps instead of widening the legend
_LEGEND_SYMBOL = 48  # the line sample and the gap before the text, in px

AtRisk = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class Curve:
    """One step curve and what the figure needs to draw it.

    Attributes
    ----------
    label : str
        Legend and risk-table row label.
    time, estimate : ndarray
        Jump times (months, ascending) and the curve's value from each on.
    lower, upper : ndarray or None
        Pointwise CI at the same times (None: no band).
    at_risk : callable
        Months -> number at risk (follow-up >= t).
    censor_times : ndarray
        Months at which patients were censored (marks on the curve).
    cumulative_events : callable or None
        Months -> number of events so far (for the optional table rows).
    start : float
        Value at time 0: 1 for survival, 0 for incidence.
    n, events : int or None
        Shown in the legend as "label (n = .., events = ..)" when given.
    """

    label: str
    time: np.ndarray
    estimate: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None
    at_risk: AtRisk
    censor_times: np.ndarray = field(default_factory=lambda: np.empty(0))
    cumulative_events: AtRisk | None = None
    start: float = 1.0
    n: int | None = None
    events: int | None = None


@dataclass(frozen=True)
class ReferenceMarker:
    """A published value drawn as an open diamond, e.g. OS 57.7 % at 12 months."""

    time: float
    value: float
    label: str


def kaplan_meier_curve(km, label: str | None = None) -> Curve:
    """A :class:`Curve` from an :class:`analysis.stats.kaplan_meier.KaplanMeier` fit.

    Rows of the fit with censorings only do not change the estimate and are
    dropped from the line (the last one is kept so the line runs to the end of
    follow-up); they become censor marks.
    """
    tab = km.table
    keep = (tab["n_event"] > 0).to_numpy()
    if len(keep):
        keep[-1] = True
    rows = tab[keep]
    return Curve(
        label=label if label is not None else km.label,
        time=rows["time"].to_numpy(float), estimate=rows["survival"].to_numpy(float),
        lower=rows["lower"].to_numpy(float), upper=rows["upper"].to_numpy(float),
        at_risk=km.n_at_risk, cumulative_events=km.cumulative_events,
        censor_times=km.censor_times, start=1.0, n=km.n, events=km.events,
    )


def nice_ticks(x_max: float, time_unit: str, target: int = 10) -> np.ndarray:
    """Tick positions (display unit) from 0 to at least ``x_max``: the smallest step of
    ``_TICK_STEPS[time_unit]`` (months: 1 to 120; years: 0.25 upwards) giving at most ``target`` ticks.

    Beyond the table a 1-2-5 step keeps the count at ``target`` or fewer: the
    number of ticks never grows with the data (a time of 1e17 months gives ten
    ticks, not an array of petabytes).
    """
    steps = _TICK_STEPS[time_unit]
    x_max = float(x_max) if np.isfinite(x_max) and x_max > 0 else 0.0
    step = next((s for s in steps if x_max / s <= target), None)
    if step is None:
        magnitude = 10.0 ** np.floor(np.log10(x_max / target))
        step = next(m * magnitude for m in (1, 2, 5, 10) if x_max / (m * magnitude) <= target)
    return np.arange(0.0, x_max + step * 0.999, step)


def _step_value(curve_time: np.ndarray, values: np.ndarray, start: float, at: np.ndarray) -> np.ndarray:
    """Value of a right-continuous step function at times ``at``."""
    i = np.searchsorted(curve_time, at, side="right") - 1
    return np.where(i >= 0, values[np.maximum(i, 0)], start)


def _fade_start(curve: Curve, fade_below: int | None) -> float:
    """First time after which fewer than ``fade_below`` patients remain at risk (inf: never)."""
    if not fade_below:
        return np.inf
    candidates = np.unique(np.concatenate(([0.0], curve.time, curve.censor_times)))
    after = curve.at_risk(np.nextafter(candidates, np.inf))
    below = np.flatnonzero(np.asarray(after) < fade_below)
    return float(candidates[below[0]]) if len(below) else np.inf


def _thin(times: np.ndarray, limit: int) -> np.ndarray:
    if len(times) <= limit:
        return times
    return times[np.unique(np.linspace(0, len(times) - 1, limit).round().astype(int))]


def _with_start(curve: Curve, x_end: float) -> tuple[np.ndarray, ...]:
    """Step points from (0, start) to the end of follow-up, CI NaNs filled with the estimate."""
    last = max(curve.time[-1] if len(curve.time) else 0.0,
               curve.censor_times.max() if len(curve.censor_times) else 0.0)
    t = np.concatenate(([0.0], curve.time))
    est = np.concatenate(([curve.start], curve.estimate))
    lower = est if curve.lower is None else np.concatenate(([curve.start], curve.lower))
    upper = est if curve.upper is None else np.concatenate(([curve.start], curve.upper))
    lower = np.where(np.isnan(lower), est, lower)
    upper = np.where(np.isnan(upper), est, upper)
    if t[-1] < last:  # run the line on to the last censoring
        t, est = np.append(t, last), np.append(est, est[-1])
        lower, upper = np.append(lower, lower[-1]), np.append(upper, upper[-1])
    keep = t <= x_end
    t, est, lower, upper = t[keep], est[keep], lower[keep], upper[keep]
    if not keep.all() and len(t) and t[-1] < x_end:  # the curve goes on past the axis: draw it to the edge
        t, est, lower, upper = (np.append(t, x_end), np.append(est, est[-1]), np.append(lower, lower[-1]),
                                np.append(upper, upper[-1]))
    return _thin_steps(t, est, lower, upper)


def _thin_steps(t: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """At most about ``_MAX_STEPS`` points: the last step in each of that many equal time bins.

    A screen has ~1000 pixels across, so a curve with 20,000 distinct times
    looks the same with one step per bin; the browser gets far less data.
    """
    if len(t) <= _MAX_STEPS:
        return (t, *values)
    keep = step_indices(t)
    return (t[keep], *(v[keep] for v in values))


def step_indices(t: np.ndarray, limit: int = _MAX_STEPS) -> np.ndarray:
    """Indices of the first time and of the last step in each of ``limit`` equal bins of [0, t[-1]] (sorted ``t``).

    Drawn as a step line through these points, the curve differs from the
    full one only inside a bin (1/``limit`` of the axis, under a pixel) and
    every drawn point is a true point of the curve.
    """
    if len(t) <= limit or t[-1] <= 0:
        return np.arange(len(t))
    bins = np.floor(t / t[-1] * (limit - 1)).astype(int)
    last_in_bin = np.flatnonzero(np.diff(bins, append=bins[-1] + 1) != 0)
    return np.union1d([0], last_in_bin)


def _legend_name(curve: Curve, min_count: int | None = None) -> str:
    """``"B-ALL (n = 58, 30 events)"``; a long label wraps, and the counts go on a line of their own if need be."""
    label = wrap_label(curve.label, _LEGEND_WRAP)
    if curve.n is None:
        return label
    if curve.events is None:
        events = ""
    elif min_count and 0 < curve.events < min_count:
        events = f", {masked_count(curve.events, min_count)} events"
    else:
        events = f", {count(curve.events, 'event')}"
    counts = f"(n = {masked_count(curve.n, min_count)}{events})"
    last = label.rsplit("<br>", 1)[-1]
    return f"{label}{' ' if len(last) + len(counts) < _LEGEND_WRAP + 12 else '<br>'}{counts}"


def _legend_width(names: Sequence[str]) -> float:
    """Room for a vertical legend of ``names`` (lines split at ``<br>``) right of the plot, in px."""
    widest = max((text_width(line, _LEGEND_SIZE) for name in names for line in name.split("<br>")), default=0.0)
    return widest + _LEGEND_SYMBOL + 24


def _left_margin(labels: Sequence[str]) -> int:
    """Room left of the plot for the widest number-at-risk row label (bold), so none is cut."""
    widest = max((text_width(lab, _ROW_LABEL_SIZE, bold=True) for lab in labels), default=0.0)
    return int(max(_MIN_LEFT_MARGIN, widest + _ROW_LABEL_STANDOFF + 12))


def _scatter(**props) -> dict:
    """A scatter trace on the curves' axes (x, y) unless told otherwise."""
    return {"type": "scatter", "xaxis": "x", "yaxis": "y", **props}


def _curve_traces(curve: Curve, colour: str, *, scale: float, unit: str, y_title: str, ci_band: bool,
                  fade_at: float, x_end: float, max_censor_marks: int, band_alpha: float,
                  min_count: int | None = None) -> list[dict]:
    t, est, lower, upper = _with_start(curve, x_end)
    if t[0] < fade_at < t[-1] and fade_at not in t:
        # Flat stretches carry no points (censorings only): add one where the fading starts.
        i = int(np.searchsorted(t, fade_at))
        est, lower, upper = (np.insert(a, i, a[i - 1]) for a in (est, lower, upper))
        t = np.insert(t, i, fade_at)
    x = t / scale
    group = f"curve-{curve.label}"
    traces = []
    if ci_band and curve.lower is not None:
        traces.append(_scatter(x=x, y=lower, mode="lines", line={"width": 0, "shape": "hv"}, hoverinfo="skip",
                               showlegend=False, legendgroup=group))
        traces.append(_scatter(x=x, y=upper, mode="lines", line={"width": 0, "shape": "hv"}, fill="tonexty",
                               fillcolor=rgba(colour, band_alpha), hoverinfo="skip", showlegend=False,
                               legendgroup=group))
    at_risk = [masked_count(int(v), min_count) for v in np.asarray(curve.at_risk(t))]
    custom = np.column_stack([lower, upper, np.asarray(at_risk, dtype=object)])
    hover = (f"<b>{curve.label}</b><br>%{{x:.1f}} {unit}<br>{y_title}: %{{y:.1%}}"
             "<br>95 % CI %{customdata[0]:.1%}–%{customdata[1]:.1%}"
             "<br>At risk: %{customdata[2]}<extra></extra>")
    solid = t <= fade_at
    faded = t >= fade_at  # both include the point at fade_at: the line has no gap
    line = {"color": colour, "width": 3, "shape": "hv"}
    traces.append(_scatter(x=x[solid], y=est[solid], customdata=custom[solid], mode="lines",
                           name=_legend_name(curve, min_count), line=line, legendgroup=group, hovertemplate=hover))
    if np.isfinite(fade_at) and faded.sum() > 1:
        traces.append(_scatter(x=x[faded], y=est[faded], customdata=custom[faded], mode="lines", showlegend=False,
                               line=line, opacity=FADED_OPACITY, legendgroup=group, hovertemplate=hover))
    marks = _thin(curve.censor_times[curve.censor_times <= x_end], max_censor_marks)
    if len(marks):
        y = _step_value(curve.time, curve.estimate, curve.start, marks)
        traces.append(_scatter(
            x=marks / scale, y=y, mode="markers", showlegend=False, legendgroup=group,
            marker={"symbol": "line-ns-open", "size": 11, "color": colour, "line": {"width": 2},
                    "opacity": np.where(marks > fade_at, FADED_OPACITY, 1.0)},
            # Under disclosure control a censoring time is one patient's detail: no hover on the marks.
            **({"hoverinfo": "skip"} if min_count else
               {"hovertemplate": f"{curve.label}: censored at %{{x:.1f}} {unit}<extra></extra>"})))
    return traces


def _risk_table_traces(curves: Sequence[Curve], colours: Sequence[str], ticks: np.ndarray, scale: float,
                       cumulative_events: bool, min_count: int | None = None) -> tuple[list[dict], list[str]]:
    """Numbers at risk at the tick positions, and the row labels (top to bottom)."""
    traces, rows = [], []
    for curve, colour in zip(curves, colours, strict=True):
        at = ticks * scale
        text = [masked_count(v, min_count) for v in np.asarray(curve.at_risk(at)).astype(int)]
        if cumulative_events and curve.cumulative_events is not None:
            ev = np.asarray(curve.cumulative_events(at)).astype(int)
            text = [f"{a} ({masked_count(b, min_count)})" for a, b in zip(text, ev, strict=True)]
        row_label = f'<span style="color:{colour}"><b>{curve.label}</b></span>'
        rows.append(row_label)
        traces.append(_scatter(x=ticks, y=[row_label] * len(ticks), text=text, mode="text", xaxis="x2",
                               yaxis="y2", textfont={"color": colour, "size": _ROW_LABEL_SIZE}, cliponaxis=False,
                               hoverinfo="skip", showlegend=False))
    return traces, rows


def curve_figure(
    curves: Sequence[Curve],
    *,
    y_title: str,
    title: str | None = None,
    subtitle: str | None = None,
    x_title: str = "Time since HSCT2",
    time_unit: str = "months",
    ci_band: bool = True,
    risk_table: bool = True,
    cumulative_events: bool = False,
    fade_below: int | None = 5,
    reference_markers: Sequence[ReferenceMarker] | None = None,
    reference_label: str = "Published",
    x_max: float | None = None,
    y_range: tuple[float, float] = (0.0, 1.0),
    legend_title: str | None = None,
    max_censor_marks: int = 300,
    min_count: int | None = None,
    plot_height: int = PLOT_HEIGHT,
) -> go.Figure:
    """Overlay step curves with CI bands and a number-at-risk table under the x-axis.

    Parameters
    ----------
    curves : sequence of Curve
        In legend order; colours follow :data:`PALETTE`.
    y_title : str
        Name of the estimate, e.g. "Overall survival" or "Cumulative incidence of relapse".
    title, subtitle : str, optional
        Figure title, and a line under it (e.g. the log-rank test).
    x_title : str
        x-axis title; the unit is appended.
    time_unit : {"months", "years"}
        Display unit of the x-axis (curves are always in months).
    ci_band, risk_table, cumulative_events : bool
        Draw the CI band; the number-at-risk table; cumulative events in brackets.
    fade_below : int or None
        Fade each curve where fewer than this many patients remain at risk.
    reference_markers : sequence of ReferenceMarker, optional
        Reference values (months, probability) drawn as open diamonds.
    reference_label : str
        Legend entry of the reference markers.
    x_max : float, optional
        End of the x-axis in months (default: last time of any curve).
    y_range : (float, float)
        Range of the y-axis as probabilities.
    legend_title : str, optional
        What the curves are (e.g. "Lineage").
    max_censor_marks : int
        Censor marks per curve at most (evenly thinned beyond).
    min_count : int, optional
        Disclosure control: counts (at risk, n, events) below this show as
        ``"<min_count"`` in the table, legend and hover, and censor marks have
        no hover (a censoring time is one patient's detail).
    plot_height : int
        Height of the curves' panel in CSS pixels (a slide wants a flatter panel
        than a page, so that its text can be larger).

    Layout: the legend stands right of the plot, one entry per line (long
    names wrap), so it never runs over the title or the test line; the left
    margin is as wide as the widest number-at-risk row label.

    Returns
    -------
    plotly.graph_objects.Figure
        Built from plain dicts without Plotly's property validation, which
        would cost more than the statistics (``make_subplots``/``add_trace``
        ~150 ms, validation ~30 ms); the tests validate the dicts.
    """
    if time_unit not in _TICK_STEPS:
        raise ValueError(f"time_unit must be 'months' or 'years', got {time_unit!r}")
    if not curves:
        raise ValueError("no curves to draw")
    scale = MONTHS_PER_YEAR if time_unit == "years" else 1.0
    last = max(max(np.max(c.time, initial=0.0), np.max(c.censor_times, initial=0.0)) for c in curves)
    x_end = float(x_max) if x_max is not None else max(last, 1.0)
    ticks = nice_ticks(x_end / scale, time_unit)
    ticks = ticks[ticks <= x_end / scale + 1e-9]
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(curves))]

    traces: list[dict] = []
    for curve, colour in zip(curves, colours, strict=True):
        traces += _curve_traces(curve, colour, scale=scale, unit=time_unit, y_title=y_title, ci_band=ci_band,
                                fade_at=_fade_start(curve, fade_below), x_end=x_end,
                                max_censor_marks=max_censor_marks, band_alpha=0.15 if len(curves) <= 2 else 0.09,
                                min_count=min_count)
    if reference_markers:
        traces.append(_reference_trace(reference_markers, scale, time_unit, reference_label))

    table_px = (_ROW_HEIGHT * len(curves) + 36) if risk_table else 0
    gap_px = _AXIS_GAP if risk_table else 0
    area_px = plot_height + gap_px + table_px
    x_range = [-0.04 * x_end / scale, x_end / scale * 1.03]
    axis_font = {"size": FONT_SIZE}
    layout: dict = {
        "xaxis": {"range": x_range, "tickvals": ticks, "ticktext": [f"{v:g}" for v in ticks], "showgrid": True,
                  "gridcolor": GRID_COLOUR, "zeroline": False, "tickfont": axis_font, "linecolor": AXIS_LINE_COLOUR,
                  "ticks": "outside", "showline": True, "anchor": "y", "domain": [0, 1],
                  "title": {"text": f"{x_title} ({time_unit})", "font": axis_font}},
        "yaxis": {"range": [y_range[0] - 0.01, y_range[1] + 0.02], "tickformat": ".0%", "tickfont": axis_font,
                  "title": {"text": y_title, "font": axis_font}, "gridcolor": GRID_COLOUR, "zeroline": False,
                  "linecolor": AXIS_LINE_COLOUR, "showline": True, "ticks": "outside", "anchor": "x",
                  "domain": [(table_px + gap_px) / area_px, 1]},
    }
    annotations = _reference_labels(reference_markers, scale) if reference_markers else []
    if risk_table:
        table_traces, labels = _risk_table_traces(curves, colours, ticks, scale, cumulative_events, min_count)
        traces += table_traces
        layout["xaxis2"] = {"matches": "x", "anchor": "y2", "domain": [0, 1], "tickvals": ticks,
                            "showticklabels": False, "showgrid": False, "showline": False, "zeroline": False,
                            "ticks": ""}
        layout["yaxis2"] = {"anchor": "x2", "domain": [0, table_px / area_px], "type": "category",
                            "categoryorder": "array", "categoryarray": labels[::-1], "showgrid": False,
                            "zeroline": False, "tickfont": {"size": _ROW_LABEL_SIZE},
                            "ticklabelstandoff": _ROW_LABEL_STANDOFF,
                            "range": [-0.6, len(labels) - 0.4]}
        what = "Number at risk (cumulative events)" if cumulative_events else "Number at risk"
        annotations.append({"text": f"<b>{what}</b>", "xref": "paper", "yref": "y2 domain", "x": 0, "y": 1.0,
                            "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": FONT_SIZE - 1}, "yshift": 4})
    captions = []
    if fade_below:
        captions.append(f"Faded line: fewer than {fade_below} patients at risk.")
    if ci_band:
        captions.append("Shaded: pointwise 95 % CI.")
    captions.append("Ticks: censored.")
    annotations.append({"text": "  ".join(captions), "xref": "paper", "yref": "paper", "x": 0, "y": 0,
                        "yanchor": "top", "xanchor": "left", "showarrow": False, "yshift": -20,
                        "font": {"size": SMALL_FONT_SIZE, "color": MUTED_COLOUR}})

    top = 50
    title_block = None
    if title or subtitle:
        title_block = {"text": f"<b>{title or ''}</b>", "x": 0.01, "xanchor": "left", "font": {"size": TITLE_FONT_SIZE},
                       "y": 1.0, "yref": "container", "yanchor": "top", "pad": {"t": 12}}
        top += 40
        if subtitle:
            title_block["subtitle"] = {"text": subtitle, "font": {"size": FONT_SIZE - 1, "color": TEXT_COLOUR}}
            top += 24
    layout.update(
        height=area_px + top + 60, template=_TEMPLATE, plot_bgcolor="white", paper_bgcolor="white",
        font={"size": FONT_SIZE, "family": FONT_FAMILY, "color": TEXT_COLOUR}, title=title_block,
        hovermode="closest", annotations=annotations,
        **_legend_and_margins(traces, legend_title, [c.label for c in curves] if risk_table else [], top),
    )
    # Validating ~25 traces costs ~30 ms per rerun; the tests validate the same dicts instead
    # (tests/test_curve_figure.py::test_figure_is_valid_plotly).
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


def _legend_and_margins(traces: Sequence[dict], legend_title: str | None, row_labels: Sequence[str],
                        top: int) -> dict:
    """A vertical legend right of the plot (never over the title or the test line), and margins that hold
    it and the widest number-at-risk row label."""
    names = [t["name"] for t in traces if t.get("name") and t.get("showlegend", True)]
    if legend_title:
        names.append(f"<b>{legend_title}</b>")
    return {
        "margin": {"l": _left_margin(row_labels), "r": int(_legend_width(names)) + 10, "t": top, "b": 60},
        "legend": {"title": {"text": legend_title or "", "side": "top"}, "orientation": "v", "yanchor": "top",
                   "y": 1.0, "x": 1.01, "xanchor": "left", "font": {"size": _LEGEND_SIZE}, "tracegroupgap": 4},
    }


def _reference_trace(markers: Sequence[ReferenceMarker], scale: float, unit: str, name: str) -> dict:
    return _scatter(
        x=[m.time / scale for m in markers], y=[m.value for m in markers], mode="markers",
        name=wrap_label(name, _LEGEND_WRAP),
        marker=REFERENCE_MARKER,
        customdata=[m.label for m in markers],
        hovertemplate=f"{name}: %{{customdata}}<br>%{{x:.1f}} {unit}: %{{y:.1%}}<extra></extra>",
    )


def _reference_labels(markers: Sequence[ReferenceMarker], scale: float) -> list[dict]:
    """Values beside the diamonds, on a white box so a curve passing through stays readable."""
    return [{"x": m.time / scale, "y": m.value, "xref": "x", "yref": "y", "text": f"{m.value:.1%}",
             "showarrow": False, "xanchor": "left", "yanchor": "bottom", "xshift": 7, "yshift": 5,
             "bgcolor": "rgba(255,255,255,0.85)", "font": {"size": SMALL_FONT_SIZE, "color": TEXT_COLOUR}}
            for m in markers]
