"""Model validation: the Cox model, a random survival forest and a covariate-free model, cross-validated.

What the Model validation page and ``python -m analysis validate`` show for
one endpoint (OS or RFS) and model spec on the filtered cohort: repeated
k-fold cross-validation (:func:`analysis.stats.cross_validation.cross_validate`)
of the three models of :mod:`analysis.stats.survival_models` on the same
design matrix; Harrell's and Uno's C, the time-dependent AUC at 1, 2 and 5
years and the integrated Brier score, apparent and optimism-corrected; and
calibration at 2 years by risk group, apparent and cross-validated.

Relapse and NRM are left out: with a competing event, 1 - Kaplan-Meier is
not the risk a patient runs, and neither is a cause-specific Cox model's
1 - S(t), so their Brier scores and calibration would answer the wrong question.

The horizon τ of Uno's C and the integrated Brier score is 5 years, or
earlier where fewer than :data:`HORIZON_AT_RISK` of the patients are still
followed (beyond it a test fold often has nobody left to score).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.cohort.model import ENDPOINT_NAMES, LANDMARK_MONTHS, CohortError, endpoint
from analysis.stats.cox.design import CovariateSpec, build_design
from analysis.stats.cross_validation import CrossValidation, ValidationDesign, cross_validate
from analysis.stats.prediction_metrics import calibration_groups
from analysis.stats.survival_models import CoxLearner, ForestLearner, Learner, NullLearner, coarsen_times
from analysis.text import landmark_label

VALIDATION_ENDPOINTS = ("os", "rfs")
MODEL_NAMES = {"cox": "Cox model", "forest": "Random survival forest", "null": "No covariates (Kaplan-Meier)"}
SHORT_NAMES = {"cox": "Cox", "forest": "Forest", "null": "No covariates"}
#: τ is 5 years, or where fewer than this share of the patients are still followed.
HORIZON_AT_RISK = 0.2
CALIBRATION_MONTHS = 24.0
HIGHER_IS_BETTER = {"harrell_c": True, "uno_c": True, "ibs": False}


class ValidationError(ValueError):
    """Data or settings that cannot be cross-validated, in plain words."""


def horizon(time: np.ndarray, longest: float = LANDMARK_MONTHS[-1]) -> float:
    """τ: ``longest`` (months), or earlier, the last time at which ≥ 20 % of the patients are still followed."""
    t = np.sort(np.asarray(time, dtype=float))
    if len(t) == 0:
        return longest
    still = t[int(np.floor((1 - HORIZON_AT_RISK) * (len(t) - 1)))]
    return float(min(longest, still))


def metric_label(metric: str, tau: float) -> str:
    """``"auc_24"`` -> ``"AUC at 2 years"``; τ in years in the labels of Uno's C and the integrated Brier score."""
    to = f"0–{tau / 12:.1f} years"
    if metric.startswith("auc_"):
        return f"Time-dependent AUC at {landmark_label(float(metric[4:]))}"
    return {"harrell_c": "Harrell's C", "uno_c": f"Uno's C ({to})", "ibs": f"Integrated Brier score ({to})"}[metric]


@dataclass(frozen=True, eq=False)
class ModelValidation:
    """Cross-validation of the three models on one endpoint, with its calibration tables.

    ``calibration``: model, kind (``"apparent"`` / ``"cross-validated"``),
    group, n, events, predicted, observed, lower, upper (risk of the event by
    2 years, :func:`analysis.stats.prediction_metrics.calibration_groups`).
    ``notes``: plain-language remarks (failed fits, rounded forest times).
    """

    endpoint: str
    n: int
    events: int
    terms: tuple[str, ...]
    result: CrossValidation
    calibration: pd.DataFrame
    notes: tuple[str, ...]

    @property
    def design(self) -> ValidationDesign:
        return self.result.design

    def table(self) -> pd.DataFrame:
        """One row per model and metric: Model, Metric, Apparent, Optimism, Optimism-corrected, Cross-validated,
        Folds (that gave the score, of all)."""
        s = self.result.summary
        tau = self.design.horizon
        return pd.DataFrame({
            "Model": s["model"].map(MODEL_NAMES), "Metric": [metric_label(m, tau) for m in s["metric"]],
            "Apparent": s["apparent"], "Optimism": s["optimism"], "Optimism-corrected": s["corrected"],
            "Cross-validated": s["test"], "Folds": [f"{a} of {b}" for a, b in zip(s["folds"], s["of"], strict=True)],
        })

    def side_by_side(self) -> pd.DataFrame:
        """Metric, then apparent and optimism-corrected per model: ``"Cox: apparent"``, ``"Cox: corrected"``, ..."""
        s = self.result.summary
        out = pd.DataFrame({"Metric": list(dict.fromkeys(metric_label(m, self.design.horizon) for m in s["metric"]))})
        for model in self.result.models:
            rows = s[s["model"] == model]
            out[f"{SHORT_NAMES[model]}: apparent"] = rows["apparent"].to_numpy()
            out[f"{SHORT_NAMES[model]}: corrected"] = rows["corrected"].to_numpy()
        return out


