"""The Efron partial likelihood of a Cox model and R's ``coxfit6`` Newton-Raphson on it.

The iteration follows ``coxfit6`` step for step: covariates that are not 0/1
are centred and scaled by their mean absolute deviation (:func:`scaling`), the
iteration starts at zero, stops when the relative change of the
log-likelihood is at most 1e-9 (at most 20 iterations), and halves the step
when the log-likelihood decreases. Risk-set sums are reverse cumulative sums
over the sorted times, so one iteration costs O(n·p²) in a few vectorised calls.
"""

from __future__ import annotations

import numpy as np

from analysis.stats.cox._risk_sets import RiskSets, at_risk_sums, efron_weights

EPS = 1e-9  # coxph.control(eps): relative change in log-likelihood
ITER_MAX = 20  # coxph.control(iter.max)


class CoxFitError(ValueError):
    """A Cox model that cannot be fitted to these data (no events, no usable covariate, ...)."""


def efron(xt: np.ndarray, beta: np.ndarray, rs: RiskSets, offset: np.ndarray | None = None):
    """Efron log partial likelihood, score and information at ``beta``.

    ``offset`` (sorted like the columns of ``xt``) is added to every linear
    predictor with a fixed coefficient of 1, as R's ``offset()`` term: the
    profile likelihood of one coefficient fixes it this way.

    ``xt`` is the p × n design, columns sorted by time (rows contiguous, so
    every pass over the patients is a contiguous vector operation). For death
    i of a tie group g with fraction f_i the risk-set sums are S_g − f_i·D_g
    (D: the tied deaths' share). Sums over the deaths of a group collapse into
    per-group weights, so the per-death work is scalar and the information is
    X'diag(w)X minus a p×p sum over the death times: no n×p×p array.
    """
    eta = beta @ xt if offset is None else beta @ xt + offset
    shift = eta.max() if len(eta) else 0.0  # exp() of the shifted score cannot overflow
    r = np.exp(eta - shift)
    rx = xt * r
    dp, g, f = rs.death_pos, rs.death_group, rs.frac
    s0 = at_risk_sums(r, rs)
    s1 = at_risk_sums(rx, rs)  # p × groups
    d0 = np.add.reduceat(r[dp], rs.group_first)
    d1 = np.add.reduceat(rx[:, dp], rs.group_first, axis=1)
    den = s0[g] - f * d0[g]
    inv = 1.0 / den
    ng = len(s0)
    w, a, b = efron_weights(r, rs, inv)
    inv2 = inv * inv
    alpha, beta2, gamma = (np.bincount(g, inv2, ng), np.bincount(g, f * inv2, ng),
                           np.bincount(g, f * f * inv2, ng))
    loglik = eta[dp].sum() - np.log(den).sum() - shift * len(dp)
    score = xt[:, dp].sum(axis=1) - (s1 * a).sum(axis=1) + (d1 * b).sum(axis=1)
    cross = (s1 * beta2) @ d1.T
    mtm = (s1 * alpha) @ s1.T - cross - cross.T + (d1 * gamma) @ d1.T
    info = (xt * w) @ xt.T - mtm
    return loglik, score, info


def scaling(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale as coxfit6 does; columns with values only in {-1, 0, 1} are left alone."""
    p = x.shape[1]
    means = np.zeros(p)
    scale = np.ones(p)
    for j in range(p):
        col = x[:, j]
        if np.isin(col, (-1.0, 0.0, 1.0)).all():
            continue
        means[j] = col.mean()
        mad = np.abs(col - means[j]).sum()
        scale[j] = len(col) / mad if mad > 0 else 1.0
    return means, scale


def solve(info: np.ndarray, u: np.ndarray) -> np.ndarray | None:
    try:
        step = np.linalg.solve(info, u)
    except np.linalg.LinAlgError:
        return None
    return step if np.all(np.isfinite(step)) else None


def newton(xt: np.ndarray, rs: RiskSets, iter_max: int = ITER_MAX, eps: float = EPS,
           offset: np.ndarray | None = None):
    """R's coxfit6 iteration on the p × n sorted design (with an optional fixed ``offset``, see :func:`efron`).

    Returns beta, var, loglik0, loglik, score test at 0, iterations, converged, last score.
    """
    x = xt
    p = x.shape[0]
    beta = np.zeros(p)
    loglik0, u, info = efron(x, beta, rs, offset)
    step = solve(info, u)
    if step is None:
        raise CoxFitError("The covariates are collinear or constant among the patients at risk; "
                          "the model cannot be estimated.")
    sctest = float(u @ step)
    best = loglik0
    newbeta = beta + step
    halving = 0
    for it in range(1, iter_max + 1):
        newlk, u, info = efron(x, newbeta, rs, offset)
        bad = not (np.isfinite(newlk) and np.all(np.isfinite(u)) and np.all(np.isfinite(info)))
        if not bad and abs(1 - best / newlk) <= eps:
            var = inverse(info)
            return newbeta, var, loglik0, newlk, sctest, it, True, u
        step = None if bad or newlk < best else solve(info, u)
        if step is None:
            halving += 1  # not improving: move back toward the last good beta
            newbeta = (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = newlk
            beta = newbeta
            newbeta = newbeta + step
    loglik, u, info = efron(x, beta, rs, offset)
    return beta, inverse(info), loglik0, loglik, sctest, iter_max, False, u


def inverse(info: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)
