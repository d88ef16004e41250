"""Column mapping, value maps, time forms, validation of uploads, and the command-line loader."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.cohort.model import DAYS_PER_MONTH, CohortError, endpoint, has_overall_survival, is_categorical
from analysis.ingest.dates import parse_dates
from analysis.ingest.loading import read_data_file
from analysis.ingest.mapping import (
    ColumnMapping,
    MappingError,
    apply_mapping,
    from_json,
    parse_map_flags,
    to_json,
    value_key,
)
from analysis.ingest.options import load_cohort_for_cli, mapping_from_options
from analysis.ingest.proposal import propose_mapping, unit_in_name
from analysis.ingest.validation import ROW_NUMBERING, check_upload


def _table(text: str) -> pd.DataFrame:
    return read_data_file(text.encode(), "export.csv").frame


@pytest.fixture
def registry() -> pd.DataFrame:
    """An export in the issue's own words: OS_days, status, time_to_relapse, age, gender, immunophenotype."""
    return _table(
        "ID;OS_days;status;time_to_relapse;relapsed;age;gender;immunophenotype;centre\n"
        "001;365;dead;100;yes;10;m;T-lineage;3\n"
        "002;730;alive;;no;4,5;w;B;4\n"
        "003;60;dead;;no;17;f;pre-B;3\n"
        "004;200;alive;150;yes;12;female;T;4\n"
    )


# ------------------------------------------------------------------ proposal


def test_proposal_recognises_the_usual_names(registry):
    mapping = propose_mapping(registry)
    assert mapping.column_of == {
        "patient_id": "ID", "followup_months": "OS_days", "death": "status",
        "relapse_months": "time_to_relapse", "relapse": "relapsed", "age_years": "age", "sex": "gender",
        "lineage": "immunophenotype", "centre": "centre",
    }
    assert mapping.time_form == "durations"
    assert mapping.time_unit is None  # "time_to_relapse" states no unit, "OS_days" does: no single unit


def test_proposal_reads_the_unit_from_the_names():
    frame = _table("pid,os_days,dead,relapse,relapse_days\n1,10,0,0,\n")
    assert propose_mapping(frame).time_unit == "days"
    assert propose_mapping(_table("id,OS (months),death,relapse,relapse_months\n1,3,0,0,\n")).time_unit == "months"


@pytest.mark.parametrize("name, unit", [
    ("OS_days", "days"), ("os (weeks)", "weeks"), ("FU_yrs", "years"), ("time_to_relapse", None),
    ("ftime", None), ("relapse_m", "months"),
])
def test_unit_in_name(name, unit):
    assert unit_in_name(name) == unit


def test_proposal_maps_values_to_standard_levels(registry):
    mapping = propose_mapping(registry)
    assert mapping.level_map("lineage") == {"t-lineage": "T-ALL", "b": "B-ALL", "pre-b": "B-ALL", "t": "T-ALL"}
    assert mapping.level_map("sex") == {"m": "male", "w": "female", "f": "female", "female": "female"}
    assert mapping.event_map("death") == {"dead": 1, "alive": 0}
    assert mapping.event_map("relapse") == {"yes": 1, "no": 0}


@pytest.mark.parametrize("values, expected", [
    (["1", "0"], {"1": 1, "0": 0}), (["Yes", "no"], {"yes": 1, "no": 0}), (["TRUE", "False"], {"true": 1, "false": 0}),
    (["dead", "alive"], {"dead": 1, "alive": 0}), (["verstorben", "lebt"], {"verstorben": 1, "lebt": 0}),
])
def test_event_tokens_are_proposed(values, expected):
    frame = pd.DataFrame({"id": ["a", "b"], "os_months": [1.0, 2.0], "dead": values, "relapse": ["0", "0"],
                          "relapse_months": [np.nan, np.nan]}, index=[1, 2])
    assert propose_mapping(frame).event_map("death") == expected


def test_custom_event_labels_are_left_for_the_user():
    frame = pd.DataFrame({"id": ["a", "b"], "os_months": [1.0, 2.0], "dead": ["+", "-"]}, index=[1, 2])
    mapping = propose_mapping(frame)
    assert "death" not in dict(mapping.event_values)  # nothing recognised: the standard tokens apply
    checked = check_upload(frame, mapping)
    unmapped = checked.problems[checked.problems["column"] == "dead"]
    assert unmapped["problem"].str.contains("not mapped to an event code").all()
    assert unmapped["value"].tolist() == ["+", "-"]
    fixed = mapping.with_event_values("death", {"+": 1, "-": 0})
    assert apply_mapping(frame, fixed).frame["death"].tolist() == [1.0, 0.0]


