"""The canonical cohort model: schema problems, type normalisation, endpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.cohort.model import (
    CohortError,
    as_cohort,
    cohort_problems,
    competing_cause,
    endpoint,
    has_overall_survival,
)


def _frame(**overrides) -> pd.DataFrame:
    base = {
        "patient_id": ["a", "b", "c", "d"],
        "followup_months": [10.0, 5.0, 30.0, 8.0],
        "death": [1, 0, 0, 1],
        "relapse": [1, 0, 1, 0],
        "relapse_months": [4.0, np.nan, 12.0, np.nan],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def _problem(problems: pd.DataFrame, column: str) -> list[str]:
    return problems.loc[problems["column"] == column, "problem"].tolist()


def test_valid_cohort_has_no_problems():
    assert cohort_problems(_frame()).empty


def test_missing_required_column_is_named():
    problems = cohort_problems(_frame().drop(columns=["death"]))
    assert problems["column"].tolist() == ["death"]
    assert problems["problem"].tolist() == ["required column is missing"]


@pytest.mark.parametrize(
    ("overrides", "column", "problem"),
    [
        ({"followup_months": [10.0, -1.0, 30.0, 8.0]}, "followup_months", "negative follow-up time"),
        ({"followup_months": [10.0, "soon", 30.0, 8.0]}, "followup_months", "not a number"),
        ({"death": [1, 2, 0, 1]}, "death", "must be 0 or 1"),
        ({"patient_id": ["a", "a", "c", "d"]}, "patient_id", "duplicated ID"),
        ({"relapse_months": [4.0, np.nan, 40.0, np.nan]}, "relapse_months",
         "relapse after last contact (40 > 30 months)"),
        ({"relapse_months": [np.nan, np.nan, 12.0, np.nan]}, "relapse_months",
         "relapse is 1 but the time to relapse is missing"),
        ({"age_years": [5, 145, 3, 9]}, "age_years", "impossible: outside 0–130"),
        ({"followup_months": [10.0, 1e17, 30.0, 8.0]}, "followup_months",
         "follow-up longer than a human life (over 130 years)"),
        ({"lineage": ["B-ALL", "T", "T-ALL", None]}, "lineage", "not one of B-ALL, T-ALL"),
    ],
)
def test_each_schema_violation_is_reported_with_its_row(overrides, column, problem):
    problems = cohort_problems(_frame(**overrides))
    assert problem in _problem(problems, column)
    assert problems.loc[problems["column"] == column, "row"].notna().all()


def test_unreadable_number_is_reported_once():
    problems = cohort_problems(_frame(followup_months=[10.0, "x", 30.0, 8.0]))
    assert _problem(problems, "followup_months") == ["not a number"]


def test_as_cohort_raises_with_the_problem_table():
    with pytest.raises(CohortError, match=r"1 problem\(s\).*death: must be 0 or 1") as info:
        as_cohort(_frame(death=[1, 0, 0, 7]))
    assert info.value.problems["row"].tolist() == [3]


def test_as_cohort_normalises_types_and_blanks_unused_relapse_times():
    cohort = as_cohort(_frame(relapse_months=[4.0, 99.0, 12.0, np.nan], patient_id=[1, 2, 3, 4]))
    assert cohort["patient_id"].tolist() == ["1", "2", "3", "4"]
    assert cohort["death"].dtype == np.int64
    assert np.isnan(cohort.loc[1, "relapse_months"])  # relapse = 0: its time is ignored


def test_endpoints_follow_the_conventions():
    cohort = as_cohort(_frame())
    os_ = endpoint(cohort, "os")
    rfs = endpoint(cohort, "rfs")
    assert os_.time.tolist() == [10, 5, 30, 8] and os_.event.tolist() == [1, 0, 0, 1]
    assert rfs.time.tolist() == [4, 5, 12, 8] and rfs.event.tolist() == [1, 0, 1, 1]
    assert competing_cause(cohort).tolist() == [1, 0, 1, 2]
    assert endpoint(cohort, "relapse").event.tolist() == [1, 0, 1, 0]
    assert endpoint(cohort, "nrm").event.tolist() == [0, 0, 0, 1]


def test_cause_coded_data_have_no_overall_survival():
    cohort = as_cohort(_frame(death=[np.nan, 0, np.nan, 1], followup_months=[4.0, 5.0, 12.0, 8.0]))
    assert not has_overall_survival(cohort)
    assert endpoint(cohort, "rfs").event.tolist() == [1, 0, 1, 1]
    with pytest.raises(CohortError, match="Overall survival needs vital status after relapse"):
        endpoint(cohort, "os")


def test_unknown_death_only_allowed_after_relapse():
    problems = cohort_problems(_frame(death=[1, np.nan, 0, 1]))
    assert _problem(problems, "death") == ["death status missing (allowed only after a relapse)"]


def test_unknown_endpoint_is_named():
    with pytest.raises(ValueError, match="unknown endpoint 'efs'"):
        endpoint(as_cohort(_frame()), "efs")


def test_demo_cohort_is_valid(demo_cohort):
    assert cohort_problems(demo_cohort).empty
    assert len(demo_cohort) == 75


def test_a_message_stays_one_line_whatever_the_column_names_hold():
    err = CohortError("The mapping is incomplete: \n\t: choose the unit")
    assert str(err) == "The mapping is incomplete: : choose the unit"


def test_ids_are_compared_as_text_and_every_copy_is_reported():
    problems = cohort_problems(_frame(patient_id=[7, "7", None, "x"]))
    ids = problems[problems["column"] == "patient_id"]
    assert ids[["row", "problem"]].values.tolist() == [[0, "duplicated ID"], [1, "duplicated ID"],
                                                       [2, "missing value"]]
    assert ids["value"].tolist()[:2] == ["7", "7"]


def test_event_codes_are_checked_as_isin_would():
    values = [0.0, 1.0, 2.0, -1.0, 0.5, np.nan, 1.0, 1e-12]
    frame = _frame(patient_id=list("abcdefgh"), followup_months=[10.0] * 8, relapse=[0] * 8,
                   relapse_months=[np.nan] * 8, death=values)
    problems = cohort_problems(frame)
    flagged = problems.loc[problems["problem"] == "must be 0 or 1", "row"].tolist()
    expected = [i for i, v in enumerate(values) if not np.isnan(v) and not pd.Series([v]).isin([0, 1]).item()]
    assert flagged == expected == [2, 3, 4, 7]


def test_the_cohort_owns_its_data():
    source = _frame(lineage=["B-ALL", "T-ALL", "B-ALL", None], age_years=[5.0, 9.0, 3.0, 12.0])
    cohort = as_cohort(source)
    for column in source.columns:
        assert not np.shares_memory(cohort[column].to_numpy(), source[column].to_numpy()), column
    cohort.loc[0, "lineage"] = "T-ALL"
    assert source.loc[0, "lineage"] == "B-ALL"
    assert cohort.index.tolist() == [0, 1, 2, 3]
