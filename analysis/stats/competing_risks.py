"""Cumulative incidence with competing risks, and Gray's test between groups.

Both reproduce R's ``cmprsk`` (Gray 1988; Fortran routines ``cinc``, ``crstm``
and ``tpoi`` of cmprsk 2.2) to rounding error, including its handling of tied
times, but in vectorised form: every quantity is a cumulative sum or product
over the sorted unique times, so the cost is O(n log n) rather than the O(n²)
of a loop over risk sets.

Causes are integer codes; 0 means censored. In this project cause 1 is relapse
and cause 2 is death without relapse (non-relapse mortality, NRM), on the
relapse-free-survival time scale (:func:`analysis.cohort.model.competing_cause`);
the estimators themselves take arrays and know nothing of cohorts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from analysis.stats._survival_data import frame_columns, group_codes, time_codes

#: The causes estimated by default: 1 and 2 (relapse and NRM in this project's cohorts).
DEFAULT_CAUSES: tuple[int, ...] = (1, 2)

_TABLE_COLUMNS = ["cause", "time", "cif", "variance", "lower", "upper", "n_at_risk", "n_event", "n_censored"]


class CompetingRisksError(ValueError):
    """Data that cumulative incidence or Gray's test cannot be computed from."""


# --------------------------------------------------------------------------- input checks


def _as_arrays(time: ArrayLike, cause: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=float)
    c = np.asarray(cause)
    if t.shape != c.shape or t.ndim != 1:
        raise CompetingRisksError("time and cause must be one-dimensional and of the same length")
    if len(t) == 0:
        raise CompetingRisksError("no patients: cumulative incidence needs at least one patient")
    if not np.all(np.isfinite(t)):
        raise CompetingRisksError("time has missing or infinite values")
    if np.any(t < 0):
        raise CompetingRisksError("time has negative values")
    if pd.isna(c).any():
        raise CompetingRisksError("cause has missing values")
    c = c.astype(int)
    if np.any(c < 0):
        raise CompetingRisksError("cause codes must be 0 (censored) or positive integers")
    return t, c


# --------------------------------------------------------------------------- cumulative incidence