def test_proposal_recognises_cause_coded_data():
    frame = _table("id,ftime,status,dis\n1,13,2,0\n2,1,1,0\n3,72,0,1\n")
    mapping = propose_mapping(frame)
    assert mapping.time_form == "cause"
    assert mapping.column_of == {"patient_id": "id", "event_time": "ftime", "cause": "status"}


def test_proposal_recognises_dates():
    frame = _table("id,date_hsct2,date_relapse,date_last_contact,dead\n1,2019-01-01,,2020-01-01,0\n")
    mapping = propose_mapping(frame)
    assert mapping.time_form == "dates"
    assert {"date_hsct2", "date_relapse", "date_last_contact", "death"} <= set(mapping.column_of)


def test_value_key():
    assert value_key(1.0) == "1" and value_key(np.int64(0)) == "0" and value_key(True) == "true"
    assert value_key("  T  lineage ") == "t lineage"
    assert value_key(np.nan) is None and value_key("  ") is None and value_key(None) is None


# ------------------------------------------------------------------ durations


@pytest.mark.parametrize("unit, months_per_unit", [
    ("days", 1 / DAYS_PER_MONTH), ("weeks", 7 / DAYS_PER_MONTH), ("months", 1.0), ("years", 12.0),
])
def test_durations_are_converted_to_months(unit, months_per_unit):
    frame = _table("id,t,d,r,rt\na,30,1,1,12\nb,2,0,0,\n")
    mapping = ColumnMapping(columns={"patient_id": "id", "followup_months": "t", "death": "d", "relapse": "r",
                                     "relapse_months": "rt"}, time_unit=unit)
    out = apply_mapping(frame, mapping).frame
    assert out["followup_months"].tolist() == pytest.approx([30 * months_per_unit, 2 * months_per_unit])
    assert out.loc[1, "relapse_months"] == pytest.approx(12 * months_per_unit)


def test_a_time_unit_must_be_chosen():
    frame = _table("id,t,d,r,rt\na,30,1,0,\n")
    mapping = ColumnMapping(columns={"patient_id": "id", "followup_months": "t", "death": "d", "relapse": "r",
                                     "relapse_months": "rt"})
    checked = check_upload(frame, mapping)
    assert checked.problems["row"].isna().all()
    assert checked.problems["problem"].tolist() == [
        "choose the time unit of these columns (days, weeks, months or years)"]
    with pytest.raises(CohortError, match="The mapping is incomplete: t, rt: choose the time unit"):
        checked.cohort(exclude_flagged=True)


def test_required_fields_must_be_mapped():
    frame = _table("id,t,d\na,30,1\n")
    checked = check_upload(frame, ColumnMapping(columns={"followup_months": "t"}, time_unit="days"))
    assert set(checked.column_problems["column"]) == {"Death", "Relapse after HSCT2", "Time to relapse"}
    assert not checked.can_exclude


def test_mapped_column_missing_from_the_file_is_reported():
    frame = _table("id,t,d,r,rt\na,30,1,0,\n")
    mapping = ColumnMapping(columns={"followup_months": "t", "death": "d", "relapse": "r", "relapse_months": "rt",
                                     "age_years": "Age at HSCT2"}, time_unit="days")
    problems = check_upload(frame, mapping).problems
    assert problems.iloc[0]["column"] == "Age at HSCT2"
    assert "not in the file" in problems.iloc[0]["problem"]


# ------------------------------------------------------------------ validation


@pytest.fixture
def messy() -> pd.DataFrame:
    return _table(
        "ID;OS_days;status;time_to_relapse;relapsed;age;gender\n"
        "1;365;dead;100;yes;10;m\n"        # row 1 fine
        "2;-5;alive;;no;8;f\n"             # row 2 negative time
        "3;;alive;;no;8;f\n"               # row 3 missing time
        "4;100;alive;300;yes;12;f\n"       # row 4 relapse after last contact
        "5;100;maybe;;no;12;f\n"           # row 5 event not 0/1 after mapping
        "5;100;alive;;no;45;x\n"           # row 6 duplicated ID, age out of range, unknown sex
        "7;abc;alive;;no;3;m\n"            # row 7 not a number
    )


