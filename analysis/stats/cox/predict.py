"""Predicted survival for a covariate profile from a fitted Cox model, as R ``survfit(fit, newdata = )``.

For a model fitted with Efron ties R's ``survfit.coxph`` uses ``stype = 2``
(survival = exp(-cumulative hazard)) and ``ctype = 2`` (the Efron
approximation also in the baseline hazard), and a log-scale CI
(``conf.type = "log"``). At a time with d tied deaths, risk-set sum S0 and
the deaths' own share D0 (risk scores exp(x'β - x̄'β), x̄ the model's column
means), the hazard increment and its variance term are

    dΛ0 = Σ_{j<d} 1 / (S0 - j/d·D0),    dV0 = Σ_{j<d} 1 / (S0 - j/d·D0)²,

and the increment of the mean covariate vector is Σ_j (S1 - j/d·D1) / (S0 - j/d·D0)²
(S1, D1: the same sums of risk·x). For a profile x with risk r = exp(x'β - x̄'β):

    Λ(t | x) = r Λ0(t),   Var Λ(t | x) = r² [V0(t) + d(t)' Var(β) d(t)],  d(t) = x Λ0(t) - Σ_{s≤t} x̄-increments,

and the 95 % CI is exp(-Λ ∓ 1.96 √Var), the upper limit capped at 1 (R ``survfit_confint``).
These are the formulas of R's ``survival:::agsurv`` (``Cagsurv5``) and ``coxsurv.fit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stats.cox.design import Design, DesignError, level_label
from analysis.stats.cox.fit import Z975, CoxModel

_TABLE_COLUMNS = ["time", "n_risk", "n_event", "n_censor", "cumhaz", "survival", "std_err", "lower", "upper"]


@dataclass(frozen=True, eq=False)
class BaselineHazard:
    """Increments of the Efron baseline cumulative hazard at every distinct time of a fit.

    ``hazard``, ``varhaz`` and ``xbar`` (one row per time, one column per
    coefficient) are R's ``agsurv`` increments for risk scores centred at the
    model's column means (``center`` = x̄'β). ``n_risk``, ``n_event`` and
    ``n_censor`` count the patients at each time.
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    hazard: np.ndarray
    varhaz: np.ndarray
    xbar: np.ndarray
    center: float

    def cumulative_at(self, times: Iterable[float]) -> np.ndarray:
        """Λ0(t) at ``times`` (right-continuous step; 0 before the first time)."""
        cum = np.concatenate(([0.0], np.cumsum(self.hazard)))
        return cum[np.searchsorted(self.time, np.asarray(list(times), dtype=float), side="right")]


@dataclass(frozen=True, eq=False)
class PredictedSurvival:
    """The survival curve a Cox model predicts for one covariate profile.

    ``table`` has one row per distinct time of the fit, as R's ``survfit``
    object: time, n_risk, n_event, n_censor, cumhaz (Λ(t | x)), survival
    (exp(-Λ)), std_err (of Λ, R's ``std.err``), lower, upper (95 % CI on the
    log scale, R's default ``conf.type = "log"``). ``linear_predictor`` is x'β.
    """

    table: pd.DataFrame
    linear_predictor: float
    conf_type: str = "log"

    def survival_at(self, times: Iterable[float]) -> pd.DataFrame:
        """Survival with CI at chosen times, as R ``summary(survfit(fit, newdata), times = )``.

        Before the first time of the fit the survival is 1 with CI [1, 1];
        beyond the last one it cannot be estimated: NaN (R drops such times).
        """
        t = np.asarray(list(times), dtype=float)
        tab = self.table
        row_time = tab["time"].to_numpy()
        i = np.searchsorted(row_time, t, side="right") - 1
        beyond = t > row_time[-1]
        out: dict[str, np.ndarray] = {"time": t}
        for column, at_start in (("survival", 1.0), ("lower", 1.0), ("upper", 1.0), ("std_err", 0.0),
                                 ("cumhaz", 0.0)):
            values = tab[column].to_numpy()
            out[column] = np.where(beyond, np.nan, np.where(i >= 0, values[np.maximum(i, 0)], at_start))
        return pd.DataFrame(out, columns=["time", "survival", "lower", "upper", "std_err", "cumhaz"])


def design_rows(design: Design, frame: pd.DataFrame) -> np.ndarray:
    """The rows of ``frame`` (covariate values in the cohort's words) as columns of a fitted design.

    A categorical value must be one of the levels the model was fitted on;
    a numeric value enters per unit, or as 1/0 against its cut. Raises
    :class:`DesignError` naming a missing value or an unknown level.
    """
    columns = dict.fromkeys(design.terms["covariate"])
    return _rows(design, {c: frame[c].tolist() for c in columns if c in frame.columns}, len(frame))


def design_row(design: Design, profile: Mapping[str, object]) -> np.ndarray:
    """One profile (column -> value) as a row of the fitted design; see :func:`design_rows`."""
    return _rows(design, {c: [v] for c, v in profile.items()}, 1)[0]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and np.isnan(value))


def _level(value: object) -> str:
    numeric = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    return level_label(value) if numeric else str(value)


