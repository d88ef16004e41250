"""Three prediction models behind one interface, for validating them side by side.

Each learner's ``fit(time, event, x)`` takes follow-up times, 0/1 events and
a design matrix (rows: patients) and returns a fitted model with
``risk(x)`` (a score, higher = worse prognosis, for concordance) and
``survival(x, times)`` (predicted P(T > t | x), rows × times):

* :class:`CoxLearner`: the Cox model with Efron ties (:func:`analysis.stats.cox.fit.fit_design`),
  survival from the Efron baseline hazard (:mod:`analysis.stats.cox.predict`); risk = x'β;
* :class:`ForestLearner`: a random survival forest (scikit-survival's
  ``RandomSurvivalForest``, Ishwaran et al. 2008); risk = the ensemble mortality;
* :class:`NullLearner`: no covariates: the Kaplan-Meier curve of the training
  patients for everyone, a constant risk (concordance exactly 0.5).

Beyond the last training time every curve keeps its last value.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from analysis.stats.cox.design import Design
from analysis.stats.cox.fit import CoxModel, fit_design
from analysis.stats.cox.predict import BaselineHazard, baseline_hazard
from analysis.stats.kaplan_meier import fit_kaplan_meier

#: Trees of the forest, and the fewest patients in a leaf (randomForestSRC's default node size for survival).
FOREST_TREES = 100
FOREST_LEAF = 15
#: Bootstrap sample of each tree at most; above it the trees see a subsample (speed on registry-sized data).
FOREST_MAX_SAMPLES = 2000
#: The forest stores a curve over all distinct training times in every node; above this many, event
#: times are rounded up to this many quantiles of the event times (memory and speed on large data).
FOREST_MAX_TIMES = 200
#: Threads for a forest of many patients; on few, starting threads costs more than it saves.
FOREST_JOBS = min(2, os.cpu_count() or 1)
FOREST_THREADS_FROM = 1000


class FittedModel(Protocol):
    def risk(self, x: np.ndarray) -> np.ndarray: ...

    def survival(self, x: np.ndarray, times: Sequence[float]) -> np.ndarray: ...


class Learner(Protocol):
    @property
    def name(self) -> str: ...

    def fit(self, time: np.ndarray, event: np.ndarray, x: np.ndarray, seed: int = 0) -> FittedModel: ...


def _step_values(knots: np.ndarray, values: np.ndarray, times: Sequence[float], start: float) -> np.ndarray:
    """A right-continuous step function (``values`` along the last axis) at ``times``; ``start`` before the first."""
    i = np.searchsorted(knots, np.asarray(times, dtype=float), side="right")
    padded = np.concatenate([np.full((*values.shape[:-1], 1), start), values], axis=-1)
    return padded[..., i]


# ------------------------------------------------------------------ Cox


@dataclass(frozen=True, eq=False)
class FittedCox:
    model: CoxModel
    coef: np.ndarray
    baseline: BaselineHazard

    def risk(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float) @ self.coef

    def survival(self, x: np.ndarray, times: Sequence[float]) -> np.ndarray:
        relative = np.exp(self.risk(x) - self.baseline.center)
        return np.exp(-np.outer(relative, self.baseline.cumulative_at(times)))


@dataclass(frozen=True)
class CoxLearner:
    """The Cox model of a design's columns; columns left out of a fit (constant in the training rows) get 0."""

    terms: pd.DataFrame
    name: str = "cox"

    @classmethod
    def for_design(cls, design: Design) -> CoxLearner:
        return cls(design.terms)

    def fit(self, time: np.ndarray, event: np.ndarray, x: np.ndarray, seed: int = 0) -> FittedCox:
        design = Design(np.asarray(x, dtype=float), self.terms, pd.DataFrame(columns=["term"]),
                        np.ones(len(x), dtype=bool), ())
        model = fit_design(time, event, design)
        coef = np.zeros(x.shape[1])
        names = list(self.terms["term"])
        for term, value in zip(model.design.names, model.coef, strict=True):
            coef[names.index(term)] = value
        return FittedCox(model, coef, baseline_hazard(model))


# ------------------------------------------------------------------ random survival forest


