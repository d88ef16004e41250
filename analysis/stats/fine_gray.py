"""Fine-Gray proportional subdistribution hazards regression, as R's ``cmprsk::crr``.

The model (Fine & Gray 1999) says how covariates change the *cumulative
incidence* of one cause in the presence of competing causes: patients who
failed from a competing cause stay in the risk set, down-weighted by the
censoring distribution, so that exp(coef), the subdistribution hazard ratio
(sHR), answers "how many patients have the event by time t". The
cause-specific Cox model (:mod:`analysis.stats.cox.cause_specific`) answers "how
fast do patients still event-free have it".

Everything follows cmprsk 2.2 (Fortran ``crrfsv``, ``crrf``, ``crrvv``,
``crrfit``), in vectorised form:

* censoring weights: the Kaplan-Meier estimate G of the censoring
  distribution (``survfit(Surv(ftime, fstatus == 0) ~ 1)``) evaluated just
  before each patient's time, as crr's ``approx(..., ftime * (1 - 100 eps))``;
  a patient who failed from a competing cause at s enters the risk set at
  t > s with weight G(t−)/G(s−);
* the pseudo partial likelihood with Breslow's handling of tied failures,
  maximised by crr's own iteration: Newton-Raphson from 0 with a backtracking
  line search (step halved while the objective does not fall by at least
  1e-4 of the predicted decrease), stopping when
  max |score| · max(|b|, 1) < max(|loglik|, 1) · gtol (gtol = 1e-6, at most
  10 iterations) — the same sequence of iterates as R, so the estimates agree
  to rounding error rather than to crr's convergence tolerance;
* the variance crr reports: the sandwich I⁻¹ (Σ ηᵢηᵢᵀ) I⁻¹ with ηᵢ each
  patient's score contribution plus the term for estimating G (Fine & Gray
  1999, section 4), O(n p²) here instead of crr's nested loops;
* the baseline cumulative subdistribution hazard's jumps (``fit$bfitj``) and
  the predicted cumulative incidence of a covariate profile,
  1 − exp(−exp(z'b) Σ jumps), as ``predict.crr``.

Only time-fixed covariates (crr's ``cov1``) and one censoring group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.stats._survival_data import aeq_times
from analysis.stats.cox.design import CovariateSpec, Design, DesignError, build_design, specs_for
from analysis.stats.cox.fit import TestResult, chi2_sf
from analysis.stats.cox.fit import _summary as _term_summary  # the same table as a Cox model's

GTOL = 1e-6  # crr(gtol)
MAX_ITER = 10  # crr(maxiter)
_STEP_FACTOR = 0.5
_MACHINE_EPS = float(np.finfo(float).eps)


class FineGrayError(ValueError):
    """A Fine-Gray model that cannot be fitted (no events of the cause, singular information, ...)."""


@dataclass(frozen=True)
class FineGrayModel:
    """A fitted Fine-Gray model of one cause.

    ``summary`` has one row per coefficient: term, covariate, level, coef
    (log subdistribution hazard ratio), hr (the sHR, exp(coef)), se (crr's
    robust sandwich standard error), lower/upper (95 % CI, exp(coef ± 1.96 se)),
    z, p (two-sided), n and events (patients and events of the cause in the
    level; all of them for a per-unit term). ``loglik`` is crr's pseudo
    log-likelihood (null model, fitted); ``lr_test`` the pseudo
    likelihood-ratio test summary.crr prints. ``baseline`` has the distinct
    times of the cause (``uftime``) and the jumps of the baseline cumulative
    subdistribution hazard (``bfitj``). ``infinite`` lists terms with no
    finite estimate (a level, or the reference, without events of the cause).
    """

    summary: pd.DataFrame
    design: Design
    cause: int
    n: int
    events: int
    competing: int
    loglik: tuple[float, float]
    lr_test: TestResult
    converged: bool
    iterations: int
    warnings: tuple[str, ...]
    coef: np.ndarray = field(repr=False)
    var: np.ndarray = field(repr=False)
    information: np.ndarray = field(repr=False)
    baseline: pd.DataFrame = field(repr=False)
    time: np.ndarray = field(repr=False)
    event: np.ndarray = field(repr=False)
    infinite: tuple[str, ...] = ()

    def predict(self, rows: np.ndarray) -> pd.DataFrame:
        """Cumulative incidence of the cause for design rows (one per profile), as ``predict.crr``.

        ``rows`` is (profiles × terms) on the design's scale (indicators, raw
        numbers). Returns one row per distinct time of the cause with a column
        ``cif`` per profile (``cif``, ``cif_1``, ... for several).
        """
        z = np.atleast_2d(np.asarray(rows, dtype=float))
        if z.shape[1] != len(self.coef):
            raise FineGrayError(f"a profile needs {len(self.coef)} values, one per term; got {z.shape[1]}")
        jumps = self.baseline["jump"].to_numpy()
        cumhaz = np.cumsum(jumps)[:, None] * np.exp(z @ self.coef)[None, :]
        out = {"time": self.baseline["time"].to_numpy()}
        for j in range(z.shape[0]):
            out["cif" if j == 0 else f"cif_{j}"] = 1.0 - np.exp(-cumhaz[:, j])
        return pd.DataFrame(out)


# --------------------------------------------------------------------------- data in crr's form


@dataclass(frozen=True)
class _SortedData:
    """Patients sorted by time (stable, as R's ``order``), with crr's codes and censoring weights.

    ``code`` is 1 for the cause of interest, 2 for a competing cause, 0 for
    censored; ``g_left`` is G(t−) for each patient. Per distinct time of the
    cause (``fail_times``): the failures ``d``, the first patient at that
    time (``first``) and G there (``g_fail``).
    """

    time: np.ndarray
    code: np.ndarray
    x: np.ndarray
    g_left: np.ndarray
    fail_times: np.ndarray
    d: np.ndarray
    first: np.ndarray
    g_fail: np.ndarray

    @classmethod
    def build(cls, time: np.ndarray, code: np.ndarray, x: np.ndarray) -> _SortedData:
        order = np.argsort(time, kind="stable")
        t, c, xs = time[order], code[order], x[order]
        g_left = _censoring_left_limits(t, c == 0)
        fail_times, d = np.unique(t[c == 1], return_counts=True)
        first = np.searchsorted(t, fail_times, side="left")
        return cls(t, c, xs, g_left, fail_times, d.astype(float), first, g_left[first])


def _censoring_left_limits(time: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """G(t−) per patient: the censoring Kaplan-Meier as crr reads it with ``approx``.

    survfit merges near-equal times (aeqSurv); crr looks the curve up at
    ``ftime * (1 - 100 eps)`` with a step function that is 1 before the first
    time (and at a time 0 takes the value at 0).
    """
    merged = aeq_times(time)
    knots, position = np.unique(merged, return_inverse=True)
    n_at_risk = len(merged) - np.searchsorted(np.sort(merged), knots, side="left")
    n_cens = np.bincount(position, weights=censored.astype(float), minlength=len(knots))
    surv = np.cumprod(1.0 - n_cens / n_at_risk)
    x = np.concatenate(([min(0.0, knots[0]) - 10 * _MACHINE_EPS], knots, [knots[-1] * (1 + 10 * _MACHINE_EPS)]))
    y = np.concatenate(([1.0], surv, [0.0]))
    idx = np.searchsorted(x, time * (1 - 100 * _MACHINE_EPS), side="right") - 1
    return y[np.clip(idx, 0, len(y) - 1)]


# --------------------------------------------------------------------------- the pseudo likelihood


def _risk_set_sums(data: _SortedData, v: np.ndarray) -> np.ndarray:
    """Σ over the Fine-Gray risk set of each failure time of ``v`` (rows = sorted patients).

    Patients still at risk (t ≥ u) count fully; those failed from a competing
    cause before u count with weight G(u−)/G(s−).
    """
    tail = np.cumsum(v[::-1], axis=0)[::-1]
    tail = np.concatenate([tail, np.zeros((1, *v.shape[1:]))])
    competing = (data.code == 2) / data.g_left
    prefix = np.concatenate([np.zeros((1, *v.shape[1:])),
                             np.cumsum(v * competing.reshape(-1, *([1] * (v.ndim - 1))), axis=0)])
    g = data.g_fail.reshape(-1, *([1] * (v.ndim - 1)))
    return tail[data.first] + g * prefix[data.first]


def _objective(data: _SortedData, b: np.ndarray) -> float:
    """crr's ``crrf``: minus the pseudo log-likelihood (Breslow ties)."""
    eta = data.x @ b
    with np.errstate(over="ignore", invalid="ignore"):
        s0 = _risk_set_sums(data, np.exp(eta))
        return float(-eta[data.code == 1].sum() + (data.d * np.log(s0)).sum())


def _objective_score_information(data: _SortedData, b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """crr's ``crrfsv``: the objective, its gradient and Hessian (minus score, information)."""
    x = data.x
    eta = x @ b
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.exp(eta)
        s0 = _risk_set_sums(data, r)
        s1 = _risk_set_sums(data, r[:, None] * x)
        xbar = s1 / s0[:, None]
        lik = float(-eta[data.code == 1].sum() + (data.d * np.log(s0)).sum())
        score = -x[data.code == 1].sum(axis=0) + (data.d[:, None] * xbar).sum(axis=0)
        w = _information_weights(data, data.d / s0)
        info = (x * (r * w)[:, None]).T @ x - (xbar * data.d[:, None]).T @ xbar
    return lik, score, info


def _information_weights(data: _SortedData, c: np.ndarray) -> np.ndarray:
    """Per patient, Σ over the failure times whose risk set holds it of c_k times its weight there.

    So that Σ_k c_k Σ_{j in R_k} w_jk v_j = Σ_j W_j v_j for any per-patient v.
    """
    position = np.searchsorted(data.fail_times, data.time, side="right")  # failure times ≤ t_j
    before = np.concatenate(([0.0], np.cumsum(c)))
    after = np.concatenate((np.cumsum((c * data.g_fail)[::-1])[::-1], [0.0]))
    return before[position] + np.where(data.code == 2, after[position] / data.g_left, 0.0)


def _iterate(data: _SortedData, gtol: float, max_iter: int) -> tuple[np.ndarray, float, np.ndarray, int, bool]:
    """crr's Newton-Raphson with backtracking; returns b, objective, gradient, iterations, converged."""
    b = np.zeros(data.x.shape[1])
    for it in range(max_iter + 1):
        lik, s, v = _objective_score_information(data, b)
        if np.max(np.abs(s) * np.maximum(np.abs(b), 1.0)) < max(abs(lik), 1.0) * gtol:
            return b, lik, s, it, True
        if it == max_iter:
            break
        try:
            step = -np.linalg.solve(v, s)
        except np.linalg.LinAlgError:
            raise FineGrayError("The covariates are collinear or constant among the patients at risk; "
                                "the model cannot be estimated.") from None
        candidate = _objective(data, b + step)
        halvings = 0
        while not np.isfinite(candidate) or candidate > lik + 1e-4 * float(step @ s):
            halvings += 1
            step = step * _STEP_FACTOR
            candidate = _objective(data, b + step)
            if halvings > 20:
                return b, lik, s, it, False
        b = b + step
    return b, lik, s, max_iter, False


# --------------------------------------------------------------------------- crr's variance


def _sandwich_middle(data: _SortedData, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ (ηᵢ + ψᵢ)(ηᵢ + ψᵢ)ᵀ of crr's ``crrvv`` and the information it reports.

    ηᵢ is patient i's score contribution: its own failure minus its share of
    each failure time's weighted risk set; ψᵢ the influence of estimating the
    censoring distribution, ∫ q(u)/n(u) dM^c_i(u) with
    q(u) = Σ_{failure times ≥ u} G(t−)/S0(t) · Σ_{competing failures before u}
    (x_j − x̄(t)) e^{x_j b}/G(s_j−).
    """
    x, t, code = data.x, data.time, data.code
    r = np.exp(x @ b)
    s0 = _risk_set_sums(data, r)
    xbar = _risk_set_sums(data, r[:, None] * x) / s0[:, None]
    info = (x * (r * _information_weights(data, data.d / s0))[:, None]).T @ x - (xbar * data.d[:, None]).T @ xbar

    # eta: the score contributions
    upto = np.searchsorted(data.fail_times, t, side="right")
    a, ab = _prefix(data.d / s0), _prefix(data.d[:, None] * xbar / s0[:, None])
    ga = _suffix(data.d * data.g_fail / s0)
    gab = _suffix(data.d[:, None] * data.g_fail[:, None] * xbar / s0[:, None])
    eta = -r[:, None] * (x * a[upto][:, None] - ab[upto])
    own = np.searchsorted(data.fail_times, t, side="left")
    failed = code == 1
    eta[failed] += x[failed] - xbar[own[failed]]
    competing = code == 2
    eta[competing] -= (r[competing] / data.g_left[competing])[:, None] * (
        x[competing] * ga[upto[competing]][:, None] - gab[upto[competing]])

    psi = _censoring_influence(data, r, s0, xbar)
    total = eta + psi
    return total.T @ total, info


def _censoring_influence(data: _SortedData, r: np.ndarray, s0: np.ndarray, xbar: np.ndarray) -> np.ndarray:
    """ψᵢ: each patient's share of the censoring martingale, weighted by q(u)/n(u) (crrvv's ``ss2`` and ``qu``)."""
    t, code, x = data.time, data.code, data.x
    times, first, group = np.unique(t, return_index=True, return_inverse=True)
    n_at_risk = len(t) - first
    n_cens = np.bincount(group, weights=(code == 0).astype(float), minlength=len(times))
    q_weight = np.where(code == 2, r / data.g_left, 0.0)
    a0 = np.concatenate(([0.0], np.cumsum(q_weight)))[first]  # competing failures strictly before u
    a1 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(q_weight[:, None] * x, axis=0)])[first]
    from_u = np.searchsorted(data.fail_times, times, side="left")  # failure times ≥ u
    c = data.d * data.g_fail / s0
    b0 = _suffix(c)[from_u]
    b1 = _suffix(c[:, None] * xbar)[from_u]
    q = a1 * b0[:, None] - a0[:, None] * b1
    compensator = np.cumsum(-q * (n_cens / n_at_risk**2)[:, None], axis=0)
    psi = compensator[group]
    cens = code == 0
    psi[cens] += q[group[cens]] / n_at_risk[group[cens]][:, None]
    return psi


def _prefix(v: np.ndarray) -> np.ndarray:
    """Sums of the first k entries, k = 0..len(v)."""
    return np.concatenate([np.zeros((1, *v.shape[1:])), np.cumsum(v, axis=0)])


def _suffix(v: np.ndarray) -> np.ndarray:
    """Sums from entry k to the end, k = 0..len(v) (the last is 0)."""
    return np.concatenate([np.cumsum(v[::-1], axis=0)[::-1], np.zeros((1, *v.shape[1:]))])


# --------------------------------------------------------------------------- the model


def fit_fine_gray(
    frame: pd.DataFrame,
    duration_col: str,
    cause_col: str,
    covariates: Sequence[str | CovariateSpec],
    *,
    cause: int = 1,
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    cuts: Mapping[str, float] | None = None,
) -> FineGrayModel:
    """Fit a Fine-Gray model of ``cause``, as ``crr(ftime, fstatus, cov1, failcode = cause)``.

    Parameters
    ----------
    frame : DataFrame
        One row per patient: the time, the cause code and the covariates.
    duration_col, cause_col : str
        Time to the first event or censoring, and its cause: 0 censored, any
        other code a cause (the codes other than ``cause`` compete).
    covariates : sequence of str or CovariateSpec
        As :func:`analysis.stats.cox.fit.fit_cox`: text columns are factors
        (treatment coding, the dummy columns crr is given), numbers per unit.
    cause : int
        The cause of interest (crr's ``failcode``).
    categorical, reference, cuts
        As :func:`analysis.stats.cox.fit.fit_cox`.

    Returns
    -------
    FineGrayModel
        sHRs with crr's robust 95 % CI and p, the pseudo likelihood, the
        baseline subdistribution hazard for predictions.

    Rows with a missing time, cause or covariate are left out (crr's na.omit).
    """
    for column in (duration_col, cause_col):
        if column not in frame.columns:
            raise DesignError(f"there is no column {column!r} in the data")
    specs = specs_for(frame, covariates, categorical, reference, cuts)
    ok = pd.to_numeric(frame[duration_col], errors="coerce").notna() & frame[cause_col].notna()
    data = frame.loc[ok.to_numpy()]
    design = build_design(data, specs)
    if design.matrix.shape[0] == 0:
        raise FineGrayError("No patient has a value for every covariate of the model.")
    time = data[duration_col].to_numpy(dtype=float)[design.kept]
    codes = data[cause_col].to_numpy(dtype=float)[design.kept].astype(int)
    return fit_fine_gray_design(time, codes, design, cause=cause)


def fit_fine_gray_design(time: np.ndarray, codes: np.ndarray, design: Design, *, cause: int = 1,
                         gtol: float = GTOL, max_iter: int = MAX_ITER) -> FineGrayModel:
    """Fit a Fine-Gray model to a ready design (rows aligned with ``time`` and the cause ``codes``)."""
    time = np.asarray(time, dtype=float)
    codes = np.asarray(codes).astype(int)
    if np.any(time < 0) or not np.all(np.isfinite(time)):
        raise FineGrayError("times must be finite and not negative")
    code = np.where(codes == cause, 1, np.where(codes == 0, 0, 2))
    n_events = int((code == 1).sum())
    if n_events == 0:
        raise FineGrayError(f"There are no events of this cause among these {len(time)} patients; "
                            "a Fine-Gray model needs some.")
    x = design.matrix
    if x.shape[1] == 0:
        raise FineGrayError("No covariate varies among these patients; there is nothing to estimate. "
                            + " ".join(design.notes))
    data = _SortedData.build(time, code, x)
    b, lik, _, iterations, converged = _iterate(data, gtol, max_iter)
    middle, info = _sandwich_middle(data, b)
    try:
        inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        raise FineGrayError("The information matrix is singular; the model cannot be estimated.") from None
    var = inv @ middle @ inv.T
    lik0 = _objective(data, np.zeros(len(b)))
    s0 = _risk_set_sums(data, np.exp(data.x @ b))
    baseline = pd.DataFrame({"time": data.fail_times, "jump": data.d / s0})
    event = (code == 1).astype(int)
    infinite = _terms_without_events(design, event)
    notes = list(design.notes)
    if not converged:
        notes.append(f"The model did not converge within {max_iter} iterations (crr's limit); "
                     "its numbers are not reliable.")
    if infinite:
        notes.append(f"No finite estimate for {', '.join(infinite)}: a level (or its reference) has no events "
                     "of this cause, so its subdistribution hazard ratio runs off to 0 or infinity.")
    lr = 2 * (lik0 - lik)
    return FineGrayModel(
        summary=_term_summary(design, b, var, event), design=design, cause=cause, n=len(time), events=n_events,
        competing=int((code == 2).sum()), loglik=(-lik0, -lik), lr_test=TestResult(lr, len(b), chi2_sf(lr, len(b))),
        converged=converged, iterations=iterations, warnings=tuple(notes), coef=b, var=var, information=info,
        baseline=baseline, time=time, event=event, infinite=infinite,
    )


def _terms_without_events(design: Design, event: np.ndarray) -> tuple[str, ...]:
    """Terms of factor levels (or of factors whose reference level) without events of the cause."""
    out: list[str] = []
    x = design.matrix
    for cov, group in design.levels.groupby("covariate", sort=False):
        cols = design.columns_of(str(cov))
        in_any = (x[:, cols] == 1).any(axis=1)
        for row in group.itertuples(index=False):
            term = str(row.term)
            members = ~in_any if row.is_reference else x[:, int(design.names.index(term))] == 1
            if members.any() and event[members].sum() == 0:
                out.extend([design.names[j] for j in cols] if row.is_reference else [term])
    return tuple(dict.fromkeys(out))
