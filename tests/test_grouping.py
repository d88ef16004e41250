"""Groups to compare: covariate levels and saved cohorts."""

from __future__ import annotations

import pytest

from analysis.cohort.filters import CohortFilter, SavedCohort, apply_filter
from analysis.cohort.grouping import compare_by, compare_saved


def test_no_grouping_is_one_group(demo_cohort):
    comparison = compare_by(demo_cohort, None)
    assert comparison.order == ("all",)
    assert len(comparison.frame) == len(demo_cohort)


def test_levels_in_standard_order_and_missing_counted(demo_cohort):
    cohort = demo_cohort.copy()
    cohort.loc[:2, "donor"] = None
    comparison = compare_by(cohort, "donor")
    assert comparison.order == tuple(lvl for lvl in ("MSD", "MUD", "MMUD", "haplo") if lvl in set(cohort["donor"]))
    assert comparison.n_missing == 3
    assert len(comparison.frame) == len(cohort) - 3
    assert comparison.label == "Donor"


def test_age_group_orders_younger_first(demo_cohort):
    cohort = apply_filter(demo_cohort, CohortFilter(age_cut=10))
    assert compare_by(cohort, "age_group").order == ("< 10 y", "≥ 10 y")


def test_saved_cohorts_stack_and_flag_overlap(demo_cohort):
    t = SavedCohort("T", CohortFilter().with_levels("lineage", ["T-ALL"]))
    b = SavedCohort("B", CohortFilter().with_levels("lineage", ["B-ALL"]))
    old = SavedCohort("older", CohortFilter(age_range=(10, 30)))
    disjoint = compare_saved(demo_cohort, [t, b])
    assert not disjoint.overlapping
    assert len(disjoint.frame) == len(demo_cohort)
    overlapping = compare_saved(demo_cohort, [t, old])
    assert overlapping.overlapping
    assert overlapping.order == ("T", "older")


def test_no_saved_cohorts_is_a_clear_error(demo_cohort):
    with pytest.raises(ValueError, match="no saved cohorts to compare"):
        compare_saved(demo_cohort, [])


def test_unknown_column_is_named(demo_cohort):
    with pytest.raises(KeyError, match="cannot compare by 'colour'"):
        compare_by(demo_cohort, "colour")
