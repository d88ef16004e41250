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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis.cohort import endpoint
from analysis.cox_design import CovariateSpec, Design, build_design, specs_from_options
from analysis.kaplan_meier import aeq_times  # the tie rule survfit and coxph share

EPS = 1e-9  # coxph.control(eps): relative change in log-likelihood
ITER_MAX = 20  # coxph.control(iter.max)
TOLER_INF = EPS**0.5  # coxph.control(toler.inf): flag for infinite coefficients
Z975 = stats.norm.ppf(0.975)


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
        return _exact_risk(self.design.matrix, self.coef)


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


def _at_risk_sums(v: np.ndarray, rs: _RiskSets) -> np.ndarray:
    """Σ of ``v`` (last axis = sorted rows) over each death time's risk set (rows with time ≥ t_g).

    Block sums between consecutive death times, accumulated from the end.
    """
    first = rs.group_start[0]
    blocks = np.add.reduceat(v[..., first:], rs.group_start - first, axis=-1)
    return np.cumsum(blocks[..., ::-1], axis=-1)[..., ::-1]


def _efron(xt: np.ndarray, beta: np.ndarray, rs: _RiskSets):
    """Efron log partial likelihood, score and information at ``beta``.

    ``xt`` is the p × n design, columns sorted by time (rows contiguous, so
    every pass over the patients is a contiguous vector operation). For death
    i of a tie group g with fraction f_i the risk-set sums are S_g − f_i·D_g
    (D: the tied deaths' share). Sums over the deaths of a group collapse into
    per-group weights, so the per-death work is scalar and the information is
    X'diag(w)X minus a p×p sum over the death times: no n×p×p array.
    """
    eta = beta @ xt
    shift = eta.max() if len(eta) else 0.0  # exp() of the shifted score cannot overflow
    r = np.exp(eta - shift)
    rx = xt * r
    dp, g, f = rs.death_pos, rs.death_group, rs.frac
    s0 = _at_risk_sums(r, rs)
    s1 = _at_risk_sums(rx, rs)  # p × groups
    d0 = np.add.reduceat(r[dp], rs.group_first)
    d1 = np.add.reduceat(rx[:, dp], rs.group_first, axis=1)
    den = s0[g] - f * d0[g]
    inv = 1.0 / den
    ng = len(s0)
    a, b = np.bincount(g, inv, ng), np.bincount(g, f * inv, ng)
    inv2 = inv * inv
    alpha, beta2, gamma = (np.bincount(g, inv2, ng), np.bincount(g, f * inv2, ng),
                           np.bincount(g, f * f * inv2, ng))
    loglik = eta[dp].sum() - np.log(den).sum() - shift * len(dp)
    score = xt[:, dp].sum(axis=1) - (s1 * a).sum(axis=1) + (d1 * b).sum(axis=1)
    in_risk = np.zeros(rs.n)
    in_risk[rs.group_start] = a
    w = r * np.cumsum(in_risk)
    w[dp] -= r[dp] * b[g]
    cross = (s1 * beta2) @ d1.T
    mtm = (s1 * alpha) @ s1.T - cross - cross.T + (d1 * gamma) @ d1.T
    info = (xt * w) @ xt.T - mtm
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


def _newton(xt: np.ndarray, rs: _RiskSets, iter_max: int = ITER_MAX, eps: float = EPS):
    """R's coxfit6 iteration on the p × n sorted design.

    Returns beta, var, loglik0, loglik, score test at 0, iterations, converged, last score.
    """
    x = xt
    p = x.shape[0]
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


# --------------------------------------------------------------------------- Firth


