"""How far a fitted Cox model can be trusted: proportional hazards, events per covariate, separation.

* :func:`cox_zph` is the score test of proportional hazards of Grambsch &
  Therneau (1994) exactly as R's ``cox.zph(fit)`` (survival 3.x,
  ``transform = "km"``, one test per covariate and a global test);
* :func:`events_per_covariate` is the classic rule of thumb (fewer than about
  10 events per estimated coefficient gives unstable estimates);
* :func:`separation_findings` names levels without events and coefficients
  whose likelihood has no maximum (monotone likelihood).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.cohort import label
from analysis.cox import CoxModel, _RiskSets, chi2_sf

EPV_MINIMUM = 10
ZPH_ALPHA = 0.05


@dataclass(frozen=True)
class ProportionalHazardsTest:
    """``table``: covariate, chisq, df, p, verdict; the last row is ``GLOBAL``."""

    table: pd.DataFrame
    transform: str = "km"

    @property
    def global_p(self) -> float:
        return float(self.table["p"].iloc[-1])


def _km_transform(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """1 − S(t−) from the Kaplan-Meier of all patients: cox.zph's ``transform = "km"``."""
    death_times, deaths = np.unique(time[event == 1], return_counts=True)
    at_risk = len(time) - np.searchsorted(np.sort(time), death_times, side="left")
    surv = np.cumprod(1 - deaths / at_risk)
    before = np.searchsorted(death_times, time, side="left")  # event times strictly earlier
    return 1 - np.concatenate(([1.0], surv))[before]


def _zph_score(model: CoxModel, gtime: np.ndarray):
    """Score vector (2p) and information (2p × 2p) of the model extended by x·g(t), at (β, 0).

    R's zph1: the first p entries of the score are the fitted model's (≈ 0),
    the last p are Σ over deaths of g(t)·(x − x̄(t)) with Efron's risk-set means.
    """
    x = model.design.matrix - model.design.matrix.mean(axis=0)
    rs = _RiskSets.build(model.time, model.event)
    xs = x[rs.order]
    gt = gtime[rs.order]
    eta = xs @ model.coef
    r = np.exp(eta - eta.max())
    rx = r[:, None] * xs
    dp, g, f = rs.death_pos, rs.death_group, rs.frac
    cum = np.cumsum(r[::-1])[::-1]
    cumx = np.cumsum(rx[::-1], axis=0)[::-1]
    den = cum[rs.group_start][g] - f * np.add.reduceat(r[dp], rs.group_first)[g]
    mean = (cumx[rs.group_start][g] - f[:, None] * np.add.reduceat(rx[dp], rs.group_first, axis=0)[g]) \
        / den[:, None]
    gd = gt[dp]
    p = x.shape[1]
    u = np.concatenate([xs[dp].sum(axis=0) - mean.sum(axis=0), (gd[:, None] * (xs[dp] - mean)).sum(axis=0)])
    blocks = [[_weighted_information(xs, r, rs, den, mean, gd**k) for k in (0, 1)],
              [None, _weighted_information(xs, r, rs, den, mean, gd**2)]]
    blocks[1][0] = blocks[0][1].T
    imat = np.block(blocks)
    assert imat.shape == (2 * p, 2 * p)
    return u, imat


def _weighted_information(xs, r, rs, den, mean, c):
    """Σ over deaths of c_i · (Q_i / den_i − m_i m_iᵀ) without forming the risk-set matrices Q_i."""
    g, f, dp = rs.death_group, rs.frac, rs.death_pos
    a = np.bincount(g, c / den, minlength=len(rs.group_start))
    b = np.bincount(g, c * f / den, minlength=len(rs.group_start))
    in_risk = np.zeros(rs.n)
    in_risk[rs.group_start] = a
    w = r * np.cumsum(in_risk)
    w[dp] -= r[dp] * b[g]
    return (xs * w[:, None]).T @ xs - (mean * c[:, None]).T @ mean


def cox_zph(model: CoxModel) -> ProportionalHazardsTest:
    """Test of proportional hazards per covariate and globally, as R's ``cox.zph(fit)``.

    The score test of adding x·g(t) for each covariate, where g is the
    Kaplan-Meier transform of time, centred over the deaths (Grambsch &
    Therneau 1994; survival 3.x computes it as a score test at the fitted β,
    not the older Schoenfeld-residual regression). A multi-level covariate is
    tested as one term with as many degrees of freedom as it has coefficients.
    """
    ttimes = _km_transform(model.time, model.event)
    gtime = ttimes - ttimes[model.event == 1].mean()
    u, imat = _zph_score(model, gtime)
    p = len(model.coef)
    rows = []
    covariates = list(dict.fromkeys(model.design.terms["covariate"]))
    for cov in covariates:
        cols = model.design.columns_of(cov)
        rows.append((cov, *_score_test(u, imat, p, cols)))
    rows.append(("GLOBAL", *_score_test(u, imat, p, list(range(p)))))
    table = pd.DataFrame(rows, columns=["covariate", "chisq", "df", "p"])
    table["verdict"] = [_verdict(c, pv) for c, pv in zip(table["covariate"], table["p"], strict=True)]
    return ProportionalHazardsTest(table)


def _score_test(u, imat, p, cols):
    kk = list(range(p)) + [p + j for j in cols]
    uu = np.concatenate([np.zeros(p), u[[p + j for j in cols]]])
    try:
        chisq = float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
    except np.linalg.LinAlgError:
        chisq = float("nan")
    return chisq, len(cols), chi2_sf(chisq, len(cols))


def _verdict(covariate: str, p: float) -> str:
    name = "the model as a whole" if covariate == "GLOBAL" else label(covariate)
    if not np.isfinite(p):
        return f"Proportional hazards could not be tested for {name}."
    if p < ZPH_ALPHA:
        return (f"The effect of {name} appears to change over follow-up (p = {p:.3f}); "
                "its hazard ratio is an average over time.")
    return f"No evidence against proportional hazards for {name} (p = {p:.2f})."


def events_per_covariate(model: CoxModel) -> float:
    """Events divided by the number of estimated coefficients (a k-level factor counts k − 1)."""
    return model.events / max(len(model.coef), 1)


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
    """Levels without events and coefficients whose likelihood has no finite maximum.

    A level in which no patient has an event (or, for the reference level,
    whose absence makes every other level look infinitely worse) has a true
    maximum-likelihood hazard ratio of 0 or ∞: the fitted number is where the
    iteration stopped, not an estimate.
    """
    out = []
    levels = model.design.levels
    if len(levels):
        kept_events = model.event
        x = model.design.matrix
        for cov, group in levels.groupby("covariate", sort=False):
            cols = model.design.columns_of(cov)
            in_any = (x[:, cols] == 1).any(axis=1) if cols else np.zeros(len(x), dtype=bool)
            for row in group.itertuples(index=False):
                members = ~in_any if row.is_reference else x[:, list(model.design.terms["term"]).index(row.term)] == 1
                if members.any() and kept_events[members].sum() == 0:
                    role = "reference level" if row.is_reference else "level"
                    out.append(f"No events among the {int(members.sum())} patients in the {role} "
                               f"{label(cov)} = {row.level}: its hazard ratio cannot be estimated "
                               "(the likelihood has no maximum).")
    for term in model.infinite:
        out.append(f"{term}: the estimate diverges (monotone likelihood); its hazard ratio and CI are not shown. "
                   "A Firth-penalized fit gives a finite estimate.")
    return out
