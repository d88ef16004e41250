"""How well predicted survival fits observed, right-censored outcomes: Brier score, time-dependent AUC, Uno's C.

Censoring is handled by inverse probability of censoring weights (IPCW) from
the reverse Kaplan-Meier estimate G of the censoring distribution, fitted on
the data being scored (:class:`CensoringSurvival`), as R's
``riskRegression::Score(..., cens.model = "km")`` does:

* **Brier score** at t (Graf et al. 1999; Gerds & Schumacher 2006), for
  predicted event probabilities F(t | x_i):
  BS(t) = 1/n Σ_i [ 1{T_i ≤ t, δ_i = 1} (1 - F_i)² / G(T_i-) + 1{T_i > t} F_i² / G(t) ];
* **integrated Brier score** up to τ, exactly as ``Score(..., summary = "ibs")``:
  the Brier scores on a grid t_1 < ... < t_m as a step function from 0 (value 0 on [0, t_1)),
  integrated up to τ and divided by τ;
* **time-dependent AUC** at t (cumulative cases T ≤ t with an event against
  dynamic controls T > t, Uno et al. 2007): cases weighted by 1 / G(T_i-), ties in
  the predicted risk count one half, as ``Score(..., metrics = "auc")``;
* **Uno's concordance** up to τ (Uno et al. 2011): Harrell's pairs, each
  comparable pair with an event at T_i < τ weighted by 1 / G(T_i)², ties in the risk
  count one half, as scikit-survival's ``concordance_index_ipcw`` with the
  censoring distribution estimated on the same data.

:func:`calibration_groups` sets predicted risks against the Kaplan-Meier
estimate in groups of patients ordered by predicted risk.

The reverse Kaplan-Meier counts, at a time with deaths and censorings, the
deaths as happening first (they leave the censoring risk set), as both
``prodlim(..., reverse = TRUE)`` and scikit-survival do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stats.kaplan_meier import fit_kaplan_meier


@dataclass(frozen=True, eq=False)
class CensoringSurvival:
    """The reverse Kaplan-Meier estimate G(t) = P(C > t) of a sample's censoring times."""

    time: np.ndarray
    survival: np.ndarray

    @classmethod
    def fit(cls, time: np.ndarray, event: np.ndarray) -> CensoringSurvival:
        order = np.argsort(np.asarray(time, dtype=float), kind="stable")
        t = np.asarray(time, dtype=float)[order]
        dead = np.asarray(event).astype(bool)[order]
        times, first, counts = np.unique(t, return_index=True, return_counts=True)
        deaths = np.add.reduceat(dead.astype(int), first) if len(t) else np.zeros(0, int)
        censored = counts - deaths
        at_risk = len(t) - first - deaths  # the deaths at a time leave before its censorings
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(censored > 0, 1.0 - censored / at_risk, 1.0)
        return cls(times, np.cumprod(factor))

    def at(self, t: np.ndarray | float) -> np.ndarray:
        """G(t), right-continuous: 1 before the first time."""
        i = np.searchsorted(self.time, np.asarray(t, dtype=float), side="right")
        return np.concatenate(([1.0], self.survival))[i]

    def before(self, t: np.ndarray | float) -> np.ndarray:
        """G(t-), the value just before t."""
        i = np.searchsorted(self.time, np.asarray(t, dtype=float), side="left")
        return np.concatenate(([1.0], self.survival))[i]


