"""python -m analysis: the same functions as the dashboard, without the UI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analysis.cli import main
from analysis.cohort.filters import CohortFilter, apply_filter
from analysis.cohort.summary import cohort_summary


def _run(capsys, *args: str) -> tuple[int, dict | str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    try:
        return code, json.loads(out), err
    except json.JSONDecodeError:
        return code, out, err


def test_summary_json_matches_the_library(capsys, demo_cohort):
    code, result, _ = _run(capsys, "summary", "--json")
    assert code == 0
    assert result["n"] == 75
    assert result["levels"]["lineage"] == cohort_summary(demo_cohort)["levels"]["lineage"]


def test_filters_take_the_share_link_query(capsys, demo_cohort):
    code, result, _ = _run(capsys, "summary", "--filters", "lineage=T-ALL&age=10-19", "--json")
    expected = apply_filter(demo_cohort, CohortFilter(age_range=(10, 19)).with_levels("lineage", ["T-ALL"]))
    assert code == 0
    assert result["n"] == len(expected) > 0
    assert result["levels"]["lineage"] == {"T-ALL": len(expected)}


def test_ignored_filter_is_reported_on_stderr(capsys):
    code, result, err = _run(capsys, "summary", "--filters", "lineage=Q", "--json")
    assert code == 0 and result["n"] == 75
    assert "note: filter: The link asks for Lineage “Q”, which these data do not have; it was left out." in err


def test_text_output_is_readable(capsys):
    code, out, _ = _run(capsys, "summary")
    assert code == 0
    assert "n: 75" in out


def test_missing_file_is_a_message_not_a_traceback(capsys, tmp_path):
    code, _, err = _run(capsys, "summary", "--data", str(tmp_path / "nope.csv"))
    assert code == 2
    assert err.startswith("error:") and "Traceback" not in err


def test_mapping_options_need_a_file(capsys):
    code, _, err = _run(capsys, "summary", "--time-unit", "days")
    assert code == 2
    assert "give it with --data FILE" in err


def test_bad_times_are_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as info:
        main(["km", "--times", "12,abc"])
    assert info.value.code == 2
    assert "expected comma-separated months" in capsys.readouterr().err


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "analysis", "summary", "--json"], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n"] == 75


def _write(tmp_path, text: str):
    path = tmp_path / "cohort.csv"
    path.write_text(text)
    return str(path)


BAD = ("patient_id,followup_months,death,relapse,relapse_months\n"
       "1,10,1,0,\n2,-3,0,0,\n3,5,1,1,9\n4,20,0,0,\n")


def test_flagged_rows_are_excluded_and_listed(capsys, tmp_path):
    code, result, err = _run(capsys, "summary", "--data", _write(tmp_path, BAD), "--json")
    assert code == 0
    assert result["n"] == 2
    assert "2 row(s) excluded by validation" in err
    assert "row 2, followup_months = '-3': negative follow-up time" in err


def test_strict_stops_on_problems(capsys, tmp_path):
    code, out, err = _run(capsys, "summary", "--data", _write(tmp_path, BAD), "--strict")
    assert code == 2 and out == ""
    assert "error: 2 problem(s)" in err


def test_km_json_has_the_documented_shape(capsys, demo_cohort):
    code, result, _ = _run(capsys, "km", "--endpoint", "rfs", "--group", "lineage", "--times", "12,60", "--json")
    assert code == 0
    assert result["endpoint"] == "rfs" and result["n"] == 75
    assert [g["group"] for g in result["groups"]] == ["B-ALL", "T-ALL"]
    assert sum(g["n"] for g in result["groups"]) == 75
    assert [a["time"] for a in result["groups"][0]["at"]] == [12, 60]
    assert set(result["logrank"]) == {"statistic", "df", "p"} and result["logrank"]["df"] == 1
    assert result["followup_median"] > 0


def test_km_without_group_is_one_group_all(capsys):
    code, result, _ = _run(capsys, "km", "--json")
    assert code == 0
    assert [g["group"] for g in result["groups"]] == ["all"]
    assert result["logrank"] is None


def test_cif_json_shape_and_gray_only_with_group(capsys):
    code, result, _ = _run(capsys, "cif", "--json")
    assert code == 0 and result["gray"] is None
    causes = result["groups"][0]["causes"]
    assert causes["relapse"]["events"] == 27
    code, grouped, _ = _run(capsys, "cif", "--group", "age_group", "--json")
    assert set(grouped["gray"]) == {"relapse", "nrm"}
    assert grouped["gray"]["relapse"]["df"] == 1


def test_cox_json_terms_and_reference(capsys):
    code, result, _ = _run(capsys, "cox", "--endpoint", "os", "--covariates", "lineage,age_years",
                           "--reference", "lineage=T-ALL", "--json")
    assert code == 0
    assert [t["term"] for t in result["terms"]] == ["lineage=B-ALL", "age_years"]
    assert result["lr_test"]["df"] == 2


def test_cox_bad_reference_is_a_message(capsys):
    code, _, err = _run(capsys, "cox", "--covariates", "lineage", "--reference", "lineage")
    assert code == 2 and "--reference expects COL=LEVEL" in err


# ------------------------------------------------------------------ hostile and messy input


def test_a_closed_pipe_ends_quietly(tmp_path):
    """``python -m analysis ... | head``: the reader stops early; no BrokenPipeError traceback."""
    reader = subprocess.Popen([sys.executable, "-m", "analysis", "km", "--group", "lineage", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.close()  # as head does once it has its lines
    err = reader.stderr.read().decode()
    assert reader.wait(timeout=120) == 0
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_km_on_one_level_prints_the_curve_and_says_why_there_is_no_test(capsys):
    code, result, _ = _run(capsys, "km", "--group", "lineage", "--filters", "lineage=T-ALL", "--json")
    assert code == 0
    assert [g["group"] for g in result["groups"]] == ["T-ALL"] and result["logrank"] is None
    assert result["logrank_note"] == ("no test: all 17 patients with a known lineage have lineage = T-ALL, and a test "
                                      "compares two or more groups")


def test_cox_refuses_data_without_any_comparison(capsys, tmp_path):
    path = _write(tmp_path, "patient_id,followup_months,death,relapse,relapse_months,sex\n"
                            + "".join(f"{i},0,1,0,,{'male' if i % 2 else 'female'}\n" for i in range(6)))
    code, out, err = _run(capsys, "cox", "--data", path, "--covariates", "sex")
    assert code == 2 and out == ""
    assert "the data carry no information on hazard ratios" in err and "nan" not in err.lower()


def test_unusual_values_are_kept_with_one_warning_unless_excluded(capsys, tmp_path):
    rows = "".join(f"{i},{10 + i},0,0,,{20 + 3 * i}\n" for i in range(10))
    path = _write(tmp_path, "patient_id,followup_months,death,relapse,relapse_months,age_years\n" + rows)
    code, result, err = _run(capsys, "summary", "--data", path, "--json")
    assert code == 0 and result["n"] == 10
    assert [line for line in err.splitlines() if line.startswith("warning:")] == [
        "warning: age_years: 6 row(s) outside the usual range 0–30 years (values 32–47); kept "
        "(--exclude-implausible leaves them out)"]
    code, result, err = _run(capsys, "summary", "--data", path, "--exclude-implausible", "--json")
    assert code == 0 and result["n"] == 4
    assert "; excluded (--exclude-implausible)" in err


def test_category_spellings_are_assumed_and_printed(capsys, tmp_path):
    path = _write(tmp_path, "patient_id,followup_months,death,relapse,relapse_months,lineage,sex\n"
                            "1,10,1,0,,B-cell precursor,M\n2,20,0,0,,T-cell,W\n3,5,1,0,,T-ALL,m\n")
    code, result, err = _run(capsys, "summary", "--data", path, "--json")
    assert code == 0 and result["levels"]["lineage"] == {"B-ALL": 1, "T-ALL": 2}
    assumed = [line for line in err.splitlines() if line.startswith("assumed:")]
    assert "assumed: lineage “B-cell precursor” is Lineage = B-ALL (1 row(s))" in assumed
    assert "assumed: sex “M” is Sex = male (2 row(s))" in assumed  # "M" and "m" are one value
    assert not any("T-ALL”" in line for line in assumed)  # the standard spelling is not an assumption


def test_sheet_chooses_the_sheet_of_a_workbook(capsys, tmp_path, demo_cohort):
    import pandas as pd

    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"About": ["read me"]}).to_excel(writer, sheet_name="readme", index=False)
        demo_cohort.head(30).to_excel(writer, sheet_name="first", index=False)
        demo_cohort.tail(10).to_excel(writer, sheet_name="second", index=False)
    code, result, err = _run(capsys, "summary", "--data", str(path), "--json")
    assert code == 0 and result["n"] == 30
    assert "note: Sheet 'first' was read: sheet(s) 'readme' hold one column only." in err
    code, result, _ = _run(capsys, "summary", "--data", str(path), "--sheet", "second", "--json")
    assert code == 0 and result["n"] == 10
    code, _, err = _run(capsys, "summary", "--data", str(path), "--sheet", "readme")
    assert code == 2 and "choose the sheet that holds the data (the sheets are readme, first, second)" in err
    code, _, err = _run(capsys, "summary", "--sheet", "second")
    assert code == 2 and "give it with --data FILE" in err