@dataclass(frozen=True, eq=False)
class FittedForest:
    """A fitted forest; predictions gathered from its trees' leaves in one pass each.

    Every tree of scikit-survival's forest stores, per node, the Nelson-Aalen
    cumulative hazard and the Kaplan-Meier curve at the forest's distinct
    training times (``tree_.value[node, time, 0 / 1]``). The forest's risk
    score (``predict``) is the mean over trees of the leaf's cumulative hazard
    summed over the event times, and its survival curve the mean of the leaf
    curves. Summing each node's hazard once and reading only the times asked
    for gives the same numbers as ``predict`` and ``predict_survival_function``
    (tests/test_cross_validation.py checks it) at a fraction of their cost.
    """

    forest: Any
    times_rounded: bool
    node_risk: tuple[np.ndarray, ...] = field(repr=False, default=())

    @classmethod
    def of(cls, forest: Any, times_rounded: bool) -> FittedForest:
        event_time = forest.is_event_time_
        return cls(forest, times_rounded,
                   tuple(t.tree_.value[:, event_time, 0].sum(axis=1) for t in forest.estimators_))

    def _leaves(self, x: np.ndarray) -> list[np.ndarray]:
        data = np.asarray(x, dtype=np.float32)
        return [t.tree_.apply(data) for t in self.forest.estimators_]

    def risk(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(len(x))
        for leaves, node_risk in zip(self._leaves(x), self.node_risk, strict=True):
            out += node_risk[leaves]
        return out / len(self.node_risk)

    def survival(self, x: np.ndarray, times: Sequence[float]) -> np.ndarray:
        i = np.searchsorted(self.forest.unique_times_, np.asarray(times, dtype=float), side="right") - 1
        out = np.zeros((len(x), len(i)))
        for leaves, tree in zip(self._leaves(x), self.forest.estimators_, strict=True):
            curves = tree.tree_.value[:, np.maximum(i, 0), 1]
            out += curves[leaves]
        return np.where(i >= 0, out / len(self.forest.estimators_), 1.0)


@dataclass(frozen=True)
class ForestLearner:
    """A random survival forest: 100 trees, ≥ 15 patients per leaf, √p covariates tried per split."""

    name: str = "forest"
    trees: int = FOREST_TREES
    leaf: int = FOREST_LEAF
    jobs: int = FOREST_JOBS

    def fit(self, time: np.ndarray, event: np.ndarray, x: np.ndarray, seed: int = 0) -> FittedForest:
        # scikit-learn takes about a second to import; only model validation needs it.
        from sksurv.ensemble import RandomSurvivalForest
        from sksurv.util import Surv

        t, rounded = coarsen_times(np.asarray(time, dtype=float), np.asarray(event).astype(bool))
        n = len(t)
        forest = RandomSurvivalForest(
            n_estimators=self.trees, min_samples_leaf=self.leaf, max_features="sqrt",
            n_jobs=self.jobs if n >= FOREST_THREADS_FROM else 1,
            random_state=seed, max_samples=FOREST_MAX_SAMPLES if n > FOREST_MAX_SAMPLES else None)
        forest.fit(np.asarray(x, dtype=float), Surv.from_arrays(np.asarray(event).astype(bool), t))
        return FittedForest.of(forest, rounded)


def coarsen_times(time: np.ndarray, event: np.ndarray, limit: int = FOREST_MAX_TIMES) -> tuple[np.ndarray, bool]:
    """Times rounded up to ``limit`` quantiles of the event times when there are more distinct ones.

    Order is kept (a time never moves past a larger one); times beyond the
    last event stay as they are. Returns the times and whether they changed.
    """
    event_times = np.unique(time[event])
    if len(event_times) <= limit:
        return time, False
    grid = np.unique(np.quantile(event_times, np.linspace(0.0, 1.0, limit)))
    i = np.searchsorted(grid, time, side="left")
    return np.where(i < len(grid), grid[np.minimum(i, len(grid) - 1)], time), True


# ------------------------------------------------------------------ no covariates


@dataclass(frozen=True, eq=False)
class FittedNull:
    time: np.ndarray
    survival_curve: np.ndarray

    def risk(self, x: np.ndarray) -> np.ndarray:
        return np.zeros(len(x))

    def survival(self, x: np.ndarray, times: Sequence[float]) -> np.ndarray:
        return np.tile(_step_values(self.time, self.survival_curve, times, 1.0), (len(x), 1))


@dataclass(frozen=True)
class NullLearner:
    """The Kaplan-Meier curve of the training patients, the same for everyone."""

    name: str = "null"

    def fit(self, time: np.ndarray, event: np.ndarray, x: np.ndarray, seed: int = 0) -> FittedNull:
        table = fit_kaplan_meier(time, event).table
        return FittedNull(table["time"].to_numpy(), table["survival"].to_numpy())