def _firth_terms(x: np.ndarray, beta: np.ndarray, rs: _RiskSets):
    """Penalized log-likelihood l + ½ log det I and its score (Firth 1993; Heinze & Schemper 2001).

    The score of the penalty is ½ tr(I⁻¹ ∂I/∂β_r), from the third moments of
    the covariates over the Efron-weighted risk sets.
    """
    loglik, score, info = _efron(np.ascontiguousarray(x.T), beta, rs)
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
    equal. Counted in O(n log n) numpy passes (see :func:`_count_smaller_before`),
    not by looping over pairs.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    _, rank = np.unique(risk, return_inverse=True)
    rank = rank.astype(np.int64).ravel()
    # Sequence by decreasing time; at each time the censored first (they outlive the deaths), then
    # the deaths by decreasing score. Everyone earlier in the sequence is comparable with a death,
    # except the deaths at its own time: none of them has a smaller score, and the ones with an
    # equal score are the tied_xy pairs, subtracted below.
    order = np.lexsort((-rank, event, -time))
    rank_s = rank[order]
    event_s = event[order]
    less, tied_before = _count_smaller_before(rank_s, np.ones(len(rank_s), dtype=bool), event_s)
    dt, dr = time[event], rank[event]
    pairs_y = _tied_pairs(dt)
    tied_xy = _tied_pairs_2(dt, dr)
    total = float(np.flatnonzero(event_s).sum()) - pairs_y
    tied = tied_before - tied_xy
    return {"concordant": less, "discordant": total - less - tied, "tied_x": tied,
            "tied_y": pairs_y - tied_xy, "tied_xy": tied_xy}


