"""Figures of the Relapse view that the generic curve builder does not cover.

* :func:`states_figure`: the stacked "where are the patients now" plot, one
  panel per group, bands summing to 100 %.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.grouping import ALL
from analysis.patient_states import STATE_LABELS, PatientStates

STATE_COLOURS: dict[str, str] = {
    "alive_relapse_free": "#4c9a5b",
    "alive_after_relapse": "#f0a030",
    "relapsed": "#e07b39",
    "dead_after_relapse": "#b2352c",
    "dead_without_relapse": "#7f7f7f",
}


def states_figure(states: Sequence[PatientStates], *, max_time: float | None = None) -> go.Figure:
    """Stacked step areas of the state probabilities (in %), one panel per group.

    Each panel ends at its group's last estimable time; ``max_time`` (months)
    limits the common x axis.
    """
    panels = len(states)
    titles = [("All patients" if s.label == ALL else s.label) + f" (n={s.n})" for s in states]
    fig = make_subplots(rows=1, cols=panels, shared_yaxes=True, subplot_titles=titles,
                        horizontal_spacing=0.04 if panels > 1 else 0.0)
    seen: set[str] = set()
    for col, group in enumerate(states, start=1):
        table = group.table if max_time is None else group.table[group.table["time"] <= max_time]
        for state in group.states:
            fig.add_scatter(
                x=table["time"], y=100 * table[state], row=1, col=col,
                mode="lines", line={"shape": "hv", "width": 0.5, "color": STATE_COLOURS[state]},
                stackgroup=f"g{col}", fillcolor=STATE_COLOURS[state],
                name=STATE_LABELS[state], legendgroup=state, showlegend=state not in seen,
                hovertemplate=f"{STATE_LABELS[state]}: %{{y:.1f}} %<br>%{{x:.1f}} months<extra></extra>",
            )
            seen.add(state)
    fig.update_yaxes(range=[0, 100], ticksuffix=" %")
    fig.update_yaxes(title_text="Patients", row=1, col=1)
    fig.update_xaxes(title_text="Months after HSCT2", rangemode="tozero",
                     range=None if max_time is None else [0, max_time])
    fig.update_layout(template="plotly_white", height=400, hovermode="x unified",
                      legend={"orientation": "h", "y": -0.22, "x": 0, "traceorder": "normal"},
                      margin={"t": 40, "r": 20, "b": 90, "l": 60})
    return fig
