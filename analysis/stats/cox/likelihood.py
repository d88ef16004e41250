"""The Efron partial likelihood of a Cox model and R's ``coxfit6`` Newton-Raphson on it.

The iteration follows ``coxfit6`` step for step: covariates that are not 0/1
are centred and scaled by their mean absolute deviation (:func:`scaling`), the
iteration starts at zero, stops when the relative change of the
log-likelihood is at most 1e-9 (at most 20 iterations), and halves the step
when the log-likelihood decreases. Risk-set sums are reverse cumulative sums
over the sorted times, so one iteration costs O(n·p²) in a few vectorised calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from analysis.stats.cox._risk_sets import GroupedRiskSets, RiskSets

EPS = 1e-9  # coxph.control(eps): relative change in log-likelihood
ITER_MAX = 20  # coxph.control(iter.max)


class CoxFitError(ValueError):
    """A Cox model that cannot be fitted to these data (no events, no usable covariate, ...)."""


def efron(xt: np.ndarray, beta: np.ndarray, rs: RiskSets | GroupedRiskSets, offset: np.ndarray | None = None):
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
    With :class:`GroupedRiskSets`, ``xt`` is p × patterns (see :func:`efron_sums`).
    """
    sums = efron_sums(xt, beta, rs, offset)
    loglik = sums.eta_deaths - sums.log_den - sums.shift * len(sums.frac)
    score = sums.group_scores().sum(axis=0)
    return loglik, score, sums.information()


@dataclass(frozen=True)
class EfronSums:
    """The sums over the death times g that the Efron likelihood and the PH test are made of, at one β.

    ``s1``/``d1`` (g × p): Σ r·x over the risk set and over the tied deaths;
    ``xd`` (g × p): Σ x over the deaths; per group, over its deaths i:
    ``a`` = Σ 1/den_i, ``b`` = Σ f_i/den_i, ``alpha``, ``beta2``, ``gamma`` =
    Σ 1/den², Σ f/den², Σ f²/den²; ``log_den`` = Σ log den_i over all deaths;
    ``eta_deaths`` = Σ β'x over the deaths, ``shift`` the constant taken out of η.
    """

    s1: np.ndarray
    d1: np.ndarray
    xd: np.ndarray
    a: np.ndarray
    b: np.ndarray
    alpha: np.ndarray
    beta2: np.ndarray
    gamma: np.ndarray
    log_den: float
    eta_deaths: float
    shift: float
    frac: np.ndarray
    cross_products: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def group_scores(self) -> np.ndarray:
        """Each death time's share of the score: Σ over its deaths of x_i − (S1 − f_i·D1)/den_i."""
        return self.xd - self.s1 * self.a[:, None] + self.d1 * self.b[:, None]

    def information(self, c: np.ndarray | float = 1.0) -> np.ndarray:
        """Σ over deaths of c_g·(Q_i/den_i − m_i m_iᵀ) (c per death time; c = 1: the information)."""
        return self.cross_products(self.a * c, self.b * c) - _group_information(
            self.s1, self.d1, self.alpha * c, self.beta2 * c, self.gamma * c)


def efron_sums(xt: np.ndarray, beta: np.ndarray, rs: RiskSets | GroupedRiskSets,
               offset: np.ndarray | None = None) -> EfronSums:
    """The :class:`EfronSums` at ``beta``, from sorted rows (:class:`RiskSets`) or patterns (:class:`GroupedRiskSets`).

    For patterns (``xt``: p × patterns), S_g = Σ_k N_gk e_k x_k and D_g = Σ_k d_gk e_k x_k
    with e_k = exp(β'x_k); Σ_j w_j x_j x_jᵀ becomes Σ_k c_k x_k x_kᵀ with c_k = e_k Σ_g (N_gk a_g − d_gk b_g).
    ``offset`` (rows only, sorted like the columns of ``xt``) is added to every linear predictor.
    """
    if isinstance(rs, GroupedRiskSets):
        if offset is not None:
            raise ValueError("an offset needs the per-patient risk sets (RiskSets), not patterns")
        return _grouped_sums(xt, beta, rs)
    eta = beta @ xt if offset is None else beta @ xt + offset
    shift = eta.max() if len(eta) else 0.0  # exp() of the shifted score cannot overflow
    r = np.exp(eta - shift)
    dp, g = rs.death_pos, rs.death_group
    s0, s1 = _risk_set_sums(xt, r, rs.group_start)
    d0, d1, xd = _death_sums(xt, r, dp, g, len(rs.group_start))
    log_den, a, b, alpha, beta2, gamma = _tie_terms(s0, d0, g, rs.frac)

    def cross_products(wa: np.ndarray, wb: np.ndarray) -> np.ndarray:
        return _weighted_cross_products(xt, r, wa, wb, rs.group_start, dp, g)

    return EfronSums(s1, d1, xd, a, b, alpha, beta2, gamma, log_den, float(eta[dp].sum()), shift, rs.frac,
                     cross_products)


