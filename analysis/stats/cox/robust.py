"""Cluster-robust (sandwich) variance of a Cox model, as R's ``coxph(..., cluster = centre)``.

Patients of one centre share things the covariates do not capture, so their
outcomes are not independent. The robust variance (Lin & Wei 1989) sums each
centre's influence on the estimate: with the score residuals Uᵢ (each row's
share of the score at β̂, Efron's version, R's ``residuals(fit, "score")``)
and the model-based variance V, the dfbeta of a row is Uᵢ V and

    V_robust = Σ_centres (Σ_{i in centre} Uᵢ V)ᵀ (Σ_{i in centre} Uᵢ V).

Wald tests and confidence intervals then use V_robust; the estimate itself is
the ordinary one. Works for right-censored and (start, stop] rows, with or
without strata (:mod:`analysis.stats.cox.counting` builds the risk sets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from analysis.stats.cox.counting import CountingRiskSets
from analysis.stats.cox.fit import Z975, CoxModel, TestResult, chi2_sf


@dataclass(frozen=True)
class RobustVariance:
    """The cluster-robust variance of a fitted model.

    ``summary`` is the model's table with ``naive_se`` (model-based) and ``se``,
    ``z``, ``p``, ``lower``, ``upper`` from the robust variance, as
    ``summary(coxph(..., cluster = ))`` prints them. ``wald_test`` is the
    robust Wald test of all coefficients; ``clusters`` the number of clusters.
    """

    summary: pd.DataFrame
    var: np.ndarray
    wald_test: TestResult
    clusters: int


def score_residuals(model: CoxModel, rs: CountingRiskSets) -> np.ndarray:
    """Efron score residuals (rows × terms) at the model's β, as ``residuals(fit, type = "score")``.

    For a death group with d tied deaths and sub-steps l = 0..d−1 (fraction
    f = l/d): h_l = 1/(S0 − f·D0), mean m_l = (S1 − f·D1)·h_l. A row at risk
    gets −r (x H − M) with H = Σ h_l and M = Σ m_l h_l; a dying row adds
    (x − mean of the m_l) + r (x Σ f h_l − Σ f m_l h_l), its Efron share.
    """
    x = model.design.matrix - model.design.matrix.mean(axis=0)
    eta = x @ model.coef
    r = np.exp(eta - eta.max())
    dp, g, f = rs.deaths, rs.group, rs.frac
    ng = rs.n_groups
    s0, s1 = rs.risk_sums(r), rs.risk_sums(x.T * r)
    d0 = np.bincount(g, r[dp], ng)
    d1 = np.stack([np.bincount(g, r[dp] * x[dp, k], ng) for k in range(x.shape[1])])
    h = 1.0 / (s0[g] - f * d0[g])
    m = (s1[:, g] - f * d1[:, g]) * h  # p × deaths
    sums = {name: np.bincount(g, w, ng) for name, w in (("H", h), ("FH", f * h))}
    mh = np.stack([np.bincount(g, m[k] * h, ng) for k in range(x.shape[1])])
    fmh = np.stack([np.bincount(g, f * m[k] * h, ng) for k in range(x.shape[1])])
    mbar = np.stack([np.bincount(g, m[k], ng) for k in range(x.shape[1])]) / np.bincount(g, minlength=ng)

    def held(per_group: np.ndarray) -> np.ndarray:
        """Σ over the groups whose risk set holds each row (last axis = groups)."""
        cum = np.concatenate([np.zeros((*per_group.shape[:-1], 1)), np.cumsum(per_group, axis=-1)], axis=-1)
        return cum[..., np.searchsorted(rs.group_key, rs.stop_key, side="right")] \
            - cum[..., np.searchsorted(rs.group_key, rs.start_key, side="right")]

    resid = -(r[:, None] * (x * held(sums["H"])[:, None] - held(mh).T))
    gd = g
    resid[dp] += x[dp] - mbar[:, gd].T + r[dp, None] * (x[dp] * sums["FH"][gd][:, None] - fmh[:, gd].T)
    return resid


def robust_variance(model: CoxModel, rs: CountingRiskSets, cluster: np.ndarray) -> RobustVariance:
    """The cluster-robust variance and the summary it gives (``coxph(..., cluster = cluster)``).

    ``rs`` are the model's risk sets (:class:`CountingRiskSets` of its rows),
    ``cluster`` a label per row.
    """
    dfbeta = score_residuals(model, rs) @ model.var
    codes, labels = pd.factorize(pd.Series(np.asarray(cluster, dtype=object)), sort=True)
    if (codes < 0).any():
        raise ValueError("every row needs a cluster (centre); drop the rows without one first")
    collapsed = np.stack([np.bincount(codes, dfbeta[:, k], len(labels)) for k in range(dfbeta.shape[1])], axis=1)
    var = collapsed.T @ collapsed
    se = np.sqrt(np.diag(var))
    coef = model.coef
    with np.errstate(divide="ignore", invalid="ignore"):
        z = coef / se
    summary = model.summary.assign(naive_se=model.summary["se"], se=se, z=z, p=2 * special.ndtr(-np.abs(z)),
                                   lower=np.exp(coef - Z975 * se), upper=np.exp(coef + Z975 * se))
    try:
        wald = float(coef @ np.linalg.solve(var, coef))
    except np.linalg.LinAlgError:
        wald = float("nan")
    return RobustVariance(summary, var, TestResult(wald, len(coef), chi2_sf(wald, len(coef))), len(labels))
