"""Cox proportional hazards models, as R's ``coxph(..., ties = "efron")``.

The fit is a Newton-Raphson on the Efron partial log-likelihood that follows
R's ``coxfit6`` step for step: covariates that are not 0/1 are centred and
scaled by their mean absolute deviation, the iteration starts at zero, stops
when the relative change of the log-likelihood is at most 1e-9 (at most 20
iterations), and halves the step when the log-likelihood decreases. Risk-set
sums are reverse cumulative sums over the sorted times, so one iteration costs
O(n·p²) in a few vectorised numpy calls.

Reported with every fit: Wald z, p and 95 % CI per term; the likelihood-ratio
and score tests against the null model; Harrell's concordance exactly as
``survival::concordance`` reports it for a coxph fit. Firth's penalized
partial likelihood (``penalty="firth"``) is the remedy for monotone
likelihood (a level without events, separation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.cox_design import CovariateSpec, Design, build_design

EPS = 1e-9  # coxph.control(eps): relative change in log-likelihood
ITER_MAX = 20  # coxph.control(iter.max)
TOLER_INF = EPS**0.5  # coxph.control(toler.inf): flag for infinite coefficients
Z975 = stats.norm.ppf(0.975)
_TIMEFIX = np.sqrt(np.finfo(float).eps)  # aeqSurv tolerance


class CoxFitError(ValueError):
    """A Cox model that cannot be fitted to these data (no events, no usable covariate, ...)."""


@dataclass(frozen=True)
class TestResult:
    """A chi-square test: statistic, degrees of freedom, p-value."""

    statistic: float
    df: int
    p: float


@dataclass(frozen=True)
class CoxModel:
    """A fitted Cox model.

    ``summary`` has one row per coefficient: term, covariate, level, coef
    (log hazard ratio), hr, se (from the inverse information), lower/upper
    (Wald 95 % CI, exp(coef ± 1.96 se)), z, p (Wald, two-sided), n and events
    (patients and events in the level; all of them for a per-unit term).
    ``loglik`` is (null model, fitted model); ``lr_test`` is the
    likelihood-ratio test against the null model, ``score_test`` the score
    (log-rank) test; ``concordance`` is Harrell's C as R's coxph reports it.
    ``warnings`` are plain-language messages (non-convergence, possibly
    infinite coefficients, dropped covariates).
    """

    summary: pd.DataFrame
    design: Design
    n: int
    events: int
    loglik: tuple[float, float]
    lr_test: TestResult
    score_test: TestResult
    concordance: float
    converged: bool
    iterations: int
    warnings: tuple[str, ...]
    penalty: str | None
    coef: np.ndarray = field(repr=False)
    var: np.ndarray = field(repr=False)
    time: np.ndarray = field(repr=False)
    event: np.ndarray = field(repr=False)
    infinite: tuple[str, ...] = ()

    @property
    def linear_predictor(self) -> np.ndarray:
        return self.design.matrix @ self.coef


# --------------------------------------------------------------------------- risk sets


@dataclass(frozen=True)
class _RiskSets:
    """Rows sorted by time with the bookkeeping of Efron's tie correction.

    Deaths sharing a time form a group g with d_g deaths; death i of a group
    gets the fraction f_i = l/d_g (l = 0..d_g-1) of the tied deaths removed
    from its risk set.
    """

    order: np.ndarray
    death_pos: np.ndarray
    death_group: np.ndarray
    frac: np.ndarray
    group_start: np.ndarray
    group_first: np.ndarray
    n: int

    @classmethod
    def build(cls, time: np.ndarray, event: np.ndarray) -> _RiskSets:
        order = np.argsort(time, kind="stable")
        t = time[order]
        death_pos = np.flatnonzero(event[order] == 1)
        death_times, group, counts = np.unique(t[death_pos], return_inverse=True, return_counts=True)
        group_first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        rank_in_group = np.arange(len(death_pos)) - group_first[group]
        return cls(order, death_pos, group, rank_in_group / counts[group],
                   np.searchsorted(t, death_times, side="left"), group_first, len(t))


def _revcumsum(a: np.ndarray) -> np.ndarray:
    return np.cumsum(a[::-1], axis=0)[::-1]


def _efron(x: np.ndarray, beta: np.ndarray, rs: _RiskSets):
    """Efron log partial likelihood, score and information at ``beta``.

    ``x`` is sorted by time. The information is assembled as
    X'diag(w)X - M'M, where M holds the Efron-weighted risk-set means at each
    death and w the summed weights 1/denominator of the risk sets a row is
    in, so no n×p×p array is formed.
    """
    eta = x @ beta
    shift = eta.max() if len(eta) else 0.0  # exp() of the shifted score cannot overflow
    r = np.exp(eta - shift)
    rx = r[:, None] * x
    dp, g, f = rs.death_pos, rs.death_group, rs.frac
    s0 = _revcumsum(r)[rs.group_start]
    s1 = _revcumsum(rx)[rs.group_start]
    d0 = np.add.reduceat(r[dp], rs.group_first)
    d1 = np.add.reduceat(rx[dp], rs.group_first, axis=0)
    den = s0[g] - f * d0[g]
    mean = (s1[g] - f[:, None] * d1[g]) / den[:, None]
    loglik = eta[dp].sum() - np.log(den).sum() - shift * len(dp)
    score = x[dp].sum(axis=0) - mean.sum(axis=0)
    a = np.bincount(g, 1.0 / den)
    b = np.bincount(g, f / den)
    in_risk = np.zeros(rs.n)
    in_risk[rs.group_start] = a
    w = r * np.cumsum(in_risk)
    w[dp] -= r[dp] * b[g]
    info = (x * w[:, None]).T @ x - mean.T @ mean
    return loglik, score, info


def _scaling(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _solve(info: np.ndarray, u: np.ndarray) -> np.ndarray | None:
    try:
        step = np.linalg.solve(info, u)
    except np.linalg.LinAlgError:
        return None
    return step if np.all(np.isfinite(step)) else None


def _newton(x: np.ndarray, rs: _RiskSets, iter_max: int = ITER_MAX, eps: float = EPS):
    """R's coxfit6 iteration. Returns beta, var, loglik0, loglik, score0 test, iterations, converged, u."""
    p = x.shape[1]
    beta = np.zeros(p)
    loglik0, u, info = _efron(x, beta, rs)
    step = _solve(info, u)
    if step is None:
        raise CoxFitError("The covariates are collinear or constant among the patients at risk; "
                          "the model cannot be estimated.")
    sctest = float(u @ step)
    best = loglik0
    newbeta = beta + step
    halving = 0
    for it in range(1, iter_max + 1):
        newlk, u, info = _efron(x, newbeta, rs)
        bad = not (np.isfinite(newlk) and np.all(np.isfinite(u)) and np.all(np.isfinite(info)))
        if not bad and abs(1 - best / newlk) <= eps:
            var = _inverse(info)
            return newbeta, var, loglik0, newlk, sctest, it, True, u
        step = None if bad or newlk < best else _solve(info, u)
        if step is None:
            halving += 1  # not improving: move back toward the last good beta
            newbeta = (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = newlk
            beta = newbeta
            newbeta = newbeta + step
    loglik, u, info = _efron(x, beta, rs)
    return beta, _inverse(info), loglik0, loglik, sctest, iter_max, False, u


def _inverse(info: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)


def aeq_times(time: np.ndarray) -> np.ndarray:
    """Treat times that differ only by rounding error as tied, as R's ``aeqSurv`` (coxph's timefix)."""
    y = np.unique(time[np.isfinite(time)])
    if len(y) < 2:
        return time
    dy = np.diff(y)
    tied = (dy <= _TIMEFIX) | (dy / np.mean(np.abs(y)) <= _TIMEFIX)
    if not tied.any():
        return time
    cuts = y[np.concatenate(([True], ~tied))]
    return cuts[np.searchsorted(cuts, time, side="right") - 1]


# --------------------------------------------------------------------------- Firth


def _firth_terms(x: np.ndarray, beta: np.ndarray, rs: _RiskSets):
    """Penalized log-likelihood l + ½ log det I and its score (Firth 1993; Heinze & Schemper 2001).

    The score of the penalty is ½ tr(I⁻¹ ∂I/∂β_r), from the third moments of
    the covariates over the Efron-weighted risk sets.
    """
    loglik, score, info = _efron(x, beta, rs)
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
    den = _revcumsum(r)[rs.group_start][g] - f * np.add.reduceat(r[dp], rs.group_first)[g]
    n1 = _revcumsum(rx)[rs.group_start][g] - f[:, None] * np.add.reduceat(rx[dp], rs.group_first, axis=0)[g]
    q = _revcumsum(rxx)[rs.group_start][g] - f[:, None, None] * np.add.reduceat(rxx[dp], rs.group_first,
                                                                                  axis=0)[g]
    rh = r * h
    hsum = _revcumsum(rh)[rs.group_start][g] - f * np.add.reduceat(rh[dp], rs.group_first)[g]
    m = n1 / den[:, None]
    a = np.bincount(g, 1.0 / den, minlength=len(rs.group_start))
    b = np.bincount(g, f / den, minlength=len(rs.group_start))
    in_risk = np.zeros(rs.n)
    in_risk[rs.group_start] = a
    w = r * np.cumsum(in_risk)
    w[dp] -= r[dp] * b[g]
    third = (w * h) @ x
    mvm = np.einsum("ij,jk,ik->i", m, v, m)
    qvm = np.einsum("ijk,kl,il->ij", q, v, m) / den[:, None]
    pen_score = 0.5 * (third - (hsum / den) @ m - 2 * (qvm - mvm[:, None] * m).sum(axis=0))
    return loglik + 0.5 * logdet, score + pen_score, info, loglik


def _firth(x: np.ndarray, rs: _RiskSets, iter_max: int = 100, tol: float = 1e-10):
    """Maximise Firth's penalized partial likelihood by Newton steps with I(β) and step-halving."""
    beta = np.zeros(x.shape[1])
    pll, u, info, loglik = _firth_terms(x, beta, rs)
    for it in range(1, iter_max + 1):
        step = _solve(info, u)
        if step is None:
            break
        for _ in range(30):
            new = beta + step
            npll, nu, ninfo, nloglik = _firth_terms(x, new, rs)
            if np.isfinite(npll) and npll >= pll - 1e-12 * abs(pll):
                break
            step = step / 2
        beta, pll, u, info, loglik = new, npll, nu, ninfo, nloglik
        if np.max(np.abs(step)) < tol:
            return beta, _inverse(info), loglik, it, True
    return beta, _inverse(info), loglik, iter_max, False


# --------------------------------------------------------------------------- concordance


def concordance_counts(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> dict[str, float]:
    """Concordant, discordant and tied pairs as ``survival::concordance`` counts them for coxph.

    A pair is comparable when the shorter time is an event; a censored time
    equal to an event time counts as longer, two events at the same time are
    not comparable (``tied_y``). A pair is concordant when the patient who
    failed first has the higher risk score, ``tied_x`` when the scores are
    equal. Counted in O(n log K) (K distinct scores) with a radix-style
    partition on the bits of the score rank, not by looping over pairs.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    _, rank = np.unique(risk, return_inverse=True)
    rank = rank.astype(np.int64)
    # Sequence by decreasing time; at each time censored rows first (they outlive the deaths),
    # then each death as a query (compared with everyone already seen), then the deaths as items.
    n_e = int(event.sum())
    t = np.concatenate([time, time[event]])
    kind = np.concatenate([np.where(event, 2, 0), np.ones(n_e, dtype=np.int64)])
    seq_rank = np.concatenate([rank, rank[event]])
    order = np.lexsort((kind, -t))
    rank_s = seq_rank[order]
    kind_s = kind[order]
    is_item = kind_s != 1
    is_query = kind_s == 1
    total = float(np.sum((np.cumsum(is_item) - is_item)[is_query]))
    less, tied = _count_smaller_before(rank_s, is_item, is_query)
    dt, dr = time[event], rank[event]
    pairs_y = _tied_pairs(dt)
    tied_xy = _tied_pairs_2(dt, dr)
    return {"concordant": less, "discordant": total - less - tied, "tied_x": tied,
            "tied_y": pairs_y - tied_xy, "tied_xy": tied_xy}


def _tied_pairs(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    return float(np.sum(counts * (counts - 1) / 2))


def _tied_pairs_2(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0:
        return 0.0
    _, counts = np.unique(np.column_stack([a, b]), axis=0, return_counts=True)
    return float(np.sum(counts * (counts - 1) / 2))


def _count_smaller_before(rank: np.ndarray, is_item: np.ndarray, is_query: np.ndarray) -> tuple[float, float]:
    """For every query, items earlier in the sequence with a smaller rank, and with an equal one.

    Most significant bit first, the sequence is stably partitioned within
    groups that agree on the higher bits; at each bit, an item with a 0 that
    precedes a query with a 1 in the same group has a smaller rank. What is
    left in the final groups (same rank) are the ties.
    """
    n = len(rank)
    nbits = int(rank.max()).bit_length() if n else 0
    perm = np.arange(n)
    gstart = np.zeros(n, dtype=np.int64)
    gend = np.full(n, n, dtype=np.int64)
    less = 0.0
    for b in range(nbits - 1, -1, -1):
        bit = (rank[perm] >> b) & 1
        item0 = (is_item[perm] & (bit == 0)).astype(np.int64)
        c = np.concatenate(([0], np.cumsum(item0)))
        pos = np.arange(n)
        before = c[pos] - c[gstart]
        less += float(before[is_query[perm] & (bit == 1)].sum())
        zero = (bit == 0).astype(np.int64)
        z = np.concatenate(([0], np.cumsum(zero)))
        zeros_in_group = z[gend] - z[gstart]
        zeros_before = z[pos] - z[gstart]
        ones_before = (pos - gstart) - zeros_before
        newpos = np.where(bit == 0, gstart + zeros_before, gstart + zeros_in_group + ones_before)
        new_start = np.where(bit == 0, gstart, gstart + zeros_in_group)
        new_end = np.where(bit == 0, gstart + zeros_in_group, gend)
        perm_new = np.empty_like(perm)
        perm_new[newpos] = perm
        gs = np.empty_like(gstart)
        ge = np.empty_like(gend)
        gs[newpos] = new_start
        ge[newpos] = new_end
        perm, gstart, gend = perm_new, gs, ge
    items = is_item[perm].astype(np.int64)
    c = np.concatenate(([0], np.cumsum(items)))
    tied = c[np.arange(n)] - c[gstart]
    return less, float(tied[is_query[perm]].sum())


def concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's C: (concordant + tied_x / 2) / (concordant + discordant + tied_x); NaN without pairs."""
    c = concordance_counts(time, event, risk)
    pairs = c["concordant"] + c["discordant"] + c["tied_x"]
    return (c["concordant"] + c["tied_x"] / 2) / pairs if pairs else float("nan")


# --------------------------------------------------------------------------- the model


def fit_cox(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    specs: Sequence[CovariateSpec],
    *,
    penalty: str | None = None,
) -> CoxModel:
    """Fit a Cox model with Efron ties, as ``coxph(Surv(duration, event) ~ ..., ties = "efron")``.

    Parameters
    ----------
    frame : one row per patient with the duration, the 0/1 event and the covariates.
    specs : the covariates and how they enter (see :mod:`analysis.cox_design`).
    penalty : ``None`` for the ordinary partial likelihood, ``"firth"`` for
        Firth's penalized partial likelihood l(β) + ½ log det I(β), which gives
        finite estimates under monotone likelihood (a level without events).

    Rows with a missing time, event or covariate are left out. Raises
    :class:`CoxFitError` with a plain-language message when no model can be
    fitted (no events, no usable covariate, collinear covariates).
    """
    if penalty not in (None, "firth"):
        raise ValueError(f"unknown penalty {penalty!r}; expected None or 'firth'")
    ok = pd.to_numeric(frame[duration], errors="coerce").notna() & frame[event].notna()
    data = frame.loc[ok.to_numpy()]
    design = build_design(data, specs)
    notes = list(design.notes)
    if design.matrix.shape[0] == 0:
        raise CoxFitError("No patient has a value for every covariate of the model.")
    time = aeq_times(data[duration].to_numpy(dtype=float)[design.kept])
    status = (data[event].to_numpy(dtype=float)[design.kept] == 1).astype(int)
    n, n_events = len(time), int(status.sum())
    if n_events == 0:
        raise CoxFitError(f"There are no events among these {n} patients; a Cox model needs events.")
    design, dropped = _drop_aliased(design)
    notes.extend(f"{term} is collinear with other terms and was left out (R reports NA)." for term in dropped)
    if design.matrix.shape[1] == 0:
        raise CoxFitError("No covariate varies among these patients; there is nothing to estimate. "
                          + " ".join(notes))
    rs = _RiskSets.build(time, status)
    x = design.matrix
    means, scale = _scaling(x)
    xs = ((x - means) * scale)[rs.order]
    if penalty == "firth":
        beta_s, var_s, loglik, it, converged = _firth(xs, rs)
        loglik0, u0, info0 = _efron(xs, np.zeros(x.shape[1]), rs)
        step0 = _solve(info0, u0)
        sctest = float(u0 @ step0) if step0 is not None else float("nan")
        u = np.zeros(x.shape[1])
    else:
        beta_s, var_s, loglik0, loglik, sctest, it, converged, u = _newton(xs, rs)
    coef = beta_s * scale
    var = var_s * np.outer(scale, scale)
    infinite: list[str] = []
    if penalty is None:
        infinite = _possibly_infinite(design, coef, var, u / scale, converged, x @ coef)
    if not converged:
        notes.append("The model did not converge (the estimates kept changing after "
                     f"{it} iterations); its numbers are not reliable.")
    if infinite:
        notes.append(
            f"The likelihood has no maximum for {', '.join(infinite)}: the estimate runs off to infinity "
            "(monotone likelihood, typically a level without events). Its hazard ratio is not an estimate; "
            "a penalized (Firth) fit gives a finite one."
        )
    summary = _summary(design, coef, var, status)
    df = x.shape[1]
    lr = 2 * (loglik - loglik0)
    return CoxModel(
        summary=summary,
        design=design,
        n=n,
        events=n_events,
        loglik=(float(loglik0), float(loglik)),
        lr_test=TestResult(float(lr), df, float(stats.chi2.sf(lr, df))),
        score_test=TestResult(sctest, df, float(stats.chi2.sf(sctest, df))),
        concordance=concordance(time, status, _exact_risk(x, coef)),
        converged=bool(converged),
        iterations=int(it),
        warnings=tuple(notes),
        penalty=None if penalty is None else "Firth: l(β) + ½·log det I(β)",
        coef=coef,
        var=var,
        time=time,
        event=status,
        infinite=tuple(infinite),
    )


def _exact_risk(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The linear predictor, computed once per distinct covariate row so equal rows tie exactly."""
    rows, inverse = np.unique(x, axis=0, return_inverse=True)
    return (rows @ coef)[inverse.ravel()]


def _drop_aliased(design: Design) -> tuple[Design, list[str]]:
    """Leave out columns that are linear combinations of earlier ones (R: coefficient NA)."""
    x = design.matrix
    if x.shape[1] == 0:
        return design, []
    centred = x - x.mean(axis=0)
    keep: list[int] = []
    for j in range(x.shape[1]):
        col = centred[:, j]
        norm = np.linalg.norm(col)
        if keep:
            basis = centred[:, keep]
            resid = col - basis @ np.linalg.lstsq(basis, col, rcond=None)[0]
        else:
            resid = col
        if norm > 0 and np.linalg.norm(resid) > 1e-7 * norm:
            keep.append(j)
    if len(keep) == x.shape[1]:
        return design, []
    dropped = [design.terms["term"].iloc[j] for j in range(x.shape[1]) if j not in keep]
    terms = design.terms.iloc[keep].reset_index(drop=True)
    levels = design.levels[~design.levels["term"].isin(dropped)].reset_index(drop=True)
    return Design(x[:, keep], terms, levels, design.kept, design.specs, design.notes), dropped


def _possibly_infinite(design, coef, var, u, converged, lp) -> list[str]:
    """R's coxph.fit check: the last Newton step is still large next to the coefficient."""
    names = list(design.terms["term"])
    if not converged:
        if np.max(lp) > 500 or not np.all(np.isfinite(var)):
            return names
        return []
    step = np.abs(u @ var)
    flag = ~np.isfinite(u) | ((step > EPS) & (step > TOLER_INF * np.abs(coef)))
    return [t for t, f in zip(names, flag, strict=False) if f]


def _summary(design: Design, coef: np.ndarray, var: np.ndarray, status: np.ndarray) -> pd.DataFrame:
    se = np.sqrt(np.diag(var))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = coef / se
        out = design.terms[["term", "covariate", "level"]].copy()
        out["coef"] = coef
        out["hr"] = np.exp(coef)
        out["se"] = se
        out["lower"] = np.exp(coef - Z975 * se)
        out["upper"] = np.exp(coef + Z975 * se)
        out["z"] = z
        out["p"] = 2 * stats.norm.sf(np.abs(z))
    x = design.matrix
    per_level = design.terms["kind"].isin(["level", "cut"]).to_numpy()
    in_level = np.where(per_level[None, :], x == 1, True)
    out["n"] = in_level.sum(axis=0).astype(int)
    out["events"] = (in_level & (status[:, None] == 1)).sum(axis=0).astype(int)
    return out
