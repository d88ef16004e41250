"""The optional cohort fields (GVHD, DLI, centre): schema, upload mapping, proposal, endpoints by hand."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cohort.model import CohortError, as_cohort, cohort_problems, covariates, endpoint, survival_endpoints
from analysis.cohort.post_transplant import (
    available_gvhd_endpoints,
    centres,
    grfs,
    gvhd_causes,
    has_grfs,
    time_dependent_events,
)
from analysis.ingest.loading import read_data_path
from analysis.ingest.mapping import ColumnMapping, apply_mapping, read_mapping_file
from analysis.ingest.options import load_cohort_for_cli
from analysis.ingest.post_transplant import read_grades
from analysis.ingest.proposal import propose_mapping
from analysis.ingest.template import data_dictionary, template_csv
from analysis.ingest.validation import check_upload

TRANSPLANT = Path(__file__).parent / "fixtures" / "transplant"


def _base(**columns) -> pd.DataFrame:
    frame = pd.DataFrame({"patient_id": ["a", "b", "c", "d"], "followup_months": [10.0, 20.0, 5.0, 30.0],
                          "death": [1, 0, 1, 0], "relapse": [0, 1, 0, 0], "relapse_months": [None, 8.0, None, None]})
    return frame.assign(**columns)


def _problems(frame: pd.DataFrame) -> list[tuple]:
    found = cohort_problems(frame)
    return [(int(r.row), r.column, r.problem) for r in found.itertuples(index=False)]


# ------------------------------------------------------------------ schema


def test_a_cohort_without_the_optional_fields_is_unchanged():
    cohort = as_cohort(_base())
    assert "agvhd" not in cohort and survival_endpoints(cohort) == ["os", "rfs"]
    assert available_gvhd_endpoints(cohort) == [] and time_dependent_events(cohort) == []


def test_event_times_must_be_given_and_within_follow_up():
    frame = _base(cgvhd=[1, 1, 0, 1], cgvhd_months=[None, 25.0, None, 3.0])
    assert _problems(frame) == [(0, "cgvhd_months", "cgvhd is 1 but the time to chronic GVHD is missing"),
                                (1, "cgvhd_months", "chronic GVHD after last contact (25 > 20 months)")]


def test_grades_severities_and_events_are_checked():
    frame = _base(agvhd=[0, 1, 1, 0], agvhd_grade=[2, 0, 5, 0], agvhd_months=[None, 1.0, 1.0, None],
                  cgvhd=[0, 0, 0, 0], cgvhd_severity=[None, "worst", None, None], dli=[0, 2, 0, 0])
    problems = _problems(frame)
    assert (0, "agvhd_grade", "acute GVHD is 0 but its grade is I–IV") in problems
    assert (1, "agvhd_grade", "acute GVHD is 1 but its grade is 0") in problems
    assert (2, "agvhd_grade", "not a grade 0–4 (0, I–IV)") in problems
    assert (1, "cgvhd_severity", "not one of limited, extensive, mild, moderate, severe") in problems
    assert (1, "dli", "must be 0 or 1") in problems


def test_normalisation_derives_agvhd_from_its_grade_and_drops_times_without_the_event():
    cohort = as_cohort(_base(agvhd_grade=[0, 3, 1, None], agvhd_months=[4.0, 1.5, 2.0, None],
                             dli=[0, 1, 0, 0], dli_months=[9.0, 6.0, None, None], centre=[3, 4, 3, None]))
    assert cohort["agvhd"].tolist()[:3] == [0.0, 1.0, 1.0] and np.isnan(cohort["agvhd"].iloc[3])
    assert np.isnan(cohort["agvhd_months"].iloc[0]) and cohort["agvhd_months"].iloc[1] == 1.5
    assert np.isnan(cohort["dli_months"].iloc[0])
    assert cohort["centre"].tolist()[:3] == ["3", "4", "3"] and pd.isna(cohort["centre"].iloc[3])


def test_events_after_hsct2_are_never_baseline_covariates():
    cohort = as_cohort(_base(agvhd=[1, 0, 0, 1], agvhd_months=[1.0, None, None, 2.0], centre=["A", "B", "A", "B"],
                             age_years=[4.0, 8.0, 12.0, 16.0]))
    assert covariates(cohort) == ["age_years", "centre"]
    assert centres(cohort).to_dict() == {"A": 2, "B": 2}


# ------------------------------------------------------------------ endpoints by hand


def test_gvhd_incidence_has_death_without_gvhd_competing():
    cohort = as_cohort(_base(agvhd=[1, 1, 0, 1], agvhd_grade=[3, 1, 0, 2], agvhd_months=[2.0, 3.0, None, 4.0]))
    time, cause = gvhd_causes(cohort, "agvhd2")
    assert time.tolist() == [2.0, 20.0, 5.0, 4.0] and cause.tolist() == [1, 0, 2, 1]
    time3, cause3 = gvhd_causes(cohort, "agvhd3")
    assert time3.tolist() == [2.0, 20.0, 5.0, 30.0] and cause3.tolist() == [1, 0, 2, 0]


def test_grfs_is_the_first_of_its_four_events():
    """a: aGVHD III at 2 (dies at 10); b: relapse at 8; c: extensive cGVHD at 4 (dies at 5);
    d: limited cGVHD at 6 and grade II aGVHD, alive: censored at 30."""
    cohort = as_cohort(_base(agvhd_grade=[3, 0, 0, 2], agvhd_months=[2.0, None, None, 1.0],
                             cgvhd=[0, 0, 1, 1], cgvhd_months=[None, None, 4.0, 6.0],
                             cgvhd_severity=[None, None, "extensive", "limited"]))
    assert has_grfs(cohort)
    found = grfs(cohort)
    assert found.time.tolist() == [2.0, 8.0, 4.0, 30.0] and found.event.tolist() == [1, 1, 1, 0]
    assert found.notes == ()
    assert survival_endpoints(cohort) == ["os", "rfs", "grfs"]
    np.testing.assert_array_equal(endpoint(cohort, "grfs").event, found.event)


def test_grfs_says_how_unknown_severity_and_grade_were_counted():
    cohort = as_cohort(_base(agvhd=[1, 0, 0, 0], agvhd_grade=[None, 0, 0, 0], agvhd_months=[2.0, None, None, None],
                             cgvhd=[0, 0, 1, 0], cgvhd_months=[None, None, 4.0, None]))
    found = grfs(cohort)
    assert found.event.tolist() == [1, 1, 1, 0]  # a dies at 10: its aGVHD of unknown grade does not count
    assert found.time.tolist() == [10.0, 8.0, 4.0, 30.0]
    assert any("every chronic GVHD counts" in n for n in found.notes)
    assert any("1 patient(s) with acute GVHD of unknown grade" in n for n in found.notes)


def test_grfs_needs_the_gvhd_fields():
    with pytest.raises(CohortError, match="GRFS needs the acute GVHD grade"):
        endpoint(as_cohort(_base()), "grfs")


# ------------------------------------------------------------------ upload


def test_roman_and_worded_grades_are_read():
    grades, bad = read_grades(pd.Series(["0", "I", "grade II", "III", "iv", 2, None, "V"]))
    assert grades.tolist()[:6] == [0, 1, 2, 3, 4, 2] and bad.tolist() == [False] * 7 + [True]


def test_the_proposal_recognises_scikit_survivals_gvhd_columns():
    mapping = propose_mapping(read_data_path(TRANSPLANT / "cgvhd.tsv").frame)
    assert {f: mapping.column(f) for f in ("agvhd", "agvhd_grade", "agvhd_months", "cgvhd", "cgvhd_months")} == {
        "agvhd": "agvh", "agvhd_grade": "agvhdgd", "agvhd_months": "agvhtime", "cgvhd": "cgvh",
        "cgvhd_months": "cgvhtime"}
    assert mapping.column("cgvhd_severity") is None  # "extent" is the extent of the disease


@pytest.mark.parametrize("file_name", ["cgvhd.tsv", "cgvhd.xlsx", "cgvhd.dta", "cgvhd.parquet"])
def test_the_gvhd_mapping_validates_every_format(file_name):
    raw = read_data_path(TRANSPLANT / file_name)
    checked = check_upload(raw.frame, read_mapping_file(TRANSPLANT / "cgvhd.gvhd.mapping.json"))
    assert checked.is_valid, checked.problems
    cohort = checked.cohort(exclude_flagged=False)
    assert int(cohort["agvhd"].sum()) == 73 and int(cohort["cgvhd"].sum()) == 87
    assert cohort["agvhd_months"].notna().sum() == 73  # times to last follow-up of the others are dropped
    assert available_gvhd_endpoints(cohort) == ["agvhd2", "agvhd3", "cgvhd"]


def test_the_command_line_maps_the_gvhd_fields_from_raw_columns():
    loaded = load_cohort_for_cli(TRANSPLANT / "cgvhd.tsv", time_unit="years",
                                 maps=("age_years=", "agvhd=agvh", "agvhd_grade=agvhdgd", "agvhd_months=agvhtime",
                                       "cgvhd=cgvh", "cgvhd_months=cgvhtime"))
    raw = pd.read_csv(TRANSPLANT / "cgvhd.tsv", sep="\t")
    assert loaded.n_excluded == 0
    assert loaded.cohort["cgvhd_months"].max() == pytest.approx(raw.loc[raw["cgvh"] == 1, "cgvhtime"].max() * 12)


def test_dates_of_gvhd_give_months_from_hsct2():
    frame = pd.DataFrame({"id": ["1", "2"], "date_hsct2": ["2020-01-01", "2020-01-01"],
                          "date_last_contact": ["2021-01-01", "2020-07-01"], "dead": ["no", "yes"],
                          "date_cgvhd": ["2020-05-01", None], "centre": ["A", "B"]})
    mapping = propose_mapping(frame)
    assert mapping.time_form == "dates" and mapping.column("date_cgvhd") == "date_cgvhd"
    cohort = check_upload(frame, mapping).cohort(exclude_flagged=False)
    assert cohort["cgvhd"].tolist() == [1.0, 0.0]
    assert cohort["cgvhd_months"].iloc[0] == pytest.approx(121 / (365.25 / 12))


def test_severity_synonyms_and_centre_codes_are_mapped():
    frame = pd.DataFrame({"t": [10, 20, 30], "dead": [0, 1, 0], "rel": [0, 0, 0], "ttr": [None, None, None],
                          "cgvhd": ["yes", "yes", "no"], "cgvhd_months": [2, 4, None],
                          "cgvhd_extent": ["Ext", "l", None], "center": [12, 7, 12]})
    mapping = ColumnMapping(columns={"followup_months": "t", "death": "dead", "relapse": "rel", "relapse_months": "ttr",
                                     "cgvhd": "cgvhd", "cgvhd_months": "cgvhd_months",
                                     "cgvhd_severity": "cgvhd_extent", "centre": "center"}, time_unit="months")
    mapped = apply_mapping(frame, mapping).frame
    assert mapped["cgvhd_severity"].tolist() == ["extensive", "limited", None]
    assert mapped["centre"].tolist() == ["12", "7", "12"]
    assert mapped["cgvhd"].tolist() == [1.0, 1.0, 0.0]


def test_the_template_and_dictionary_describe_the_optional_fields():
    table = data_dictionary().set_index("field")
    for name in ("agvhd", "agvhd_grade", "agvhd_months", "cgvhd", "cgvhd_severity", "cgvhd_months", "dli",
                 "dli_months", "centre", "date_agvhd"):
        assert len(table.loc[name, "meaning"]) > 10, name
    cohort = as_cohort(pd.read_csv(io.StringIO(template_csv()), dtype={"patient_id": str}))
    assert has_grfs(cohort) and cohort["centre"].tolist() == ["Centre A", "Centre B"]
