"""How far a fitted Cox model can be trusted, in words a reader can act on.

The numbers come from :mod:`analysis.stats.cox.diagnostics`; this module
turns them into the verdicts and warnings the Risk factors page shows:

* proportional hazards per covariate (R ``cox.zph``), with a verdict at
  :data:`ZPH_ALPHA`;
* fewer than :data:`EPV_MINIMUM` events per estimated coefficient;
* levels without events and coefficients whose likelihood has no maximum;
* the causes of unstable estimates, named (:func:`instability_findings`):
  empty cells in the cross-table of two covariates, quasi-separation (a
  profile interval open towards 0 or ∞), and hazard ratios too far from 1 for
  the events behind them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import numpy as np

from analysis.stats.cox.diagnostics import (
    ProportionalHazardsTest,
    cox_zph,
    empty_cells,
    events_per_covariate,
    extreme_terms,
    levels_without_events,
)
from analysis.stats.cox.fit import CoxModel
from analysis.stats.cox.profile import ProfileLikelihood
from analysis.text import count, hazard_ratio_text, p_value

#: At most this many empty cells are named; the rest are counted.
MAX_CELLS_NAMED = 4

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


def term_label(model: CoxModel, term: str) -> str:
    """``"atg=yes"`` → ``"ATG = yes"``; a numeric term is its covariate's label."""
    row = model.design.terms.set_index("term").loc[term]
    name = model.design.label_of(str(row["covariate"]))
    return name if row["kind"] == "numeric" else f"{name} = {row['level']}"


def _or(values) -> str:
    values = list(values)
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _empty_cell_finding(model: CoxModel, unstable: set[str]) -> list[str]:
    """The empty cross-table cells behind unstable terms: between two unstable covariates if any, else one."""
    cells = empty_cells(model)
    if cells.empty or not unstable:
        return []
    terms = model.design.terms.set_index("term")
    shaky = {terms.loc[t, "covariate"] for t in unstable}
    score = cells["covariate"].isin(shaky).astype(int) + cells["other"].isin(shaky).astype(int)
    cells = cells[score == score.max()] if score.max() > 0 else cells.iloc[:0]
    if cells.empty:
        return []
    label = model.design.label_of
    named = [f"{label(str(r.covariate))} = {r.level} occurs only with {label(str(r.other))} = {_or(r.present)} "
             f"(never with {_or(r.absent)})" for r in cells.head(MAX_CELLS_NAMED).itertuples(index=False)]
    more = len(cells) - MAX_CELLS_NAMED
    return [f"Empty cells in the cross-table of the covariates: {'; '.join(named)}"
            + (f"; and {more} more" if more > 0 else "")
            + ". In these patients their effects cannot be fully told apart, so their hazard ratios are unstable."]


def instability_findings(model: CoxModel, profile: ProfileLikelihood | None = None) -> list[str]:
    """Why estimates of a small model are unstable, in words a reader can act on.

    Names quasi-separation (from the profile likelihood: an interval open
    towards 0 or ∞), hazard ratios too far from 1 for the events behind them
    (:func:`extreme_terms`), and the empty cross-table cells between the
    covariates of those terms (:func:`empty_cells`), the usual cause.
    """
    unbounded = profile.unbounded if profile is not None else {}
    summary = model.summary.set_index("term")
    extreme = [t for t in extreme_terms(model.summary) if t not in unbounded and t not in model.infinite]
    out = _empty_cell_finding(model, {*unbounded, *extreme, *model.infinite})
    for term, side in unbounded.items():
        out.append(f"{term_label(model, term)}: the likelihood keeps rising as the hazard ratio goes to {side} "
                   "(quasi-separation), so there is no finite estimate; its 95 % profile interval is open "
                   f"towards {side}.")
    if extreme:
        limits = summary[["hr", "lower", "upper"]]
        listed = "; ".join(f"{term_label(model, t)}: HR {hazard_ratio_text(*limits.loc[t].to_numpy(float))}"
                           for t in extreme)
        out.append(f"Hazard ratios this far from 1 cannot rest on {count(model.events, 'event')} ({listed}). "
                   "Read them as a sign of sparse data, not as sizes of effect.")
    return out