def _rows(design: Design, values: Mapping[str, list], n: int) -> np.ndarray:
    out = np.zeros((n, design.matrix.shape[1]))
    specs = {s.column: s for s in design.specs}
    terms = design.terms
    for column in dict.fromkeys(terms["covariate"]):
        spec = specs[column]
        given = values.get(column)
        if given is None or any(_missing(v) for v in given):
            raise DesignError(f"the profile has no value for {spec.name}")
        cols = design.columns_of(column)
        if spec.categorical:
            text = [_level(v) for v in given]
            known = set(design.levels.loc[design.levels["covariate"] == column, "level"])
            unknown = sorted(set(text) - known)
            if unknown:
                raise DesignError(f"{spec.name} = {unknown[0]} does not occur among the patients the model "
                                  "was fitted on")
            for j in cols:
                out[:, j] = [t == terms["level"].iloc[j] for t in text]
        else:
            try:
                x = np.asarray(given, dtype=float)
            except (TypeError, ValueError) as err:
                raise DesignError(f"{spec.name} must be a number") from err
            out[:, cols[0]] = x if spec.cut is None else (x >= float(spec.cut)).astype(float)
    return out


def baseline_hazard(model: CoxModel) -> BaselineHazard:
    """The Efron baseline hazard of a fitted model (R ``survfit.coxph`` with ``ctype = 2``).

    One sort and a few vectorised passes: O(n log n + n·p).
    """
    x = model.design.matrix
    means = x.mean(axis=0)
    center = float(means @ model.coef)
    order = np.argsort(model.time, kind="stable")
    t = model.time[order]
    dead = model.event[order].astype(float)
    xs = x[order]
    risk = np.exp(xs @ model.coef - center)
    times, first, counts = np.unique(t, return_index=True, return_counts=True)

    def at_risk(v: np.ndarray) -> np.ndarray:
        return np.cumsum(np.add.reduceat(v, first, axis=0)[::-1], axis=0)[::-1]

    s0, s1 = at_risk(risk), at_risk(risk[:, None] * xs)
    d0 = np.add.reduceat(risk * dead, first)
    d1 = np.add.reduceat((risk * dead)[:, None] * xs, first, axis=0)
    n_event = np.add.reduceat(dead, first).astype(int)
    # Each death's Efron fraction j/d within its time: deaths of one time are consecutive in the sort.
    death_pos = np.flatnonzero(dead == 1)
    group = np.searchsorted(first, death_pos, side="right") - 1
    group_first = np.searchsorted(group, group, side="left")
    frac = (np.arange(len(death_pos)) - group_first) / n_event[group]
    den = s0[group] - frac * d0[group]
    k = len(times)
    inv2 = 1.0 / den**2
    xbar = np.column_stack([np.bincount(group, (s1[group, j] - frac * d1[group, j]) * inv2, k)
                            for j in range(x.shape[1])]) if x.shape[1] else np.zeros((k, 0))
    n_risk = len(t) - first
    return BaselineHazard(times, n_risk, n_event, counts - n_event, np.bincount(group, 1.0 / den, k),
                          np.bincount(group, inv2, k), xbar, center)


def predict_survival(model: CoxModel, x: np.ndarray | Mapping[str, object], *,
                     baseline: BaselineHazard | None = None) -> PredictedSurvival:
    """The survival curve the model predicts for one profile, with its 95 % CI, as R ``survfit``.

    Parameters
    ----------
    model : CoxModel
        A fit of :func:`analysis.stats.cox.fit.fit_cox` (Efron ties).
    x : ndarray or mapping
        The profile as a row of the model's design (:func:`design_row`), or as
        column -> value in the cohort's words.
    baseline : BaselineHazard, optional
        :func:`baseline_hazard` of the model, when it is already computed.

    Returns
    -------
    PredictedSurvival
        R: ``survfit(coxph(..., ties = "efron"), newdata = profile)`` (``stype = 2``,
        ``ctype = 2``, ``conf.type = "log"``).
    """
    row = design_row(model.design, x) if isinstance(x, Mapping) else np.asarray(x, dtype=float)
    base = baseline if baseline is not None else baseline_hazard(model)
    lp = float(row @ model.coef)
    risk = np.exp(lp - base.center)
    cum0 = np.cumsum(base.hazard)
    dt = np.outer(cum0, row) - np.cumsum(base.xbar, axis=0)
    var = (np.cumsum(base.varhaz) + np.einsum("ij,jk,ik->i", dt, model.var, dt)) * risk**2
    cumhaz = cum0 * risk
    surv = np.exp(-cumhaz)
    se = np.sqrt(var)
    with np.errstate(divide="ignore", over="ignore"):
        lower = np.where(surv > 0, np.exp(-cumhaz - Z975 * se), np.nan)
        upper = np.where(surv > 0, np.minimum(np.exp(-cumhaz + Z975 * se), 1.0), np.nan)
    table = pd.DataFrame({"time": base.time, "n_risk": base.n_risk, "n_event": base.n_event,
                          "n_censor": base.n_censor, "cumhaz": cumhaz, "survival": surv, "std_err": se,
                          "lower": lower, "upper": upper}, columns=_TABLE_COLUMNS)
    return PredictedSurvival(table, lp)


def survival_matrix(model: CoxModel, x: np.ndarray, times: Iterable[float], *,
                    baseline: BaselineHazard | None = None) -> np.ndarray:
    """Predicted survival exp(-Λ0(t)·exp(x'β - x̄'β)) for many rows (n × len(times)), without CIs."""
    base = baseline if baseline is not None else baseline_hazard(model)
    risk = np.exp(np.asarray(x, dtype=float) @ model.coef - base.center)
    return np.exp(-np.outer(risk, base.cumulative_at(times)))
