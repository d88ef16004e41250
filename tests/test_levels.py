"""Category values read from common spellings, and the split of findings into impossible and unusual."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.cohort.model import CohortError, cohort_problems, cohort_warnings, load_demo_cohort
from analysis.ingest.levels import level_assumptions, standard_level
from analysis.ingest.loading import read_data_file
from analysis.ingest.proposal import propose_mapping
from analysis.ingest.validation import check_upload
from analysis.ingest.values import value_key


@pytest.mark.parametrize(("field", "value", "column", "level"), [
    ("lineage", "precursor B-cell ALL", None, "B-ALL"),  # the paper's own words
    ("lineage", "B-cell precursor", None, "B-ALL"),
    ("lineage", "BCP", None, "B-ALL"),
    ("lineage", "pre-B", None, "B-ALL"),
    ("lineage", "T-cell", None, "T-ALL"),
    ("lineage", "ETP-ALL", None, "T-ALL"),
    ("lineage", "mixed T/B", None, None),
    ("sex", "M", None, "male"),
    ("sex", "W", None, "female"),
    ("sex", "weiblich", None, "female"),
    ("conditioning", "yes", "TBI", "TBI"),
    ("conditioning", "no", "tbi", "chemo"),
    ("conditioning", "yes", "regimen", None),  # "yes" means nothing without the column's name
    ("conditioning", "TBI 12 Gy + VP16", None, "TBI"),
    ("conditioning", "non-TBI", None, "chemo"),
    ("remission", "CR2", None, "CR"),
    ("remission", "CR 1", None, "CR"),
    ("remission", "not in CR", None, "non-CR"),
    ("donor", "matched unrelated donor", None, "MUD"),
    ("donor", "9/10 mismatched unrelated", None, "MMUD"),
    ("donor", "haploidentical family donor", None, "haplo"),
    ("intensity", "non-myeloablative", None, "RIC"),
    ("atg", "Thymoglobulin", None, None),
])
def test_common_spellings_are_read_as_the_standard_levels(field, value, column, level):
    assert standard_level(field, value_key(value), column) == level


def _clean_export() -> pd.DataFrame:
    """The demo cohort as a registry would export it: its own names and spellings (the issue's example)."""
    demo = load_demo_cohort()
    return pd.DataFrame({
        "patient_id": demo["patient_id"], "followup_months": demo["followup_months"], "death": demo["death"],
        "relapse": demo["relapse"], "relapse_months": demo["relapse_months"],
        "immunophenotype": demo["lineage"].map({"B-ALL": "B-cell precursor", "T-ALL": "T-cell"}),
        "tbi": demo["conditioning"].map({"TBI": "yes", "chemo": "no"}),
        "gender": demo["sex"].map({"male": "M", "female": "W"}),
    })


def test_a_clean_export_in_its_own_spellings_has_no_problem_and_lists_what_was_assumed():
    export = _clean_export()
    raw = read_data_file(export.to_csv(index=False).encode(), "export.csv")
    mapping = propose_mapping(raw.frame)
    checked = check_upload(raw.frame, mapping)
    assert checked.problems.empty and checked.warnings.empty
    cohort = checked.cohort(exclude_flagged=False)
    demo = load_demo_cohort()
    for field in ("lineage", "conditioning", "sex"):
        assert cohort[field].tolist() == demo[field].tolist(), field
    assumed = level_assumptions(raw.frame, mapping.column_of, {f: dict(v) for f, v in mapping.level_values})
    assert sorted(map(tuple, assumed[["column", "value", "level"]].to_numpy())) == [
        ("gender", "M", "male"), ("gender", "W", "female"), ("immunophenotype", "B-cell precursor", "B-ALL"),
        ("immunophenotype", "T-cell", "T-ALL"), ("tbi", "no", "chemo"), ("tbi", "yes", "TBI")]
    assert assumed["rows"].sum() == 3 * len(export)


def test_the_standard_spelling_is_not_an_assumption():
    frame = load_demo_cohort()
    mapping = propose_mapping(frame)
    assert level_assumptions(frame, mapping.column_of, {f: dict(v) for f, v in mapping.level_values}).empty


# ------------------------------------------------------------------ impossible or unusual


def _cohort(**columns) -> pd.DataFrame:
    base = {"patient_id": ["a", "b", "c", "d"], "followup_months": [10.0, 20.0, 30.0, 40.0],
            "death": [1, 0, 1, 0], "relapse": [0, 0, 1, 0], "relapse_months": [np.nan, np.nan, 12.0, np.nan]}
    return pd.DataFrame({**base, **columns})


@pytest.mark.parametrize(("columns", "column", "problem"), [
    ({"age_years": [5, 45, 3, 9]}, "age_years", "outside the usual range 0–30 years"),
    ({"followup_months": [10.0, 400.0, 30.0, 40.0]}, "followup_months", "follow-up over 30 years: unusual"),
    ({"relapse_months": [np.nan, 15.0, 12.0, np.nan]}, "relapse_months",
     "relapse is 0 but a time to relapse before last contact is given: a relapse not recorded?"),
    ({"months_hsct1_to_relapse": [5, 700, 3, 9]}, "months_hsct1_to_relapse", "outside the usual range 0–600 months"),
])
def test_unusual_values_are_warnings_not_problems(columns, column, problem):
    cohort = _cohort(**columns)
    assert cohort_problems(cohort).empty
    warnings = cohort_warnings(cohort)
    assert warnings[["row", "column", "problem"]].values.tolist() == [[1, column, problem]]


def test_a_relapse_time_at_last_contact_is_a_censoring_time_not_a_warning():
    assert cohort_warnings(_cohort(relapse_months=[10.0, np.nan, 12.0, 40.0])).empty


@pytest.mark.parametrize(("columns", "problem"), [
    ({"age_years": [5, 145, 3, 9]}, "impossible: outside 0–130"),
    ({"followup_months": [10.0, 1e17, 30.0, 40.0]}, "follow-up longer than a human life (over 130 years)"),
    ({"relapse_months": [np.nan, np.nan, 1e9, np.nan], "followup_months": [10.0, 20.0, 2e9, 40.0]},
     "time to relapse longer than a human life (over 130 years)"),
])
def test_impossible_values_are_problems(columns, problem):
    assert problem in cohort_problems(_cohort(**columns))["problem"].tolist()


def _registry(ages: list[float]) -> pd.DataFrame:
    n = len(ages)
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "os_months": np.linspace(5, 80, n),
                         "dead": ["yes", "no"] * (n // 2) + ["no"] * (n % 2), "relapse": "no", "relapse_months": "",
                         "age": ages}).astype(str).replace({"": None})