def _tied_pairs(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    return float(np.sum(counts * (counts - 1) / 2))


def _tied_pairs_2(a: np.ndarray, b: np.ndarray) -> float:
    """Pairs tied on both a and b (b: non-negative integer ranks)."""
    if len(a) == 0:
        return 0.0
    _, ia = np.unique(a, return_inverse=True)
    key = ia.astype(np.int64) * (int(b.max()) + 1) + b
    return _tied_pairs(key)


def _count_smaller_before(rank: np.ndarray, is_item: np.ndarray, is_query: np.ndarray) -> tuple[float, float]:
    """For every query, items earlier in the sequence with a smaller rank, and with an equal one (summed).

    Ties come from grouping by rank. The strictly smaller counts come from a
    partition on the bits of the rank when there are few distinct ranks, and
    from a bottom-up merge sort otherwise; both are O(m log m) numpy passes.
    """
    m = len(rank)
    if m == 0:
        return 0.0, 0.0
    order = np.argsort(rank, kind="stable")  # by rank, then sequence
    items = is_item[order].astype(np.int64)
    first = np.searchsorted(rank[order], rank[order], side="left")
    c = np.concatenate(([0], np.cumsum(items)))
    tied = float(((c[:-1] - c[first]) * is_query[order]).sum())
    nbits = int(rank.max()).bit_length()
    less = _bitwise_less(rank, is_item, is_query) if nbits <= 6 else _merge_less(rank, is_item, is_query)
    return less, tied


def _bitwise_less(rank: np.ndarray, is_item: np.ndarray, is_query: np.ndarray) -> float:
    """Most significant bit first, a stable partition within groups that agree on the higher bits.

    At each bit, an item with a 0 that precedes a query with a 1 in the same
    group has a smaller rank. One pass per bit of the largest rank.
    """
    m = len(rank)
    rk = rank.astype(np.int64)
    it = is_item.astype(np.int64)
    qu = is_query.astype(np.int64)
    idx = np.arange(m, dtype=np.int64)
    gstart = np.zeros(m, dtype=np.int64)
    gend = np.full(m, m, dtype=np.int64)
    less = 0
    for b in range(int(rk.max()).bit_length() - 1, -1, -1):
        bit = (rk >> b) & 1
        zero = 1 - bit
        c = np.concatenate(([0], np.cumsum(it * zero)))
        less += int(((c[:-1] - c[gstart]) * (qu * bit)).sum())
        z = np.concatenate(([0], np.cumsum(zero)))
        zs = z[gstart]
        zeros_before = z[:-1] - zs
        one_start = gstart + (z[gend] - zs)
        newpos = np.where(bit == 0, gstart + zeros_before, one_start + (idx - gstart - zeros_before))
        perm = np.empty(m, dtype=np.int64)
        perm[newpos] = idx
        rk, it, qu, bp = rk[perm], it[perm], qu[perm], bit[perm]
        gs, ge, os_ = gstart[perm], gend[perm], one_start[perm]
        gstart = np.where(bp == 0, gs, os_)
        gend = np.where(bp == 0, os_, ge)
    return float(less)


def _merge_less(rank: np.ndarray, is_item: np.ndarray, is_query: np.ndarray) -> float:
    """Bottom-up merge sort on the sequence, counting across the two halves of each merge.

    Keys pack (pair of runs, rank, left/right, item, query) into one int64 so
    that numpy's stable sort (a merge of two sorted runs per pair) does the
    merging; on equal ranks the right run sorts first, so only strictly
    smaller ranks of the left run are counted.
    """
    m = len(rank)
    shift = int(rank.max()).bit_length() + 4
    low = (1 << shift) - 1
    keys = (rank.astype(np.int64) << 4) | (is_item.astype(np.int64) << 1) | is_query.astype(np.int64)
    idx = np.arange(m, dtype=np.int64)
    less = 0
    for k in range(int(m - 1).bit_length()):
        left = ((~idx >> k) & 1) << 3
        keys = np.sort(((idx >> (k + 1)) << shift) | left | (keys & low), kind="stable")
        left_items = (keys >> 3) & (keys >> 1) & 1
        c = np.cumsum(left_items) - left_items
        pair_start = (idx >> (k + 1)) << (k + 1)
        right_queries = (1 - ((keys >> 3) & 1)) & keys & 1
        less += int(np.dot(c - c[pair_start], right_queries))
        keys &= low ^ 8
    return float(less)


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
    if design.matrix.shape[0] == 0:
        raise CoxFitError("No patient has a value for every covariate of the model.")
    time = data[duration].to_numpy(dtype=float)[design.kept]
    status = (data[event].to_numpy(dtype=float)[design.kept] == 1).astype(int)
    return fit_design(time, status, design, penalty=penalty)


def fit_design(time: np.ndarray, status: np.ndarray, design: Design, *, penalty: str | None = None) -> CoxModel:
    """Fit a Cox model to a ready design matrix (rows aligned with ``time`` and ``status``).

    :func:`fit_cox` builds the design from covariate specs; this entry point
    takes one with extra columns, e.g. interaction terms.
    """
    notes = list(design.notes)
    time = aeq_times(np.asarray(time, dtype=float))
    status = np.asarray(status).astype(int)
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
    xt = np.ascontiguousarray(xs.T)
    if penalty == "firth":
        beta_s, var_s, loglik, it, converged = _firth(xs, rs)
        loglik0, u0, info0 = _efron(xt, np.zeros(x.shape[1]), rs)
        step0 = _solve(info0, u0)
        sctest = float(u0 @ step0) if step0 is not None else float("nan")
        u = np.zeros(x.shape[1])
    else:
        beta_s, var_s, loglik0, loglik, sctest, it, converged, u = _newton(xt, rs)
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
        lr_test=TestResult(float(lr), df, chi2_sf(lr, df)),
        score_test=TestResult(sctest, df, chi2_sf(sctest, df)),
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


def chi2_sf(statistic: float, df: int) -> float:
    """Upper tail of the chi-square distribution (scipy.special, without scipy.stats' overhead)."""
    return float(special.chdtrc(df, statistic)) if np.isfinite(statistic) else float("nan")


def _exact_risk(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The linear predictor summed column by column in a fixed order, so equal rows tie exactly.

    (A BLAS product may use different kernels for different row blocks; ties
    in the risk score matter for the concordance.)
    """
    out = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        out += x[:, j] * coef[j]
    return out


def _drop_aliased(design: Design) -> tuple[Design, list[str]]:
    """Leave out columns that are linear combinations of earlier ones (R: coefficient NA).

    Sequentially, from the centred cross-product matrix: a column whose
    variance left after regressing on the kept columns is below 1e-14 of its
    own (a residual norm below 1e-7) is aliased.
    """
    x = design.matrix
    if x.shape[1] == 0:
        return design, []
    centred = x - x.mean(axis=0)
    cp = centred.T @ centred
    keep: list[int] = []
    for j in range(x.shape[1]):
        own = cp[j, j]
        if keep:
            sub = cp[np.ix_(keep, keep)]
            cj = cp[keep, j]
            resid = own - cj @ np.linalg.lstsq(sub, cj, rcond=None)[0]
        else:
            resid = own
        if own > 0 and resid > 1e-14 * own:
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
        out = {
            "term": design.terms["term"].to_numpy(), "covariate": design.terms["covariate"].to_numpy(),
            "level": design.terms["level"].to_numpy(), "coef": coef, "hr": np.exp(coef), "se": se,
            "lower": np.exp(coef - Z975 * se), "upper": np.exp(coef + Z975 * se), "z": z,
            "p": 2 * special.ndtr(-np.abs(z)),
        }
    x = design.matrix
    died = status == 1
    n_rows, n_events = [], []
    for j, kind in enumerate(design.terms["kind"]):
        members = x[:, j] == 1 if kind in ("level", "cut") else np.ones(len(x), dtype=bool)
        n_rows.append(int(members.sum()))
        n_events.append(int((members & died).sum()))
    out["n"] = np.array(n_rows, dtype=int)
    out["events"] = np.array(n_events, dtype=int)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- cohort entry points


def cox_model(
    cohort: pd.DataFrame,
    endpoint_name: str,
    specs: Sequence[CovariateSpec],
    *,
    penalty: str | None = None,
) -> CoxModel:
    """A Cox model of one endpoint of a cohort (``os``, ``rfs``; ``relapse``/``nrm`` cause-specific).

    For relapse and NRM the competing event censors (cause-specific hazards),
    as :func:`analysis.cohort.endpoint` derives them.
    """
    ep = endpoint(cohort, endpoint_name)
    columns = [c for c in dict.fromkeys(s.column for s in specs) if c in cohort.columns]
    frame = cohort[columns].assign(_time=ep.time, _event=ep.event)
    return fit_cox(frame, "_time", "_event", specs, penalty=penalty)


def cox_report(
    cohort: pd.DataFrame,
    endpoint: str,
    covariates: Sequence[str],
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    cuts: Mapping[str, float] | None = None,
) -> dict:
    """The command line's ``cox`` output: a JSON-ready dict (NaN -> None).

    Default reference level: the first in sorted order. A term whose
    likelihood has no maximum (monotone likelihood) gets ``None`` for its
    hazard ratio, CI and p: the number where the iteration stopped is not an
    estimate.
    """
    specs = specs_from_options(cohort, covariates, categorical, reference, cuts)
    model = cox_model(cohort, endpoint, specs)
    terms = []
    for row in model.summary.itertuples(index=False):
        estimable = row.term not in model.infinite
        terms.append({
            "term": row.term,
            "covariate": row.covariate,
            "level": None if row.level is None or (isinstance(row.level, float) and np.isnan(row.level))
            else row.level,
            "hr": _json_number(row.hr) if estimable else None,
            "lower": _json_number(row.lower) if estimable else None,
            "upper": _json_number(row.upper) if estimable else None,
            "p": _json_number(row.p) if estimable else None,
        })
    return {
        "endpoint": endpoint,
        "n": model.n,
        "events": model.events,
        "concordance": _json_number(model.concordance),
        "lr_test": {"statistic": _json_number(model.lr_test.statistic), "df": model.lr_test.df,
                    "p": _json_number(model.lr_test.p)},
        "terms": terms,
    }


def _json_number(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