@dataclass(frozen=True, eq=False)
class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence functions (CIF) of competing causes.

    Attributes
    ----------
    table : DataFrame
        One row per cause and time (time 0, then every distinct observed time;
        the origin row is left out when events happen at time 0):
        ``cause``, ``time``, ``cif`` (right-continuous estimate at ``time``),
        ``variance`` (cmprsk's delta-method variance, see below), ``lower`` /
        ``upper`` (confidence limits, log(-log) scale), ``n_at_risk`` (patients
        still event-free and followed just before ``time``), ``n_event``
        (events of this cause at ``time``) and ``n_censored``.
    n : int
        Number of patients.
    events : dict
        Events per cause.
    last_time : float
        Largest observed time; beyond it the estimate is undefined (NaN).
    conf_level : float

    Notes
    -----
    The estimate is F_k(t) = sum over event times s <= t of S(s-) d_k(s) / n(s),
    with S the all-cause Kaplan-Meier estimate (Aalen-Johansen; cmprsk ``cinc``).
    The variance is the one ``cmprsk::cuminc`` / ``timepoints`` report (Gray's
    delta-method estimator, with ties handled as in ``cinc``); like cmprsk it
    is updated only at event times of the cause itself, so between two such
    times it keeps the value of the earlier one.

    Confidence limits use the log(-log) transformation common in EBMT reports:
    ``cif ** exp(±z * sqrt(variance) / (cif * log(cif)))``, which stays inside
    [0, 1]. At cif = 0 (or variance 0) both limits equal the estimate.
    """

    n: int
    events: dict[int, int]
    last_time: float
    conf_level: float
    causes: tuple[int, ...]
    # Per distinct time (with the origin row): shared columns, then per-cause columns.
    _time: np.ndarray = field(repr=False)
    _n_at_risk: np.ndarray = field(repr=False)
    _n_censored: np.ndarray = field(repr=False)
    _by_cause: dict[int, dict[str, np.ndarray]] = field(repr=False)

    @cached_property
    def table(self) -> pd.DataFrame:
        return pd.concat([self.curve(k).assign(cause=k) for k in self.causes], ignore_index=True)[_TABLE_COLUMNS]

    def curve(self, cause: int) -> pd.DataFrame:
        """The rows of :attr:`table` for one cause."""
        self._check_cause(cause)
        return pd.DataFrame({"cause": cause, "time": self._time, **self._by_cause[cause],
                             "n_at_risk": self._n_at_risk, "n_censored": self._n_censored})[_TABLE_COLUMNS]

    def cif_at(self, times: ArrayLike) -> pd.DataFrame:
        """Estimates at given times, as ``cmprsk::timepoints``.

        The times are sorted and de-duplicated. Each row gives the
        right-continuous estimate, its variance and confidence limits, and the
        number at risk at ``time``. After the largest observed time (or before
        0) the estimate is NaN, as in cmprsk.
        """
        grid = np.unique(np.asarray(times, dtype=float))
        idx = np.searchsorted(self._time, grid, side="right") - 1
        valid = (grid >= 0) & (grid <= self.last_time) & (idx >= 0)
        idx = np.clip(idx, 0, None)
        at_risk = self.n_at_risk(grid)
        columns: dict[str, list] = {c: [] for c in ("cause", "time", "cif", "variance", "lower", "upper")}
        for cause in self.causes:
            columns["cause"].append(np.full(len(grid), cause))
            columns["time"].append(grid)
            for column in ("cif", "variance", "lower", "upper"):
                columns[column].append(np.where(valid, self._by_cause[cause][column][idx], np.nan))
        out = {k: np.concatenate(v) for k, v in columns.items()}
        out["n_at_risk"] = np.tile(at_risk, len(self.causes))
        return pd.DataFrame(out)

    @property
    def summary(self) -> pd.DataFrame:
        """Patients and events per cause."""
        return pd.DataFrame({"cause": list(self.causes), "n": self.n,
                             "events": [self.events[c] for c in self.causes]})

    def n_at_risk(self, times: ArrayLike) -> np.ndarray:
        """Patients still event-free and followed at each time (time >= t), for risk tables."""
        grid = np.asarray(times, dtype=float)
        t, at_risk = self._time, self._n_at_risk
        idx = np.searchsorted(t, grid, side="left")
        # n(t) is the risk set at the first observed time >= t; 0 after the last one.
        return np.where(idx < len(t), at_risk[np.minimum(idx, len(t) - 1)], 0).astype(int)

    def cumulative_events(self, cause: int, times: ArrayLike) -> np.ndarray:
        """Events of ``cause`` at times <= t."""
        self._check_cause(cause)
        total = np.concatenate([[0], np.cumsum(self._by_cause[cause]["n_event"])])
        return total[np.searchsorted(self._time, np.asarray(times, dtype=float), side="right")]

    @property
    def censor_times(self) -> np.ndarray:
        """Distinct times with at least one censored patient."""
        return self._time[self._n_censored > 0]

    def value_at(self, cause: int, column: str, times: ArrayLike) -> np.ndarray:
        """A column of :meth:`curve` as a right-continuous step function at ``times``,
        held after the last time (no NaN); for plotting and state estimates."""
        self._check_cause(cause)
        idx = np.searchsorted(self._time, np.asarray(times, dtype=float), side="right") - 1
        return np.where(idx >= 0, self._by_cause[cause][column][np.clip(idx, 0, None)], 0.0)

    def _check_cause(self, cause: int) -> None:
        if cause not in self.causes:
            raise CompetingRisksError(f"cause {cause} was not estimated; causes are {self.causes}")


def _risk_sets(time: np.ndarray, cause: np.ndarray, codes: np.ndarray, n_groups: int, causes: Sequence[int]):
    """Counts per distinct time (rows) and group (columns).

    Returns the distinct times, the risk set just before each time, the number
    censored and, per cause in ``causes``, the events of that cause; plus all
    events. Everything is (times x groups).
    """
    inverse, utimes = time_codes(time)
    cell = inverse * n_groups + codes
    size = len(utimes) * n_groups

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(cell[mask], minlength=size).reshape(len(utimes), n_groups).astype(float)

    total = count(np.ones(len(time), dtype=bool))
    at_risk = total.sum(axis=0) - np.cumsum(total, axis=0) + total
    by_cause = {k: count(cause == k) for k in causes}
    return utimes, at_risk, count(cause == 0), by_cause, count(cause != 0)


def _left(values: np.ndarray, first: float) -> np.ndarray:
    """Left-continuous version of a per-time series: shift down one row."""
    out = np.empty_like(values)
    out[0] = first
    out[1:] = values[:-1]
    return out


def _survival(at_risk: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All-cause Kaplan-Meier S(t) and S(t-); a time with nobody at risk leaves S unchanged."""
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, (at_risk - events) / at_risk, 1.0)
    surv = np.cumprod(factor, axis=0)
    return surv, _left(surv, 1.0)


