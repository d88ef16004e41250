"""analysis.text: one wording for every number, and text from files made safe to show and to export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.text import (
    count,
    disclosure_rule,
    escape_markdown,
    formula_safe,
    formula_safe_frame,
    group_text,
    hazard_ratio_text,
    jsonable,
    landmark_label,
    mask_small_counts,
    masked_count,
    p_cell,
    p_compact,
    p_value,
    percent,
    survival_text,
    wrap_label,
)


@pytest.mark.parametrize(("p", "prose", "cell", "compact"), [
    (0.0004, "p < 0.001", "< 0.001", "<0.001"),
    (0.00049, "p < 0.001", "< 0.001", "<0.001"),  # never "p = 0.000"
    (0.0123, "p = 0.012", "0.012", "0.012"),
    (0.5, "p = 0.500", "0.500", "0.50"),
    (float("nan"), "p not computed", "–", ""),
])
def test_p_value_styles_share_one_rule(p, prose, cell, compact):
    assert (p_value(p), p_cell(p), p_compact(p)) == (prose, cell, compact)


def test_counts_are_singular_and_plural():
    assert count(1, "event") == "1 event" and count(0, "event") == "0 events" and count(2, "patient") == "2 patients"


def test_numbers_as_text():
    assert percent(0.5773) == "57.7 %" and percent(float("nan")) == "–"
    assert survival_text(0.5, 0.4, 0.6) == "50.0 % (40.0–60.0)" and survival_text(1.0, np.nan, np.nan) == "100.0 %"
    assert landmark_label(12) == "1 year" and landmark_label(60) == "5 years" and landmark_label(18) == "1.5 years"
    assert hazard_ratio_text(2.5, 1.1, np.inf) == "2.50 (1.10–∞)" and group_text("all") == "All patients"
    assert jsonable({"a": np.float64("nan"), "b": [np.int64(2), np.inf]}) == {"a": None, "b": [2, None]}


@pytest.mark.parametrize("text", ["[log in again](https://evil.example)", "<h1>FAKE</h1>", "**bold** _it_",
                                  ":red[alarm] :material/home:", "# heading", "a | b", "`code`"])
def test_escaped_markdown_has_no_active_character(text):
    escaped = escape_markdown(text)
    unescaped = [c for i, c in enumerate(escaped) if c in "[]()<>*_#|`:" and (i == 0 or escaped[i - 1] != "\\")]
    assert unescaped == []


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_formula_cells_are_neutralised(cell):
    assert formula_safe(cell) == "'" + cell


def test_formula_safe_frame_keeps_numbers_and_neutralises_text_and_names():
    frame = pd.DataFrame({"=name": ["=cmd|' /C calc'!A0", "ok"], "n": [-1.5, 2.0]})
    safe = formula_safe_frame(frame)
    assert list(safe.columns) == ["'=name", "n"]
    assert safe["'=name"].tolist() == ["'=cmd|' /C calc'!A0", "ok"] and safe["n"].tolist() == [-1.5, 2.0]
    assert frame.columns[0] == "=name"  # the input is not changed


# ------------------------------------------------------------------ disclosure control and labels


def test_masked_count_hides_counts_below_the_threshold_but_not_zero():
    assert [masked_count(n, 5) for n in (0, 1, 4, 5, 30)] == ["0", "<5", "<5", "5", "30"]
    assert masked_count(3, None) == "3" and masked_count(3, 0) == "3" and masked_count(float("nan"), 5) == "–"


def test_mask_small_counts_reaches_count_columns_and_counts_in_text():
    table = pd.DataFrame({"Group": ["n = 3 patients", "B"], "n": [3, 40], "Events": [0, 12],
                          "1 year": ["57.5 % (44.3–68.7) · 3 at risk", "50.0 % (30.0–70.0) · 12 at risk"],
                          "All (n = 75)": ["2 (3 %)", "44 (59 %)"], "HR": [1.5, 2.5]})
    out = mask_small_counts(table, 5)
    assert out["n"].tolist() == ["<5", "40"] and out["Events"].tolist() == ["0", "12"]
    assert out["1 year"].tolist() == ["57.5 % (44.3–68.7) · <5 at risk", "50.0 % (30.0–70.0) · 12 at risk"]
    assert out["All (n = 75)"].tolist() == ["<5", "44 (59 %)"]  # the percent would give the count away
    assert out["Group"].tolist() == ["n = <5 patients", "B"] and out["HR"].tolist() == [1.5, 2.5]
    assert mask_small_counts(table, None) is table
    assert mask_small_counts(pd.DataFrame({"Value": ["75 / 3", "3 / 2", "p = 0.3", "12.5 (8.3–23.9)"]}),
                             5)["Value"].tolist() == ["75 / <5", "<5 / <5", "p = 0.3", "12.5 (8.3–23.9)"]


def test_disclosure_rule_and_wrapped_labels():
    assert disclosure_rule(5).startswith("Disclosure control: counts from 1 to 4 are shown as “<5”")
    assert disclosure_rule(None) == "Disclosure control is off: every count is shown."
    assert wrap_label("Published (Momm et al.), all patients", 30) == "Published (Momm et al.), all<br>patients"
    assert wrap_label("short", 30) == "short"
