"""Firth's penalized partial likelihood for Cox models (Firth 1993; Heinze & Schemper 2001).

The remedy for monotone likelihood (a level without events, separation):
l(β) + ½ log det I(β) has a finite maximum where l(β) has none.
"""

from __future__ import annotations

import numpy as np

from analysis.stats.cox._risk_sets import RiskSets, efron_weights, revcumsum
from analysis.stats.cox.likelihood import efron, inverse, solve


def firth_terms(x: np.ndarray, beta: np.ndarray, rs: RiskSets):
    """Penalized log-likelihood l + ½ log det I and its score (Firth 1993; Heinze & Schemper 2001).

    The score of the penalty is ½ tr(I⁻¹ ∂I/∂β_r), from the third moments of
    the covariates over the Efron-weighted risk sets.
    """
    loglik, score, info = efron(np.ascontiguousarray(x.T), beta, rs)
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0:
        return -np.inf, score, info, loglik
    v = np.linalg.inv(info)
    eta = x @ beta
    r = np.exp(eta - eta.max())
    dp, g, f = rs.death_pos, rs.death_group, rs.frac
    rx = r[:, None] * x
    rxx = rx[:, :, None] * x[:, None, :]
    h = np.einsum("ij,jk,ik->i", x, v, x)
    den = revcumsum(r)[rs.group_start][g] - f * np.add.reduceat(r[dp], rs.group_first)[g]
    n1 = revcumsum(rx)[rs.group_start][g] - f[:, None] * np.add.reduceat(rx[dp], rs.group_first, axis=0)[g]
    q = revcumsum(rxx)[rs.group_start][g] - f[:, None, None] * np.add.reduceat(rxx[dp], rs.group_first,
                                                                                  axis=0)[g]
    rh = r * h
    hsum = revcumsum(rh)[rs.group_start][g] - f * np.add.reduceat(rh[dp], rs.group_first)[g]
    m = n1 / den[:, None]
    w, _, _ = efron_weights(r, rs, 1.0 / den)
    third = (w * h) @ x
    mvm = np.einsum("ij,jk,ik->i", m, v, m)
    qvm = np.einsum("ijk,kl,il->ij", q, v, m) / den[:, None]
    pen_score = 0.5 * (third - (hsum / den) @ m - 2 * (qvm - mvm[:, None] * m).sum(axis=0))
    return loglik + 0.5 * logdet, score + pen_score, info, loglik


def firth(x: np.ndarray, rs: RiskSets, iter_max: int = 100, tol: float = 1e-10):
    """Maximise Firth's penalized partial likelihood by Newton steps with I(β) and step-halving."""
    beta = np.zeros(x.shape[1])
    pll, u, info, loglik = firth_terms(x, beta, rs)
    for it in range(1, iter_max + 1):
        step = solve(info, u)
        if step is None:
            break
        for _ in range(30):
            new = beta + step
            npll, nu, ninfo, nloglik = firth_terms(x, new, rs)
            if np.isfinite(npll) and npll >= pll - 1e-12 * abs(pll):
                break
            step = step / 2
        beta, pll, u, info, loglik = new, npll, nu, ninfo, nloglik
        if np.max(np.abs(step)) < tol:
            return beta, inverse(info), loglik, it, True
    return beta, inverse(info), loglik, iter_max, False
