"""Relapse and NRM modelled both ways: Fine-Gray subdistribution hazards and cause-specific Cox.

What the Relapse models view and the command line's ``crr`` show for one cause:

* the Fine-Gray model (R ``cmprsk::crr``): subdistribution hazard ratios (sHR)
  with crr's robust 95 % CI and p — *how many* patients relapse (or die
  without relapse) by a time;
* the cause-specific Cox model (R ``coxph`` with the competing event censored,
  Efron ties) — *how fast* event-free patients have the event;
* the Risk factors page's small-sample guardrails for both (events per
  coefficient, levels without events, divergence);
* for a covariate profile, the cumulative incidence each model predicts
  (``predict.crr``; ``riskRegression::predictRisk(CSC(...))``) beside the
  Aalen-Johansen estimate of the patients who match the profile.

Both models use the relapse-free-survival time scale: cause 1 relapse,
cause 2 death without relapse (:func:`analysis.cohort.model.competing_cause`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.analyses.model_checks import small_sample_warnings
from analysis.analyses.models import cox_model
from analysis.cohort.model import CAUSE_NRM, CAUSE_RELAPSE, CohortError, competing_cause, label, rfs_time
from analysis.stats.competing_risks import CompetingRisksError, CumulativeIncidence, cumulative_incidence
from analysis.stats.cox.cause_specific import CauseSpecificModels
from analysis.stats.cox.design import CovariateSpec, DesignError, level_label
from analysis.stats.cox.fit import CoxFitError, CoxModel
from analysis.stats.fine_gray import FineGrayError, FineGrayModel, fit_fine_gray
from analysis.stats.profiles import design_row
from analysis.text import p_value

CAUSE_CODES: dict[str, int] = {"relapse": CAUSE_RELAPSE, "nrm": CAUSE_NRM}
CAUSE_EVENTS: dict[str, str] = {"relapse": "relapse", "nrm": "death without relapse"}
FINE_GRAY, CAUSE_SPECIFIC = "Fine-Gray (sHR)", "Cause-specific (HR)"

#: Which question each model answers, for the reader (the view and the command line say it).
QUESTIONS: dict[str, str] = {
    FINE_GRAY: ("The subdistribution hazard ratio (Fine & Gray) answers **how many**: how the factor changes the "
                "cumulative incidence of {event} by a given time. Patients who had the competing event stay in "
                "its risk set (weighted by the censoring distribution), so an sHR above 1 means more patients "
                "with {event} — for prognosis and counselling."),
    CAUSE_SPECIFIC: ("The cause-specific hazard ratio answers **how fast**: how the factor changes the rate of "
                     "{event} among patients still alive and event-free; the competing event censors. It can "
                     "differ from the sHR when the factor also changes the competing risk — for biology and "
                     "aetiology."),
}
#: The Firth remedy is offered on the Risk factors page only.
_FIRTH_HINT = " A Firth-penalized fit gives a finite estimate."


@dataclass(frozen=True, eq=False)
class CompetingRegression:
    """Both models of one cause, their guardrails, and what could not be fitted.

    ``fine_gray`` / ``cause_specific`` are None when the model cannot be fitted;
    ``problems`` then says why (keyed by :data:`FINE_GRAY`, :data:`CAUSE_SPECIFIC`).
    ``competing`` is the cause-specific model of the other cause, needed for
    the cause-specific prediction. ``warnings`` are the guardrails of both.
    """

    cause: str
    specs: tuple[CovariateSpec, ...]
    fine_gray: FineGrayModel | None
    cause_specific: CoxModel | None
    competing: CoxModel | None
    problems: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def code(self) -> int:
        return CAUSE_CODES[self.cause]

    @property
    def models(self) -> dict[str, FineGrayModel | CoxModel]:
        """The fitted models by display name (for the side-by-side forest plot)."""
        out: dict[str, FineGrayModel | CoxModel] = {}
        if self.fine_gray is not None:
            out[FINE_GRAY] = self.fine_gray
        if self.cause_specific is not None:
            out[CAUSE_SPECIFIC] = self.cause_specific
        return out

    @property
    def questions(self) -> list[str]:
        return [QUESTIONS[name].format(event=CAUSE_EVENTS[self.cause]) for name in (FINE_GRAY, CAUSE_SPECIFIC)]

    @property
    def summary(self) -> pd.DataFrame:
        """Tidy: one row per term with the sHR and the cause-specific HR, their CIs and p."""
        parts = []
        for name, model in self.models.items():
            s = model.summary[["term", "covariate", "level", "hr", "lower", "upper", "p", "n", "events"]]
            parts.append(s.assign(model=name, estimable=[t not in model.infinite for t in s["term"]]))
        if not parts:
            return pd.DataFrame(columns=["model", "term", "covariate", "level", "hr", "lower", "upper", "p", "n",
                                         "events", "estimable"])
        out = pd.concat(parts, ignore_index=True)
        return out[["model", "term", "covariate", "level", "hr", "lower", "upper", "p", "n", "events", "estimable"]]

    def statistics(self) -> pd.DataFrame:
        """Model statistics: patients, events of each cause, the (pseudo) likelihood-ratio tests."""
        rows = []
        fg, cs = self.fine_gray, self.cause_specific
        if fg is not None:
            rows.append(("Patients / events / competing events", f"{fg.n} / {fg.events} / {fg.competing}",
                         f"complete cases; {CAUSE_EVENTS[self.cause]} / the competing event"))
            rows.append(("Fine-Gray pseudo likelihood-ratio test", f"χ² = {fg.lr_test.statistic:.2f}, "
                         f"df = {fg.lr_test.df}, {p_value(fg.lr_test.p)}", "as summary.crr prints it"))
        if cs is not None:
            rows.append(("Cause-specific likelihood-ratio test", f"χ² = {cs.lr_test.statistic:.2f}, "
                         f"df = {cs.lr_test.df}, {p_value(cs.lr_test.p)}", "coxph, competing event censored"))
            rows.append(("Cause-specific concordance (C)", f"{cs.concordance:.3f}", "0.5 = no discrimination"))
        return pd.DataFrame(rows, columns=["Statistic", "Value", "Meaning"])


def _frame(cohort: pd.DataFrame, specs: Sequence[CovariateSpec]) -> pd.DataFrame:
    columns = [c for c in dict.fromkeys(s.column for s in specs) if c in cohort.columns]
    return cohort[columns].assign(_time=rfs_time(cohort), _cause=competing_cause(cohort))


def competing_regression(cohort: pd.DataFrame, cause: str, specs: Sequence[CovariateSpec]) -> CompetingRegression:
    """Fine-Gray and cause-specific Cox models of ``cause`` (``"relapse"`` or ``"nrm"``); never raises for bad data."""
    if cause not in CAUSE_CODES:
        raise ValueError(f"the cause must be relapse or nrm, got {cause!r}")
    specs = tuple(specs)
    problems: dict[str, str] = {}
    fg = cs = other = None
    try:
        fg = fit_fine_gray(_frame(cohort, specs), "_time", "_cause", specs, cause=CAUSE_CODES[cause])
    except (FineGrayError, DesignError) as err:
        problems[FINE_GRAY] = str(err)
    try:
        cs = cox_model(cohort, cause, specs)
    except (CoxFitError, DesignError, CohortError) as err:
        problems[CAUSE_SPECIFIC] = str(err)
    try:
        other = cox_model(cohort, "nrm" if cause == "relapse" else "relapse", specs)
    except (CoxFitError, DesignError, CohortError):
        other = None
    warnings: list[str] = []
    for name, model in ((FINE_GRAY, fg), (CAUSE_SPECIFIC, cs)):
        if model is None:
            continue
        notes = [*model.warnings, *small_sample_warnings(model)]  # type: ignore[arg-type]
        warnings.extend(f"{name}: {w.replace(_FIRTH_HINT, '')}" for w in dict.fromkeys(notes))
    return CompetingRegression(cause, specs, fg, cs, other, problems, tuple(dict.fromkeys(warnings)))


# ------------------------------------------------------------------ predictions for a profile


@dataclass(frozen=True, eq=False)
class ProfilePrediction:
    """Predicted cumulative incidence of one cause for a covariate profile, and the matching patients' estimate.

    ``fine_gray`` and ``cause_specific`` are tables (time, cif) or None;
    ``observed`` the Aalen-Johansen estimate of the patients matching the
    profile's factors (``matched`` describes them), None when nobody matches;
    ``notes`` say what could not be matched or predicted.
    """

    cause: str
    profile: Mapping[str, object]
    fine_gray: pd.DataFrame | None
    cause_specific: pd.DataFrame | None
    observed: CumulativeIncidence | None
    matched: str
    everyone: CumulativeIncidence
    notes: tuple[str, ...] = ()

    def at(self, times: Sequence[float]) -> pd.DataFrame:
        """The three estimates at chosen months: fine_gray, cause_specific, observed (with its CI)."""
        t = np.asarray(times, dtype=float)
        out = pd.DataFrame({"time": t})
        for name, table in (("fine_gray", self.fine_gray), ("cause_specific", self.cause_specific)):
            out[name] = np.nan if table is None else _step_at(table, t)
        if self.observed is not None:
            at = self.observed.cif_at(t)
            at = at[at["cause"] == CAUSE_CODES[self.cause]].set_index("time").reindex(t)
            out["observed"], out["observed_lower"], out["observed_upper"] = (
                at["cif"].to_numpy(), at["lower"].to_numpy(), at["upper"].to_numpy())
        return out


def _step_at(table: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(table["time"].to_numpy(), t, side="right") - 1
    values = table["cif"].to_numpy()
    return np.where(idx >= 0, values[np.clip(idx, 0, None)], 0.0)


def default_profile(cohort: pd.DataFrame, specs: Sequence[CovariateSpec]) -> dict[str, object]:
    """A profile to start from: each factor's reference level, each number's median."""
    profile: dict[str, object] = {}
    for spec in specs:
        values = cohort[spec.column].dropna()
        if spec.categorical:
            profile[spec.column] = spec.reference if spec.reference is not None else (
                sorted(level_label(v) if not isinstance(v, str) else v for v in values.unique())[0]
                if len(values) else None)
        else:
            profile[spec.column] = float(values.median()) if len(values) else 0.0
    return profile


def _matching(cohort: pd.DataFrame, specs: Sequence[CovariateSpec], profile: Mapping[str, object]):
    """Patients who share the profile's factors (and side of each cut); per-unit numbers are not matched."""
    mask = np.ones(len(cohort), dtype=bool)
    words, unmatched = [], []
    for spec in specs:
        value = profile.get(spec.column)
        column = cohort[spec.column]
        if spec.categorical:
            text = level_label(value) if not isinstance(value, str) else value
            mask &= column.map(lambda v: None if pd.isna(v) else (v if isinstance(v, str) else level_label(v))
                               ).eq(text).to_numpy()
            words.append(f"{label(spec.column)} {text}")
        elif spec.cut is not None:
            above = float(value) >= spec.cut  # type: ignore[arg-type]
            numbers = pd.to_numeric(column, errors="coerce")
            mask &= ((numbers >= spec.cut) if above else (numbers < spec.cut)).to_numpy()
            words.append(f"{label(spec.column)} {'≥' if above else '<'} {spec.cut:g}")
        else:
            unmatched.append(label(spec.column))
    return mask, words, unmatched


