"""Cumulative incidence for a covariate profile from two cause-specific Cox models.

With competing causes 1 and 2, each modelled by a Cox model of its
cause-specific hazard (the other cause censors), the absolute risk of cause k
by time t for a profile x is (Benichou & Gail 1990; Ozenne et al. 2017)

    F_k(t | x) = Σ_{s ≤ t} S(s- | x) · dΛ_k(s | x),   S(s | x) = Π_{u ≤ s} (1 - dΛ_1(u | x) - dΛ_2(u | x)),

with the Efron baseline hazards of :mod:`analysis.stats.cox.predict`: exactly
R's ``predictRisk(CSC(Hist(time, cause) ~ ...), newdata, times, cause = k)``
(``riskRegression``, whose default ``product.limit = TRUE`` is the product
above). F_1 + F_2 + S = 1 at every time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stats.cox.fit import CoxModel
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