def brier_scores(time: np.ndarray, event: np.ndarray, risk: np.ndarray, times: Sequence[float] | np.ndarray,
                 censoring: CensoringSurvival | None = None) -> np.ndarray:
    """IPCW Brier score at each of ``times`` for predicted event probabilities ``risk`` (n × len(times)).

    NaN at a time where G(t) = 0 (nobody left under observation). R:
    ``Score(list(risk), Hist(time, status) ~ 1, data, times, metrics = "brier", cens.model = "km")``.
    """
    t = np.asarray(time, dtype=float)
    dead = np.asarray(event).astype(bool)
    grid = np.asarray(times, dtype=float)
    f = np.asarray(risk, dtype=float).reshape(len(t), len(grid))
    g = censoring if censoring is not None else CensoringSurvival.fit(t, dead)
    g_subject = g.before(t)
    g_times = g.at(grid)
    case = (t[:, None] <= grid[None, :]) & dead[:, None]
    alive = t[:, None] > grid[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = np.where(case, (1.0 - f) ** 2 / g_subject[:, None], 0.0) + np.where(alive, f**2 / g_times, 0.0)
    out = residual.mean(axis=0)
    return np.where(g_times > 0, out, np.nan)


def integrated_brier_score(times: Sequence[float] | np.ndarray, brier: Sequence[float] | np.ndarray,
                           tau: float) -> float:
    """∫_0^τ BS(t) dt / τ with BS a step function on ``times`` (0 before the first), as ``Score``'s ``ibs``."""
    x = np.concatenate(([0.0], np.asarray(times, dtype=float)))
    y = np.concatenate(([0.0], np.asarray(brier, dtype=float)))
    stop = min(float(tau), float(x.max()))
    if stop <= 0:
        return 0.0
    inside = x < stop
    widths = np.diff(np.append(x[inside], stop))
    return float(np.sum(y[inside] * widths) / stop)


def time_dependent_auc(time: np.ndarray, event: np.ndarray, risk: np.ndarray, t: float,
                       censoring: CensoringSurvival | None = None) -> float:
    """Cumulative/dynamic AUC at ``t`` for predicted event probabilities by ``t`` (NaN without cases or controls).

    R: ``Score(list(risk), Hist(time, status) ~ 1, data, times = t, metrics = "auc", cens.model = "km")``.
    """
    tt = np.asarray(time, dtype=float)
    dead = np.asarray(event).astype(bool)
    r = np.asarray(risk, dtype=float)
    g = censoring if censoring is not None else CensoringSurvival.fit(tt, dead)
    cases = (tt <= t) & dead
    controls = tt > t
    if not cases.any() or not controls.any():
        return float("nan")
    weight = 1.0 / g.before(tt[cases])
    sorted_controls = np.sort(r[controls])
    below = np.searchsorted(sorted_controls, r[cases], side="left")
    equal = np.searchsorted(sorted_controls, r[cases], side="right") - below
    return float(np.sum(weight * (below + 0.5 * equal)) / (weight.sum() * controls.sum()))


def uno_concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray, tau: float | None = None,
                    censoring: CensoringSurvival | None = None, *, left_limit: bool = False) -> float:
    """Uno's C up to ``tau`` (higher risk, earlier event), pairs weighted by 1 / G(T_i)².

    Equals scikit-survival's ``concordance_index_ipcw(y, y, risk, tau)`` (the
    censoring distribution estimated on the same data), with risk ties exact.
    ``left_limit=True`` weights by 1 / G(T_i-)² instead, as R's
    ``survival::concordance(y ~ risk, timewt = "n/G2", reverse = TRUE, ymax = tau)``
    does (equal to it where event and censoring times are not tied).
    NaN without a comparable pair. O(n log² n).
    """
    t = np.asarray(time, dtype=float)
    dead = np.asarray(event).astype(bool)
    _, rank = np.unique(np.asarray(risk, dtype=float), return_inverse=True)
    rank = rank.astype(np.int64).ravel()
    g = censoring if censoring is not None else CensoringSurvival.fit(t, dead)
    # Decreasing time; at a time the censored first (they outlive its deaths), then its deaths by
    # decreasing risk, so that no earlier death of the same time has a smaller risk.
    order = np.lexsort((-rank, dead, -t))
    ts, ds, rs = t[order], dead[order], rank[order]
    smaller = _smaller_before(rs)
    equal = _index_within(rs)
    same_time_deaths = _index_within(np.unique(ts, return_inverse=True)[1].astype(np.int64) * 2 + ds)
    same_time_equal = _index_within(_pair_key(np.unique(ts, return_inverse=True)[1], rs) * 2 + ds)
    use = ds & (ts < (np.inf if tau is None else tau))
    with np.errstate(divide="ignore"):
        w = np.where(use, 1.0 / (g.before(ts) if left_limit else g.at(ts)) ** 2, 0.0)
    comparable = np.arange(len(ts)) - same_time_deaths
    tied = equal - same_time_equal
    denominator = float(np.sum(w * comparable))
    if denominator == 0:
        return float("nan")
    return float(np.sum(w * (smaller + 0.5 * tied)) / denominator)


