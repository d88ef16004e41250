"""Kaplan-Meier survival estimates, computed exactly as R ``survival`` 3.x does.

Every number here is checked against R (``tests/r/kaplan_meier.R`` made the
fixtures in ``tests/fixtures/kaplan_meier/``):

* survival: the product-limit estimator, ``survfit(Surv(time, status) ~ 1)``;
* variance: Greenwood's formula on the cumulative-hazard scale,
  sigma^2(t) = sum d / (n (n - d)), infinite once everybody at risk has died;
* 95 % CI: ``conf.type = "log-log"`` by default (``"log"`` and ``"plain"`` too),
  the formulas of ``survival:::survfit_confint``; undefined (NaN) where the
  estimate is 0 or 1 on the log-log scale, as in R;
* survival at chosen times: ``summary(fit, times = ...)``;
* median and other quantiles with CI: ``quantile.survfit`` (the median is the
  first time the curve is at or below 0.5; where it is exactly 0.5 on a flat
  stretch, the midpoint of that stretch);
* median follow-up: reverse Kaplan-Meier (Schemper & Smith 1996), the median of
  ``survfit(Surv(time, 1 - status) ~ 1)``.

Times that differ by less than sqrt(machine epsilon) are treated as ties, as
R's ``aeqSurv`` does (months computed from days can differ in the last bit).

The estimator is vectorised numpy (one sort, O(n log n)); 100,000 patients
take a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from analysis.stats._survival_data import (
    TOLERANCE,
    EmptyGroupError,
    SurvivalDataError,
    aeq_times,
    check_survival_data,
    frame_columns,
    group_codes,
    time_codes,
)

__all__ = ["CONF_TYPES", "EmptyGroupError", "KaplanMeier", "SurvivalDataError", "SurvivalQuantile", "aeq_times",
           "check_survival_data", "fit_by_group", "fit_kaplan_meier", "landmark_table", "median_followup",
           "median_table"]

CONF_TYPES = ("log-log", "log", "plain")

_TABLE_COLUMNS = ["time", "n_at_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper"]


@dataclass(frozen=True)
class SurvivalQuantile:
    """A quantile of the survival time (e.g. the median) with its confidence interval.

    ``time`` is NaN when the curve never falls to 1 - probability ("not reached");
    ``lower``/``upper`` are NaN when the CI curve never does.
    """

    probability: float
    time: float
    lower: float
    upper: float


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """A fitted Kaplan-Meier curve.

    Attributes
    ----------
    label : str
        Name of the curve (group label, or ``"all"``).
    n, events : int
        Patients and events.
    conf_type, conf_level : str, float
        How the pointwise CI was computed.
    table : DataFrame
        One row per distinct observed time, like R's ``survfit`` object:
        ``time``, ``n_at_risk``, ``n_event``, ``n_censor``, ``survival``,
        ``std_err`` (standard error of the survival, Greenwood, as printed by
        ``summary.survfit``), ``lower``, ``upper``.
    """

    label: str
    n: int
    events: int
    conf_type: str
    conf_level: float
    table: pd.DataFrame

    @property
    def median(self) -> SurvivalQuantile:
        """Median survival with CI (R ``quantile.survfit(fit, 0.5)``, as ``print.survfit`` shows)."""
        return self.quantile(0.5)

    def quantile(self, probability: float) -> SurvivalQuantile:
        """Time by which ``probability`` of patients had the event, with CI, as R ``quantile.survfit``."""
        if not 0 <= probability <= 1:
            raise ValueError(f"probability must be between 0 and 1, got {probability}")
        x = np.concatenate(([0.0], self.table["time"].to_numpy()))

        def on(curve: str) -> float:
            y = np.concatenate(([0.0], 1.0 - self.table[curve].to_numpy()))
            return _find_quantile(x, y, probability)

        # The lower CI curve crosses first, so it bounds the quantile from below.
        return SurvivalQuantile(probability, on("survival"), on("lower"), on("upper"))

    def survival_at(self, times: Iterable[float]) -> pd.DataFrame:
        """Survival with CI and number at risk at chosen times, as R ``summary(fit, times = )``.

        Returns one row per requested time (in the order given): ``time``,
        ``survival``, ``lower``, ``upper``, ``std_err``, ``n_at_risk`` (patients
        still under observation at that time, i.e. with time >= t). Before the
        first event the survival is 1 with CI [1, 1]. Beyond the last follow-up
        the survival cannot be estimated: NaN, with 0 at risk (R drops such times).
        """
        t = np.asarray(list(times), dtype=float)
        tab = self.table
        row_time = tab["time"].to_numpy()
        # A time-0 row (survival 1, CI [1, 1], SE 0) unless the data have one, as R ``survfit0``.
        start = not (len(row_time) and row_time[0] == 0)
        if start:
            row_time = np.concatenate(([0.0], row_time))
        at_or_before = np.maximum(np.searchsorted(row_time, t, side="right") - 1, 0)
        beyond = t > row_time[-1]
        out = {"time": t}
        for column, at_start in (("survival", 1.0), ("lower", 1.0), ("upper", 1.0), ("std_err", 0.0)):
            values = tab[column].to_numpy()
            if start:
                values = np.concatenate(([at_start], values))
            out[column] = np.where(beyond, np.nan, values[at_or_before])
        out["n_at_risk"] = self.n_at_risk(t)
        return pd.DataFrame(out, columns=["time", "survival", "lower", "upper", "n_at_risk", "std_err"])

    def risk_table(self, times: Iterable[float]) -> pd.DataFrame:
        """Number at risk and cumulative number of events at chosen times.

        ``n_at_risk`` counts patients with time >= t (R ``summary(fit, times=)$n.risk``);
        ``cumulative_events`` counts events at times <= t.
        """
        t = np.asarray(list(times), dtype=float)
        return pd.DataFrame({"time": t, "n_at_risk": self.n_at_risk(t), "cumulative_events": self.cumulative_events(t)})

    def n_at_risk(self, times) -> np.ndarray:
        """Patients with time >= t, for each t in ``times`` (array in, array out)."""
        t = np.asarray(times, dtype=float)
        first_at_or_after = np.searchsorted(self.table["time"].to_numpy(), t, side="left")
        return np.append(self.table["n_at_risk"].to_numpy(), 0)[first_at_or_after].astype(int)

    def cumulative_events(self, times) -> np.ndarray:
        """Events at times <= t, for each t in ``times`` (array in, array out)."""
        t = np.asarray(times, dtype=float)
        cum_events = np.concatenate(([0], np.cumsum(self.table["n_event"].to_numpy())))
        return cum_events[np.searchsorted(self.table["time"].to_numpy(), t, side="right")].astype(int)

    @property
    def followup_median(self) -> float:
        """Median follow-up by reverse Kaplan-Meier (censoring as the event); NaN when not reached.

        Same number as :func:`median_followup` on this curve's data: the
        reverse estimate uses the same risk sets with censorings as events.
        """
        tab = self.table
        reverse = np.cumprod(1.0 - tab["n_censor"].to_numpy() / tab["n_at_risk"].to_numpy())
        x = np.concatenate(([0.0], tab["time"].to_numpy()))
        return _find_quantile(x, np.concatenate(([0.0], 1.0 - reverse)), 0.5)

    @property
    def censor_times(self) -> np.ndarray:
        """Distinct times at which at least one patient was censored (for censor marks)."""
        return self.table.loc[self.table["n_censor"] > 0, "time"].to_numpy()

    @property
    def summary(self) -> pd.DataFrame:
        """One row: label, n, events, median with CI."""
        m = self.median
        return pd.DataFrame([{"label": self.label, "n": self.n, "events": self.events,
                              "median": m.time, "median_lower": m.lower, "median_upper": m.upper}])


def fit_kaplan_meier(time, event=None, *, duration_col: str | None = None, event_col: str | None = None,
                     conf_type: str = "log-log", conf_level: float = 0.95, label: str = "all") -> KaplanMeier:
    """Fit the Kaplan-Meier estimator to right-censored data.

    ``fit_kaplan_meier(time, event)`` with arrays, or
    ``fit_kaplan_meier(df, duration_col="os_months", event_col="death")``.

    Parameters
    ----------
    time : array-like or DataFrame
        Follow-up times (any unit; months in this project), >= 0; or the data.
    event : array-like
        1 for the event, 0 for censored.
    duration_col, event_col : str
        With a DataFrame: its time and event columns.
    conf_type : {"log-log", "log", "plain"}
        Scale of the pointwise CI, as R ``survfit(conf.type = )``.
    conf_level : float
        Coverage of the CI.
    label : str
        Name of the curve.

    Returns
    -------
    KaplanMeier
        Product-limit estimate with Greenwood standard errors; equals R
        ``survfit(Surv(time, event) ~ 1, conf.type = conf_type)``.
    """
    if conf_type not in CONF_TYPES:
        raise ValueError(f"unknown conf_type {conf_type!r}; expected one of {', '.join(CONF_TYPES)}")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level}")
    time, event = frame_columns((time, event), {"duration_col": duration_col, "event_col": event_col})
    t, e = check_survival_data(time, event)
    position, unique = time_codes(t)
    n_event = np.bincount(position, weights=e, minlength=len(unique))
    n_leaving = np.bincount(position, minlength=len(unique)).astype(float)
    # Patients at risk at a time: everybody whose time is that time or later.
    n_at_risk = n_leaving[::-1].cumsum()[::-1]
    survival = np.cumprod(1.0 - n_event / n_at_risk)
    sigma = _greenwood_sigma(n_event, n_at_risk)
    with np.errstate(invalid="ignore"):
        std_err = survival * sigma  # 0 * inf is NaN, as in R's summary once S reaches 0
    lower, upper = _confidence_interval(survival, sigma, conf_type, conf_level)
    table = pd.DataFrame({
        "time": unique, "n_at_risk": n_at_risk.astype(int), "n_event": n_event.astype(int),
        "n_censor": (n_leaving - n_event).astype(int), "survival": survival, "std_err": std_err,
        "lower": lower, "upper": upper,
    }, columns=_TABLE_COLUMNS)
    return KaplanMeier(label=str(label), n=len(t), events=int(e.sum()), conf_type=conf_type,
                       conf_level=conf_level, table=table)


def _greenwood_sigma(n_event: np.ndarray, n_at_risk: np.ndarray) -> np.ndarray:
    """Standard error of the cumulative hazard, sqrt(sum d / (n (n - d))); infinite once n = d."""
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n_event > 0, n_event / (n_at_risk * (n_at_risk - n_event)), 0.0)
    return np.sqrt(np.cumsum(term))


def _confidence_interval(p: np.ndarray, se: np.ndarray, conf_type: str,
                         conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of a survival curve from the SE of log S: R ``survival:::survfit_confint``."""
    z = NormalDist().inv_cdf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = se * p * z
            return np.maximum(p - half, 0.0), np.minimum(p + half, 1.0)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            return np.exp(np.log(xx) - z * se), np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        # log-log: undefined at S = 0 and S = 1, where R returns NA.
        xx = np.where((p == 0) | (p == 1), np.nan, p)
        shift = z * se / np.log(xx)
        loglog = np.log(-np.log(xx))
        return np.exp(-np.exp(loglog - shift)), np.exp(-np.exp(loglog + shift))


