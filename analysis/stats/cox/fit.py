"""Cox proportional hazards models, as R's ``coxph(..., ties = "efron")``.

The fit is a Newton-Raphson on the Efron partial log-likelihood that follows
R's ``coxfit6`` step for step (:mod:`analysis.stats.cox.likelihood`).

Reported with every fit: Wald z, p and 95 % CI per term; the likelihood-ratio
and score tests against the null model; Harrell's concordance exactly as
``survival::concordance`` reports it for a coxph fit. Firth's penalized
partial likelihood (``penalty="firth"``) is the remedy for monotone
likelihood (a level without events, separation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numba
import numpy as np
import pandas as pd
from scipy import special, stats

from analysis.stats._survival_data import (  # the tie rule survfit and coxph share
    RADIX_MIN,
    aeq_times,
    sort_order,
    time_codes,
)
from analysis.stats.cox._risk_sets import GroupedRiskSets, RiskSets
from analysis.stats.cox.concordance import concordance
from analysis.stats.cox.design import CovariateSpec, Design, DesignError, build_design, specs_for
from analysis.stats.cox.firth import firth
from analysis.stats.cox.likelihood import EPS, CoxFitError, efron, newton, scaling, solve

#: Fits of at least this many patients whose covariates are all 0/1 run on counts per covariate pattern,
#: when there are at most this many (death time, pattern) cells per patient.
GROUPED_MIN_ROWS = 20_000
GROUPED_CELLS_PER_PATIENT = 0.5
TOLER_INF = EPS**0.5  # coxph.control(toler.inf): flag for infinite coefficients
Z975 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class TestResult:
    """A chi-square test: statistic, degrees of freedom, p-value."""

    statistic: float
    df: int
    p: float


@dataclass(frozen=True)
class CoxModel:
    """A fitted Cox model.

    ``summary`` has one row per coefficient: term, covariate, level, coef
    (log hazard ratio), hr, se (from the inverse information), lower/upper
    (Wald 95 % CI, exp(coef ± 1.96 se)), z, p (Wald, two-sided), n and events
    (patients and events in the level; all of them for a per-unit term).
    ``loglik`` is (null model, fitted model); ``lr_test`` is the
    likelihood-ratio test against the null model, ``score_test`` the score
    (log-rank) test; ``concordance`` is Harrell's C as R's coxph reports it.
    ``warnings`` are plain-language messages (non-convergence, possibly
    infinite coefficients, dropped covariates).
    """

    summary: pd.DataFrame
    design: Design
    n: int
    events: int
    loglik: tuple[float, float]
    lr_test: TestResult
    score_test: TestResult
    converged: bool
    iterations: int
    warnings: tuple[str, ...]
    penalty: str | None
    coef: np.ndarray = field(repr=False)
    var: np.ndarray = field(repr=False)
    time: np.ndarray = field(repr=False)
    event: np.ndarray = field(repr=False)
    infinite: tuple[str, ...] = ()
    #: False for models on (start, stop] rows, whose concordance is not Harrell's C of the stop times.
    has_concordance: bool = True

    @property
    def linear_predictor(self) -> np.ndarray:
        return _exact_risk(self.design.matrix, self.coef)

    @cached_property
    def concordance(self) -> float:
        """Harrell's C as R's coxph reports it; computed when first read (subgroup fits never need it).

        NaN for a model on (start, stop] rows (see ``has_concordance``).
        """
        if not self.has_concordance:
            return float("nan")
        return concordance(self.time, self.event, self.linear_predictor)


# --------------------------------------------------------------------------- the model


def fit_cox(
    frame: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str | CovariateSpec],
    *,
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    cuts: Mapping[str, float] | None = None,
    penalty: str | None = None,
) -> CoxModel:
    """Fit a Cox model with Efron ties, as ``coxph(Surv(duration, event) ~ ..., ties = "efron")``.

    Parameters
    ----------
    frame : DataFrame
        One row per patient with the duration, the 0/1 event and the covariates.
    duration_col, event_col : str
        Columns of the follow-up time and of the event indicator (1 event, 0 censored).
    covariates : sequence of str or CovariateSpec
        Columns of the model. Text (and boolean) columns are categorical with
        treatment coding, numbers enter per unit; a :class:`CovariateSpec`
        says exactly how a covariate enters (see :mod:`analysis.stats.cox.design`).
    categorical : sequence of str
        Numeric columns to treat as categorical (e.g. centre codes).
    reference : mapping of str to str
        Reference level per categorical column (default: the first in sorted order).
    cuts : mapping of str to float
        Numeric columns entered as "≥ cut vs below".
    penalty : None or "firth"
        ``None`` for the ordinary partial likelihood, ``"firth"`` for Firth's
        penalized partial likelihood l(β) + ½ log det I(β), which gives finite
        estimates under monotone likelihood (a level without events).

    Returns
    -------
    CoxModel
        ``summary`` is a tidy table of the terms (HR, Wald 95 % CI, p); tests,
        concordance and plain-language warnings are attributes.

    Rows with a missing time, event or covariate are left out. Raises
    :class:`CoxFitError` with a plain-language message when no model can be
    fitted (no events, no usable covariate, collinear covariates).
    """
    if penalty not in (None, "firth"):
        raise ValueError(f"unknown penalty {penalty!r}; expected None or 'firth'")
    for column in (duration_col, event_col):
        if column not in frame.columns:
            raise DesignError(f"there is no column {column!r} in the data")
    specs = specs_for(frame, covariates, categorical, reference, cuts)
    ok = (pd.to_numeric(frame[duration_col], errors="coerce").notna() & frame[event_col].notna()).to_numpy()
    data = frame if ok.all() else frame.loc[ok]
    design = build_design(data, specs)
    if design.matrix.shape[0] == 0:
        raise CoxFitError("No patient has a value for every covariate of the model.")
    time = data[duration_col].to_numpy(dtype=float)[design.kept]
    status = (data[event_col].to_numpy(dtype=float)[design.kept] == 1).astype(int)
    return fit_design(time, status, design, penalty=penalty)


def fit_design(time: np.ndarray, status: np.ndarray, design: Design, *, penalty: str | None = None) -> CoxModel:
    """Fit a Cox model to a ready design matrix (rows aligned with ``time`` and ``status``).

    :func:`fit_cox` builds the design from covariate specs; this entry point
    takes one with extra columns, e.g. interaction terms.
    """
    notes = list(design.notes)
    time = aeq_times(np.asarray(time, dtype=float))
    status = np.asarray(status).astype(int)
    n, n_events = len(time), int(status.sum())
    if n_events == 0:
        raise CoxFitError(f"There are no events among these {n} patients; a Cox model needs events.")
    if not _has_comparison(time, status):
        raise CoxFitError("No patient is still at risk after another's event (every event happens when all "
                          "patients left have it too, e.g. all at the same time): the data carry no information "
                          "on hazard ratios.")
    patterns = indicator_patterns(design.matrix) if penalty is None and n >= GROUPED_MIN_ROWS else None
    design, dropped, keep = _drop_aliased(design, patterns)
    notes.extend(f"{term} is collinear with other terms and was left out (R reports NA)." for term in dropped)
    if design.matrix.shape[1] == 0:
        raise CoxFitError("No covariate varies among these patients; there is nothing to estimate. "
                          + " ".join(notes))
    x = design.matrix
    if patterns is not None:
        patterns = (patterns[0], patterns[1][:, keep])
    xt, rs, scale = likelihood_data(time, status, x, patterns)
    if penalty == "firth":
        assert isinstance(rs, RiskSets)
        beta_s, var_s, loglik, it, converged = firth(xt.T, rs)
        loglik0, u0, info0 = efron(xt, np.zeros(x.shape[1]), rs)
        step0 = solve(info0, u0)
        sctest = float(u0 @ step0) if step0 is not None else float("nan")
        u = np.zeros(x.shape[1])
    else:
        beta_s, var_s, loglik0, loglik, sctest, it, converged, u = newton(xt, rs)
    coef = beta_s * scale
    var = var_s * np.outer(scale, scale)
    infinite: list[str] = []
    if penalty is None:
        infinite = _possibly_infinite(design, coef, var, u / scale, converged, x @ coef)
    if not converged:
        notes.append("The model did not converge (the estimates kept changing after "
                     f"{it} iterations); its numbers are not reliable.")
    if infinite:
        notes.append(
            f"The likelihood has no maximum for {', '.join(infinite)}: the estimate runs off to infinity "
            "(monotone likelihood, typically a level without events). Its hazard ratio is not an estimate; "
            "a penalized (Firth) fit gives a finite one."
        )
    summary = _summary(design, coef, var, status)
    df = x.shape[1]
    lr = 2 * (loglik - loglik0)
    return CoxModel(
        summary=summary,
        design=design,
        n=n,
        events=n_events,
        loglik=(float(loglik0), float(loglik)),
        lr_test=TestResult(float(lr), df, chi2_sf(lr, df)),
        score_test=TestResult(sctest, df, chi2_sf(sctest, df)),
        converged=bool(converged),
        iterations=int(it),
        warnings=tuple(notes),
        penalty=None if penalty is None else "Firth: l(β) + ½·log det I(β)",
        coef=coef,
        var=var,
        time=time,
        event=status,
        infinite=tuple(infinite),
    )


def _has_comparison(time: np.ndarray, status: np.ndarray) -> bool:
    """Some event time has patients at risk who do not have the event then: the likelihood is informative.

    One pass, no sort: at the first event time everybody still in follow-up is
    at risk, so it is informative there unless every patient has left by then
    and all those left have the event; later event times then do not exist.
    """
    first = time[status == 1].min()
    return bool((time > first).any() or ((time == first) & (status != 1)).any())


def likelihood_data(time: np.ndarray, status: np.ndarray, x: np.ndarray,
                    patterns: tuple[np.ndarray, np.ndarray] | None = None,
                    ) -> tuple[np.ndarray, RiskSets | GroupedRiskSets, np.ndarray]:
    """The design the likelihood runs on (centred and scaled as coxfit6), its risk sets, and the scale.

    With ``patterns`` (:func:`indicator_patterns`: covariates all 0/1, few
    distinct rows) and fewer (time, pattern) cells than patients, the
    patients are counted per pattern (:class:`GroupedRiskSets`); otherwise
    rows are sorted by time, one covariate per row of the result so that every
    pass over the patients is contiguous.
    """
    if patterns is not None:
        codes, distinct = time_codes(time)
        pattern, rows = patterns
        if len(distinct) * len(rows) <= GROUPED_CELLS_PER_PATIENT * len(time):
            means, scale = scaling(rows)
            grouped = GroupedRiskSets.build(codes, len(distinct), status, pattern, len(rows))
            return np.ascontiguousarray(((rows - means) * scale).T), grouped, scale
    rs = RiskSets.build(time, status)
    means, scale = scaling(x)
    xt = np.empty((x.shape[1], len(time)))
    for j in range(x.shape[1]):
        np.take((x[:, j] - means[j]) * scale[j], rs.order, out=xt[j])
    return xt, rs, scale


def indicator_patterns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Each row's pattern (index) and the distinct rows, when every column is 0/1 (at most 20); else None."""
    p = x.shape[1]
    if p > 20:
        return None
    bits = _indicator_bits(x)
    if bits is None:
        return None
    present = np.bincount(bits, minlength=1 << p) > 0
    distinct = np.flatnonzero(present)
    rows = ((distinct[:, None] >> np.arange(p)) & 1).astype(float)
    return (np.cumsum(present) - 1)[bits], rows