def test_an_adult_registry_keeps_every_patient_with_one_warning():
    ages = list(np.linspace(24, 90, 40))
    frame = _registry(ages)
    frame.index = range(1, len(frame) + 1)
    checked = check_upload(frame, propose_mapping(frame))
    assert checked.problems.empty
    groups = checked.warning_groups
    assert groups[["column", "problem", "rows", "values"]].values.tolist() == [
        ["age", "outside the usual range 0–30 years", sum(a > 30 for a in ages),
         f"{min(a for a in ages if a > 30):g}–90"]]
    assert len(checked.cohort(exclude_flagged=False)) == 40
    kept = checked.cohort(exclude_flagged=False, exclude_warnings=groups["key"])
    assert len(kept) == sum(a <= 30 for a in ages) and kept["age_years"].max() <= 30


def test_when_every_row_is_left_out_the_message_names_the_reasons():
    frame = _registry([45.0, 50.0, 60.0])
    frame.index = range(1, 4)
    checked = check_upload(frame, propose_mapping(frame))
    with pytest.raises(CohortError) as info:
        checked.cohort(exclude_flagged=True, exclude_warnings=checked.warning_groups["key"])
    assert str(info.value) == ("No row is left to analyse: every row has a problem — age: outside the usual range "
                               "0–30 years (3 rows).")


def test_dates_in_1850_and_2150_are_read_and_named():
    frame = pd.DataFrame({"id": ["a", "b", "c"], "date_hsct2": ["13.03.1850", "13.03.2019", "13.03.2019"],
                          "date_last_contact": ["13.03.1851", "13.03.2150", "13.03.2021"], "dead": ["no"] * 3},
                         index=[1, 2, 3])
    checked = check_upload(frame, propose_mapping(frame))
    assert checked.problems[["row", "column", "problem"]].values.tolist() == [
        [2, "date_last_contact", "a date in the future"]]
    assert checked.warnings[["row", "column", "problem"]].values.tolist() == [
        [1, "date_hsct2", "a date before 1950: unusual for a transplant"],
        [1, "date_last_contact", "a date before 1950: unusual for a transplant"]]
