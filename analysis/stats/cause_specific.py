"""Cause-specific Cox models of competing causes and the absolute risk they predict.

One Cox model per cause, the competing causes censored (Efron ties, as
``coxph(Surv(time, cause == k) ~ ...)``; the fits are
:func:`analysis.stats.cox.fit.fit_cox`). A cause-specific hazard ratio answers
"how fast do patients still event-free have this event"; together, the
models predict the cumulative incidence of a cause for a covariate profile,
as ``riskRegression::predictRisk(CSC(...), newdata, times, cause)``:

    F_k(t | z) = Σ_{s ≤ t} S(s− | z) dΛ_k(s | z),
    S(t | z) = Π_{s ≤ t} (1 − Σ_j dΛ_j(s | z))   (product limit, riskRegression's default),

with dΛ_j(s | z) = exp(z'β_j) · dΛ_j0(s) and the baseline hazard's jumps
with Efron's correction for tied events, as ``survfit.coxph``:
Σ_{l=0}^{d−1} 1 / (Σ_{risk set} e^{x'β} − (l/d) Σ_{tied events} e^{x'β}).
Beyond the last observed time the risk is not estimated (NaN, R's NA).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stats.cox._risk_sets import RiskSets, at_risk_sums
from analysis.stats.cox.design import CovariateSpec
from analysis.stats.cox.fit import CoxModel, fit_cox


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
    x = model.design.matrix
    centre = x.mean(axis=0)
    eta = (x - centre) @ model.coef
    rs = RiskSets.build(model.time, model.event)
    r = np.exp(eta)[rs.order]
    s0 = at_risk_sums(r, rs)
    d0 = np.add.reduceat(r[rs.death_pos], rs.group_first)
    den = s0[rs.death_group] - rs.frac * d0[rs.death_group]
    jumps = np.bincount(rs.death_group, 1.0 / den, len(s0)) * np.exp(-centre @ model.coef)
    return model.time[rs.order][rs.group_start], jumps


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
