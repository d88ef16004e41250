"""Filters as data: applying them and the share-link round trip."""

from __future__ import annotations

import pytest

from analysis.cohort.filters import (
    CohortFilter,
    SavedCohort,
    apply_filter,
    from_query_params,
    parse_query_string,
    to_query_params,
)


def test_empty_filter_keeps_everyone_and_adds_age_group(demo_cohort):
    out = apply_filter(demo_cohort, CohortFilter())
    assert len(out) == len(demo_cohort)
    expected = (demo_cohort["age_years"] >= 10).map({True: "≥ 10 y", False: "< 10 y"})
    assert (out["age_group"] == expected).all()


def test_levels_and_age_range_restrict(demo_cohort):
    flt = CohortFilter(age_range=(10, 18)).with_levels("lineage", ["T-ALL"]).with_levels("atg", ["yes", "no"])
    out = apply_filter(demo_cohort, flt)
    mask = demo_cohort["age_years"].between(10, 18) & (demo_cohort["lineage"] == "T-ALL")
    assert sorted(out["patient_id"]) == sorted(demo_cohort.loc[mask, "patient_id"])


def test_missing_value_is_excluded_when_its_column_is_restricted(demo_cohort):
    cohort = demo_cohort.copy()
    cohort.loc[0, "lineage"] = None
    assert len(apply_filter(cohort, CohortFilter())) == len(cohort)
    both = apply_filter(cohort, CohortFilter().with_levels("lineage", ["B-ALL", "T-ALL"]))
    assert len(both) == len(cohort) - 1


def test_age_cut_changes_groups_not_patients(demo_cohort):
    out = apply_filter(demo_cohort, CohortFilter(age_cut=6))
    assert len(out) == len(demo_cohort)
    assert set(out["age_group"]) == {"< 6 y", "≥ 6 y"}


def test_with_levels_none_removes_restriction():
    flt = CohortFilter().with_levels("sex", ["male"]).with_levels("sex", None)
    assert not flt.restricts
    assert flt == CohortFilter()


def test_query_round_trip(demo_cohort):
    flt = (CohortFilter(age_range=(2.5, 12), age_cut=8).with_levels("donor", ["MSD", "haplo"])
           .with_range("months_hsct1_to_relapse", (0, 6)))
    saved = (SavedCohort("T older", CohortFilter(age_range=(10, 19)).with_levels("lineage", ["T-ALL"])),
             SavedCohort("B", CohortFilter().with_levels("lineage", ["B-ALL"])))
    params = to_query_params(flt, saved)
    parsed = from_query_params(params, demo_cohort)
    assert parsed.notices == ()
    assert parsed.filters == flt
    assert parsed.saved == saved


def test_query_string_from_a_whole_link(demo_cohort):
    params = parse_query_string("http://host/survival?lineage=T-ALL&age=10-18&cut=12")
    parsed = from_query_params(params, demo_cohort)
    assert parsed.filters == CohortFilter(age_range=(10, 18), age_cut=12).with_levels("lineage", ["T-ALL"])


@pytest.mark.parametrize(
    ("params", "notice"),
    [
        ({"age": "old"}, "The link's age range “old” is not two ages like 10-18; all ages are shown."),
        ({"age": "18-10"}, "The link's age range “18-10” is not two ages like 10-18"),
        ({"cut": "99"}, "The link's age cut “99” is not a number of years between 0 and 30; the cut is 10 years."),
        ({"lineage": "Z-ALL"}, "The link asks for Lineage “Z-ALL”, which these data do not have; it was left out."),
        ({"colour": "red"}, "The link holds “colour”, which is not a filter of these data; it was left out."),
        ({"cmp": "no-separator"}, "The link's saved cohort “no-separator” is not a name followed by filters"),
    ],
)
def test_bad_link_values_are_ignored_with_a_notice(demo_cohort, params, notice):
    parsed = from_query_params(params, demo_cohort)
    assert any(n.startswith(notice) for n in parsed.notices), parsed.notices
    assert not parsed.filters.restricts


def test_good_values_survive_next_to_bad_ones(demo_cohort):
    parsed = from_query_params({"lineage": "T-ALL,Z-ALL", "age": "x"}, demo_cohort)
    assert parsed.filters == CohortFilter().with_levels("lineage", ["T-ALL"])


def test_a_repeated_key_keeps_every_valid_value(demo_cohort):
    parsed = from_query_params({"sex": ["male", "alien"], "age": ["10-18", "x"], "cut": ["12", "99"]}, demo_cohort)
    assert parsed.filters == CohortFilter(age_range=(10, 18), age_cut=12).with_levels("sex", ["male"])
    assert len(parsed.notices) == 3 and "“alien”" in parsed.notices[0]
    both = from_query_params(parse_query_string("sex=male&sex=female&age=5-9&age=10-18"), demo_cohort)
    assert both.filters == CohortFilter(age_range=(10, 18)).with_levels("sex", ["male", "female"])
    assert both.notices == ()


def test_saved_cohorts_keep_their_valid_part(demo_cohort):
    parsed = from_query_params({"cmp": "T:lineage=T-ALL,Q;colour=red"}, demo_cohort)
    assert parsed.saved[0].filters == CohortFilter().with_levels("lineage", ["T-ALL"])
    assert [n.split(":")[0] for n in parsed.notices] == ["Saved cohort “T”", "Saved cohort “T”"]


def test_at_most_four_saved_cohorts(demo_cohort):
    params = {"cmp": [f"c{i}:lineage=B-ALL" for i in range(6)]}
    parsed = from_query_params(params, demo_cohort)
    assert [s.name for s in parsed.saved] == ["c0", "c1", "c2", "c3"]
    assert sum("more than 4 saved cohorts" in n for n in parsed.notices) == 2


def test_cohort_names_cannot_break_the_link(demo_cohort):
    saved = (SavedCohort("a:b;c=d&e", CohortFilter().with_levels("sex", ["male"])),)
    parsed = from_query_params(to_query_params(CohortFilter(), saved), demo_cohort)
    assert parsed.saved[0].name == "a b c d e"
    assert parsed.saved[0].filters == saved[0].filters


def test_describe_is_readable():
    flt = CohortFilter(age_range=(10, 18)).with_levels("lineage", ["T-ALL"])
    assert flt.describe() == "lineage: T-ALL · age 10–18 y"
    assert CohortFilter().describe() == "all patients"


def test_filter_options_list_levels_and_ranges(demo_cohort):
    from analysis.cohort.filters import filter_options

    cohort = demo_cohort.assign(centre=[f"C{i % 3}" for i in range(len(demo_cohort))],
                                free_text=[f"note {i}" for i in range(len(demo_cohort))])
    opts = filter_options(cohort)
    assert opts.levels["lineage"] == ["B-ALL", "T-ALL"]
    assert opts.levels["centre"] == ["C0", "C1", "C2"]
    assert "free_text" not in opts.levels  # 75 distinct values: not a useful filter
    assert opts.age_bounds[0] <= cohort["age_years"].min() and opts.age_bounds[1] >= cohort["age_years"].max()
    assert "months_hsct1_to_relapse" in opts.ranges and "age_years" not in opts.ranges
