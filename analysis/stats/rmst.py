"""Restricted mean survival time (RMST) up to a horizon, as R's ``print(survfit(...), rmean = tau)``.

The RMST to τ is the area under the Kaplan-Meier curve from 0 to τ: the mean
number of months lived (event-free) in the first τ months. Unlike a hazard
ratio it needs no proportional hazards, so it is the usual alternative summary
when ``cox.zph`` rejects them (Royston & Parmar 2013).

* estimate: the sum of the rectangles under the step curve up to τ; past the
  last time of a curve the curve is carried on at its last value (R does so);
* standard error: ``survival``'s ``survmean`` (Miller 1981, pp. 195–196):
  var = Σ_{times t_k ≤ τ} A_k² d_k / (n_k (n_k − d_k)), A_k the area under
  the curve from t_k to τ (terms with n_k = d_k are 0);
* 95 % CI: RMST ± 1.96 SE;
* two groups: the difference with SE √(SE₁² + SE₂²), its CI and the z test
  (independent groups).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from analysis.stats.kaplan_meier import KaplanMeier

Z975 = float(stats.norm.ppf(0.975))


class RMSTError(ValueError):
    """A horizon the restricted mean cannot be computed to."""


@dataclass(frozen=True)
class RestrictedMean:
    """RMST of one curve to ``tau``: estimate, SE and 95 % CI (months), n and events of the curve."""

    label: str
    tau: float
    estimate: float
    se: float
    lower: float
    upper: float
    n: int
    events: int


@dataclass(frozen=True)
class RMSTDifference:
    """RMST of ``first`` minus that of ``second`` to ``tau``: estimate, SE, 95 % CI, z and two-sided p."""

    first: str
    second: str
    tau: float
    estimate: float
    se: float
    lower: float
    upper: float
    z: float
    p: float


def restricted_mean(km: KaplanMeier, tau: float) -> RestrictedMean:
    """RMST of a Kaplan-Meier curve to ``tau`` with survival's standard error (``survmean``)."""
    if not np.isfinite(tau) or tau <= 0:
        raise RMSTError(f"the horizon must be a positive number of months, got {tau:g}")
    tab = km.table
    time = tab["time"].to_numpy(float)
    surv = tab["survival"].to_numpy(float)
    n = tab["n_at_risk"].to_numpy(float)
    d = tab["n_event"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
    keep = time <= tau
    if not keep.any():
        knots, values, hh = np.array([tau]), np.array([1.0]), np.array([0.0])
    else:
        knots = np.concatenate([time[keep], [tau]])
        values = np.concatenate([surv[keep], [surv[keep][-1]]])
        hh = np.concatenate([hh[keep], [0.0]])
    widths = np.diff(np.concatenate([[0.0], knots]))
    rectangles = widths * np.concatenate([[1.0], values[:-1]])
    after = np.cumsum(rectangles[::-1])[::-1]  # area from each knot's start of rectangle to tau
    variance = float(np.sum(after[1:] ** 2 * hh[:-1]))
    estimate = float(rectangles.sum())
    se = variance**0.5
    return RestrictedMean(km.label, float(tau), estimate, se, estimate - Z975 * se, estimate + Z975 * se,
                         km.n, km.events)


def rmst_difference(first: RestrictedMean, second: RestrictedMean) -> RMSTDifference:
    """The difference of two independent groups' RMST, with CI and a z test."""
    if first.tau != second.tau:
        raise RMSTError("both restricted means must share one horizon")
    estimate = first.estimate - second.estimate
    se = (first.se**2 + second.se**2) ** 0.5
    z = estimate / se if se > 0 else float("nan")
    p = float(2 * special.ndtr(-abs(z))) if se > 0 else float("nan")
    return RMSTDifference(first.label, second.label, first.tau, estimate, se, estimate - Z975 * se,
                          estimate + Z975 * se, z, p)