def _indicator_bits(x: np.ndarray) -> np.ndarray | None:
    bits, ok = _pack_bits(x)
    return bits if ok else None


@numba.njit(cache=True, nogil=True)
def _pack_bits(x):  # pragma: no cover - compiled
    """Row j's 0/1 values as the bits of one integer; False when a value is neither 0 nor 1."""
    n, p = x.shape
    bits = np.zeros(n, np.int64)
    for j in range(n):
        b = 0
        for k in range(p):
            v = x[j, k]
            if v != 0.0 and v != 1.0:
                return bits, False  # a numeric covariate shows itself in the first rows: no full pass
            b |= (v == 1.0) << k
        bits[j] = b
    return bits, True


def compile_kernels() -> None:
    """Run every compiled (numba) kernel once on a few rows, so that it is compiled or loaded from numba's
    cache now rather than during the first model a user fits (seconds on a fresh install, once)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"t": rng.integers(1, 10, 60).astype(float), "e": (rng.random(60) < 0.7).astype(int),
                          "a": rng.choice(["x", "y"], 60), "b": rng.normal(size=60)})
    _ = fit_cox(frame, "t", "e", ["a", "b"]).concordance
    x = np.asfortranarray(np.column_stack([frame["a"] == "x", frame["b"] > 0]).astype(float))
    xt, rs, _scale = likelihood_data(frame["t"].to_numpy(), frame["e"].to_numpy(), x, indicator_patterns(x))
    efron(xt, np.zeros(2), rs)
    indicator_patterns(np.ascontiguousarray(x))  # designs come column- and row-major
    sort_order(rng.random(RADIX_MIN))  # risk scores and times of large cohorts are sorted by radix


def chi2_sf(statistic: float, df: int) -> float:
    """Upper tail of the chi-square distribution (scipy.special, without scipy.stats' overhead)."""
    return float(special.chdtrc(df, statistic)) if np.isfinite(statistic) else float("nan")


def _exact_risk(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The linear predictor summed column by column in a fixed order, so equal rows tie exactly.

    (A BLAS product may use different kernels for different row blocks; ties
    in the risk score matter for the concordance.)
    """
    out = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        out += x[:, j] * coef[j]
    return out


def _drop_aliased(design: Design, patterns: tuple[np.ndarray, np.ndarray] | None = None,
                  ) -> tuple[Design, list[str], list[int]]:
    """Leave out columns that are linear combinations of earlier ones (R: coefficient NA).

    Sequentially, from the centred cross-product matrix: a column whose
    variance left after regressing on the kept columns is below 1e-14 of its
    own (a residual norm below 1e-7) is aliased. Returns the design, the
    dropped terms and the indices of the kept columns.
    """
    x = design.matrix
    if x.shape[1] == 0:
        return design, [], []
    cp = _centred_cross_products(x, patterns)
    keep: list[int] = []
    for j in range(x.shape[1]):
        own = cp[j, j]
        if keep:
            sub = cp[np.ix_(keep, keep)]
            cj = cp[keep, j]
            resid = own - cj @ np.linalg.lstsq(sub, cj, rcond=None)[0]
        else:
            resid = own
        if own > 0 and resid > 1e-14 * own:
            keep.append(j)
    if len(keep) == x.shape[1]:
        return design, [], keep
    dropped = [design.terms["term"].iloc[j] for j in range(x.shape[1]) if j not in keep]
    terms = design.terms.iloc[keep].reset_index(drop=True)
    levels = design.levels[~design.levels["term"].isin(dropped)].reset_index(drop=True)
    return Design(x[:, keep], terms, levels, design.kept, design.specs, design.notes), dropped, keep


def _centred_cross_products(x: np.ndarray, patterns: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """(x − x̄)ᵀ(x − x̄), from the distinct rows and their counts when the patterns are known."""
    if patterns is None:
        centred = x - x.mean(axis=0)
        return centred.T @ centred
    pattern, rows = patterns
    counts = np.bincount(pattern, minlength=len(rows)).astype(float)
    centred = rows - counts @ rows / counts.sum()
    return (centred.T * counts) @ centred


def _possibly_infinite(design, coef, var, u, converged, lp) -> list[str]:
    """R's coxph.fit check: the last Newton step is still large next to the coefficient."""
    names = list(design.terms["term"])
    if not converged:
        if np.max(lp) > 500 or not np.all(np.isfinite(var)):
            return names
        return []
    step = np.abs(u @ var)
    flag = ~np.isfinite(u) | ((step > EPS) & (step > TOLER_INF * np.abs(coef)))
    return [t for t, f in zip(names, flag, strict=False) if f]


def _summary(design: Design, coef: np.ndarray, var: np.ndarray, status: np.ndarray) -> pd.DataFrame:
    se = np.sqrt(np.diag(var))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = coef / se
        out = {
            "term": design.terms["term"].to_numpy(), "covariate": design.terms["covariate"].to_numpy(),
            "level": design.terms["level"].to_numpy(), "coef": coef, "hr": np.exp(coef), "se": se,
            "lower": np.exp(coef - Z975 * se), "upper": np.exp(coef + Z975 * se), "z": z,
            "p": 2 * special.ndtr(-np.abs(z)),
        }
    x = design.matrix
    died = status == 1
    n_rows, n_events = [], []
    for j, kind in enumerate(design.terms["kind"]):
        members = x[:, j] == 1 if kind in ("level", "cut") else np.ones(len(x), dtype=bool)
        n_rows.append(int(members.sum()))
        n_events.append(int((members & died).sum()))
    out["n"] = np.array(n_rows, dtype=int)
    out["events"] = np.array(n_events, dtype=int)
    return pd.DataFrame(out)
