"""Profile-likelihood confidence intervals and likelihood-ratio tests for each coefficient of a Cox model.

With few events per coefficient the Wald interval exp(β̂ ± 1.96·se) is a
poor guide: the log-likelihood is far from quadratic, and under monotone
likelihood (quasi-separation) se and β̂ are where the iteration happened to
stop. The profile log-likelihood of coefficient j,

    pl_j(b) = max over the other coefficients of ℓ(b, β₋ⱼ),

is computed by refitting the model with x_j·b as an offset (R:
``coxph(Surv(t, d) ~ others + offset(b * x_j))``), with the same Efron
Newton-Raphson as the fit (:func:`analysis.stats.cox.likelihood.newton`),
allowed :data:`PROFILE_ITERATIONS` iterations. Then

* the 95 % interval is {b : 2 (ℓ(β̂) − pl_j(b)) ≤ χ²₁(0.95)}, its limits found
  by bracketing (outwards from the Wald limit, the usual neighbourhood) and
  Brent's method, each refit starting from the previous refit's coefficients
  (the same maximum, reached in fewer steps; from 0 under quasi-separation); a side on which the profile never falls
  that far (the likelihood keeps rising as the hazard ratio goes to 0 or ∞)
  has an unbounded limit, reported as 0 or ∞ — an honest statement where the
  Wald interval is a number without meaning;
* the likelihood-ratio test of β_j = 0 is 2 (ℓ(β̂) − pl_j(0)) on 1 degree of
  freedom (R: the model refitted without the column; ``anova`` of the two).

Checked against R ``survival`` in ``tests/r/cox_profile.R``. Only for the
ordinary partial likelihood: a Firth fit's profile needs the penalty of the
full information matrix at every b, which an offset refit does not give.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.stats.cox._risk_sets import RiskSets
from analysis.stats.cox.fit import CoxModel, chi2_sf
from analysis.stats.cox.likelihood import CoxFitError, efron, newton, scaling

#: A side is unbounded when the profile has not fallen far enough once the linear predictor has moved this much
#: across the range of the covariate (25 per unit for a 0/1 indicator: hazard ratios beyond e²⁵ ≈ 7·10¹⁰).
SEARCH_RANGE = 25.0
#: Iterations of each refit: with one coefficient fixed, the others may rise towards a limit (quasi-separation
#: elsewhere in the model), where the fit's 20 iterations stop short at a profile value that is too low.
PROFILE_ITERATIONS = 100
_XTOL = 1e-10


@dataclass(frozen=True)
class ProfileLikelihood:
    """Profile-likelihood intervals and likelihood-ratio tests, one row per coefficient of a Cox model.

    ``table`` columns: term, coef (β̂), lower, upper (the interval on the log
    scale: −inf / inf when unbounded), hr, hr_lower, hr_upper (on the hazard
    ratio scale: 0 / inf when unbounded), statistic (likelihood-ratio χ² of
    β = 0, 1 df), p.
    """

    table: pd.DataFrame
    level: float

    @property
    def unbounded(self) -> dict[str, str]:
        """``{term: "0" or "∞"}`` for each term whose interval is open on one side (or ``"0 and ∞"``)."""
        out = {}
        for term, lower, upper in zip(self.table["term"], self.table["lower"], self.table["upper"], strict=True):
            sides = [s for s, open_ in (("0", np.isneginf(float(lower))), ("∞", np.isposinf(float(upper)))) if open_]
            if sides:
                out[str(term)] = " and ".join(sides)
        return out


class _Profile:
    """The profile log-likelihood of one coefficient: the model refitted with that coefficient fixed."""

    def __init__(self, model: CoxModel, rs: RiskSets, j: int, warm: bool = True):
        x = model.design.matrix
        others = np.delete(x, j, axis=1)
        means, scale = scaling(others)
        self.xt = np.ascontiguousarray(((others - means) * scale)[rs.order].T)
        self.xj = x[rs.order, j]
        self.rs = rs
        self._start: np.ndarray | None = None  # the last refit's (scaled) coefficients
        self._warm = warm
        self._seen: dict[float, float] = {}

    def __call__(self, b: float) -> float:
        if b not in self._seen:
            self._seen[b] = self._refit(b)
        return self._seen[b]

    def cold(self, b: float) -> float:
        """The profile at ``b`` refitted from 0 (R's refit), whatever the earlier refits were."""
        start, self._start = self._start, None
        try:
            return self._refit(b, keep=False)
        finally:
            self._start = start

    def _refit(self, b: float, keep: bool = True) -> float:
        offset = b * self.xj
        if self.xt.shape[0] == 0:
            return float(efron(self.xt, np.zeros(0), self.rs, offset)[0])
        start = self._start
        try:
            fit = newton(self.xt, self.rs, iter_max=PROFILE_ITERATIONS, offset=offset, start=start)
        except CoxFitError:
            fit = None
        if start is not None and (fit is None or not np.isfinite(fit[3])):
            self._start = None  # a start far from this b's maximum: from 0 again, as R does
            return self._refit(b, keep)
        if fit is None:
            return float("nan")
        if keep and self._warm and np.all(np.isfinite(fit[0])):
            self._start = fit[0]
        return float(fit[3])


def _limit(deviance, start: float, direction: int, span: float, guess: float) -> float:
    """Where ``deviance`` (2·(ℓ̂ − pl(b)) − χ², below 0 at ``start``) crosses 0 between ``start`` and
    ``start + direction·span``.

    ±inf when it is still below 0 at the far end (the side is unbounded; the
    profile of a concave log-likelihood falls monotonically away from its
    maximum, so it cannot cross later). The crossing is bracketed by steps
    from ``start`` that begin at ``guess`` (the Wald half-width, when finite)
    and double, then found by Brent's method.
    """
    step = guess if np.isfinite(guess) and 0 < guess < span else span / 100
    previous = start
    while True:
        reach = min(abs(previous - start) + step, span)
        b = start + direction * reach
        if deviance(b) > 0:
            low, high = sorted((previous, b))
            return float(optimize.brentq(deviance, low, high, xtol=_XTOL, rtol=4 * np.finfo(float).eps))
        if reach >= span:
            return direction * float("inf")
        previous, step = b, step * 2


def profile_likelihood(model: CoxModel, level: float = 0.95) -> ProfileLikelihood:
    """Profile-likelihood confidence intervals and likelihood-ratio p-values of a fitted Cox model.

    Parameters
    ----------
    model
        An ordinary (not penalized) fit from :func:`analysis.stats.cox.fit.fit_cox`.
    level
        Confidence level of the intervals.

    Raises
    ------
    ValueError
        For a penalized fit (see the module docstring).
    """
    if model.penalty:
        raise ValueError("profile-likelihood intervals are computed for the ordinary partial likelihood only")
    rs = RiskSets.build(model.time, model.event)
    best = model.loglik[1]
    critical = float(stats.chi2.ppf(level, 1))
    rows = []
    for j, term in enumerate(model.design.terms["term"]):
        # Under quasi-separation the other coefficients climb a ridge where the iteration stops depends on
        # where it starts: every refit then starts from 0, as R's offset refits do.
        profile = _Profile(model, rs, j, warm=not model.infinite)
        coef = float(model.coef[j])
        span = SEARCH_RANGE / max(float(np.ptp(model.design.matrix[:, j])), 1e-12)

        def deviance(b: float, profile: _Profile = profile) -> float:
            value = 2 * (best - profile(b)) - critical
            return value if not np.isnan(value) else float("inf")

        wald = float(np.sqrt(critical * model.var[j, j])) if np.isfinite(model.var[j, j]) else float("nan")
        with np.errstate(all="ignore"):  # far out, risk scores underflow: the deviance is then +inf, as it should
            lower, upper = _limit(deviance, coef, -1, span, wald), _limit(deviance, coef, +1, span, wald)
        statistic = max(2 * (best - profile.cold(0.0)), 0.0)  # R: the model without x_j, fitted from 0
        rows.append({"term": term, "coef": coef, "lower": lower, "upper": upper, "hr": np.exp(coef),
                     "hr_lower": np.exp(lower), "hr_upper": np.exp(upper), "statistic": statistic,
                     "p": chi2_sf(statistic, 1)})
    return ProfileLikelihood(pd.DataFrame(rows), level)


def with_profile_intervals(model: CoxModel, profile: ProfileLikelihood) -> CoxModel:
    """The model with its summary's intervals and p-values taken from the profile likelihood.

    ``lower``/``upper`` become the profile limits (0 / inf where open), ``p``
    the likelihood-ratio p-value; columns ``interval`` and ``test`` say so. A
    term whose interval is open is listed in ``infinite``: its point estimate
    is where the iteration stopped, not an estimate.
    """
    table = profile.table.set_index("term")
    summary = model.summary.copy()
    summary["lower"] = table.loc[summary["term"], "hr_lower"].to_numpy()
    summary["upper"] = table.loc[summary["term"], "hr_upper"].to_numpy()
    summary["p"] = table.loc[summary["term"], "p"].to_numpy()
    summary["interval"] = f"profile likelihood {100 * profile.level:g} %"
    summary["test"] = "likelihood ratio"
    infinite = tuple(dict.fromkeys([*model.infinite, *profile.unbounded]))
    return replace(model, summary=summary, infinite=infinite)