def _tie_factor(d: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """cmprsk's correction for d tied events among n at risk: 1 - (d - 1) / (n - 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 1, 1.0 - (d - 1.0) / (at_risk - 1.0), 1.0)


def _cif_one_cause(at_risk, d_cause, d_all, surv_left) -> tuple[np.ndarray, np.ndarray]:
    """CIF and its cmprsk variance at each distinct time (cmprsk ``cinc``)."""
    n, d1, d = at_risk, d_cause, d_all
    d2 = d - d1
    with np.errstate(divide="ignore", invalid="ignore"):
        cif = np.cumsum(np.where(n > 0, surv_left * d1 / n, 0.0))
        surv = surv_left * np.where(n > 0, (n - d) / n, 1.0)
        inv_surv = np.where(surv > 0, 1.0 / surv, 0.0)
        # other-cause events (cinc skips them once S has reached 0)
        w2 = np.where((d2 > 0) & (surv > 0), surv_left**2 * _tie_factor(d2, n) * d2 / n**2, 0.0)
        t4_2 = cif * inv_surv
        # events of the cause itself
        w1 = np.where(d1 > 0, surv_left**2 * _tie_factor(d1, n) * d1 / n**2, 0.0)
        t4_1 = 1.0 + inv_surv * cif
    v1 = np.cumsum(t4_2**2 * w2 + t4_1**2 * w1)
    v2 = np.cumsum(inv_surv * t4_2 * w2 + inv_surv * t4_1 * w1)
    v3 = np.cumsum(inv_surv**2 * w2 + inv_surv**2 * w1)
    variance = v1 + cif**2 * v3 - 2 * cif * v2
    # cmprsk only records the variance at the cause's own event times
    step = d1 > 0
    last_step = np.maximum.accumulate(np.where(step, np.arange(len(step)), -1))
    variance = np.where(last_step >= 0, variance[np.maximum(last_step, 0)], 0.0)
    return cif, variance


def _loglog_limits(cif: np.ndarray, variance: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(0.5 + conf_level / 2)
    ok = (cif > 0) & (cif < 1) & (variance > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        spread = np.where(ok, z * np.sqrt(variance) / np.abs(cif * np.log(cif)), 0.0)
        lower = np.where(ok, cif ** np.exp(spread), cif)
        upper = np.where(ok, cif ** np.exp(-spread), cif)
    return np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0)


def cumulative_incidence(
    time: ArrayLike | pd.DataFrame,
    cause: ArrayLike | None = None,
    *,
    duration_col: str | None = None,
    cause_col: str | None = None,
    causes: Sequence[int] = DEFAULT_CAUSES,
    conf_level: float = 0.95,
) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of each cause, as ``cmprsk::cuminc``.

    Parameters
    ----------
    time : array of float, or DataFrame
        Time to the first event or censoring (months here), >= 0; or the data
        (then ``duration_col`` and ``cause_col`` name its columns).
    cause : array of int
        0 censored, otherwise the cause code. Codes not in ``causes`` still
        count as competing events.
    causes : tuple of int
        The causes to estimate.
    conf_level : float
        Level of the log(-log) confidence limits.

    Returns
    -------
    CumulativeIncidence
        Estimates, cmprsk variances and limits at every distinct time.

    Notes
    -----
    Never 1 - Kaplan-Meier of one cause (which censors the competing events and
    overestimates). RFS(t) + sum of all causes' CIF(t) = 1 at every t.
    """
    if not 0 < conf_level < 1:
        raise CompetingRisksError(f"conf_level must lie between 0 and 1, got {conf_level}")
    time, cause = frame_columns((time, cause), {"duration_col": duration_col, "cause_col": cause_col})
    t, c = _as_arrays(time, cause)
    causes = tuple(int(k) for k in causes)
    utimes, at_risk, censored, by_cause_counts, d_all = _risk_sets(t, c, np.zeros(len(t), dtype=int), 1, causes)
    n_risk, d, n_cens = at_risk[:, 0], d_all[:, 0], censored[:, 0]
    _, surv_left = _survival(n_risk, d)
    # The curves start at (0, 0) unless events happen at time 0 itself.
    origin = [0.0] if utimes[0] > 0 else []

    def column(values, first=0.0):
        return np.concatenate([[first] if origin else [], values])

    by_cause = {}
    for k in causes:
        cif, variance = _cif_one_cause(n_risk, by_cause_counts[k][:, 0], d, surv_left)
        lower, upper = _loglog_limits(cif, variance, conf_level)
        by_cause[k] = {"cif": column(cif), "variance": column(variance), "lower": column(lower),
                       "upper": column(upper), "n_event": column(by_cause_counts[k][:, 0]).astype(int)}
    return CumulativeIncidence(
        n=len(t),
        events={k: int((c == k).sum()) for k in causes},
        last_time=float(utimes[-1]),
        conf_level=conf_level,
        causes=causes,
        _time=column(utimes),
        _n_at_risk=column(n_risk, len(t)).astype(int),
        _n_censored=column(n_cens).astype(int),
        _by_cause=by_cause,
    )


# --------------------------------------------------------------------------- Gray's test


@dataclass(frozen=True)
class GrayTest:
    """Gray's test that a cause's cumulative incidence is the same in all groups.

    Attributes
    ----------
    cause : int
        The cause of interest.
    statistic : float
        s' V⁻¹ s for the scores s of the first k - 1 groups.
    df : int
        k - 1 for k groups.
    p : float
        Upper tail of the chi-square distribution with ``df`` degrees of freedom.
    groups : tuple of str
        Group labels, sorted (the order cmprsk uses).
    score : tuple of float
        Scores of the first k - 1 groups (observed minus expected, weighted).
    rho : float
        Weight exponent: each time is weighted by (1 - F(t-))^rho.
    """

    cause: int
    statistic: float
    df: int
    p: float
    groups: tuple[str, ...]
    score: tuple[float, ...]
    rho: float = 0.0

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"cause": self.cause, "statistic": self.statistic, "df": self.df, "p": self.p}])


