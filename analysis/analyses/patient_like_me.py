"""What happened to patients like this one: the Patient-like-me page and ``python -m analysis predict``.

For a profile (covariate values in the cohort's words) and a model spec, on the filtered cohort:

* predicted OS and RFS for the profile from the multivariable Cox models, with
  95 % CIs (:func:`analysis.stats.cox.predict.predict_survival`, R ``survfit(fit, newdata)``);
* predicted relapse and NRM cumulative incidence from the two cause-specific
  Cox models (:func:`analysis.stats.cox.cause_specific.predict_cumulative_incidence`,
  R ``riskRegression::CSC`` + ``predictRisk``), point estimates without a band;
* for comparison: the Kaplan-Meier curves of the whole filtered cohort and of
  the patients who match the profile on the chosen factors (numbers within a window);
* out-of-support warnings: fewer than :data:`MIN_MATCHING` matching patients,
  a profile outside the covariate values the model was fitted on, fewer than
  :data:`~analysis.analyses.model_checks.EPV_MINIMUM` events per coefficient;
  and always :data:`RESEARCH_NOTE`.

The models depend on the cohort and the spec only (:func:`fit_prediction_models`,
which the page keeps between reruns); the prediction for a profile is fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.analyses.model_checks import EPV_MINIMUM
from analysis.analyses.models import cox_model
from analysis.cohort.model import (
    LANDMARK_MONTHS,
    CohortError,
    age_group,
    competing_cause,
    covariates,
    endpoint,
    has_overall_survival,
    is_categorical,
    label,
    levels,
    rfs_time,
)
from analysis.stats.competing_risks import CumulativeIncidence, cumulative_incidence
from analysis.stats.cox.cause_specific import PredictedIncidence, predict_cumulative_incidence
from analysis.stats.cox.design import CovariateSpec, DesignError
from analysis.stats.cox.diagnostics import events_per_covariate
from analysis.stats.cox.fit import CoxFitError, CoxModel
from analysis.stats.cox.predict import PredictedSurvival, predict_survival
from analysis.stats.kaplan_meier import KaplanMeier, fit_kaplan_meier
from analysis.text import join_words, landmark_label, percent, survival_text

#: Fewer matching patients than this: too few to set the model's prediction against.
MIN_MATCHING = 5
RESEARCH_NOTE = ("A research tool: these predictions come from a registry model and carry its uncertainty "
                 "and its limits. They are not a basis for a treatment decision.")
SURVIVAL_ENDPOINTS = ("os", "rfs")


@dataclass(frozen=True, eq=False)
class PredictionModels:
    """The Cox models of one cohort and spec: ``models[endpoint]`` or the reason in ``problems[endpoint]``.

    Endpoints: ``os``, ``rfs``, and the cause-specific ``relapse`` and ``nrm``.
    ``cohort_km[endpoint]`` (OS, RFS) and ``cohort_incidence`` (relapse, NRM):
    the whole cohort's Kaplan-Meier and Aalen-Johansen curves, the same for every profile.
    """

    specs: tuple[CovariateSpec, ...]
    models: dict[str, CoxModel]
    problems: dict[str, str]
    cohort: pd.DataFrame = field(repr=False)
    cohort_km: dict[str, KaplanMeier] = field(repr=False, default_factory=dict)
    cohort_incidence: CumulativeIncidence | None = field(repr=False, default=None)


def fit_prediction_models(cohort: pd.DataFrame, specs: Sequence[CovariateSpec]) -> PredictionModels:
    """OS, RFS, relapse and NRM models with the same covariates; a model that cannot be fitted gives its reason."""
    models: dict[str, CoxModel] = {}
    problems: dict[str, str] = {}
    for name in ("os", "rfs", "relapse", "nrm"):
        if name == "os" and not has_overall_survival(cohort):
            problems[name] = "these data do not record vital status after relapse"
            continue
        try:
            models[name] = cox_model(cohort, name, specs)
        except (CoxFitError, DesignError, CohortError) as err:
            problems[name] = str(err)
    km = {}
    for name in SURVIVAL_ENDPOINTS:
        if name != "os" or has_overall_survival(cohort):
            ep = endpoint(cohort, name)
            km[name] = fit_kaplan_meier(ep.time, ep.event, label="all")
    incidence = cumulative_incidence(rfs_time(cohort), competing_cause(cohort))
    return PredictionModels(tuple(specs), models, problems, cohort, km, incidence)


# ------------------------------------------------------------------ the profile


def profile_fields(cohort: pd.DataFrame) -> list[str]:
    """The covariates a profile can hold: those the data record (age group comes from the age)."""
    return [c for c in covariates(cohort) if c != "age_group" and cohort[c].notna().any()]


def default_profile(cohort: pd.DataFrame) -> dict[str, object]:
    """A typical patient of ``cohort``: median of each number (one decimal), most frequent level of each factor."""
    out: dict[str, object] = {}
    for column in profile_fields(cohort):
        values = cohort[column].dropna()
        if is_categorical(cohort, column):
            counts = values.astype(str).value_counts()
            out[column] = max(levels(cohort, column), key=lambda lvl: counts.get(lvl, 0))
        else:
            out[column] = round(float(np.median(pd.to_numeric(values))), 1)
    return out


class ProfileError(ValueError):
    """A profile value the cohort cannot hold (unknown column, not a number, unknown level)."""


def clean_profile(cohort: pd.DataFrame, raw: Mapping[str, object]) -> dict[str, object]:
    """Profile values as the cohort holds them: numbers as floats, levels as text; raises :class:`ProfileError`."""
    fields = profile_fields(cohort)
    out: dict[str, object] = {}
    for column, value in raw.items():
        if column not in fields:
            raise ProfileError(f"{column!r} is not a covariate of these data; a profile can hold "
                               f"{', '.join(fields)}")
        if is_categorical(cohort, column):
            known = levels(cohort, column)
            if str(value) not in known:
                raise ProfileError(f"{label(column)} = {value!r} is not one of {', '.join(known)}")
            out[column] = str(value)
        else:
            try:
                out[column] = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ProfileError(f"{label(column)} must be a number, got {value!r}") from None
    return out


def with_derived(profile: Mapping[str, object], age_cut: float) -> dict[str, object]:
    """The profile with its ``age_group`` at the age cut, as the cohort has it."""
    out = dict(profile)
    age = out.get("age_years")
    if isinstance(age, int | float):
        out["age_group"] = age_group(pd.Series([float(age)], dtype=float), age_cut).iloc[0]
    return out


def default_window(values: pd.Series) -> float:
    """How close a number must be to match: half the interquartile range, to two significant digits."""
    x = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if len(x) == 0:
        return 0.0
    q25, q75 = np.percentile(x, [25, 75])
    half = float(q75 - q25) / 2
    return float(f"{half:.2g}") if half > 0 else 0.0


def matching_mask(cohort: pd.DataFrame, profile: Mapping[str, object], factors: Sequence[str],
                  windows: Mapping[str, float]) -> np.ndarray:
    """Patients equal to the profile on each factor (a number: within ± its window)."""
    mask = np.ones(len(cohort), dtype=bool)
    for column in factors:
        values = cohort[column]
        if is_categorical(cohort, column):
            mask &= (values.astype(str) == str(profile[column])).to_numpy() & values.notna().to_numpy()
        else:
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            mask &= np.abs(x - float(profile[column])) <= windows.get(column, 0.0) + 1e-9  # type: ignore[arg-type]
    return mask


def matching_description(profile: Mapping[str, object], factors: Sequence[str], windows: Mapping[str, float],
                         cohort: pd.DataFrame) -> str:
    """``"Lineage = T-ALL, Age at HSCT2 (years) 9–15"``: what the matching patients share."""
    parts = []
    for column in factors:
        if is_categorical(cohort, column):
            parts.append(f"{label(column)} = {profile[column]}")
        else:
            value, w = float(profile[column]), windows.get(column, 0.0)  # type: ignore[arg-type]
            parts.append(f"{label(column)} {value - w:g}–{value + w:g}")
    return ", ".join(parts) if parts else "no factor (all patients)"


# ------------------------------------------------------------------ the prediction


@dataclass(frozen=True, eq=False)
class EndpointPrediction:
    """One survival endpoint: the predicted curve (None, with ``problem``, when it cannot be given) and the KMs."""

    endpoint: str
    curve: PredictedSurvival | None
    problem: str | None
    at: pd.DataFrame
    cohort_km: KaplanMeier
    matching_km: KaplanMeier | None


@dataclass(frozen=True, eq=False)
class PatientPrediction:
    """Everything the Patient-like-me page shows for one profile.

    ``survival[endpoint]`` for ``os`` and ``rfs`` (present when the data have the endpoint);
    ``incidence``: relapse (cause 1) and NRM (cause 2) for the profile, or None with
    ``incidence_problem``; ``n_matching`` patients match on ``match_on``;
    ``warnings``: the out-of-support warnings; ``sentences``: survival at the
    landmarks as a clinician can read it out.
    """

    profile: dict[str, object]
    times: tuple[float, ...]
    survival: dict[str, EndpointPrediction]
    incidence: PredictedIncidence | None
    incidence_problem: str | None
    n_matching: int
    matching: str
    warnings: tuple[str, ...]
    sentences: tuple[str, ...]
    cohort_incidence: CumulativeIncidence
    note: str = RESEARCH_NOTE

    def landmarks(self) -> pd.DataFrame:
        """endpoint, time, survival, lower, upper (predicted, 95 % CI) at the landmark times."""
        frames = [p.at.assign(endpoint=name) for name, p in self.survival.items() if p.curve is not None]
        if not frames:
            return pd.DataFrame(columns=["endpoint", "time", "survival", "lower", "upper"])
        return pd.concat(frames, ignore_index=True)[["endpoint", "time", "survival", "lower", "upper"]]


def predict_patient(models: PredictionModels, profile: Mapping[str, object], match_on: Sequence[str] = (),
                    windows: Mapping[str, float] | None = None,
                    times: Sequence[float] = LANDMARK_MONTHS) -> PatientPrediction:
    """The predictions for ``profile`` (with ``age_group`` already derived), and how far to trust them."""
    cohort = models.cohort
    windows = dict(windows or {})
    profile = dict(profile)
    mask = matching_mask(cohort, profile, match_on, windows)
    matched = cohort.loc[mask]
    survival = {name: _endpoint_prediction(models, name, profile, matched, times) for name in models.cohort_km}
    incidence, incidence_problem = _incidence(models, profile)
    warnings = _support_warnings(models, profile, int(mask.sum()), match_on)
    sentences = tuple(s for s in (_sentence(p, times) for p in survival.values()) if s)
    return PatientPrediction(profile, tuple(float(t) for t in times), survival, incidence, incidence_problem,
                             int(mask.sum()), matching_description(profile, match_on, windows, cohort),
                             tuple(warnings), sentences + _incidence_sentence(incidence, times),
                             models.cohort_incidence)  # type: ignore[arg-type]


def _endpoint_prediction(models: PredictionModels, name: str, profile: Mapping[str, object],
                         matched: pd.DataFrame, times: Sequence[float]) -> EndpointPrediction:
    matching_km = None
    if len(matched):
        m = endpoint(matched, name)
        matching_km = fit_kaplan_meier(m.time, m.event, label="matching")
    curve, problem = None, models.problems.get(name)
    if name in models.models:
        try:
            curve = predict_survival(models.models[name], profile)
        except DesignError as err:
            problem = str(err)
    at = curve.survival_at(times) if curve is not None else pd.DataFrame(columns=["time", "survival", "lower",
                                                                                     "upper"])
    return EndpointPrediction(name, curve, problem, at, models.cohort_km[name], matching_km)


def _incidence(models: PredictionModels, profile: Mapping[str, object]) -> tuple[PredictedIncidence | None, str | None]:
    missing = [models.problems[k] for k in ("relapse", "nrm") if k in models.problems]
    if missing:
        return None, missing[0]
    try:
        return predict_cumulative_incidence(models.models["relapse"], models.models["nrm"], profile), None
    except (DesignError, ValueError) as err:
        return None, str(err)


def _support_warnings(models: PredictionModels, profile: Mapping[str, object], n_matching: int,
                      match_on: Sequence[str]) -> list[str]:
    out: list[str] = []
    if n_matching < MIN_MATCHING:
        who = "patient matches" if n_matching == 1 else "patients match"
        out.append(f"Only {n_matching} {who} this profile on {join_words([label(c) for c in match_on]) or 'nothing'}"
                   f" (fewer than {MIN_MATCHING}): the data hold too few patients like this one to check the "
                   "model's prediction against.")
    out.extend(_outside_range(models, profile))
    for name, model in models.models.items():
        epv = events_per_covariate(model)
        if epv < EPV_MINIMUM:
            out.append(f"{_endpoint_word(name)} model: {model.events} events for {len(model.coef)} coefficients "
                       f"({epv:.1f} per coefficient, fewer than {EPV_MINIMUM}): its predictions are unstable.")
        out.extend(f"{_endpoint_word(name)} model: {w}" for w in model.warnings)
    return list(dict.fromkeys(out))


def _outside_range(models: PredictionModels, profile: Mapping[str, object]) -> list[str]:
    """Profile values beyond those of the patients the models were fitted on (complete cases of the spec).

    Numbers outside the observed range (the age, too, when the model uses the
    age group); a factor level that no patient has, or that differs from the
    single level of a factor the models left out.
    """
    columns = [s.column for s in models.specs]
    fitted = models.cohort.loc[models.cohort[columns].notna().all(axis=1)] if columns else models.cohort
    numeric = [s.column for s in models.specs if not s.categorical]
    if "age_group" in columns and "age_years" in fitted:
        numeric.append("age_years")
    out = []
    for column in dict.fromkeys(numeric):
        value = profile.get(column)
        x = pd.to_numeric(fitted[column], errors="coerce").dropna()
        if value is None or x.empty:
            continue
        if not x.min() <= float(value) <= x.max():  # type: ignore[arg-type]
            out.append(f"{label(column)} = {float(value):g} lies outside the values of the patients the model "  # type: ignore[arg-type]
                       f"was fitted on ({x.min():g}–{x.max():g}): the prediction extrapolates.")
    for spec in models.specs:
        value = profile.get(spec.column)
        if not spec.categorical or value is None:
            continue
        present = set(fitted[spec.column].dropna().astype(str))
        if str(value) not in present:
            out.append(f"{spec.name} = {value}: none of the patients the model was fitted on has it.")
    return out


def _endpoint_word(name: str) -> str:
    return {"os": "OS", "rfs": "RFS", "relapse": "Relapse", "nrm": "NRM"}[name]


def _sentence(prediction: EndpointPrediction, times: Sequence[float]) -> str:
    """``"Predicted overall survival for this profile: 82.3 % (95 % CI 69.2–97.9) at 1 year, 74.2 % (57.7–95.5)
    at 2 years and ..."``."""
    if prediction.curve is None:
        return ""
    what = {"os": "overall survival", "rfs": "relapse-free survival"}[prediction.endpoint]
    at = prediction.at
    parts = [f"{survival_text(s, lo, hi)} at {landmark_label(t)}" for t, s, lo, hi in
             zip(*(at[c].to_numpy(dtype=float) for c in ("time", "survival", "lower", "upper")), strict=True)]
    if parts and "(" in parts[0]:
        parts[0] = parts[0].replace("(", "(95 % CI ", 1)
    return f"Predicted {what} for this profile: {join_words(parts)}."


def _incidence_sentence(incidence: PredictedIncidence | None, times: Sequence[float]) -> tuple[str, ...]:
    if incidence is None:
        return ()
    at = incidence.at(times)
    t = at["time"].to_numpy(dtype=float)

    def words(column: str) -> str:
        return join_words([f"{percent(v)} at {landmark_label(m)}"
                           for m, v in zip(t, at[column].to_numpy(dtype=float), strict=True)])

    return (f"Predicted relapse incidence: {words('cif1')}; non-relapse mortality: {words('cif2')} "
            "(cause-specific Cox models, no confidence interval).",)
