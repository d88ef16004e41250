"""Log-rank tests between groups, computed as R ``survival::survdiff`` does.

* :func:`logrank_test` - k groups, k - 1 df. With ``rho = gamma = 0`` the
  log-rank test, ``survdiff(Surv(time, status) ~ group)``. Weights
  ``S(t-)^rho * (1 - S(t-))^gamma``, S the Kaplan-Meier of all groups pooled,
  give the Fleming-Harrington G(rho, gamma) family: ``gamma = 0`` is R's
  ``survdiff(rho = )`` (rho = 1 is the Peto-Peto modification of the Wilcoxon
  test, weighting early differences); ``rho = 0, gamma = 1`` weights late ones.
* :func:`logrank_trend_test` - 1 df test for a trend over ordered groups:
  with scores c (default 1..k in display order), U = sum c_j (O_j - E_j),
  V = c' Var c, chi-square = U^2 / V (the components of ``survdiff``;
  Collett, *Modelling Survival Data*, 3rd ed., sec. 2.7).
* :func:`pairwise_logrank` - survdiff on each pair, p adjusted by Holm's
  method (R ``p.adjust(method = "holm")``), as survminer's ``pairwise_survdiff``.

Observed (O) and expected (E) are weighted sums, as survdiff reports them; the
variance is the hypergeometric one, which handles tied event times:
Var_jk = sum_t w^2 d (n - d) / (n - 1) * n_j / n * (delta_jk - n_k / n).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import chi2

from analysis.stats._survival_data import check_survival_data, frame_columns, group_codes, time_codes


class LogRankError(ValueError):
    """Data on which a between-group test cannot be computed (one group, no events)."""


@dataclass(frozen=True, eq=False)
class LogRankTest:
    """Result of a log-rank-type test.

    Attributes
    ----------
    statistic, df, p : float, int, float
        Chi-square statistic, degrees of freedom, p-value.
    method : str
        Plain-language name, e.g. ``"Log-rank"`` or ``"Fleming-Harrington G(1, 1)"``.
    rho, gamma : float
        Weight exponents: ``S(t-)^rho (1 - S(t-))^gamma``.
    table : DataFrame
        Per group: ``group``, ``n``, ``observed``, ``expected``, ``o_minus_e``
        (weighted when rho or gamma is not 0, as survdiff).
    variance : ndarray
        k x k covariance matrix of O - E.
    """

    statistic: float
    df: int
    p: float
    method: str
    rho: float
    gamma: float
    table: pd.DataFrame
    variance: np.ndarray

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"method": self.method, "statistic": self.statistic, "df": self.df, "p": self.p}])


def _method_name(rho: float, gamma: float) -> str:
    if rho == 0 and gamma == 0:
        return "Log-rank"
    if gamma == 0 and rho == 1:
        return "Peto-Peto (Fleming-Harrington G(1, 0))"
    return f"Fleming-Harrington G({rho:g}, {gamma:g})"


def _prepare(time, event, group, order: Sequence[str] | None):
    """Validated times and events, group codes (-1: missing or not in ``order``) and the levels."""
    t, e = check_survival_data(time, event)
    if len(group) != len(t):
        raise LogRankError(f"groups and times differ in length ({len(group)} vs {len(t)})")
    codes, names = group_codes(group)
    levels = list(order) if order is not None else names
    position = {str(level): i for i, level in enumerate(levels)}
    # each label's place in ``levels`` (-1: not there); the last entry maps missing groups (code -1) to -1
    lookup = np.array([position.get(name, -1) for name in names] + [-1], dtype=np.intp)
    return t, e, lookup[codes], levels


def _components(t: np.ndarray, e: np.ndarray, codes: np.ndarray, k: int, rho: float, gamma: float):
    """Weighted O, E, Var of O - E and n for groups 0..k-1; code -1 is left out."""
    keep = codes >= 0
    t, e, codes = t[keep], e[keep], codes[keep]
    present = np.bincount(codes, minlength=k)
    if (present > 0).sum() < 2:
        raise LogRankError("a between-group test needs at least two groups with patients")
    if e.sum() == 0:
        raise LogRankError("no events in any group: the groups cannot be compared")
    position, unique = time_codes(t)
    cell = position * k + codes
    size = len(unique) * k
    deaths = np.bincount(cell, weights=e, minlength=size).reshape(-1, k)
    leaving = np.bincount(cell, minlength=size).reshape(-1, k).astype(float)
    at_risk = leaving[::-1].cumsum(axis=0)[::-1]
    n = at_risk.sum(axis=1)
    d = deaths.sum(axis=1)
    pooled = np.cumprod(1.0 - d / n)
    before = np.concatenate(([1.0], pooled[:-1]))  # S(t-), left-continuous
    w = before**rho * (1.0 - before) ** gamma
    share = at_risk / n[:, None]
    observed = (w[:, None] * deaths).sum(axis=0)
    expected = (w * d) @ share
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(n > 1, w**2 * d * (n - d) / (n - 1), 0.0)
    variance = np.diag(c @ share) - share.T @ (c[:, None] * share)
    return present, observed, expected, variance


def _chisq(o_minus_e: np.ndarray, variance: np.ndarray, expected: np.ndarray) -> tuple[float, int]:
    """survdiff's statistic: groups with E = 0 dropped, then the first group, then solve.

    A singular variance (e.g. every patient at risk has the event at the one
    event time) raises, as R's ``survdiff`` stops there: ``solve()`` refuses a
    matrix whose reciprocal condition number is below machine epsilon.
    """
    use = np.flatnonzero(expected > 0)
    df = len(use) - 1
    if df < 1:
        raise LogRankError("only one group has patients at risk at the event times")
    use = use[1:]
    u = o_minus_e[use]
    v = variance[np.ix_(use, use)]
    if not np.all(np.isfinite(v)) or np.linalg.cond(v, 1) * np.finfo(float).eps >= 1.0:
        raise LogRankError("the test has no information to tell the groups apart (its variance is singular), "
                           "e.g. when every patient still at risk has the event at the same time")
    return float(u @ np.linalg.solve(v, u)), df


def logrank_test(time, event=None, group=None, *, duration_col: str | None = None, event_col: str | None = None,
                 group_col: str | None = None, rho: float = 0.0, gamma: float = 0.0,
                 order: Sequence[str] | None = None) -> LogRankTest:
    """Test equality of survival across k groups (chi-square on k - 1 df).

    ``logrank_test(time, event, group)`` with arrays, or
    ``logrank_test(df, duration_col=..., event_col=..., group_col=...)``.

    Parameters
    ----------
    time, event : array-like
        Right-censored data (event 1, censored 0); or a DataFrame first.
    group : array-like
        Group of each patient; missing values are left out.
    duration_col, event_col, group_col : str
        With a DataFrame: its columns.
    rho, gamma : float
        Fleming-Harrington weights ``S(t-)^rho (1 - S(t-))^gamma`` with S the
        pooled Kaplan-Meier. 0, 0 is the log-rank test; ``gamma = 0`` equals R
        ``survdiff(rho = rho)``.
    order : sequence of str, optional
        Group order of the table (default sorted).

    Raises
    ------
    LogRankError
        Fewer than two groups with patients, no events, or no information
        to compare them (singular variance; R ``survdiff`` stops there too).
    """
    time, event, group = frame_columns((time, event, group), {"duration_col": duration_col, "event_col": event_col,
                                                             "group_col": group_col})
    t, e, codes, levels = _prepare(time, event, group, order)
    n, observed, expected, variance = _components(t, e, codes, len(levels), rho, gamma)
    stat, df = _chisq(observed - expected, variance, expected)
    table = pd.DataFrame({"group": levels, "n": n, "observed": observed, "expected": expected,
                          "o_minus_e": observed - expected})
    return LogRankTest(stat, df, float(chi2.sf(stat, df)), _method_name(rho, gamma), rho, gamma, table,
                       variance)


def logrank_trend_test(time, event=None, group=None, scores: Sequence[float] | None = None, *,
                       duration_col: str | None = None, event_col: str | None = None, group_col: str | None = None,
                       order: Sequence[str] | None = None) -> LogRankTest:
    """Log-rank test for trend across ordered groups (1 df).

    ``scores`` (default 1, 2, ..., k) go with ``order`` (default sorted
    labels). U = sum_j score_j (O_j - E_j), V = score' Var score, chi-square
    = U^2 / V. Shifting the scores does not change the result. Arrays, or a
    DataFrame with the ``*_col`` names, as :func:`logrank_test`.
    """
    time, event, group = frame_columns((time, event, group), {"duration_col": duration_col, "event_col": event_col,
                                                             "group_col": group_col})
    t, e, codes, levels = _prepare(time, event, group, order)
    n, observed, expected, variance = _components(t, e, codes, len(levels), 0.0, 0.0)
    s = np.arange(1.0, len(levels) + 1) if scores is None else np.asarray(scores, dtype=float)
    if len(s) != len(levels):
        raise LogRankError(f"{len(s)} scores for {len(levels)} groups")
    u = float(s @ (observed - expected))
    v = float(s @ variance @ s)
    if v <= 0:
        raise LogRankError("the trend test has no information: no events in groups with different scores")
    stat = u * u / v
    table = pd.DataFrame({"group": levels, "score": s, "n": n, "observed": observed, "expected": expected,
                          "o_minus_e": observed - expected})
    return LogRankTest(stat, 1, float(chi2.sf(stat, 1)), "Log-rank test for trend", 0.0, 0.0, table, variance)


def holm_adjust(p: ArrayLike) -> np.ndarray:
    """Holm's step-down adjustment, R ``p.adjust(p, method = "holm")``."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def pairwise_logrank(time, event=None, group=None, *, duration_col: str | None = None,
                     event_col: str | None = None, group_col: str | None = None, rho: float = 0.0,
                     gamma: float = 0.0, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Log-rank test on every pair of groups, with Holm-adjusted p.

    Returns a DataFrame with ``group1``, ``group2``, ``statistic``, ``p`` and
    ``p_holm`` (one row per pair, in the order of ``order``). A pair that
    cannot be tested (no events, or a singular variance) has NaN statistic and
    p and is left out of the adjustment. Arrays, or a DataFrame with the
    ``*_col`` names, as :func:`logrank_test`.
    """
    time, event, group = frame_columns((time, event, group), {"duration_col": duration_col, "event_col": event_col,
                                                             "group_col": group_col})
    t, e, codes, levels = _prepare(time, event, group, order)
    rows = []
    for (i, a), (j, b) in combinations(enumerate(levels), 2):
        mask = (codes == i) | (codes == j)
        pair = np.where(codes[mask] == i, 0, 1)
        try:
            _, observed, expected, variance = _components(t[mask], e[mask], pair, 2, rho, gamma)
            stat, df = _chisq(observed - expected, variance, expected)
            rows.append({"group1": a, "group2": b, "statistic": stat, "p": float(chi2.sf(stat, df))})
        except LogRankError:
            rows.append({"group1": a, "group2": b, "statistic": np.nan, "p": np.nan})
    out = pd.DataFrame(rows, columns=["group1", "group2", "statistic", "p"])
    tested = out["p"].notna().to_numpy()
    out["p_holm"] = np.nan
    out.loc[tested, "p_holm"] = holm_adjust(out.loc[tested, "p"].to_numpy())
    return out