def predict_profile(result: CompetingRegression, cohort: pd.DataFrame,
                    profile: Mapping[str, object]) -> ProfilePrediction:
    """Each model's predicted cumulative incidence for ``profile``, over the matching patients' Aalen-Johansen curve.

    Raises :class:`~analysis.stats.cox.design.DesignError` naming a value the models do not know.
    """
    code = result.code
    notes: list[str] = []
    fg_table = cs_table = None
    if result.fine_gray is not None:
        fg_table = result.fine_gray.predict(design_row(result.fine_gray.design, profile))
    if result.cause_specific is not None and result.competing is not None:
        models = CauseSpecificModels({code: result.cause_specific, 3 - code: result.competing},
                                     float(np.max(result.cause_specific.time)))
        cs_table = models.curve(code, design_row(result.cause_specific.design, profile))
    elif result.cause_specific is not None:
        notes.append("The cause-specific prediction needs a model of the competing event too, which cannot be "
                     "fitted here (no competing events?).")
    mask, words, unmatched = _matching(cohort, result.specs, profile)
    everyone = cumulative_incidence(rfs_time(cohort), competing_cause(cohort))
    observed = None
    if unmatched:
        notes.append(f"{', '.join(unmatched)} enter the models per unit and are not matched: the observed curve "
                     "is of the patients who share the other values.")
    if mask.sum() >= 2:
        try:
            observed = cumulative_incidence(rfs_time(cohort[mask]), competing_cause(cohort[mask]))
        except CompetingRisksError as err:
            notes.append(f"No observed curve: {err}.")
    else:
        notes.append("Fewer than two patients match this profile: no observed curve to compare with.")
    matched = ", ".join(words) if words else "all patients"
    return ProfilePrediction(result.cause, dict(profile), fg_table, cs_table, observed, matched, everyone,
                             tuple(notes))
