"""The calibration figure of the Model validation page: predicted against observed risk by risk group.

One panel per model (Cox, random survival forest, no covariates): for each
group of patients ordered by predicted risk of the event by 2 years, the mean
predicted risk (x) against the Kaplan-Meier estimate of the observed risk
(y) with its 95 % CI; open markers for the apparent predictions (model fitted
on everyone), filled ones for the cross-validated predictions (each patient's
prediction from the fits that left them out, averaged over the repeats).
Points on the diagonal are well calibrated.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from analysis.analyses.validation import MODEL_NAMES, ModelValidation
from analysis.figures.style import FONT_SIZE, LAYOUT_STYLE, MUTED_COLOUR, SMALL_FONT_SIZE, TITLE_FONT_SIZE, axis
from analysis.text import landmark_label

KINDS = {"apparent": ("Apparent (fitted on everyone)", "circle-open", "#555555"),
         "cross-validated": ("Cross-validated (left out of the fit)", "circle", "#0072B2")}


def calibration_figure(validation: ModelValidation, *, title: str | None = None) -> go.Figure:
    """Predicted against observed risk by ``design.calibration_time`` in risk groups, one panel per model."""
    models = list(validation.result.models)
    cal = validation.calibration
    t = validation.design.calibration_time
    gap, n = 0.08, len(models)
    width = (1 - gap * (n - 1)) / n
    traces: list[dict] = []
    layout: dict = {}
    annotations = []
    for i, model in enumerate(models):
        suffix = "" if i == 0 else str(i + 1)
        x, y = f"x{suffix}", f"y{suffix}"
        layout[f"xaxis{suffix}"] = axis(domain=[i * (width + gap), i * (width + gap) + width], range=[-0.02, 1.02],
                                        tickformat=".0%", anchor=y, title={"text": "Predicted risk"})
        layout[f"yaxis{suffix}"] = axis(range=[-0.02, 1.04], tickformat=".0%", anchor=x,
                                        title={"text": "Observed risk (Kaplan-Meier)" if i == 0 else "",
                                               "standoff": 6})
        traces.append({"type": "scatter", "x": [0, 1], "y": [0, 1], "mode": "lines", "xaxis": x, "yaxis": y,
                       "line": {"color": "#aaaaaa", "dash": "dash", "width": 1.5}, "hoverinfo": "skip",
                       "showlegend": False})
        annotations.append({"text": f"<b>{MODEL_NAMES[model]}</b>", "xref": f"{x} domain", "yref": "paper",
                            "x": 0.5, "y": 1.0, "xanchor": "center", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": FONT_SIZE}})
        for kind, (name, symbol, colour) in KINDS.items():
            rows = cal[(cal["model"] == model) & (cal["kind"] == kind)]
            observed = rows["observed"].to_numpy(float)
            traces.append({
                "type": "scatter", "x": rows["predicted"].to_numpy(float), "y": observed, "mode": "markers+lines",
                "xaxis": x, "yaxis": y, "name": name, "legendgroup": kind, "showlegend": i == 0,
                "marker": {"symbol": symbol, "size": 12, "color": colour, "line": {"width": 2, "color": colour}},
                "line": {"color": colour, "width": 1},
                "error_y": {"type": "data", "symmetric": False, "array": np.nan_to_num(rows["upper"] - observed),
                            "arrayminus": np.nan_to_num(observed - rows["lower"]), "color": colour, "thickness": 1.2},
                "customdata": np.column_stack([rows["n"], rows["events"], rows["lower"], rows["upper"]]),
                "hovertemplate": (f"{name}<br>predicted %{{x:.1%}}, observed %{{y:.1%}} "
                                  "(95 % CI %{customdata[2]:.1%}–%{customdata[3]:.1%})<br>"
                                  "%{customdata[0]} patients, %{customdata[1]} events<extra></extra>"),
            })
    annotations.append({"text": f"Groups of patients by predicted risk; bars: 95 % CI of the observed risk. "
                                f"Seed {validation.design.seed}, {validation.design.folds} folds × "
                                f"{validation.design.repeats} repeats.",
                        "xref": "paper", "yref": "paper", "x": 0, "y": 0, "xanchor": "left", "yanchor": "top",
                        "yshift": -62, "showarrow": False, "font": {"size": SMALL_FONT_SIZE, "color": MUTED_COLOUR}})
    heading = title or f"Calibration at {landmark_label(t)}: risk of the event by then"
    layout.update(LAYOUT_STYLE, height=480, annotations=annotations, hovermode="closest",
                  title={"text": f"<b>{heading}</b>", "x": 0.01, "xanchor": "left", "font": {"size": TITLE_FONT_SIZE},
                         "y": 1.0, "yref": "container", "yanchor": "top", "pad": {"t": 12}},
                  margin={"l": 100, "r": 30, "t": 110, "b": 100},
                  legend={"orientation": "h", "x": 0, "y": 1.08, "yanchor": "bottom", "font": {"size": FONT_SIZE - 1}})
    return go.Figure({"data": traces, "layout": layout}, _validate=False)
