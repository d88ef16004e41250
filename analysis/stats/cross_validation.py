"""Repeated k-fold cross-validation of survival prediction models, with Harrell's optimism correction.

For each repeat the patients are split at random into k folds of about equal
size, stratified by the event indicator (every fold gets its share of events);
each model is fitted on k - 1 folds and scored on the one left out (``test``)
and on its own training patients (``train``). The *apparent* performance is
that of the model fitted and scored on all patients. Optimism = mean over
folds of (train - test); optimism-corrected = apparent - optimism (Harrell,
Lee & Mark 1996, with cross-validation in place of the bootstrap); the plain
mean of the test folds is the cross-validated estimate.

Scores (:mod:`analysis.stats.prediction_metrics`, censoring weights from the
scored patients themselves): Harrell's C (``survival::concordance``), Uno's C
up to the horizon τ, the time-dependent AUC at chosen times, and the
integrated Brier score over [0, τ] on a grid of ``GRID_POINTS`` times. Folds
where a score cannot be computed (no case or control at t, a fit that failed)
give NaN and are left out of the means; ``folds`` counts those that gave one.

The seed fixes the folds and the forests' random numbers: the same seed gives
the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.stats.cox.concordance import concordance
from analysis.stats.prediction_metrics import (
    CensoringSurvival,
    brier_scores,
    integrated_brier_score,
    time_dependent_auc,
    uno_concordance,
)
from analysis.stats.survival_models import FittedModel, Learner

GRID_POINTS = 50


class CrossValidationStopped(Exception):
    """Raised when ``should_stop`` asks the cross-validation to stop between two fits."""


@dataclass(frozen=True)
class ValidationDesign:
    """How the models are scored: folds × repeats with a seed; times in the data's unit (months)."""

    folds: int = 5
    repeats: int = 10
    seed: int = 1
    auc_times: tuple[float, ...] = (12.0, 24.0, 60.0)
    horizon: float = 60.0
    calibration_time: float = 24.0

    @property
    def grid(self) -> np.ndarray:
        """The times of the Brier scores behind the integrated Brier score."""
        return self.horizon * np.arange(1, GRID_POINTS + 1) / GRID_POINTS

    @property
    def metrics(self) -> list[str]:
        return ["harrell_c", "uno_c", *(f"auc_{t:g}" for t in self.auc_times), "ibs"]


@dataclass(frozen=True, eq=False)
class CrossValidation:
    """Scores of every model: apparent, per fold (train and test), and summarised.

    ``scores``: model, repeat, fold, sample (``"train"``/``"test"``), metric,
    value. ``apparent``: model, metric, value. ``apparent_risk[model]``: each
    patient's predicted event probability by ``design.calibration_time`` from
    the model fitted on everyone; ``out_of_fold_risk[model]`` (repeats × n):
    from the fit that left the patient out. ``failures[model]``: why fits failed.
    """

    design: ValidationDesign
    models: tuple[str, ...]
    scores: pd.DataFrame
    apparent: pd.DataFrame
    apparent_risk: dict[str, np.ndarray]
    out_of_fold_risk: dict[str, np.ndarray]
    failures: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def summary(self) -> pd.DataFrame:
        """model, metric, apparent, train, test, optimism, corrected, folds (with a test value), of (all folds)."""
        s = self.scores
        wide = s.pivot_table(index=["model", "metric", "repeat", "fold"], columns="sample", values="value",
                             dropna=False).reset_index()
        for sample in ("train", "test"):
            if sample not in wide:
                wide[sample] = np.nan
        wide["optimism"] = wide["train"] - wide["test"]
        grouped = wide.groupby(["model", "metric"], sort=False)
        out = grouped[["train", "test", "optimism"]].mean().reset_index()
        out["folds"] = grouped["test"].count().to_numpy()
        out = out.merge(self.apparent, on=["model", "metric"], how="right").rename(columns={"value": "apparent"})
        out["corrected"] = out["apparent"] - out["optimism"]
        out["folds"] = out["folds"].fillna(0).astype(int)
        out["of"] = self.design.folds * self.design.repeats
        return out[["model", "metric", "apparent", "train", "test", "optimism", "corrected", "folds", "of"]]


