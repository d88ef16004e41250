"""How far a fitted Cox model can be trusted: proportional hazards, events per covariate, separation.

* :func:`cox_zph` is the score test of proportional hazards of Grambsch &
  Therneau (1994) exactly as R's ``cox.zph(fit)`` (survival 3.x,
  ``transform = "km"``, one test per covariate and a global test);
* :func:`events_per_covariate` is the classic rule of thumb (fewer than about
  10 events per estimated coefficient gives unstable estimates);
* :func:`levels_without_events` finds the levels whose hazard ratio has no
  finite maximum-likelihood estimate (monotone likelihood);
* :func:`empty_cells` finds pairs of factor levels that no patient has together
  (the effects of the two factors cannot be told apart there), and
  :func:`extreme_terms` hazard ratios too far from 1 for the events behind them.

The numbers only: :mod:`analysis.analyses.model_checks` says in words what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from analysis.stats.cox.fit import GROUPED_MIN_ROWS, CoxModel, chi2_sf, indicator_patterns, likelihood_data
from analysis.stats.cox.likelihood import efron_sums


@dataclass(frozen=True)
class ProportionalHazardsTest:
    """``table``: covariate, chisq, df, p (and, from :mod:`analysis.analyses.model_checks`, a verdict);
    the last row is ``GLOBAL``."""

    table: pd.DataFrame
    transform: str = "km"

    @property
    def global_p(self) -> float:
        return float(self.table["p"].iloc[-1])


def _km_transform(n_at_risk: np.ndarray, n_deaths: np.ndarray) -> np.ndarray:
    """1 − S(t−) at each death time, from the Kaplan-Meier of all patients: cox.zph's ``transform = "km"``."""
    return 1 - np.concatenate(([1.0], np.cumprod(1 - n_deaths / n_at_risk)[:-1]))


def _zph_score(model: CoxModel):
    """Score vector (2p) and information (2p × 2p) of the model extended by x·g(t), at (β, 0).

    R's zph1: the first p entries of the score are the fitted model's (≈ 0),
    the last p are Σ over deaths of g(t)·(x − x̄(t)) with Efron's risk-set means;
    g is the Kaplan-Meier transform 1 − S(t−), centred over the deaths. Both
    are sums over the death times of the Efron likelihood's own terms
    (:class:`~analysis.stats.cox.likelihood.EfronSums`), in the scaled
    parametrisation the fit ran in (the test is invariant to it).
    """
    x = model.design.matrix
    patterns = indicator_patterns(x) if len(x) >= GROUPED_MIN_ROWS else None
    xt, rs, scale = likelihood_data(model.time, model.event, x, patterns)
    sums = efron_sums(xt, model.coef / scale, rs)
    deaths = rs.n_deaths
    g = _km_transform(rs.n_at_risk, deaths)
    g = g - deaths @ g / deaths.sum()
    per_time = sums.group_scores()
    u = np.concatenate([per_time.sum(axis=0), g @ per_time])
    i0, i1, i2 = sums.information(), sums.information(g), sums.information(g * g)
    return u, np.block([[i0, i1], [i1.T, i2]])


def cox_zph(model: CoxModel) -> ProportionalHazardsTest:
    """Test of proportional hazards per covariate and globally, as R's ``cox.zph(fit)``.

    The score test of adding x·g(t) for each covariate, where g is the
    Kaplan-Meier transform of time, centred over the deaths (Grambsch &
    Therneau 1994; survival 3.x computes it as a score test at the fitted β,
    not the older Schoenfeld-residual regression). A multi-level covariate is
    tested as one term with as many degrees of freedom as it has coefficients.
    """
    u, imat = _zph_score(model)
    p = len(model.coef)
    rows = []
    covariates = list(dict.fromkeys(model.design.terms["covariate"]))
    for cov in covariates:
        cols = model.design.columns_of(cov)
        rows.append((cov, *_score_test(u, imat, p, cols)))
    rows.append(("GLOBAL", *_score_test(u, imat, p, list(range(p)))))
    return ProportionalHazardsTest(pd.DataFrame(rows, columns=["covariate", "chisq", "df", "p"]))