def _group_codes(group: ArrayLike) -> tuple[np.ndarray, tuple[str, ...]]:
    codes, names = group_codes(group)
    if (codes < 0).any():
        raise CompetingRisksError("group has missing values; drop those patients first")
    return codes, tuple(names)


def _gray_score_variance(at_risk, d1, d2, rho):
    """Scores and their covariance, as cmprsk's ``crst`` (one stratum), vectorised over times.

    All inputs are (times x groups) at the distinct times with at least one
    event; the notation follows the Fortran (skmm = S(t-), f1m = F1(t-),
    tr = sum of R_k / S_k(t-), tq = sum of R_k (1 - F1_k(t-)) / S_k(t-)).
    """
    n_groups = at_risk.shape[1]
    present = at_risk > 0
    surv, skmm = _survival(at_risk, d1 + d2)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.cumsum(np.where(present, skmm * d1 / at_risk, 0.0), axis=0)
        f1m = _left(f1, 0.0)
        weight = np.where(present, at_risk / skmm, 0.0)  # R_k / S_k(t-)
        tr = weight.sum(axis=1)
        tq = (weight * (1 - f1m)).sum(axis=1)
        nd1 = d1.sum(axis=1)
        f = np.cumsum(nd1 / tr)
        fm = _left(f, 0.0)
        fb = (1 - fm) ** rho
        # a_t(i, j) = fb (w_i δij - w_i w_j / tr)
        a = fb[:, None, None] * (weight[:, :, None] * np.eye(n_groups)[None]
                                 - weight[:, :, None] * weight[:, None, :] / tr[:, None, None])
        c = np.cumsum(a * np.where(nd1 > 0, nd1 / (tr * (1 - fm)), 0.0)[:, None, None], axis=0)
        score = (fb[:, None] * (d1 - nd1[:, None] * weight * (1 - f1m) / tq[:, None])).sum(axis=0)

        # events of the cause of interest
        t4 = np.where(surv > 0, 1 - (1 - f)[:, None] / surv, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = np.where(present & (nd1[:, None] > 0), t5 * skmm * nd1[:, None] / (tr[:, None] * at_risk), 0.0)
        w = a - t4[:, None, :] * c  # w[t, i, k] = a(i, k) - t4_k c(i, k)
        v3 = (t4**2 * t3).sum(axis=0)
        v2 = np.einsum("tik,tk->ik", w, t4 * t3)
        v = np.einsum("tik,tjk,tk->ij", w, w, t3)

        # events of the competing causes
        t4b = np.where(surv > 0, (1 - f)[:, None] / np.where(surv > 0, surv, 1.0), 0.0)
        t3b = np.where((surv > 0) & (d2 > 0), _tie_factor(d2, at_risk) * skmm**2 * d2 / at_risk**2, 0.0)
        u = t4b**2 * t3b
        v3 += u.sum(axis=0)
        v2 -= np.einsum("tik,tk->ik", c, u)
        v += np.einsum("tik,tjk,tk->ij", c, c, u)

    c_end = c[-1]
    v += np.einsum("ik,jk,k->ij", c_end, c_end, v3) + c_end @ v2.T + v2 @ c_end.T
    k = n_groups - 1
    return score[:k], v[:k, :k]


def gray_test(
    time: ArrayLike | pd.DataFrame,
    cause: ArrayLike | None = None,
    group: ArrayLike | None = None,
    *,
    duration_col: str | None = None,
    cause_col: str | None = None,
    group_col: str | None = None,
    cause_of_interest: int = 1,
    rho: float = 0.0,
) -> GrayTest:
    """Gray's K-sample test for equality of cumulative incidence (``cmprsk::cuminc``).

    Reproduces cmprsk's Fortran routine ``crstm`` without strata: the score
    compares, at each event time, the observed events of the cause in each
    group with those expected under a common subdistribution hazard, weighted
    by (1 - F(t-))^rho; its covariance is Gray's (1988) estimator with
    cmprsk's handling of tied times. The statistic s' V⁻¹ s is referred to a
    chi-square distribution with k - 1 degrees of freedom.

    Arrays, or a DataFrame with ``duration_col``, ``cause_col`` and ``group_col``.

    Raises
    ------
    CompetingRisksError
        Fewer than two groups, no events of the cause, or a singular
        covariance (cmprsk then reports a statistic of -1).
    """
    time, cause, group = frame_columns((time, cause, group), {"duration_col": duration_col, "cause_col": cause_col,
                                                             "group_col": group_col})
    t, c = _as_arrays(time, cause)
    codes, groups = _group_codes(group)
    if len(codes) != len(t):
        raise CompetingRisksError("group must have one value per patient")
    if len(groups) < 2:
        raise CompetingRisksError("Gray's test needs at least two groups with patients")
    is_cause = c == cause_of_interest
    if not is_cause.any():
        raise CompetingRisksError(f"Gray's test: no events of cause {cause_of_interest} in any group")
    m = np.where(c == 0, 0, np.where(is_cause, 1, 2))
    _, at_risk, _, by_cause, _ = _risk_sets(t, m, codes, len(groups), (1, 2))
    d1, d2 = by_cause[1], by_cause[2]
    event_rows = (d1 + d2).sum(axis=1) > 0
    score, variance = _gray_score_variance(at_risk[event_rows], d1[event_rows], d2[event_rows], rho)
    statistic = _quadratic_form(score, variance)
    df = len(groups) - 1
    return GrayTest(
        cause=cause_of_interest,
        statistic=statistic,
        df=df,
        p=float(stats.chi2.sf(statistic, df)),
        groups=groups,
        score=tuple(float(s) for s in score),
        rho=rho,
    )


def _quadratic_form(score: np.ndarray, variance: np.ndarray) -> float:
    # R's qr() declares rank deficiency at a pivot below 1e-7 of the column norm.
    scale = np.abs(np.diag(variance)).max(initial=0.0)
    if not np.all(np.isfinite(variance)) or scale == 0 or (
        np.linalg.matrix_rank(variance, tol=1e-7 * scale) < len(score)
    ):
        raise CompetingRisksError(
            "Gray's test cannot be computed: the groups' covariance matrix is singular "
            "(e.g. a group whose patients are all censored before the first event)"
        )
    return float(score @ np.linalg.solve(variance, score))


# --------------------------------------------------------------------------- tables


def landmark_table(fits: dict[str, CumulativeIncidence], times: Sequence[float]) -> pd.DataFrame:
    """CIR and NRM at landmark times per group, with CI, variance and number at risk.

    Columns: ``group``, ``n``, ``cause``, ``events``, ``time``, ``cif``,
    ``variance``, ``lower``, ``upper``, ``n_at_risk``. Estimates after a
    group's last follow-up are NaN (as ``cmprsk::timepoints``). No groups give
    a table without rows.
    """
    parts = []
    for g, fit in fits.items():
        at = fit.cif_at(times)
        at.insert(0, "group", g)
        at.insert(1, "n", fit.n)
        at.insert(3, "events", at["cause"].map(fit.events))
        parts.append(at)
    if not parts:
        return pd.DataFrame(columns=["group", "n", "cause", "events", "time", "cif", "variance", "lower", "upper",
                                     "n_at_risk"])
    return pd.concat(parts, ignore_index=True)
