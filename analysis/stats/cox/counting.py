"""Cox models on (start, stop] data and with strata, as R's ``coxph(Surv(tstart, tstop, event) ~ ... + strata(s))``.

Counting-process data hold one row per patient and interval over which his
covariates are constant (:func:`analysis.stats.cox.time_dependent.split_at_events`
makes them, as R's ``tmerge``): a row is at risk at an event time t when
start < t ≤ stop. With strata every stratum has its own baseline hazard and
risk sets. Right-censored data are the special case start = −∞.

The Efron partial likelihood is computed in one vectorised pass: every
(stratum, time) becomes an integer key, so a risk-set sum is the sum over
rows with stop key ≥ k minus the sum over rows with start key ≥ k (rows of
other strata cancel), and the information is XᵀWX with per-row weights, as in
:func:`analysis.stats.cox._risk_sets.efron_weights`. The iteration is R's
``agfit4``: Newton-Raphson from 0 with step halving, stopping when the
relative change of the log-likelihood is at most 1e-9 (at most 20 iterations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.stats._survival_data import aeq_times
from analysis.stats.cox.design import Design
from analysis.stats.cox.fit import (
    CoxModel,
    TestResult,
    _drop_aliased,
    _possibly_infinite,
    _summary,
    chi2_sf,
)
from analysis.stats.cox.likelihood import EPS, ITER_MAX, CoxFitError, inverse, solve


@dataclass(frozen=True)
class CountingRiskSets:
    """Integer keys of (stratum, time) and the death groups of counting-process data.

    ``start_key``/``stop_key`` per row (start −∞ is the stratum's key 0);
    ``group_key`` per distinct (stratum, event time); per death row its
    ``group`` and Efron fraction ``frac`` = l/d (l = 0..d−1 among the d tied
    deaths of its group); ``deaths`` the row indices of the events.
    """

    start_key: np.ndarray
    stop_key: np.ndarray
    group_key: np.ndarray
    deaths: np.ndarray
    group: np.ndarray
    frac: np.ndarray
    stop_order: np.ndarray
    start_order: np.ndarray
    stop_pos: np.ndarray
    start_pos: np.ndarray

    @classmethod
    def build(cls, start: np.ndarray | None, stop: np.ndarray, event: np.ndarray,
              strata: np.ndarray | None = None) -> CountingRiskSets:
        stop = np.asarray(stop, dtype=float)
        n = len(stop)
        if start is None:
            values = aeq_times(stop)
            stop_t, start_t = values, None
        else:
            values = aeq_times(np.concatenate([np.asarray(start, dtype=float), stop]))  # coxph's timefix
            start_t, stop_t = values[:n], values[n:]
        times = np.unique(values)
        width = len(times) + 1
        codes = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
        base = codes * width
        stop_key = base + np.searchsorted(times, stop_t) + 1
        start_key = base if start_t is None else base + np.searchsorted(times, start_t) + 1
        deaths = np.flatnonzero(np.asarray(event) == 1)
        group_key, group, counts = np.unique(stop_key[deaths], return_inverse=True, return_counts=True)
        order = np.argsort(group, kind="stable")
        deaths, group = deaths[order], group[order]
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        frac = (np.arange(len(deaths)) - first[group]) / counts[group]
        stop_order = np.argsort(stop_key, kind="stable")
        start_order = np.argsort(start_key, kind="stable")
        stop_pos = np.asarray(np.searchsorted(stop_key[stop_order], group_key, side="left"))
        start_pos = np.asarray(np.searchsorted(start_key[start_order], group_key, side="left"))
        return cls(start_key, stop_key, group_key, deaths, group, frac, stop_order, start_order, stop_pos, start_pos)

    @property
    def n_groups(self) -> int:
        return len(self.group_key)

    def risk_sums(self, v: np.ndarray) -> np.ndarray:
        """Σ of ``v`` (last axis = rows) over each group's risk set: start < t ≤ stop, same stratum."""
        def tail(order: np.ndarray, pos: np.ndarray) -> np.ndarray:
            s = np.cumsum(v[..., order][..., ::-1], axis=-1)[..., ::-1]
            s = np.concatenate([s, np.zeros((*v.shape[:-1], 1))], axis=-1)
            return s[..., pos]
        return tail(self.stop_order, self.stop_pos) - tail(self.start_order, self.start_pos)

    def row_weights(self, r: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """w_j = r_j Σ_{groups whose risk set holds j} a_g − [j dies in g] r_j b_g (see efron_weights)."""
        cum = np.concatenate(([0.0], np.cumsum(a)))
        held = cum[np.searchsorted(self.group_key, self.stop_key, side="right")] \
            - cum[np.searchsorted(self.group_key, self.start_key, side="right")]
        w = r * held
        w[self.deaths] -= r[self.deaths] * b[self.group]
        return w


def counting_efron(x: np.ndarray, beta: np.ndarray, rs: CountingRiskSets) -> tuple[float, np.ndarray, np.ndarray]:
    """Efron log partial likelihood, score and information of (start, stop] data at ``beta`` (x: n × p)."""
    eta = x @ beta
    shift = float(eta.max()) if len(eta) else 0.0
    r = np.exp(eta - shift)
    rx = x.T * r  # p × n
    dp, g, f = rs.deaths, rs.group, rs.frac
    ng = rs.n_groups
    s0 = rs.risk_sums(r)
    s1 = rs.risk_sums(rx)
    d0 = np.bincount(g, r[dp], ng)
    d1 = np.stack([np.bincount(g, rx[k, dp], ng) for k in range(x.shape[1])]) if x.shape[1] else np.zeros((0, ng))
    den = s0[g] - f * d0[g]
    inv = 1.0 / den
    a, b = np.bincount(g, inv, ng), np.bincount(g, f * inv, ng)
    inv2 = inv * inv
    alpha, beta2, gamma = np.bincount(g, inv2, ng), np.bincount(g, f * inv2, ng), np.bincount(g, f * f * inv2, ng)
    w = rs.row_weights(r, a, b)
    loglik = float(eta[dp].sum() - np.log(den).sum() - shift * len(dp))
    score = x[dp].sum(axis=0) - (s1 * a).sum(axis=1) + (d1 * b).sum(axis=1)
    cross = (s1 * beta2) @ d1.T
    mtm = (s1 * alpha) @ s1.T - cross - cross.T + (d1 * gamma) @ d1.T
    info = (x.T * w) @ x - mtm
    return loglik, score, info


def _agfit(x: np.ndarray, rs: CountingRiskSets, iter_max: int = ITER_MAX, eps: float = EPS):
    """R's agfit4 iteration. Returns beta, var, loglik0, loglik, score test, iterations, converged, last score."""
    p = x.shape[1]
    beta = np.zeros(p)
    loglik0, u, info = counting_efron(x, beta, rs)
    step = solve(info, u)
    if step is None:
        raise CoxFitError("The covariates are collinear or constant among the patients at risk; "
                          "the model cannot be estimated.")
    sctest = float(u @ step)
    best, old = loglik0, beta
    beta = beta + step
    halving = 0
    for it in range(1, iter_max + 1):
        newlk, u, info = counting_efron(x, beta, rs)
        bad = not (np.isfinite(newlk) and np.all(np.isfinite(np.diag(info))))
        if not bad and halving == 0 and abs(1 - best / newlk) <= eps:
            return beta, inverse(info), loglik0, newlk, sctest, it, True, u
        if it == iter_max:
            break
        step = None if bad or newlk < best else solve(info, u)
        if step is None:
            halving += 1
            beta = (old * halving + beta) / (halving + 1.0)
        else:
            halving = 0
            best, old = newlk, beta
            beta = beta + step
    if newlk < best:  # the last try was worse than the best: report the best
        beta = old
        newlk, u, info = counting_efron(x, beta, rs)
    return beta, inverse(info), loglik0, newlk, sctest, iter_max, False, u


def _centre_and_scale(x: np.ndarray, strata: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """agfit4's conditioning: covariates not all in {-1, 0, 1} are centred per stratum and scaled overall."""
    codes = np.zeros(len(x), dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    out = x.astype(float).copy()
    scale = np.ones(x.shape[1])
    counts = np.bincount(codes)
    for j in range(x.shape[1]):
        col = out[:, j]
        if np.isin(col, (-1.0, 0.0, 1.0)).all():
            continue
        means = np.bincount(codes, col) / np.where(counts > 0, counts, 1)
        col = col - means[codes]
        mad = np.abs(col).sum()
        scale[j] = len(col) / mad if mad > 0 else 1.0
        out[:, j] = col * scale[j]
    return out, scale


def fit_counting(start: np.ndarray | None, stop: np.ndarray, event: np.ndarray, design: Design, *,
                 strata: np.ndarray | None = None) -> CoxModel:
    """Fit a Cox model to counting-process rows and/or strata (Efron ties, as ``coxph``).

    Parameters
    ----------
    start : array or None
        Start of each row's interval (None: right-censored data, start = −∞).
    stop, event : arrays
        End of the interval and whether the row ends with the event.
    design : Design
        Covariates, one row per data row (a patient may have several rows).
    strata : array of int, optional
        Stratum code per row (R ``strata()``): separate baseline hazards.

    Returns
    -------
    CoxModel
        As :func:`analysis.stats.cox.fit.fit_cox`; ``n`` counts rows and
        ``time`` holds the stop times. Concordance is not computed (NaN).
    """
    stop = np.asarray(stop, dtype=float)
    status = (np.asarray(event) == 1).astype(int)
    if start is not None and np.any(np.asarray(start, dtype=float) >= stop):
        raise CoxFitError("Every interval must end after it starts (start < stop).")
    n_events = int(status.sum())
    if n_events == 0:
        raise CoxFitError(f"There are no events among these {len(stop)} rows; a Cox model needs events.")
    notes = list(design.notes)
    design, dropped, _ = _drop_aliased(design)
    notes.extend(f"{term} is collinear with other terms and was left out (R reports NA)." for term in dropped)
    if design.matrix.shape[1] == 0:
        raise CoxFitError("No covariate varies among these patients; there is nothing to estimate.")
    rs = CountingRiskSets.build(start, stop, status, strata)
    xs, scale = _centre_and_scale(design.matrix, strata)
    beta_s, var_s, loglik0, loglik, sctest, it, converged, u = _agfit(xs, rs)
    coef = beta_s * scale
    var = var_s * np.outer(scale, scale)
    infinite = _possibly_infinite(design, coef, var, u / scale, converged, design.matrix @ coef)
    if not converged:
        notes.append(f"The model did not converge (the estimates kept changing after {it} iterations); "
                     "its numbers are not reliable.")
    if infinite:
        notes.append(f"The likelihood has no maximum for {', '.join(infinite)}: the estimate runs off to infinity "
                     "(monotone likelihood, typically a level without events).")
    df = design.matrix.shape[1]
    lr = 2 * (loglik - loglik0)
    return CoxModel(
        summary=_summary(design, coef, var, status), design=design, n=len(stop), events=n_events,
        loglik=(float(loglik0), float(loglik)), lr_test=TestResult(float(lr), df, chi2_sf(lr, df)),
        score_test=TestResult(sctest, df, chi2_sf(sctest, df)), has_concordance=False,
        converged=bool(converged), iterations=int(it), warnings=tuple(notes), penalty=None, coef=coef, var=var,
        time=stop, event=status, infinite=tuple(infinite),
    )
