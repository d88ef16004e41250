"""python -m analysis: the same functions as the dashboard, without the UI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analysis.__main__ import main
from analysis.filters import CohortFilter, apply_filter
from analysis.summary import cohort_summary


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
    assert "ignored unknown lineage value(s): Q" in err


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
