"""Conditional survival: the chances of a patient who is alive (and event-free) at s months.

S(t | s) = S(t) / S(s) for t > s, which is exactly the Kaplan-Meier estimate
of the patients still under observation just after s (R:
``survfit(Surv(time, status) ~ 1, subset = time > s)``), with its own
Greenwood confidence interval. The curve here is fitted on the months since
s, so that it starts at 1 at s; ``survival_at`` takes months since HSCT2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stats._survival_data import EmptyGroupError, check_survival_data
from analysis.stats.kaplan_meier import KaplanMeier, fit_kaplan_meier


@dataclass(frozen=True, eq=False)
class ConditionalSurvival:
    """A Kaplan-Meier curve of the patients event-free at ``given`` months, on the months since ``given``.

    ``n_total`` is the number of patients before conditioning; ``curve.n`` those still at risk.
    """

    given: float
    curve: KaplanMeier
    n_total: int

    def survival_at(self, times: Iterable[float]) -> pd.DataFrame:
        """Survival given alive (event-free) at ``given``, at months since HSCT2 (R ``summary(fit, times)``)."""
        t = np.asarray(list(times), dtype=float)
        out = self.curve.survival_at(t - self.given)
        out["time"] = t
        return out


def conditional_kaplan_meier(time, event, given: float, *, conf_type: str = "log-log",
                             label: str = "all") -> ConditionalSurvival:
    """Kaplan-Meier of the patients with time > ``given``, on the months since ``given``.

    Raises :class:`~analysis.stats._survival_data.EmptyGroupError` when nobody is
    still at risk after ``given`` months.
    """
    t, e = check_survival_data(time, event)
    if not np.isfinite(given) or given < 0:
        raise ValueError(f"the conditioning time must be 0 or more months, got {given:g}")
    at_risk = t > given
    if not at_risk.any():
        raise EmptyGroupError(f"no patient is still followed after {given:g} months")
    curve = fit_kaplan_meier(t[at_risk] - given, e[at_risk], conf_type=conf_type, label=label)
    return ConditionalSurvival(float(given), curve, len(t))
