"""Figures of the Patient-like-me page: a profile's predicted curves beside what the data show.

:func:`prediction_figure`: one panel per survival endpoint (OS, RFS), each with
the curve the Cox model predicts for the profile and its pointwise 95 % CI
band, the Kaplan-Meier curve of the whole filtered cohort, and that of the
patients who match the profile (with their n). :func:`incidence_figure`: the
profile's predicted relapse and NRM cumulative incidence (cause-specific Cox
models) over the cohort's Aalen-Johansen curves.

Built from plain dicts without Plotly's validation (a rerun of the page must
stay fast); the tests validate the dicts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from analysis.analyses.patient_like_me import PatientPrediction
from analysis.figures.curves import nice_ticks
from analysis.figures.style import FONT_SIZE, LAYOUT_STYLE, MUTED_COLOUR, SMALL_FONT_SIZE, TITLE_FONT_SIZE, axis, rgba
from analysis.stats.kaplan_meier import KaplanMeier
from analysis.text import count

PREDICTED, COHORT, MATCHING = "#0072B2", "#7a7a7a", "#D55E00"
RELAPSE, NRM = "#D55E00", "#009E73"
PANEL_TITLES = {"os": "Overall survival", "rfs": "Relapse-free survival"}
_HEIGHT = 520
#: Curves are drawn faded where fewer than this many patients are still followed.
FADE_BELOW = 5
FADED_OPACITY = 0.35


def _steps(time: np.ndarray, *values: np.ndarray, start: Sequence[float], x_end: float) -> tuple[np.ndarray, ...]:
    """Step points from (0, start) up to ``x_end`` (the last value carried to the end of the data)."""
    t = np.concatenate(([0.0], time))
    out = [np.concatenate(([s], v)) for s, v in zip(start, values, strict=True)]
    keep = t <= x_end
    return (t[keep], *(v[keep] for v in out))


def _fade_at(time: np.ndarray, n_risk: np.ndarray) -> float:
    """The first time with fewer than :data:`FADE_BELOW` patients still followed (inf: never)."""
    below = np.flatnonzero(n_risk < FADE_BELOW)
    return float(time[below[0]]) if len(below) else np.inf


def _with_fading(trace: dict, fade_at: float) -> list[dict]:
    """The line solid up to ``fade_at`` and faded after it (both parts share the point at ``fade_at``)."""
    x = np.asarray(trace["x"])
    if not np.isfinite(fade_at) or fade_at >= x[-1]:
        return [trace]
    i = int(np.searchsorted(x, fade_at, side="right"))
    solid = {**trace, "x": x[:i], "y": np.asarray(trace["y"])[:i]}
    faded = {**trace, "x": x[i - 1:], "y": np.asarray(trace["y"])[i - 1:], "showlegend": False,
             "opacity": FADED_OPACITY}
    if "customdata" in trace:
        solid["customdata"], faded["customdata"] = trace["customdata"][:i], trace["customdata"][i - 1:]
    return [solid, faded]


def _km_traces(km: KaplanMeier, name: str, colour: str, x: str, y: str, show: bool, width: float,
               dash: str = "solid") -> list[dict]:
    tab = km.table
    t, s = _steps(tab["time"].to_numpy(float), tab["survival"].to_numpy(float), start=[1.0], x_end=np.inf)
    trace = {"type": "scatter", "x": t, "y": s, "mode": "lines", "name": name, "legendgroup": name,
             "showlegend": show, "xaxis": x, "yaxis": y,
             "line": {"color": colour, "width": width, "shape": "hv", "dash": dash},
             "hovertemplate": f"{name}<br>%{{x:.1f}} months: %{{y:.1%}}<extra></extra>"}
    return _with_fading(trace, _fade_at(tab["time"].to_numpy(float), tab["n_at_risk"].to_numpy()))


def _predicted_traces(table, name: str, x: str, y: str, show: bool, x_end: float) -> list[dict]:
    t, s, lo, hi = _steps(table["time"].to_numpy(float), table["survival"].to_numpy(float),
                          table["lower"].to_numpy(float), table["upper"].to_numpy(float), start=[1.0, 1.0, 1.0],
                          x_end=x_end)
    lo, hi = np.where(np.isnan(lo), s, lo), np.where(np.isnan(hi), s, hi)
    common = {"type": "scatter", "x": t, "xaxis": x, "yaxis": y, "legendgroup": name, "hoverinfo": "skip",
              "showlegend": False, "mode": "lines"}
    line = {**common, "y": s, "name": name, "showlegend": show, "customdata": np.column_stack([lo, hi]),
            "hoverinfo": None, "line": {"color": PREDICTED, "width": 3.5, "shape": "hv"},
            "hovertemplate": f"{name}<br>%{{x:.1f}} months: %{{y:.1%}}<br>95 % CI %{{customdata[0]:.1%}}–"
                             "%{customdata[1]:.1%}<extra></extra>"}
    return [
        {**common, "y": lo, "line": {"width": 0, "shape": "hv"}},
        {**common, "y": hi, "line": {"width": 0, "shape": "hv"}, "fill": "tonexty", "fillcolor": rgba(PREDICTED, 0.18)},
        *_with_fading(line, _fade_at(table["time"].to_numpy(float), table["n_risk"].to_numpy())),
    ]


def _panel_layout(i: int, n_panels: int, x_end: float, y_title: str | None) -> dict:
    gap = 0.07
    width = (1 - gap * (n_panels - 1)) / n_panels
    ticks = nice_ticks(x_end, "months", target=8)
    suffix = "" if i == 0 else str(i + 1)
    return {
        f"xaxis{suffix}": axis(domain=[i * (width + gap), i * (width + gap) + width],
                               range=[-0.02 * x_end, x_end * 1.02], tickvals=ticks,
                               ticktext=[f"{v:g}" for v in ticks], anchor=f"y{suffix}",
                               title={"text": "Months since HSCT2"}),
        f"yaxis{suffix}": axis(range=[-0.01, 1.02], tickformat=".0%", anchor=f"x{suffix}",
                               title={"text": y_title or ""}, **({"matches": "y"} if i else {})),
    }


def _layout(height: int, title: str, subtitle: str | None, annotations: list[dict]) -> dict:
    block = {"text": f"<b>{title}</b>", "x": 0.01, "xanchor": "left", "font": {"size": TITLE_FONT_SIZE},
             "y": 1.0, "yref": "container", "yanchor": "top", "pad": {"t": 12}}
    if subtitle:
        block["subtitle"] = {"text": subtitle, "font": {"size": FONT_SIZE - 1}}
    return {**LAYOUT_STYLE, "height": height, "title": block, "annotations": annotations, "hovermode": "closest",
            "margin": {"l": 80, "r": 30, "t": 150 if subtitle else 126, "b": 100},
            "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.08, "yanchor": "bottom",
                       "font": {"size": FONT_SIZE - 1}}}


def _panel_title(text: str, x_axis: str) -> dict:
    return {"text": f"<b>{text}</b>", "xref": f"{x_axis} domain", "yref": "paper", "x": 0.5, "y": 1.0,
            "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": FONT_SIZE + 1}}


def _footnote(text: str) -> dict:
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0, "y": 0, "xanchor": "left", "yanchor": "top",
            "yshift": -64, "showarrow": False, "align": "left",
            "font": {"size": SMALL_FONT_SIZE, "color": MUTED_COLOUR}}


def prediction_figure(prediction: PatientPrediction, *, title: str = "Patients like this one",
                      subtitle: str | None = None) -> go.Figure:
    """Predicted OS and RFS for the profile (Cox, 95 % CI) beside the Kaplan-Meier curves of the cohort and matches."""
    endpoints = list(prediction.survival)
    x_end = max(float(p.cohort_km.table["time"].max()) for p in prediction.survival.values())
    traces: list[dict] = []
    layout_axes: dict = {}
    annotations = []
    for i, name in enumerate(endpoints):
        p = prediction.survival[name]
        x, y = ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")
        first = i == 0
        layout_axes.update(_panel_layout(i, len(endpoints), x_end, "Probability" if first else None))
        annotations.append(_panel_title(PANEL_TITLES[name], x))
        traces.extend(_km_traces(p.cohort_km, f"All filtered patients (Kaplan-Meier, n = {p.cohort_km.n})", COHORT,
                                 x, y, first, 2.0, "dot"))
        if p.matching_km is not None:
            traces.extend(_km_traces(p.matching_km, f"Matching patients (Kaplan-Meier, n = {p.matching_km.n})",
                                     MATCHING, x, y, first, 2.5))
        if p.curve is not None:
            traces.extend(_predicted_traces(p.curve.table, "Predicted for this profile (Cox, 95 % CI)", x, y,
                                            first, x_end))
        else:
            annotations.append({"text": "No prediction:<br>see the message above", "xref": f"{x} domain",
                                "yref": f"{y} domain", "x": 0.5, "y": 0.5, "showarrow": False,
                                "font": {"size": FONT_SIZE, "color": MUTED_COLOUR}})
    annotations.append(_footnote("Shaded: pointwise 95 % CI of the prediction (log scale, as R survfit). Faded: "
                                 f"fewer than {FADE_BELOW} patients still followed.<br>Matching: "
                                 f"{prediction.matching}."))
    layout = {**_layout(_HEIGHT, title, subtitle, annotations), **layout_axes}
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


def incidence_figure(prediction: PatientPrediction, *,
                     title: str = "Relapse and non-relapse mortality for this profile") -> go.Figure:
    """The profile's predicted relapse and NRM incidence (cause-specific Cox) over the cohort's Aalen-Johansen ones."""
    cohort_cif = prediction.cohort_incidence
    x_end = float(cohort_cif.last_time)
    traces: list[dict] = []
    for cause, name, colour in ((1, "Relapse", RELAPSE), (2, "NRM", NRM)):
        curve = cohort_cif.curve(cause)
        t, f = _steps(curve["time"].to_numpy(float), curve["cif"].to_numpy(float), start=[0.0], x_end=x_end)
        all_name = f"{name}, all filtered patients ({count(cohort_cif.events[cause], 'event')})"
        traces.append({"type": "scatter", "x": t, "y": f, "mode": "lines", "name": all_name,
                       "line": {"color": colour, "width": 2, "dash": "dot", "shape": "hv"},
                       "hovertemplate": f"{all_name}<br>%{{x:.1f}} months: %{{y:.1%}}<extra></extra>"})
        if prediction.incidence is not None:
            tab = prediction.incidence.table
            t, f = _steps(tab["time"].to_numpy(float), tab[f"cif{cause}"].to_numpy(float), start=[0.0], x_end=x_end)
            pred_name = f"{name}, predicted for this profile"
            traces.append({"type": "scatter", "x": t, "y": f, "mode": "lines", "name": pred_name,
                           "line": {"color": colour, "width": 3.5, "shape": "hv"},
                           "hovertemplate": f"{pred_name}<br>%{{x:.1f}} months: %{{y:.1%}}<extra></extra>"})
    ticks = nice_ticks(x_end, "months", target=10)
    annotations = [_footnote("Solid: predicted for this profile by two cause-specific Cox models combined (as R "
                             "riskRegression CSC + predictRisk), no confidence band.<br>Dotted: all filtered "
                             "patients (Aalen-Johansen). NRM: non-relapse mortality.")]
    layout = {**_layout(480, title, None, annotations),
              "xaxis": axis(range=[-0.02 * x_end, x_end * 1.02], tickvals=ticks, ticktext=[f"{v:g}" for v in ticks],
                            title={"text": "Months since HSCT2"}),
              "yaxis": axis(range=[-0.01, 1.02], tickformat=".0%", title={"text": "Cumulative incidence"})}
    layout["margin"] = {**layout["margin"], "t": 126, "b": 120}
    return go.Figure({"data": traces, "layout": layout}, _validate=False)
