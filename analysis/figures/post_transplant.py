"""Figures of the GVHD & DLI view and of survival summaries: GVHD incidence, landmark and conditional curves.

All are drawn by the shared step-curve builder (:mod:`analysis.figures.curves`):
CI bands, censor marks, the number-at-risk table.
"""

from __future__ import annotations

import plotly.graph_objects as go

from analysis.analyses.post_transplant import GvhdIncidence, LandmarkAnalysis
from analysis.analyses.survival_summaries import ConditionalComparison, RMSTComparison
from analysis.cohort.model import ENDPOINT_NAMES
from analysis.cohort.post_transplant import CAUSE_GVHD, EVENT_NAMES
from analysis.figures.cif import cif_curve
from analysis.figures.curves import curve_figure, kaplan_meier_curve
from analysis.figures.style import MUTED_COLOUR
from analysis.stats.competing_risks import CompetingRisksError
from analysis.text import group_text, statistic_caption


def gvhd_figure(result: GvhdIncidence, *, legend_title: str | None = None, time_unit: str = "months",
                min_count: int | None = None) -> go.Figure:
    """Cumulative incidence of one GVHD per group, death without it competing, with Gray's test.

    ``min_count`` (disclosure control): counts below it show as "<min_count", as on every figure.
    """
    curves = [cif_curve(fit, CAUSE_GVHD, group_text(g)) for g, fit in result.fits.items() if fit.n > 1]
    if not curves:
        raise CompetingRisksError("no group has more than one patient: there is no curve to draw")
    subtitle = "Death without GVHD competes (Aalen-Johansen)"
    if result.test is not None:
        subtitle += " · " + statistic_caption("Gray's test", result.test["statistic"], int(result.test["df"]),
                                              result.test["p"])
    # acute GVHD happens in the first months: the axis shows its first year (chronic GVHD: three years)
    horizon = 12.0 if result.endpoint.startswith("agvhd") else 36.0
    last = max(fit.last_time for fit in result.fits.values())
    return curve_figure(curves, y_title=result.title, title=f"Cumulative incidence: {result.title}",
                        subtitle=subtitle, time_unit=time_unit, legend_title=legend_title, x_max=min(last, horizon),
                        min_count=min_count)


def landmark_figure(result: LandmarkAnalysis, *, time_unit: str = "months", min_count: int | None = None) -> go.Figure:
    """Survival from the landmark of the patients with and without the event by then."""
    name = EVENT_NAMES[result.event]
    names = {"no": f"No {name}", "yes": f"{name[0].upper()}{name[1:]}"}
    curves = [kaplan_meier_curve(km, names[km.label]) for km in result.curves]
    subtitle = f"{result.n} patients still at risk at month {result.landmark:g}, by {name} by then"
    if result.test is not None:
        subtitle += " · " + statistic_caption("Log-rank", result.test.statistic, result.test.df, result.test.p)
    return curve_figure(curves, y_title=ENDPOINT_NAMES[result.endpoint],
                        title=f"{ENDPOINT_NAMES[result.endpoint]} from the {result.landmark:g}-month landmark",
                        subtitle=subtitle, x_title=f"Time since month {result.landmark:g}", time_unit=time_unit,
                        min_count=min_count)


def conditional_figure(result: ConditionalComparison, *, legend_title: str | None = None,
                       time_unit: str = "months", min_count: int | None = None) -> go.Figure:
    """Survival of the patients event-free at month s, from s on."""
    curves = [kaplan_meier_curve(c.curve, group_text(c.curve.label)) for c in result.curves]
    event_free = "alive" if result.endpoint == "os" else "alive and event-free"
    return curve_figure(curves, y_title=f"{ENDPOINT_NAMES[result.endpoint]} given {event_free}",
                        title=f"{ENDPOINT_NAMES[result.endpoint]} given {event_free} at month {result.given:g}",
                        subtitle="Kaplan-Meier of the patients still at risk at that month",
                        x_title=f"Time since month {result.given:g}", time_unit=time_unit,
                        legend_title=legend_title, min_count=min_count)



def rmst_figure(result: RMSTComparison, *, legend_title: str | None = None, time_unit: str = "months",
                min_count: int | None = None) -> go.Figure:
    """The Kaplan-Meier curves whose areas up to τ are the RMSTs, with τ marked."""
    curves = [kaplan_meier_curve(km, group_text(km.label)) for km in result.curves]
    fig = curve_figure(curves, y_title=ENDPOINT_NAMES[result.endpoint], ci_band=False,
                       title=f"{ENDPOINT_NAMES[result.endpoint]}: restricted mean to {result.tau:g} months",
                       subtitle="RMST = the area under each curve from 0 to τ (dashed line)",
                       time_unit=time_unit, legend_title=legend_title, min_count=min_count)
    scale = 12.0 if time_unit == "years" else 1.0
    fig.add_shape(type="line", xref="x", yref="y", x0=result.tau / scale, x1=result.tau / scale, y0=0, y1=1,
                  line={"dash": "dash", "color": MUTED_COLOUR, "width": 1.5})
    fig.add_annotation(x=result.tau / scale, y=1.0, xref="x", yref="y", text=f"τ = {result.tau:g} months",
                       showarrow=False, xanchor="left", yanchor="bottom", xshift=4, font={"color": MUTED_COLOUR})
    return fig
