"""Repeated k-fold cross-validation of the three survival models: folds, seeds, the null model, stopping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.models import covariate_spec
from analysis.cohort.model import age_group, endpoint
from analysis.stats.cox.concordance import concordance
from analysis.stats.cox.design import build_design
from analysis.stats.cox.fit import fit_design
from analysis.stats.cox.predict import survival_matrix
from analysis.stats.cross_validation import (
    CrossValidationStopped,
    ValidationDesign,
    cross_validate,
    fold_assignments,
)
from analysis.stats.survival_models import CoxLearner, ForestLearner, NullLearner, coarsen_times

SMALL = ValidationDesign(folds=3, repeats=2, seed=7, auc_times=(12.0, 24.0), horizon=24.0)


@pytest.fixture(scope="module")
def demo_design(demo_cohort):
    cohort = demo_cohort.assign(age_group=age_group(demo_cohort["age_years"], 10))
    specs = [covariate_spec(cohort, c, standard_reference=True) for c in ("age_group", "lineage", "sex", "atg")]
    design = build_design(cohort, specs)
    ep = endpoint(cohort, "os")
    return ep.time[design.kept], ep.event[design.kept], design


def _learners(design):
    return [CoxLearner.for_design(design), ForestLearner(trees=20), NullLearner()]


def test_folds_are_stratified_balanced_and_fixed_by_the_seed():
    event = np.array([1] * 23 + [0] * 52)
    folds = fold_assignments(event, 5, 3, seed=1)
    assert folds.shape == (3, 75)
    for repeat in folds:
        assert sorted(np.bincount(repeat)) == [15] * 5
        assert sorted(np.bincount(repeat[event == 1])) == [4, 4, 5, 5, 5]  # events spread over the folds
    np.testing.assert_array_equal(folds, fold_assignments(event, 5, 3, seed=1))
    assert not np.array_equal(folds, fold_assignments(event, 5, 3, seed=2))
    assert not np.array_equal(folds[0], folds[1])  # each repeat is a new split


@pytest.mark.parametrize(("folds", "n", "message"), [(1, 10, "at least 2 folds"), (5, 4, "at least 5 patients")])
def test_impossible_folds_are_refused(folds, n, message):
    with pytest.raises(ValueError, match=message):
        fold_assignments(np.ones(n), folds, 1, seed=1)


def test_same_seed_same_numbers_and_the_null_model_at_one_half(demo_design):
    time, event, design = demo_design
    first = cross_validate(time, event, design.matrix, _learners(design), SMALL)
    second = cross_validate(time, event, design.matrix, _learners(design), SMALL)
    pd.testing.assert_frame_equal(first.scores, second.scores)
    pd.testing.assert_frame_equal(first.summary, second.summary)
    null = first.summary.set_index(["model", "metric"]).loc["null"]
    for metric in ("harrell_c", "uno_c"):  # every pair tied in risk: exactly one half
        assert null.loc[metric, "apparent"] == 0.5 and null.loc[metric, "test"] == 0.5
    for metric in ("auc_12", "auc_24"):
        assert null.loc[metric, "apparent"] == pytest.approx(0.5, abs=1e-12)
        assert null.loc[metric, "test"] == pytest.approx(0.5, abs=1e-12)
    other = cross_validate(time, event, design.matrix, _learners(design),
                           ValidationDesign(folds=3, repeats=2, seed=8, auc_times=(12.0, 24.0), horizon=24.0))
    assert not other.scores["value"].equals(first.scores["value"])


def test_apparent_scores_are_those_of_the_model_fitted_on_everyone(demo_design):
    time, event, design = demo_design
    cv = cross_validate(time, event, design.matrix, [CoxLearner.for_design(design)], SMALL)
    model = fit_design(time, event, design)
    apparent = cv.apparent.set_index("metric")["value"]
    assert apparent["harrell_c"] == pytest.approx(model.concordance, abs=1e-12)
    np.testing.assert_allclose(cv.apparent_risk["cox"], 1 - survival_matrix(model, design.matrix, [24.0])[:, 0],
                               rtol=1e-12)


def test_summary_is_apparent_minus_mean_optimism(demo_design):
    time, event, design = demo_design
    cv = cross_validate(time, event, design.matrix, [CoxLearner.for_design(design)], SMALL)
    wide = cv.scores.pivot_table(index=["metric", "repeat", "fold"], columns="sample", values="value")
    optimism = (wide["train"] - wide["test"]).groupby("metric").mean()
    summary = cv.summary.set_index("metric")
    for metric in SMALL.metrics:
        assert summary.loc[metric, "optimism"] == pytest.approx(optimism[metric])
        assert summary.loc[metric, "corrected"] == pytest.approx(summary.loc[metric, "apparent"] - optimism[metric])
    assert set(summary["of"]) == {6}
    # the Cox model's test-fold Harrell's C is survival::concordance on the left-out patients
    test = fold_assignments(event, 3, 2, 7)[0] == 0
    score = cv.scores.query("repeat == 1 and fold == 1 and sample == 'test' and metric == 'harrell_c'")["value"]
    trained = CoxLearner.for_design(design).fit(time[~test], event[~test], design.matrix[~test])
    assert float(score.iloc[0]) == pytest.approx(concordance(time[test], event[test],
                                                             trained.risk(design.matrix[test])))


def test_progress_counts_every_fit_and_stop_ends_the_run(demo_design):
    time, event, design = demo_design
    seen: list[tuple[int, int]] = []
    cross_validate(time, event, design.matrix, [NullLearner()], SMALL, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(i, 7) for i in range(1, 8)]
    with pytest.raises(CrossValidationStopped, match="stopped after 3 of 7 fits"):
        cross_validate(time, event, design.matrix, [NullLearner()], SMALL, should_stop=lambda: len(seen) >= 10,
                       progress=lambda d, t: seen.append((d, t)))


def test_a_fold_without_events_scores_nan_and_a_failed_fit_is_reported():
    time = np.arange(1.0, 13.0)
    event = np.array([1, 0] * 6)
    x = np.column_stack([np.r_[np.zeros(6), np.ones(6)]])
    design = ValidationDesign(folds=2, repeats=1, seed=1, auc_times=(3.0,), horizon=6.0)
    terms = pd.DataFrame({"term": ["g"], "covariate": ["g"], "level": [None], "kind": ["numeric"], "unit": [None]})
    cv = cross_validate(time, event, x, [CoxLearner(terms)], design)
    assert set(cv.scores["sample"]) == {"train", "test"}
    no_events = np.zeros(12, dtype=int)
    cv = cross_validate(time, no_events, x, [CoxLearner(terms)], design)
    assert cv.failures["cox"][0].startswith("all patients: There are no events")
    assert cv.scores["value"].isna().all()


def test_forest_times_are_rounded_only_beyond_the_limit():
    time = np.arange(1.0, 501.0)
    event = np.ones(500, dtype=bool)
    same, rounded = coarsen_times(time[:100], event[:100], limit=200)
    assert not rounded and np.array_equal(same, time[:100])
    coarse, rounded = coarsen_times(time, event, limit=50)
    assert rounded and len(np.unique(coarse)) <= 50
    assert np.all(coarse >= time) and np.all(np.diff(coarse) >= 0)  # rounded up, order kept


def test_forest_predictions_equal_scikit_survivals_own():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(size=400), rng.integers(0, 2, 400)])
    time = np.round(rng.exponential(10 * np.exp(-0.5 * x[:, 0])), 1) + 0.1
    event = rng.random(400) < 0.7
    fitted = ForestLearner(trees=15).fit(time, event, x, seed=3)
    np.testing.assert_allclose(fitted.risk(x), fitted.forest.predict(x), rtol=1e-12)
    times = [0.01, 1.0, 5.0, 20.0, 1e4]
    curves = fitted.forest.predict_survival_function(x, return_array=True)
    at = np.column_stack([curves[:, np.searchsorted(fitted.forest.unique_times_, t, side="right") - 1]
                          if t >= fitted.forest.unique_times_[0] else np.ones(len(x)) for t in times])
    np.testing.assert_allclose(fitted.survival(x, times), at, atol=1e-14)
    again = ForestLearner(trees=15).fit(time, event, x, seed=3)
    np.testing.assert_array_equal(fitted.risk(x), again.risk(x))  # the seed fixes the forest