@pytest.fixture
def messy_checked(messy):
    return check_upload(messy, replace_unit(propose_mapping(messy), "days"))


def replace_unit(mapping: ColumnMapping, unit: str) -> ColumnMapping:
    from dataclasses import replace

    return replace(mapping, time_unit=unit)


def test_problems_name_row_column_value_in_the_users_words(messy_checked):
    p = messy_checked.problems
    assert list(p.columns) == ["row", "column", "value", "problem"]
    got = {(int(r), c, v, q) for r, c, v, q in p.itertuples(index=False)}
    assert (2, "OS_days", "-5", "negative follow-up time") in got
    assert (3, "OS_days", None, "missing value") in got
    assert (5, "status", "maybe", "value not mapped to an event code (0/1)") in got
    assert (6, "age", "45", "outside the usual range 0–30 years") not in got  # an adult age is unusual only
    warned = {(int(r), c, v, q) for r, c, v, q in messy_checked.warnings.itertuples(index=False)}
    assert (6, "age", "45", "outside the usual range 0–30 years") in warned
    assert (6, "gender", "x", "not one of female, male") in got
    assert {(5, "ID", "5", "duplicated ID"), (6, "ID", "5", "duplicated ID")} <= got
    assert (7, "OS_days", "abc", "not a number") in got
    late = p[(p["row"] == 4) & (p["column"] == "time_to_relapse")]
    assert late["value"].tolist() == ["300"] and late["problem"].str.startswith("relapse after last contact").all()


def test_a_value_is_reported_once(messy_checked):
    """'abc' is not a number; the schema would also call it a missing value."""
    p = messy_checked.problems
    assert len(p[(p["row"] == 7) & (p["column"] == "OS_days")]) == 1
    assert len(p[(p["row"] == 5) & (p["column"] == "status")]) == 1


def test_rows_are_numbered_as_in_the_file(messy_checked):
    assert messy_checked.flagged_rows == [2, 3, 4, 5, 6, 7]
    assert "1 is the first row below the column names" in ROW_NUMBERING


def test_excluding_flagged_rows_keeps_the_rest(messy_checked):
    cohort = messy_checked.cohort(exclude_flagged=True)
    assert cohort["patient_id"].tolist() == ["1"]
    assert messy_checked.n_flagged == 6
    with pytest.raises(CohortError, match=r"problem\(s\) in 6 row\(s\)") as info:
        messy_checked.cohort(exclude_flagged=False)
    assert len(info.value.problems) == len(messy_checked.problems)


def test_every_row_flagged_leaves_nothing():
    frame = _table("id,os_days,dead,relapse,relapse_days\na,-1,0,0,\nb,-2,0,0,\n")
    checked = check_upload(frame, propose_mapping(frame))
    assert not checked.can_exclude
    with pytest.raises(CohortError, match="every row has a problem — os_days: negative follow-up time "
                                          r"\(2 rows\)"):
        checked.cohort(exclude_flagged=True)


def test_a_valid_file_passes():
    frame = _table("id,os_days,dead,relapse,relapse_days\na,100,0,1,50\nb,20,1,0,\n")
    checked = check_upload(frame, propose_mapping(frame))
    assert checked.is_valid
    cohort = checked.cohort(exclude_flagged=False)
    assert cohort["relapse_months"].iloc[0] == pytest.approx(50 / DAYS_PER_MONTH)


# ------------------------------------------------------------------ cause form


def test_cause_coded_data_map_as_documented():
    frame = _table("id,ftime,status\na,10,0\nb,4,1\nc,6,2\n")
    mapping = replace_unit(propose_mapping(frame), "months")
    cohort = check_upload(frame, mapping).cohort(exclude_flagged=False)
    a, b, c = (cohort.iloc[i] for i in range(3))
    assert (a["relapse"], a["death"], a["followup_months"]) == (0, 0, 10)
    assert (b["relapse"], b["relapse_months"], b["followup_months"]) == (1, 4, 4) and pd.isna(b["death"])
    assert (c["relapse"], c["death"], c["followup_months"]) == (0, 1, 6)
    assert not has_overall_survival(cohort)
    with pytest.raises(CohortError, match="Overall survival needs vital status after relapse"):
        endpoint(cohort, "os")
    assert endpoint(cohort, "relapse").event.tolist() == [0, 1, 0]
    assert endpoint(cohort, "nrm").event.tolist() == [0, 0, 1]


