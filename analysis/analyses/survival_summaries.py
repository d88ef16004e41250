"""Summaries of survival beyond the hazard ratio: restricted mean survival time and conditional survival.

* :func:`rmst_comparison`: per group the RMST to a horizon τ with SE and 95 %
  CI (R ``print(survfit(...), rmean = τ)``), and each group's difference from
  the first with CI and p — the summary to report when proportional hazards
  fail (:func:`nonproportional_rmst` picks the factors ``cox.zph`` rejects);
* :func:`conditional_comparison`: per group the survival of the patients still
  event-free at s months, from s on (a Kaplan-Meier of the patients still at
  risk at s).

Both work on OS, RFS and GRFS, for the groups of a
:class:`~analysis.cohort.grouping.Comparison`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from analysis.analyses.model_checks import ZPH_ALPHA
from analysis.analyses.risk_factors import RiskFactorAnalysis
from analysis.cohort.grouping import Comparison, compare_by
from analysis.cohort.model import endpoint
from analysis.stats.conditional import ConditionalSurvival, conditional_kaplan_meier
from analysis.stats.cox.design import cut_label, level_label
from analysis.stats.kaplan_meier import KaplanMeier, SurvivalDataError, fit_kaplan_meier
from analysis.stats.rmst import RestrictedMean, RMSTDifference, restricted_mean, rmst_difference
from analysis.text import group_text, p_cell, p_value

#: Horizons offered first (months), the largest one every group is followed to.
NICE_HORIZONS: tuple[float, ...] = (6, 12, 18, 24, 36, 48, 60, 84, 120, 180, 240)


T = TypeVar("T")


def _per_group(comparison: Comparison, endpoint_name: str,
               fit: Callable[[np.ndarray, np.ndarray, str], T]) -> tuple[list[T], dict[str, str]]:
    """``fit(time, event, group)`` for each group with patients; the reason where it cannot be done."""
    fits, problems = [], {}
    ep = endpoint(comparison.frame, endpoint_name)  # row by row: derived once, then sliced per group
    for group, rows in comparison.positions():
        if not len(rows):
            continue
        try:
            fits.append(fit(ep.time[rows], ep.event[rows], group))
        except (SurvivalDataError, ValueError) as err:
            problems[group] = str(err)
    return fits, problems


def _curves(comparison: Comparison, endpoint_name: str) -> tuple[list[KaplanMeier], dict[str, str]]:
    return _per_group(comparison, endpoint_name, lambda t, e, g: fit_kaplan_meier(t, e, label=g))


#: The suggested horizon keeps at least this many patients at risk in every group (fewer in a small group).
MIN_AT_RISK = 5


def enough_at_risk(km: KaplanMeier) -> int:
    """Patients a group must still have at risk at the suggested horizon: 5, or 10 % of a small group (≥ 2)."""
    return min(MIN_AT_RISK, max(2, math.ceil(0.1 * km.n)))


def default_horizon(comparison: Comparison, endpoint_name: str) -> float:
    """The largest "round" horizon at which every group still has :func:`enough_at_risk` patients at risk.

    Failing that, the largest round horizon within every group's follow-up (or the shortest follow-up).
    """
    return _horizon(_curves(comparison, endpoint_name)[0])


def _horizon(curves: Sequence[KaplanMeier]) -> float:
    if not curves:
        return 12.0
    shortest = min(float(km.table["time"].max()) for km in curves)
    fitting = [h for h in NICE_HORIZONS if h <= shortest]
    supported = [h for h in fitting if all(km.n_at_risk([h])[0] >= enough_at_risk(km) for km in curves)]
    if supported:
        return supported[-1]
    return fitting[-1] if fitting else max(round(shortest, 1), 0.1)


@dataclass(frozen=True, eq=False)
class RMSTComparison:
    """RMST per group to ``tau`` and each group's difference from the first.

    ``beyond`` lists groups whose follow-up ends before τ: R carries their
    last value on, so their RMST rests on an extrapolation.
    """

    endpoint: str
    tau: float
    means: tuple[RestrictedMean, ...]
    differences: tuple[RMSTDifference, ...]
    problems: dict[str, str]
    beyond: tuple[str, ...] = ()
    by: str | None = None
    curves: tuple[KaplanMeier, ...] = ()

    @property
    def table(self) -> pd.DataFrame:
        """Group, n, events, RMST with SE and CI (months), as numbers."""
        return pd.DataFrame([{"group": m.label, "n": m.n, "events": m.events, "rmst": m.estimate, "se": m.se,
                              "lower": m.lower, "upper": m.upper} for m in self.means],
                            columns=["group", "n", "events", "rmst", "se", "lower", "upper"])

    def format_table(self) -> pd.DataFrame:
        """The view's table: one row per group, its difference from the first with CI and p."""
        diffs = {d.first: d for d in self.differences}
        rows = []
        for m in self.means:
            d = diffs.get(m.label)
            rows.append({"Group": group_text(m.label), "n": m.n, "Events": m.events,
                         "RMST, months (95 % CI)": f"{m.estimate:.1f} ({m.lower:.1f}–{m.upper:.1f})",
                         "SE": round(m.se, 2),
                         "Difference (95 % CI)": "reference" if d is None else
                         f"{d.estimate:+.1f} ({d.lower:+.1f} to {d.upper:+.1f})",
                         "p": "" if d is None else p_cell(d.p)})
        return pd.DataFrame(rows)


