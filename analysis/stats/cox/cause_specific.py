"""Cause-specific Cox models of competing causes and the absolute risk they predict.

One Cox model per cause, the competing causes censored (Efron ties, as
``coxph(Surv(time, cause == k) ~ ...)``; the fits are
:func:`analysis.stats.cox.fit.fit_cox`). A cause-specific hazard ratio answers
"how fast do patients still event-free have this event"; together, the
models predict the cumulative incidence of a cause for a covariate profile
(Benichou & Gail 1990; Ozenne et al. 2017), as
``riskRegression::predictRisk(CSC(Hist(time, cause) ~ ...), newdata, times, cause)``:

    F_k(t | x) = Σ_{s ≤ t} S(s- | x) · dΛ_k(s | x),   S(s | x) = Π_{u ≤ s} (1 - Σ_j dΛ_j(u | x))

(riskRegression's default ``product.limit = TRUE``), with dΛ_j(s | x) =
exp(x'β_j) · dΛ_j0(s) and the Efron baseline hazards of
:func:`analysis.stats.cox.predict.baseline_hazard` (``survfit.coxph``).
F_1 + F_2 + S = 1 at every time; beyond the last observed time the risk is
not estimated (NaN, R's NA).

* :func:`predict_cumulative_incidence`: one profile, two causes, a table of
  F_1, F_2 and the event-free survival at every time of the fits;
* :func:`fit_cause_specific` / :class:`CauseSpecificModels`: any number of
  causes, many profiles at once (the Relapse models page).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stats.cox.design import CovariateSpec
from analysis.stats.cox.fit import CoxModel, fit_cox
from analysis.stats.cox.predict import BaselineHazard, baseline_hazard, design_row


@dataclass(frozen=True, eq=False)
class PredictedIncidence:
    """Cumulative incidence of two competing causes for one profile.

    ``table``: time (every distinct time of the fits), cif1, cif2 (F_1, F_2)
    and survival (free of both causes). Point estimates; no confidence band.
    """

    table: pd.DataFrame

    def at(self, times: Iterable[float]) -> pd.DataFrame:
        """F_1, F_2 and the event-free survival at chosen times (NaN beyond the last time of the fits)."""
        t = np.asarray(list(times), dtype=float)
        row_time = self.table["time"].to_numpy()
        i = np.searchsorted(row_time, t, side="right") - 1
        beyond = t > row_time[-1]
        out: dict[str, np.ndarray] = {"time": t}
        for column, at_start in (("cif1", 0.0), ("cif2", 0.0), ("survival", 1.0)):
            values = self.table[column].to_numpy()
            out[column] = np.where(beyond, np.nan, np.where(i >= 0, values[np.maximum(i, 0)], at_start))
        return pd.DataFrame(out)


def predict_cumulative_incidence(model1: CoxModel, model2: CoxModel, x1: np.ndarray | Mapping[str, object],
                                 x2: np.ndarray | Mapping[str, object] | None = None) -> PredictedIncidence:
    """F_1 and F_2 for one profile from the cause-specific models of cause 1 and cause 2.

    Parameters
    ----------
    model1, model2 : CoxModel
        Cause-specific fits on the same patients and times (the other cause censored).
    x1, x2 : ndarray or mapping
        The profile as a row of each model's design, or as column -> value
        (``x2`` defaults to ``x1`` when both are mappings).

    R: ``predictRisk(CSC(Hist(time, cause) ~ ...), newdata = profile, times, cause = 1 / 2)``.
    """
    if len(model1.time) != len(model2.time) or not np.array_equal(np.sort(model1.time), np.sort(model2.time)):
        raise ValueError("the cause-specific models must be fitted on the same patients")
    x2 = x1 if x2 is None else x2
    base1, base2 = baseline_hazard(model1), baseline_hazard(model2)
    h1 = base1.hazard * _relative_risk(model1, base1, x1)
    h2 = base2.hazard * _relative_risk(model2, base2, x2)
    surv = np.cumprod(1.0 - h1 - h2)
    before = np.concatenate(([1.0], surv[:-1]))
    table = pd.DataFrame({"time": base1.time, "cif1": np.cumsum(before * h1), "cif2": np.cumsum(before * h2),
                          "survival": surv})
    return PredictedIncidence(table)


def _relative_risk(model: CoxModel, base: BaselineHazard, x: np.ndarray | Mapping[str, object]) -> float:
    row = design_row(model.design, x) if isinstance(x, Mapping) else np.asarray(x, dtype=float)
    return float(np.exp(row @ model.coef - base.center))


# ------------------------------------------------------------------ any causes, many profiles


@dataclass(frozen=True, eq=False)
class CauseSpecificModels:
    """One fitted Cox model per cause (``models[k]``), on the same patients and covariates."""

    models: Mapping[int, CoxModel]
    last_time: float

    def absolute_risk(self, cause: int, rows: np.ndarray, times: Sequence[float] | np.ndarray) -> np.ndarray:
        """Cumulative incidence of ``cause`` at ``times`` for design rows (profiles × terms).

        Returns (times × profiles); NaN after the last observed time.
        """
        z = np.atleast_2d(np.asarray(rows, dtype=float))
        grid, jumps = _hazard_jumps(self.models, z)
        total = sum(jumps.values())
        surv = np.cumprod(1.0 - total, axis=0)
        surv_left = np.vstack([np.ones((1, z.shape[0])), surv[:-1]])
        cif = np.cumsum(surv_left * jumps[cause], axis=0)
        t = np.asarray(times, dtype=float)
        idx = np.searchsorted(grid, t, side="right") - 1
        out = np.where(idx[:, None] >= 0, cif[np.clip(idx, 0, None)], 0.0)
        return np.where((t > self.last_time)[:, None], np.nan, out)

    def curve(self, cause: int, row: np.ndarray) -> pd.DataFrame:
        """The predicted cumulative incidence of one profile at every event time (``time``, ``cif``)."""
        grid, _ = _hazard_jumps(self.models, np.atleast_2d(row))
        return pd.DataFrame({"time": grid, "cif": self.absolute_risk(cause, row, grid)[:, 0]})


def fit_cause_specific(
    frame: pd.DataFrame,
    duration_col: str,
    cause_col: str,
    covariates: Sequence[str | CovariateSpec],
    *,
    causes: Sequence[int] = (1, 2),
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    cuts: Mapping[str, float] | None = None,
) -> CauseSpecificModels:
    """Cause-specific Cox models, as ``riskRegression::CSC(Hist(time, cause) ~ ...)``.

    ``cause_col`` holds 0 for censored and a code per cause; each model
    censors the other causes. Raises
    :class:`~analysis.stats.cox.fit.CoxFitError` when a cause has no events.
    """
    models = {}
    for k in causes:
        data = frame.assign(_cause_event=(frame[cause_col] == k).astype(int).where(frame[cause_col].notna()))
        models[int(k)] = fit_cox(data, duration_col, "_cause_event", covariates, categorical=categorical,
                                 reference=reference, cuts=cuts)
    last = max(float(np.max(m.time)) for m in models.values())
    return CauseSpecificModels(models, last)


def baseline_jumps(model: CoxModel) -> tuple[np.ndarray, np.ndarray]:
    """Distinct event times and the Efron baseline hazard's jumps there (for z = 0), as ``survfit.coxph``."""
    base = baseline_hazard(model)
    has_event = base.n_event > 0
    return base.time[has_event], base.hazard[has_event] * np.exp(-base.center)


def _hazard_jumps(models: Mapping[int, CoxModel], z: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Each cause's hazard jumps for the profiles ``z`` on the union of the event times (times × profiles)."""
    parts = {k: baseline_jumps(m) for k, m in models.items()}
    grid = np.unique(np.concatenate([t for t, _ in parts.values()]))
    out = {}
    for k, (t, jumps) in parts.items():
        full = np.zeros(len(grid))
        full[np.searchsorted(grid, t)] = jumps
        out[k] = full[:, None] * np.exp(z @ models[k].coef)[None, :]
    return grid, out