def validate_models(cohort: pd.DataFrame, endpoint_name: str, specs: Sequence[CovariateSpec], *, folds: int = 5,
                    repeats: int = 10, seed: int = 1, progress: Callable[[int, int], None] | None = None,
                    should_stop: Callable[[], bool] | None = None) -> ModelValidation:
    """Cross-validate the Cox model of ``specs``, a random survival forest on the same covariates and the null model.

    Raises :class:`ValidationError` for an endpoint other than OS / RFS, no
    usable covariate, fewer patients than folds, or no events.
    """
    if endpoint_name not in VALIDATION_ENDPOINTS:
        raise ValidationError(f"model validation covers {' and '.join(ENDPOINT_NAMES[e] for e in VALIDATION_ENDPOINTS)}"
                              f", not {ENDPOINT_NAMES.get(endpoint_name, endpoint_name)}")
    try:
        ep = endpoint(cohort, endpoint_name)
    except CohortError as err:
        raise ValidationError(str(err)) from err
    columns = [s.column for s in specs]
    design = build_design(cohort[columns], specs)
    if design.matrix.shape[1] == 0:
        raise ValidationError("no covariate of the model varies among these patients")
    time, event = ep.time[design.kept], ep.event[design.kept]
    if len(time) < 2 * folds:
        raise ValidationError(f"{len(time)} patients are too few for {folds}-fold cross-validation "
                              f"(at least {2 * folds} are needed)")
    if event.sum() == 0:
        raise ValidationError("there are no events among these patients")
    plan = ValidationDesign(folds=folds, repeats=repeats, seed=seed, auc_times=tuple(LANDMARK_MONTHS),
                            horizon=horizon(time), calibration_time=CALIBRATION_MONTHS)
    learners: list[Learner] = [CoxLearner.for_design(design), ForestLearner(), NullLearner()]
    result = cross_validate(time, event, design.matrix, learners, plan, progress=progress, should_stop=should_stop)
    return ModelValidation(endpoint_name, len(time), int(event.sum()), tuple(design.names), result,
                           _calibration(result, time, event), tuple(_notes(result, time, event, design.notes)))


def _calibration(result: CrossValidation, time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    groups = int(min(10, max(2, event.sum() // 10)))
    frames = []
    for model in result.models:
        oof = result.out_of_fold_risk[model]
        counted = np.isfinite(oof).sum(axis=0)
        # each patient's out-of-fold prediction, averaged over the repeats
        cross = np.where(counted > 0, np.nansum(oof, axis=0) / np.maximum(counted, 1), np.nan)
        # The null model predicts one risk for everyone; the small differences between its folds' curves
        # would sort the patients by the folds they were left out of, not by any prognosis.
        k = 1 if model == "null" else groups
        for kind, risk in (("apparent", result.apparent_risk[model]), ("cross-validated", cross)):
            table = calibration_groups(time, event, risk, result.design.calibration_time, k)
            frames.append(table.assign(model=model, kind=kind))
    columns = ["model", "kind", "group", "n", "events", "predicted", "observed", "lower", "upper"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _notes(result: CrossValidation, time: np.ndarray, event: np.ndarray, design_notes: Sequence[str]) -> list[str]:
    notes = list(design_notes)
    for model, failures in result.failures.items():
        notes.append(f"{MODEL_NAMES[model]}: {len(failures)} of {result.design.folds * result.design.repeats + 1} "
                     f"fits failed (e.g. {failures[0]}); their scores are left out.")
    if coarsen_times(time, event.astype(bool))[1]:
        notes.append("The forest sees the event times rounded up to 200 quantiles (speed and memory on large data).")
    return notes