def _find_quantile(x: np.ndarray, y: np.ndarray, p: float, tol: float = TOLERANCE) -> float:
    """R ``survival:::findq``: first x where y (= 1 - curve, may hold NaN) reaches p.

    Where y equals p (within ``tol``) on a flat stretch the answer is the
    midpoint of that stretch; on the last stretch, its midpoint with the last time.
    """
    if not np.nanmax(y) >= p:
        return float("nan")
    x_max = x[-1]
    keep = ~pd.Series(y).duplicated().to_numpy()
    x, y = x[keep], y[keep]
    first = _first_reaching(y + tol, p)
    second = _first_reaching(y - tol, p)
    quant = (x[first] + x[second]) / 2 if first >= 0 and second >= 0 else float("nan")
    if p == 0:
        quant = x[0]
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol:
        quant = (x[first] + x_max) / 2
    return float(quant)


def _first_reaching(y: np.ndarray, p: float) -> int:
    """Index of ``approx(y, seq_along(y), p, method = "constant", f = 1)`` in R, or -1 (NA)."""
    index = np.flatnonzero(~np.isnan(y))
    order = np.argsort(y[index], kind="stable")
    values = y[index][order]
    if p < values[0] or p > values[-1]:
        return -1
    return int(index[order[np.searchsorted(values, p, side="left")]])