def _score_test(u, imat, p, cols):
    kk = list(range(p)) + [p + j for j in cols]
    uu = np.concatenate([np.zeros(p), u[[p + j for j in cols]]])
    try:
        chisq = float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
    except np.linalg.LinAlgError:
        chisq = float("nan")
    return chisq, len(cols), chi2_sf(chisq, len(cols))


def events_per_covariate(model: CoxModel) -> float:
    """Events divided by the number of estimated coefficients (a k-level factor counts k − 1)."""
    return model.events / max(len(model.coef), 1)


def levels_without_events(model: CoxModel) -> pd.DataFrame:
    """Levels of the model's factors in which no patient has an event.

    Such a level (or a reference level whose absence makes every other level
    look infinitely worse) has a true maximum-likelihood hazard ratio of 0 or
    ∞: the fitted number is where the iteration stopped, not an estimate.
    Columns: ``covariate``, ``level``, ``is_reference``, ``n``.
    """
    rows = []
    levels = model.design.levels
    x = model.design.matrix
    terms = list(model.design.terms["term"])
    for cov, group in levels.groupby("covariate", sort=False):
        cols = model.design.columns_of(cast(str, cov))
        in_any = (x[:, cols] == 1).any(axis=1) if cols else np.zeros(len(x), dtype=bool)
        for row in group.itertuples(index=False):
            members = ~in_any if row.is_reference else x[:, terms.index(row.term)] == 1
            if members.any() and model.event[members].sum() == 0:
                rows.append({"covariate": cov, "level": row.level, "is_reference": bool(row.is_reference),
                             "n": int(members.sum())})
    return pd.DataFrame(rows, columns=["covariate", "level", "is_reference", "n"])


def _level_members(model: CoxModel) -> dict[str, dict[str, np.ndarray]]:
    """``{covariate: {level: which of the model's patients have it}}`` for the factors and cut covariates."""
    out: dict[str, dict[str, np.ndarray]] = {}
    x = model.design.matrix
    terms = list(model.design.terms["term"])
    for key, group in model.design.levels.groupby("covariate", sort=False):
        cov = str(key)
        cols = model.design.columns_of(cov)
        if not cols:
            continue
        in_any = (x[:, cols] == 1).any(axis=1)
        out[cov] = {str(row.level): ~in_any if row.is_reference else x[:, terms.index(row.term)] == 1
                    for row in group.itertuples(index=False) if row.is_reference or row.term in terms}
    return out


def empty_cells(model: CoxModel) -> pd.DataFrame:
    """Levels of two of the model's factors that no patient has together: the empty cells of their cross-table.

    With an empty cell the effects of the two factors are partly confounded in
    these patients (e.g. ATG given only with unrelated donors), and both
    hazard ratios become unstable. One row per level and other factor, with
    the other's levels never seen with it (``absent``) and those seen
    (``present``); each pair of factors is looked at once, in model order.
    Columns: ``covariate``, ``level``, ``other``, ``absent``, ``present``.
    """
    members = _level_members(model)
    covariates = list(members)
    rows = []
    for i, cov in enumerate(covariates):
        for other in covariates[i + 1:]:
            for level, mask in members[cov].items():
                if not mask.any():
                    continue
                seen = {o: bool((mask & m).any()) for o, m in members[other].items() if m.any()}
                absent = tuple(o for o, s in seen.items() if not s)
                if absent:
                    rows.append({"covariate": cov, "level": level, "other": other, "absent": absent,
                                 "present": tuple(o for o, s in seen.items() if s)})
    return pd.DataFrame(rows, columns=["covariate", "level", "other", "absent", "present"])


def extreme_terms(summary: pd.DataFrame, hr_limit: float = 100.0, width_limit: float = 1000.0) -> list[str]:
    """Terms whose hazard ratio is beyond ``hr_limit`` (or below its inverse), or whose 95 % interval spans
    more than ``width_limit``-fold: numbers that a handful of events cannot support."""
    hr, lower, upper = (summary[c].to_numpy(float) for c in ("hr", "lower", "upper"))
    with np.errstate(divide="ignore", invalid="ignore"):
        wide = np.isfinite(upper) & (lower > 0) & (upper / lower > width_limit)
    far = (hr > hr_limit) | (hr < 1 / hr_limit)
    return [t for t, flag in zip(summary["term"], far | wide, strict=True) if flag]