def test_cause_codes_can_be_remapped():
    """sksurv's bmt codes 1 = transplant-related mortality, 2 = relapse."""
    frame = _table("id,ftime,status\na,10,0\nb,4,1\nc,6,2\n")
    mapping = replace_unit(propose_mapping(frame), "months").with_event_values("cause", {"0": 0, "1": 2, "2": 1})
    cohort = check_upload(frame, mapping).cohort(exclude_flagged=False)
    assert cohort["relapse"].tolist() == [0, 0, 1]
    assert endpoint(cohort, "nrm").event.tolist() == [0, 1, 0]


def test_unmapped_cause_is_reported_once():
    frame = _table("id,ftime,status\na,10,0\nb,4,1\nc,6,2\nd,3,9\n")
    problems = check_upload(frame, replace_unit(propose_mapping(frame), "months")).problems
    assert problems[["row", "column", "value"]].values.tolist() == [[4, "status", "9"]]
    assert problems["problem"].iloc[0] == "value not mapped to an event code (0/1/2)"


# ------------------------------------------------------------------ dates


def test_times_are_computed_from_dates():
    frame = _table(
        "pid,date_hsct2,date_relapse,date_last_contact,dead\n"
        "a,2019-01-01,2019-07-01,2020-01-01,1\n"
        "b,01.02.2019,,01.02.2021,0\n"
    )
    mapping = propose_mapping(frame)
    cohort = check_upload(frame, mapping).cohort(exclude_flagged=False)
    assert cohort["followup_months"].tolist() == pytest.approx([365 / DAYS_PER_MONTH, 731 / DAYS_PER_MONTH])
    assert cohort["relapse"].tolist() == [1, 0]
    assert cohort.loc[0, "relapse_months"] == pytest.approx(181 / DAYS_PER_MONTH)


def test_dates_in_the_wrong_order_are_reported():
    frame = _table(
        "pid,date_hsct2,date_relapse,date_last_contact,dead\n"
        "a,2019-01-15,2019-01-01,2018-12-31,1\n"
        "b,2019-01-15,2021-01-01,2020-01-01,0\n"
        "c,2019-01-15,soon,2020-01-01,0\n"
    )
    problems = check_upload(frame, propose_mapping(frame)).problems
    got = {(int(r), c, v, q) for r, c, v, q in problems.itertuples(index=False)}
    assert got == {
        (1, "date_last_contact", "2018-12-31", "date of death or last contact is before HSCT2"),
        (1, "date_relapse", "2019-01-01", "relapse date is before HSCT2"),
        (2, "date_relapse", "2021-01-01", "relapse after last contact (2021-01-01 > 2020-01-01)"),
        (3, "date_relapse", "soon", "not a date"),
    }


def test_relapse_date_with_relapse_zero_is_reported():
    frame = _table("pid,date_hsct2,date_relapse,date_last_contact,dead,relapse\n"
                   "a,2019-01-15,2019-06-01,2020-01-01,0,0\n")
    problems = check_upload(frame, propose_mapping(frame)).problems
    assert problems["problem"].tolist() == ["a relapse date is given but relapse is 0"]


@pytest.mark.parametrize("text, order, expected", [
    ("2019-03-04", "auto", "2019-03-04"), ("04.03.2019", "auto", "2019-03-04"), ("04/03/2019", "MDY", "2019-04-03"),
    ("20190304", "auto", "2019-03-04"), ("2019/03/04", "auto", "2019-03-04"), ("4 Mar 2019", "auto", "2019-03-04"),
    ("March 4, 2019", "auto", "2019-03-04"), ("04.03.19", "auto", "2019-03-04"), ("31/12/99", "auto", "1999-12-31"),
    ("2019-03-04T10:30", "auto", "2019-03-04"),
])
def test_parse_dates_formats(text, order, expected):
    parsed = parse_dates(pd.Series([text], dtype=object), order)
    assert not parsed.bad.any()
    assert parsed.dates.iloc[0] == pd.Timestamp(expected)