def median_followup(time, event=None, *, duration_col: str | None = None, event_col: str | None = None) -> float:
    """Median follow-up by reverse Kaplan-Meier (censoring is the event), in the unit of ``time``.

    Equals the median of R ``survfit(Surv(time, 1 - status) ~ 1)``
    (Schemper & Smith 1996). NaN when it is not reached. Arrays, or a
    DataFrame with ``duration_col`` and ``event_col``.
    """
    time, event = frame_columns((time, event), {"duration_col": duration_col, "event_col": event_col})
    t, e = check_survival_data(time, event)
    return fit_kaplan_meier(t, 1 - e, label="follow-up").median.time


def fit_by_group(time, event, group=None, *, order: Sequence[str] | None = None,
                 conf_type: str = "log-log", conf_level: float = 0.95) -> list[KaplanMeier]:
    """One Kaplan-Meier curve per group (or one curve ``"all"`` when ``group`` is None).

    Patients whose group is missing are left out. ``order`` fixes the display
    order (groups it lists that have no patients raise :class:`EmptyGroupError`);
    by default groups appear in sorted order.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event)
    if group is None:
        return [fit_kaplan_meier(t, e, conf_type=conf_type, conf_level=conf_level)]
    codes, names = group_codes(group)
    present = codes >= 0
    codes, t, e = codes[present], t[present], e[present]
    if order is None:
        order = names
    index = {name: i for i, name in enumerate(names)}
    curves = []
    for level in order:
        mask = codes == index.get(str(level), -1)
        if not mask.any():
            raise EmptyGroupError(f"group {level!r} has no patients")
        curves.append(fit_kaplan_meier(t[mask], e[mask], conf_type=conf_type, conf_level=conf_level,
                                       label=str(level)))
    return curves


def median_table(curves: Sequence[KaplanMeier]) -> pd.DataFrame:
    """Per curve: ``group``, ``n``, ``events``, ``median`` with ``median_lower``/``median_upper``
    (R ``quantile.survfit``; NaN = not reached) and ``followup_median`` (reverse Kaplan-Meier)."""
    rows = []
    for km in curves:
        m = km.median
        rows.append({"group": km.label, "n": km.n, "events": km.events, "median": m.time,
                     "median_lower": m.lower, "median_upper": m.upper, "followup_median": km.followup_median})
    return pd.DataFrame(rows, columns=["group", "n", "events", "median", "median_lower", "median_upper",
                                       "followup_median"])


def landmark_table(curves: Sequence[KaplanMeier], times: Iterable[float]) -> pd.DataFrame:
    """Per curve and landmark: ``group``, ``time``, ``survival``, ``lower``, ``upper``, ``n_at_risk``
    (R ``summary(fit, times = )``; survival NaN beyond the last follow-up)."""
    times = list(times)
    parts = [km.survival_at(times).drop(columns="std_err").assign(group=km.label) for km in curves]
    if not parts:
        return pd.DataFrame(columns=["group", "time", "survival", "lower", "upper", "n_at_risk"])
    out = pd.concat(parts, ignore_index=True)
    return out[["group", "time", "survival", "lower", "upper", "n_at_risk"]]
