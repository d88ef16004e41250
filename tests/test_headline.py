"""Headline OS and RFS at 1, 2 and 5 years."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.headline import headline_table
from analysis.analyses.survival import compare_survival, format_landmark_table
from analysis.cohort.grouping import compare_by
from analysis.cohort.model import as_cohort, endpoint
from analysis.cohort.published import load_targets, published_n, published_survival
from analysis.stats.kaplan_meier import fit_kaplan_meier


def test_headline_cells_come_from_the_kaplan_meier_fit(demo_cohort):
    table = headline_table(demo_cohort).table
    os_ = endpoint(demo_cohort, "os")
    at = fit_kaplan_meier(os_.time, os_.event).survival_at([12]).iloc[0]
    cell = table.loc[table["Endpoint"] == "Overall survival", "1 year"].iloc[0]
    assert cell == (f"{100 * at['survival']:.1f} % ({100 * at['lower']:.1f}–{100 * at['upper']:.1f})"
                    f" · {int(at['n_at_risk'])} at risk")
    assert table.loc[0, "events"] == str(int(os_.event.sum()))


def test_published_rows_only_when_asked(demo_cohort):
    plain = headline_table(demo_cohort).table
    with_ref = headline_table(demo_cohort, published=True).table
    assert len(with_ref) == 2 * len(plain)
    row = with_ref[with_ref["Endpoint"] == "Relapse-free survival, published"].iloc[0]
    targets = load_targets()
    assert row["5 years"] == f"{100 * published_survival(targets)['rfs'][60.0]:.1f} %"
    assert row["n"] == published_n(targets)
    assert row["events"] == "–"


def test_beyond_follow_up_is_said_so(demo_cohort):
    short = demo_cohort[demo_cohort["followup_months"] < 20]
    table = headline_table(short).table
    assert table.loc[0, "5 years"] == "beyond follow-up · 0 at risk"
    assert np.isfinite(float(table.loc[0, "n"]))


def test_cause_coded_data_show_rfs_only_and_say_why(demo_cohort):
    cohort = demo_cohort.copy()
    cohort["death"] = cohort["death"].astype(float)
    relapsed = cohort["relapse"] == 1
    cohort.loc[relapsed, "death"] = np.nan
    cohort.loc[relapsed, "followup_months"] = cohort.loc[relapsed, "relapse_months"]
    headline = headline_table(cohort)
    assert list(headline.table["Endpoint"]) == ["Relapse-free survival"]
    assert "Overall survival is not shown" in headline.caption


def _small_cohort(months: list[float], deaths: list[int]) -> pd.DataFrame:
    n = len(months)
    return as_cohort(pd.DataFrame({"patient_id": [f"p{i}" for i in range(n)], "followup_months": months,
                                   "death": deaths, "relapse": [0] * n, "relapse_months": [np.nan] * n}))


@pytest.mark.parametrize("months, deaths, landmark", [
    ([3.0, 6.0, 20.0, 30.0, 40.0], [0, 0, 1, 0, 1], 12.0),  # S = 1 after censor-only rows
    ([3.0, 6.0, 12.0], [1, 1, 1], 12.0),  # S = 0 at the last death
])
def test_undefined_ci_is_left_out_not_shown_as_dashes(months, deaths, landmark):
    cohort = _small_cohort(months, deaths)
    cell = headline_table(cohort, times=(landmark,)).table.loc[0, "1 year"]
    at = fit_kaplan_meier(np.array(months), np.array(deaths)).survival_at([landmark]).iloc[0]
    assert not np.isfinite(at["lower"])  # the log-log CI is undefined here
    assert cell == f"{100 * at['survival']:.1f} % · {int(at['n_at_risk'])} at risk"


def test_headline_words_a_landmark_as_the_survival_page_does(demo_cohort):
    table = headline_table(demo_cohort).table
    page = format_landmark_table(compare_survival(compare_by(demo_cohort, None), "os"), [12, 24, 60])
    shown = [f"{s} · {n} at risk" for s, n in zip(page["Survival (95 % CI)"], page["At risk"], strict=True)]
    assert table.loc[0, ["1 year", "2 years", "5 years"]].tolist() == shown