def test_parse_dates_takes_the_order_from_the_column():
    month_first = parse_dates(pd.Series(["03/04/2019", "12/31/2019"]))
    assert month_first.dates.iloc[0] == pd.Timestamp("2019-03-04")
    day_first = parse_dates(pd.Series(["03/04/2019", "31/12/2019"]))
    assert day_first.dates.iloc[0] == pd.Timestamp("2019-04-03")
    ambiguous = parse_dates(pd.Series(["03/04/2019", "05/06/2019"]))
    assert ambiguous.dates.iloc[0] == pd.Timestamp("2019-04-03")
    assert "read day-first" in ambiguous.notes[0]
    mixed = parse_dates(pd.Series(["13/01/2019", "01/13/2019", "2019-01-13", "03/04/2019"]))
    assert (mixed.dates.iloc[:3] == pd.Timestamp("2019-01-13")).all()
    assert "mixes day-first dates" in mixed.notes[0]
    assert mixed.bad.tolist() == [False, False, False, True]  # 3 April or 4 March: the column cannot tell
    assert mixed.reason(3).startswith("cannot tell day from month: the column has day-first dates (13/01/2019)")


@pytest.mark.parametrize("value", ["31.02.2019", "2019-13-01", "1550-01-01", "yesterday", "12", 43831.0, "5/5",
                                   "31/12/" + "1" * 60])
def test_parse_dates_refuses_non_dates(value):
    assert parse_dates(pd.Series([value], dtype=object)).bad.all()


# ------------------------------------------------------------------ covariates


def test_other_columns_become_covariates(registry):
    frame = registry.assign(weight_kg=[30, 18, 55, 41])
    cohort = check_upload(frame, replace_unit(propose_mapping(frame), "days")).cohort(exclude_flagged=False)
    assert "weight_kg" in cohort
    assert not is_categorical(cohort, "weight_kg")
    assert cohort["centre"].tolist() == ["3", "4", "3", "4"]  # the centre field: codes are groups
    assert is_categorical(cohort, "centre")
    assert cohort["lineage"].tolist() == ["T-ALL", "B-ALL", "B-ALL", "T-ALL"]
    assert cohort["age_years"].tolist() == [10, 4.5, 17, 12]
    assert cohort["patient_id"].tolist() == ["001", "002", "003", "004"]


def test_numeric_column_marked_categorical(registry):
    from dataclasses import replace

    mapping = replace(propose_mapping(registry), time_unit="days", categorical=("centre",))
    cohort = check_upload(registry, mapping).cohort(exclude_flagged=False)
    assert is_categorical(cohort, "centre")
    assert cohort["centre"].tolist() == ["3", "4", "3", "4"]


def test_ignored_columns_and_date_columns_are_left_out(registry):
    from dataclasses import replace

    frame = registry.assign(dob=["2001-01-02"] * 4, name=["A", "B", "C", "D"])
    mapping = replace(propose_mapping(frame), time_unit="days", ignored=("name",))
    mapped = apply_mapping(frame, mapping)
    assert "name" not in mapped.frame and "dob" not in mapped.frame
    assert any("dob" in note for note in mapped.notes)


def test_a_covariate_named_like_a_field_is_renamed():
    frame = _table("id,os_days,dead,relapse,relapse_days,death\na,10,0,0,,x\n")
    mapped = apply_mapping(frame, propose_mapping(frame).with_column("death", "dead"))
    assert "death (file)" in mapped.frame and mapped.frame["death"].tolist() == [0.0]


def test_missing_id_column_numbers_the_rows():
    frame = _table("os_days,dead,relapse,relapse_days\n10,0,0,\n20,1,0,\n")
    mapped = apply_mapping(frame, propose_mapping(frame))
    assert mapped.frame["patient_id"].tolist() == ["row 1", "row 2"]


# ------------------------------------------------------------------ saving a mapping


def test_mapping_round_trips_through_json(registry):
    mapping = replace_unit(propose_mapping(registry), "days").with_event_values("death", {"dead": 1, "alive": 0})
    text = to_json(mapping)
    assert json.loads(text)["columns"]["followup_months"] == "OS_days"
    assert from_json(text) == mapping
    assert hash(from_json(text)) == hash(mapping)


def test_next_months_export_maps_in_one_click(registry):
    saved = to_json(replace_unit(propose_mapping(registry), "days"))
    next_month = pd.concat([registry, registry.tail(1).assign(ID="005")], ignore_index=True)
    next_month.index = pd.RangeIndex(1, len(next_month) + 1)
    checked = check_upload(next_month, from_json(saved))
    assert checked.is_valid and len(checked.cohort(exclude_flagged=False)) == 5