def fold_assignments(event: np.ndarray, folds: int, repeats: int, seed: int) -> np.ndarray:
    """repeats × n fold numbers (0..folds-1), each repeat a random split stratified by the event indicator."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    dead = np.asarray(event).astype(bool)
    if len(dead) < folds:
        raise ValueError(f"{folds} folds need at least {folds} patients; there are {len(dead)}")
    rng = np.random.default_rng(seed)
    out = np.empty((repeats, len(dead)), dtype=int)
    for r in range(repeats):
        # events first, then censored, each shuffled, dealt round the folds from where the events stopped
        order = np.concatenate([rng.permutation(np.flatnonzero(dead)), rng.permutation(np.flatnonzero(~dead))])
        out[r, order] = np.arange(len(order)) % folds
    return out


def score(fitted: FittedModel, time: np.ndarray, event: np.ndarray, x: np.ndarray,
          design: ValidationDesign) -> dict[str, float]:
    """Every metric of ``design`` for a fitted model on these patients."""
    risk = fitted.risk(x)
    survival = fitted.survival(x, [*design.auc_times, *design.grid])
    g = CensoringSurvival.fit(time, event)
    k = len(design.auc_times)
    out = {"harrell_c": concordance(time, event, risk), "uno_c": uno_concordance(time, event, risk, design.horizon, g)}
    for j, t in enumerate(design.auc_times):
        out[f"auc_{t:g}"] = time_dependent_auc(time, event, 1.0 - survival[:, j], t, g)
    brier = brier_scores(time, event, 1.0 - survival[:, k:], design.grid, g)
    out["ibs"] = integrated_brier_score(design.grid, brier, design.horizon)
    return out


def cross_validate(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    learners: Sequence[Learner],
    design: ValidationDesign = ValidationDesign(),
    *,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> CrossValidation:
    """Apparent and repeated k-fold cross-validated scores of each learner on (time, event, x).

    ``progress(done, total)`` is called after every fit (``total`` = models ×
    (folds × repeats + 1)); ``should_stop()`` is asked before every fit and
    stops the run with :class:`CrossValidationStopped` when it returns True.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(int)
    xm = np.asarray(x, dtype=float)
    run = _Run(len(learners) * (design.folds * design.repeats + 1), progress, should_stop)
    assignment = fold_assignments(e, design.folds, design.repeats, design.seed)
    rows: list[tuple] = []
    apparent: list[tuple] = []
    apparent_risk: dict[str, np.ndarray] = {}
    out_of_fold: dict[str, np.ndarray] = {}
    failures: dict[str, tuple[str, ...]] = {}
    for learner in learners:
        name = learner.name
        run.check()
        fitted, problem = _fit(learner, t, e, xm, _seed(design.seed, -1, -1))
        apparent.extend((name, m, v) for m, v in _scores(fitted, t, e, xm, design).items())
        apparent_risk[name] = _risk_at(fitted, xm, design.calibration_time, len(t))
        failed = [f"all patients: {problem}"] if problem else []
        run.step()
        oof = np.full((design.repeats, len(t)), np.nan)
        for r, f in np.ndindex(design.repeats, design.folds):
            run.check()
            test = assignment[r] == f
            fitted, problem = _fit(learner, t[~test], e[~test], xm[~test], _seed(design.seed, r, f))
            if problem:
                failed.append(f"repeat {r + 1}, fold {f + 1}: {problem}")
            for sample, rows_of in (("train", ~test), ("test", test)):
                scored = _scores(fitted, t[rows_of], e[rows_of], xm[rows_of], design)
                rows.extend((name, r + 1, f + 1, sample, m, v) for m, v in scored.items())
            oof[r, test] = _risk_at(fitted, xm[test], design.calibration_time, int(test.sum()))
            run.step()
        out_of_fold[name] = oof
        if failed:
            failures[name] = tuple(failed)
    scores = pd.DataFrame(rows, columns=["model", "repeat", "fold", "sample", "metric", "value"])
    return CrossValidation(design, tuple(lr.name for lr in learners), scores,
                           pd.DataFrame(apparent, columns=["model", "metric", "value"]), apparent_risk, out_of_fold,
                           failures)


@dataclass
class _Run:
    """The fits of one cross-validation: how many are done, and whether to go on."""

    total: int
    progress: Callable[[int, int], None] | None
    should_stop: Callable[[], bool] | None
    done: int = 0

    def check(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise CrossValidationStopped(f"stopped after {self.done} of {self.total} fits")

    def step(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _seed(seed: int, repeat: int, fold: int) -> int:
    """The forest's random state of one fit, fixed by the seed, the repeat and the fold."""
    return int(np.random.SeedSequence([seed, repeat + 1, fold + 1]).generate_state(1)[0] % (2**31 - 1))


def _fit(learner: Learner, time: np.ndarray, event: np.ndarray, x: np.ndarray,
         seed: int) -> tuple[FittedModel | None, str | None]:
    try:
        return learner.fit(time, event, x, seed=seed), None
    except (ValueError, np.linalg.LinAlgError) as err:
        return None, str(err)


def _scores(fitted: FittedModel | None, time: np.ndarray, event: np.ndarray, x: np.ndarray,
            design: ValidationDesign) -> dict[str, float]:
    if fitted is None or len(time) == 0 or not np.asarray(event).any():
        return dict.fromkeys(design.metrics, float("nan"))
    return score(fitted, time, event, x, design)


def _risk_at(fitted: FittedModel | None, x: np.ndarray, t: float, n: int) -> np.ndarray:
    if fitted is None:
        return np.full(n, np.nan)
    return 1.0 - fitted.survival(x, [t])[:, 0]