def rmst_comparison(comparison: Comparison, endpoint_name: str, tau: float | None) -> RMSTComparison:
    """RMST of ``endpoint_name`` to ``tau`` months per group, and the differences from the first group.

    ``tau`` None: the :func:`default_horizon` (from the same curves).
    """
    curves, problems = _curves(comparison, endpoint_name)
    if tau is None:
        tau = _horizon(curves)
    means = tuple(restricted_mean(km, tau) for km in curves)
    differences = tuple(rmst_difference(m, means[0]) for m in means[1:]) if not comparison.overlapping else ()
    beyond = tuple(km.label for km in curves if float(km.table["time"].max()) < tau)
    return RMSTComparison(endpoint_name, float(tau), means, differences, problems, beyond, comparison.by,
                          tuple(curves))


@dataclass(frozen=True, eq=False)
class ConditionalComparison:
    """Per group, survival given event-free at ``given`` months (curves on the months since ``given``)."""

    endpoint: str
    given: float
    curves: tuple[ConditionalSurvival, ...]
    problems: dict[str, str]

    def at(self, times: Sequence[float]) -> pd.DataFrame:
        """Per group and month since HSCT2 (> given): conditional survival with CI and number at risk."""
        times = [t for t in times if t > self.given]
        parts = [c.survival_at(times).assign(group=c.curve.label) for c in self.curves]
        if not parts or not times:
            return pd.DataFrame(columns=["group", "time", "survival", "lower", "upper", "n_at_risk"])
        return pd.concat(parts, ignore_index=True)[["group", "time", "survival", "lower", "upper", "n_at_risk"]]


def conditional_comparison(comparison: Comparison, endpoint_name: str, given: float) -> ConditionalComparison:
    """Per group, the Kaplan-Meier of the patients still at risk after ``given`` months."""
    curves, problems = _per_group(comparison, endpoint_name,
                                  lambda t, e, g: conditional_kaplan_meier(t, e, given, label=g))
    return ConditionalComparison(endpoint_name, float(given), tuple(curves), problems)


# ------------------------------------------------------------------ when proportional hazards fail


def nonproportional_rmst(cohort: pd.DataFrame, analysis: RiskFactorAnalysis, tau: float | None = None
                         ) -> list[RMSTComparison]:
    """RMST by level of each two-level factor (or cut number) whose effect cox.zph finds changing over time.

    Only for OS, RFS and GRFS (relapse and NRM compete: their RMST is not a survival summary).
    """
    if analysis.proportional_hazards is None or analysis.model is None or analysis.endpoint not in (
            "os", "rfs", "grfs"):
        return []
    table = analysis.proportional_hazards.table
    failing = [c for c, p in zip(table["covariate"], table["p"], strict=True)
               if c != "GLOBAL" and np.isfinite(p) and p < ZPH_ALPHA]
    out = []
    for spec in analysis.specs:
        if spec.column not in failing or len(analysis.model.design.columns_of(spec.column)) != 1:
            continue
        frame = cohort
        by = spec.column
        if spec.cut is not None:
            by = cut_label(spec.column, spec.cut)
            values = pd.to_numeric(cohort[spec.column], errors="coerce")
            sides = pd.Series(np.where(values >= spec.cut, f"≥ {level_label(spec.cut)}", f"< {level_label(spec.cut)}"),
                              index=cohort.index)
            frame = cohort.assign(**{by: sides.where(values.notna())})
        out.append(rmst_comparison(compare_by(frame, by), analysis.endpoint, tau))
    return out


def rmst_caption(result: RMSTComparison) -> str:
    """One line: "Restricted mean to 24 months; difference T-ALL − B-ALL: −5.2 (−9.1 to −1.3), p = 0.009"."""
    parts = [f"Restricted mean to {result.tau:g} months"]
    parts += [f"{d.first} − {d.second}: {d.estimate:+.1f} months ({d.lower:+.1f} to {d.upper:+.1f}), "
              f"{p_value(d.p)}" for d in result.differences]
    return "; ".join(parts)

