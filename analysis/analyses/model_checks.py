"""How far a fitted Cox model can be trusted, in words a reader can act on.

The numbers come from :mod:`analysis.stats.cox.diagnostics`; this module
turns them into the verdicts and warnings the Risk factors page shows:

* proportional hazards per covariate (R ``cox.zph``), with a verdict at
  :data:`ZPH_ALPHA`;
* fewer than :data:`EPV_MINIMUM` events per estimated coefficient;
* levels without events and coefficients whose likelihood has no maximum.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import numpy as np

from analysis.stats.cox.diagnostics import (
    ProportionalHazardsTest,
    cox_zph,
    events_per_covariate,
    levels_without_events,
)
from analysis.stats.cox.fit import CoxModel
from analysis.text import p_value

EPV_MINIMUM = 10
ZPH_ALPHA = 0.05


def proportional_hazards(model: CoxModel) -> ProportionalHazardsTest:
    """R's ``cox.zph(fit)`` per covariate and globally, with a ``verdict`` column in plain language."""
    test = cox_zph(model)
    table = test.table.copy()
    table["verdict"] = [_verdict(model.design.label_of(c), c == "GLOBAL", p)
                        for c, p in zip(table["covariate"], table["p"], strict=True)]
    return replace(test, table=table)


def _verdict(label: str, is_global: bool, p: float) -> str:
    name = "the model as a whole" if is_global else label
    if not np.isfinite(p):
        return f"Proportional hazards could not be tested for {name}."
    if p < ZPH_ALPHA:
        return (f"The effect of {name} appears to change over follow-up ({p_value(p)}); "
                "its hazard ratio is an average over time.")
    return f"No evidence against proportional hazards for {name} ({p_value(p)})."


def small_sample_warnings(model: CoxModel) -> list[str]:
    """Plain-language warnings about events per covariate and separation."""
    out = []
    epv = events_per_covariate(model)
    if epv < EPV_MINIMUM:
        out.append(
            f"{model.events} events for {len(model.coef)} coefficients ({epv:.1f} per coefficient, "
            f"fewer than {EPV_MINIMUM}): the estimates are unstable and may be biased away from 1. "
            "Use fewer covariates or read the hazard ratios as exploratory."
        )
    out.extend(separation_findings(model))
    return out


def separation_findings(model: CoxModel) -> list[str]:
    """Levels without events and coefficients whose likelihood has no finite maximum, in words."""
    out = []
    for row in levels_without_events(model).itertuples(index=False):
        role = "reference level" if row.is_reference else "level"
        covariate = model.design.label_of(cast(str, row.covariate))
        out.append(f"No events among the {row.n} patients in the {role} "
                   f"{covariate} = {row.level}: its hazard ratio cannot be estimated "
                   "(the likelihood has no maximum).")
    for term in model.infinite:
        out.append(f"{term}: the estimate diverges (monotone likelihood); its hazard ratio and CI are not shown. "
                   "A Firth-penalized fit gives a finite estimate.")
    return out