@pytest.mark.parametrize("text, message", [
    ("not json", "not valid JSON"), ('{"a": 1}', "not a column mapping saved"),
    ('{"format": "hsct2-explorer column mapping", "version": 9}', "version 9 is not supported"),
    ('{"format": "hsct2-explorer column mapping", "version": 1, "columns": {"weight": "w"}}', "unknown field"),
    ('{"format": "hsct2-explorer column mapping", "version": 1, "time_unit": "fortnights"}', "time unit"),
])
def test_from_json_refuses_what_is_not_a_mapping(text, message):
    with pytest.raises(MappingError, match=message):
        from_json(text)


# ------------------------------------------------------------------ command line


def test_map_flags_override_the_proposal(registry):
    mapping = mapping_from_options(registry, maps=parse_map_flags(["death=relapsed", "relapse=status"]),
                                   time_unit="days", categorical=("centre",))
    assert mapping.column("death") == "relapsed" and mapping.column("relapse") == "status"
    assert mapping.event_map("death") == {"yes": 1, "no": 0}
    assert mapping.time_unit == "days" and mapping.categorical == ("centre",)


def test_map_flags_switch_the_time_form():
    frame = _table("id,os_days,dead,relapse,relapse_days,tx,last\na,10,0,0,,2019-01-01,2019-01-11\n")
    mapping = mapping_from_options(frame, maps=parse_map_flags(["date_hsct2=tx", "date_last_contact=last"]))
    assert mapping.time_form == "dates"
    assert "followup_months" not in mapping.column_of
    cohort = check_upload(frame, mapping).cohort(exclude_flagged=False)
    assert cohort["followup_months"].iloc[0] == pytest.approx(10 / DAYS_PER_MONTH)


@pytest.mark.parametrize("flags, message", [
    (["death"], "expects FIELD=COLUMN"), (["weight=w"], "unknown field 'weight'"),
])
def test_bad_map_flags(flags, message):
    with pytest.raises(MappingError, match=message):
        parse_map_flags(flags)


def test_map_flag_naming_a_missing_column(registry):
    with pytest.raises(MappingError, match="not in the file: 'OS'"):
        mapping_from_options(registry, maps={"followup_months": "OS"})


def test_cli_loader_validates_a_canonical_file_as_it_is(tmp_path, demo_cohort):
    path = tmp_path / "cohort.csv"
    demo_cohort.to_csv(path, index=False)
    loaded = load_cohort_for_cli(path)
    pd.testing.assert_frame_equal(loaded.cohort, demo_cohort)
    assert loaded.n_excluded == 0 and loaded.name == "cohort.csv"


def test_cli_loader_refuses_to_guess(tmp_path, registry):
    path = tmp_path / "export.csv"
    registry.to_csv(path, index=False)
    with pytest.raises(MappingError, match=r"not in the cohort format .* --map followup_months=OS_days"):
        load_cohort_for_cli(path)


def test_cli_loader_with_flags_and_mapping_file(tmp_path, messy):
    path = tmp_path / "export.csv"
    messy.to_csv(path, index=False)
    loaded = load_cohort_for_cli(path, maps=["followup_months=OS_days"], time_unit="days")
    assert loaded.n_excluded == 6 and len(loaded.cohort) == 1
    saved = tmp_path / "mapping.json"
    saved.write_text(to_json(loaded.mapping))
    again = load_cohort_for_cli(path, mapping_file=saved)
    pd.testing.assert_frame_equal(again.cohort, loaded.cohort)
    with pytest.raises(CohortError, match="Fix the file or exclude the flagged rows"):
        load_cohort_for_cli(path, mapping_file=saved, exclude_flagged=False)


def test_an_empty_map_flag_unmaps_a_field(registry):
    maps = parse_map_flags(["age_years="])
    assert maps == {"age_years": None}
    mapping = mapping_from_options(registry, maps=maps, time_unit="days")
    assert mapping.column("age_years") is None
    cohort = check_upload(registry, mapping).cohort(exclude_flagged=False)
    assert "age" in cohort and "age_years" not in cohort


def test_one_column_for_two_fields_is_reported():
    frame = _table("id,os_days,status,relapse_days\na,10,0,\n")
    mapping = ColumnMapping(columns={"followup_months": "os_days", "death": "status", "relapse": "status",
                                     "relapse_months": "relapse_days"}, time_unit="days")
    problems = check_upload(frame, mapping).problems
    assert problems["problem"].tolist() == ["mapped to 2 fields (Death, Relapse after HSCT2): choose one"]
    assert problems["column"].tolist() == ["status"]
