"""Figures of the Relapse view.

* :func:`cif_figure`: cumulative incidence curves of one cause per group, drawn
  by the shared step-curve builder (:mod:`analysis.figures.curves`: CI band,
  censor ticks, number-at-risk table);
* :func:`states_figure`: the stacked "where are the patients now" plot, one
  panel per group, bands summing to 100 %;
* :func:`relapse_cause_figure`: one cause's, subtitled with Gray's test;
* :func:`relapse_figures`: all of them for a :class:`~analysis.analyses.relapse.RelapseComparison`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.analyses.relapse import CAUSES, RelapseComparison
from analysis.cohort.model import CAUSE_NRM, CAUSE_RELAPSE
from analysis.figures.curves import PLOT_HEIGHT, Curve, curve_figure, step_indices
from analysis.figures.style import FONT_SIZE, TEMPLATE, axis
from analysis.stats.competing_risks import CompetingRisksError, CumulativeIncidence
from analysis.stats.patient_states import STATE_LABELS, PatientStates
from analysis.text import group_text, masked_count, p_value

CAUSE_TITLES: dict[int, str] = {
    CAUSE_RELAPSE: "Cumulative incidence of relapse",
    CAUSE_NRM: "Non-relapse mortality",
}

STATE_COLOURS: dict[str, str] = {
    "alive_relapse_free": "#4c9a5b",
    "alive_after_relapse": "#f0a030",
    "relapsed": "#e07b39",
    "dead_after_relapse": "#b2352c",
    "dead_without_relapse": "#7f7f7f",
}


def states_figure(states: Sequence[PatientStates], *, max_time: float | None = None,
                  max_points: int = 2000, min_count: int | None = None) -> go.Figure:
    """Stacked step areas of the state probabilities (in %), one panel per group.

    Each panel ends at its group's last estimable time; ``max_time`` (months)
    limits the common x axis. Panels with more than ``max_points`` times are
    drawn through the last step in each of that many equal time bins
    (:func:`~analysis.figures.curves.step_indices`), so a large cohort does not
    send every event time to the browser.
    Without groups the figure is empty and says "No patients".
    """
    panels = len(states)
    if panels == 0:
        return go.Figure(layout={"template": TEMPLATE, "height": 430, "xaxis": {"visible": False},
                                 "yaxis": {"visible": False},
                                 "annotations": [{"text": "No patients", "xref": "paper", "yref": "paper",
                                                  "x": 0.5, "y": 0.5, "showarrow": False,
                                                  "font": {"size": FONT_SIZE}}]})
    gap = 0.04 if panels > 1 else 0.0
    width = (1 - gap * (panels - 1)) / panels
    traces, titles = [], []
    layout: dict[str, Any] = {}
    for col, group in enumerate(states, start=1):
        table = _thinned(group, max_time, max_points)
        suffix = "" if col == 1 else str(col)
        left = (col - 1) * (width + gap)
        layout[f"xaxis{suffix}"] = axis(domain=[left, left + width], anchor=f"y{suffix}",
                                        title={"text": "Months after HSCT2"}, rangemode="tozero")
        if max_time is not None:
            layout[f"xaxis{suffix}"]["range"] = [0, max_time]
        layout[f"yaxis{suffix}"] = axis(range=[0, 100], ticksuffix=" %", anchor=f"x{suffix}",
                                        **({"title": {"text": "Patients", "standoff": 8}} if col == 1 else
                                           {"matches": "y", "showticklabels": False}))
        titles.append({"text": f"{group_text(group.label)} (n = {masked_count(group.n, min_count)})",
                       "x": left + width / 2, "y": 1.0, "xref": "paper", "yref": "paper", "showarrow": False,
                       "xanchor": "center", "yanchor": "bottom", "font": {"size": FONT_SIZE}})
        for state in group.states:
            traces.append({
                "type": "scatter", "x": table["time"].to_numpy(), "y": 100 * table[state].to_numpy(),
                "xaxis": f"x{suffix}", "yaxis": f"y{suffix}", "mode": "lines", "stackgroup": f"g{col}",
                "line": {"shape": "hv", "width": 0.5, "color": STATE_COLOURS[state]},
                "fillcolor": STATE_COLOURS[state], "name": STATE_LABELS[state], "legendgroup": state,
                "showlegend": col == 1 or state not in states[0].states,
                "hovertemplate": f"{STATE_LABELS[state]}: %{{y:.1f}} %<br>%{{x:.1f}} months<extra></extra>",
            })
    layout.update(template=TEMPLATE, height=430, hovermode="x unified", annotations=titles,
                  legend={"orientation": "h", "y": -0.3, "x": 0, "traceorder": "normal"},
                  margin={"t": 40, "r": 20, "b": 110, "l": 84})
    return go.Figure(data=traces, layout=layout)


def _thinned(group: PatientStates, max_time: float | None, max_points: int) -> pd.DataFrame:
    table = group.table if max_time is None else group.table[group.table["time"] <= max_time]
    return table.iloc[step_indices(table["time"].to_numpy(), max_points)]


def cif_curve(fit: CumulativeIncidence, cause: int, label: str) -> Curve:
    """A :class:`~analysis.figures.curves.Curve` (increasing, from 0) for one cause of a fit."""
    rows = fit.curve(cause)
    keep = (rows["n_event"] > 0).to_numpy()
    keep[-1] = True  # run the line to the end of follow-up
    rows = rows[keep]
    return Curve(
        label=label, time=rows["time"].to_numpy(float), estimate=rows["cif"].to_numpy(float),
        lower=rows["lower"].to_numpy(float), upper=rows["upper"].to_numpy(float),
        at_risk=fit.n_at_risk, cumulative_events=lambda t: fit.cumulative_events(cause, t),
        censor_times=fit.censor_times, start=0.0, n=fit.n, events=fit.events[cause],
    )


def gray_caption(test: pd.Series | None) -> str | None:
    """One line for a figure: "Gray's test: χ² = 3.21, df = 1, p = 0.073", or why there is none."""
    if test is None:
        return None
    if not np.isfinite(test["statistic"]):
        return f"Gray's test {test['note']}." if test["note"].startswith("not valid") else (
            f"Gray's test not computed: {test['note']}.")
    return f"Gray's test: χ² = {test['statistic']:.2f}, df = {int(test['df'])}, {p_value(test['p'])}"


def cif_figure(
    fits: Mapping[str, CumulativeIncidence],
    cause: int,
    *,
    legend_title: str | None = None,
    subtitle: str | None = None,
    time_unit: str = "months",
    x_max: float | None = None,
    min_count: int | None = None,
    plot_height: int = PLOT_HEIGHT,
) -> go.Figure:
    """Cumulative incidence of one cause per group, with CI bands and a number-at-risk table.

    Groups with a single patient are left out (their curve would jump to 0 %
    or 100 %); :func:`analysis.analyses.relapse.cif_notes` says so in words.
    ``min_count``: disclosure control, as :func:`analysis.figures.curves.curve_figure`.
    """
    curves = [cif_curve(fit, cause, group_text(g)) for g, fit in fits.items() if fit.n > 1]
    if not curves:
        raise CompetingRisksError("no group has more than one patient: there is no curve to draw")
    return curve_figure(curves, y_title=CAUSE_TITLES[cause], title=CAUSE_TITLES[cause], subtitle=subtitle,
                        legend_title=legend_title, time_unit=time_unit, x_max=x_max, min_count=min_count,
                        plot_height=plot_height)


@dataclass(frozen=True, eq=False)
class RelapseFigures:
    """The Relapse view's figures: one cumulative-incidence figure per cause and the patient states.

    ``figures`` maps cause codes to figures subtitled with Gray's test;
    ``problems`` names the causes whose figure cannot be drawn, with the reason.
    """

    figures: Mapping[int, go.Figure]
    problems: Mapping[int, str]
    states_figure: go.Figure = field(repr=False)


def relapse_cause_figure(result: RelapseComparison, cause: int, *, time_unit: str = "months",
                         min_count: int | None = None, plot_height: int = PLOT_HEIGHT) -> go.Figure:
    """The cumulative incidence of one cause per group, subtitled with its Gray's test.

    Raises :class:`~analysis.stats.competing_risks.CompetingRisksError` when no group has a curve to draw.
    """
    return cif_figure(result.fits, cause, legend_title=result.legend_title,
                      subtitle=gray_caption(result.test_of(cause)), time_unit=time_unit, min_count=min_count,
                      plot_height=plot_height)


def relapse_figures(result: RelapseComparison, *, time_unit: str = "months",
                    min_count: int | None = None, plot_height: int = PLOT_HEIGHT) -> RelapseFigures:
    """Cumulative incidence of relapse and NRM per group (with Gray's test) and the patient states.

    ``min_count``: disclosure control of the counts (numbers at risk, legend n and events, hover);
    ``plot_height``: of the curves' panel (:func:`analysis.figures.curves.curve_figure`).
    """
    figures, problems = {}, {}
    for cause in CAUSES:
        try:
            figures[cause] = relapse_cause_figure(result, cause, time_unit=time_unit, min_count=min_count,
                                                  plot_height=plot_height)
        except CompetingRisksError as err:
            problems[cause] = str(err)
    return RelapseFigures(figures, problems, states_figure(result.states, min_count=min_count))