def _pair_key(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a.astype(np.int64) * (int(b.max(initial=0)) + 1) + b


def _index_within(key: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions share its key."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    start = np.searchsorted(sorted_key, sorted_key, side="left")
    out = np.empty(len(key), dtype=np.int64)
    out[order] = np.arange(len(key)) - start
    return out


def _smaller_before(rank: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions have a strictly smaller rank (bottom-up merge sort).

    At each level, blocks of 2s positions merge their halves by one stable
    sort on (block, rank, right half first); an element of the right half is
    preceded in the merged block by exactly the left-half elements of smaller rank.
    """
    n = len(rank)
    counts = np.zeros(n, dtype=np.int64)
    pos = np.arange(n, dtype=np.int64)
    width = int(rank.max(initial=0)) + 1
    s = 1
    while s < n:
        block = pos // (2 * s)
        right = (pos // s) % 2
        order = np.argsort((block * width + rank) * 2 + (1 - right), kind="stable")
        r_sorted = right[order]
        block_start = block[order] * 2 * s
        rights_before = np.cumsum(r_sorted) - r_sorted
        rights_before -= np.concatenate(([0], np.cumsum(r_sorted)))[block_start]
        lefts_before = (pos - block_start) - rights_before  # pos: the merged position, blocks stay in place
        counts[order] += np.where(r_sorted == 1, lefts_before, 0)
        s *= 2
    return counts


def calibration_groups(time: np.ndarray, event: np.ndarray, risk: np.ndarray, t: float,
                       groups: int) -> pd.DataFrame:
    """Predicted against observed risk of an event by ``t`` in groups of patients ordered by predicted risk.

    Patients are cut into ``groups`` of about equal size at quantiles of the
    predicted risk (patients with equal predictions stay together, so there
    may be fewer groups). Per group: n, events (by t), predicted (mean
    predicted risk), observed (1 - Kaplan-Meier at t) with its 95 % CI
    (log-log, R ``survfit``); NaN where the group's follow-up ends before t
    with patients still event-free (1 where all of them had the event).
    """
    r = np.asarray(risk, dtype=float)
    ok = np.isfinite(r)
    tt, ee, r = np.asarray(time, dtype=float)[ok], np.asarray(event).astype(int)[ok], r[ok]
    cuts = np.unique(np.quantile(r, np.linspace(0, 1, groups + 1)[1:-1])) if len(r) else np.array([])
    group = np.searchsorted(cuts, r, side="left")
    rows: list[dict[str, float]] = []
    for g in np.unique(group):
        member = group == g
        km = fit_kaplan_meier(tt[member], ee[member])
        at = km.survival_at([t]).iloc[0]
        survival, lower, upper = at["survival"], at["lower"], at["upper"]
        if np.isnan(survival) and km.table["survival"].iloc[-1] == 0:
            survival = lower = upper = 0.0  # everybody had the event before t
        rows.append({"group": int(len(rows) + 1), "n": int(member.sum()),
                     "events": int((ee[member] * (tt[member] <= t)).sum()),
                     "predicted": float(r[member].mean()), "observed": 1.0 - survival,
                     "lower": 1.0 - upper, "upper": 1.0 - lower})
    return pd.DataFrame(rows, columns=["group", "n", "events", "predicted", "observed", "lower", "upper"])