def _grouped_sums(xk: np.ndarray, beta: np.ndarray, rs: GroupedRiskSets) -> EfronSums:
    eta = beta @ xk
    shift = eta.max()
    e = np.exp(eta - shift)
    ex = (xk * e).T
    # einsum, not BLAS: on these long, thin products waking BLAS threads costs more than the arithmetic
    s0, s1 = np.einsum("gk,k->g", rs.at_risk, e), np.einsum("gk,kp->gp", rs.at_risk, ex)
    d0, d1 = np.einsum("gk,k->g", rs.deaths, e), np.einsum("gk,kp->gp", rs.deaths, ex)
    log_den, a, b, alpha, beta2, gamma = _tie_terms(s0, d0, rs.death_group, rs.frac)

    def cross_products(wa: np.ndarray, wb: np.ndarray) -> np.ndarray:
        c = e * (np.einsum("gk,g->k", rs.at_risk, wa) - np.einsum("gk,g->k", rs.deaths, wb))
        return (xk * c) @ xk.T

    return EfronSums(s1, d1, np.einsum("gk,pk->gp", rs.deaths, xk), a, b, alpha, beta2, gamma, log_den,
                     float(rs.pattern_deaths @ eta), shift, rs.frac, cross_products)


def _group_information(s1, d1, alpha, beta2, gamma) -> np.ndarray:
    """Σ_g α_g S1 S1ᵀ − β_g (S1 D1ᵀ + D1 S1ᵀ) + γ_g D1 D1ᵀ, the p×p part of the information over death times."""
    cross = np.einsum("gp,g,gq->pq", s1, beta2, d1)
    return np.einsum("gp,g,gq->pq", s1, alpha, s1) - cross - cross.T + np.einsum("gp,g,gq->pq", d1, gamma, d1)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _risk_set_sums(xt, r, group_start):  # pragma: no cover - compiled
    """Σ r and Σ r·x over each death time's risk set: block sums between death times, accumulated from the end."""
    p, n = xt.shape
    ng = len(group_start)
    s0 = np.zeros(ng)
    s1 = np.zeros((ng, p))
    for g in range(ng):
        stop = group_start[g + 1] if g + 1 < ng else n
        for j in range(group_start[g], stop):
            s0[g] += r[j]
            for k in range(p):
                s1[g, k] += r[j] * xt[k, j]
    for g in range(ng - 2, -1, -1):
        s0[g] += s0[g + 1]
        s1[g] += s1[g + 1]
    return s0, s1


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _death_sums(xt, r, death_pos, death_group, ng):  # pragma: no cover - compiled
    """The tied deaths' Σ r, Σ r·x and Σ x per group."""
    p = xt.shape[0]
    d0 = np.zeros(ng)
    d1 = np.zeros((ng, p))
    xd = np.zeros((ng, p))
    for i in range(len(death_pos)):
        g, j = death_group[i], death_pos[i]
        d0[g] += r[j]
        for k in range(p):
            d1[g, k] += r[j] * xt[k, j]
            xd[g, k] += xt[k, j]
    return d0, d1, xd


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _tie_terms(s0, d0, death_group, frac):  # pragma: no cover - compiled
    """Σ log den_i, and per group the sums of 1/den, f/den, 1/den², f/den², f²/den² over its deaths."""
    ng = len(s0)
    a, b = np.zeros(ng), np.zeros(ng)
    alpha, beta2, gamma = np.zeros(ng), np.zeros(ng), np.zeros(ng)
    logden = 0.0
    product = 1.0  # Σ log den as the log of partial products: one logarithm per run of deaths, not per death
    for i in range(len(death_group)):
        g, f = death_group[i], frac[i]
        den = s0[g] - f * d0[g]
        product *= den
        if not 1e-150 < product < 1e150:
            logden += np.log(product)
            product = 1.0
        inv = 1.0 / den
        a[g] += inv
        b[g] += f * inv
        alpha[g] += inv * inv
        beta2[g] += f * inv * inv
        gamma[g] += f * f * inv * inv
    return logden + np.log(product), a, b, alpha, beta2, gamma


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _weighted_cross_products(xt, r, a, b, group_start, death_pos, death_group):  # pragma: no cover - compiled
    """Σ_j w_j x_j x_jᵀ with w_j = r_j Σ_{g: t_g ≤ t_j} a_g, less r_j b_g for a death of group g."""
    p, n = xt.shape
    w = np.zeros(n)
    cum = 0.0
    for g in range(len(group_start)):
        cum += a[g]
        stop = group_start[g + 1] if g + 1 < len(group_start) else n
        for j in range(group_start[g], stop):
            w[j] = r[j] * cum
    for i in range(len(death_pos)):
        w[death_pos[i]] -= r[death_pos[i]] * b[death_group[i]]
    info = np.zeros((p, p))
    for j in range(group_start[0] if len(group_start) else n, n):
        for k in range(p):
            wx = w[j] * xt[k, j]
            for m in range(k + 1):
                info[k, m] += wx * xt[m, j]
    for k in range(p):
        for m in range(k):
            info[m, k] = info[k, m]
    return info


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


def newton(xt: np.ndarray, rs: RiskSets | GroupedRiskSets, iter_max: int = ITER_MAX, eps: float = EPS,
           offset: np.ndarray | None = None, start: np.ndarray | None = None):
    """R's coxfit6 iteration on the p × n sorted design (with an optional fixed ``offset``, see :func:`efron`).

    Returns beta, var, loglik0, loglik, score test at 0, iterations, converged, last score. From ``start``
    (default 0, as R) the iteration begins there, and loglik0 and the score test are those at ``start``.
    """
    x = xt
    p = x.shape[0]
    beta = np.zeros(p) if start is None else np.array(start, dtype=float)
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
