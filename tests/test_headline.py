"""Headline OS and RFS at 1, 2 and 5 years."""

from __future__ import annotations

import numpy as np

from analysis.cohort import endpoint
from analysis.headline import headline_table, published_survival
from analysis.kaplan_meier import fit_kaplan_meier


def test_headline_cells_come_from_the_kaplan_meier_fit(demo_cohort):
    table = headline_table(demo_cohort).table
    os_ = endpoint(demo_cohort, "os")
    at = fit_kaplan_meier(os_.time, os_.event).survival_at([12]).iloc[0]
    cell = table.loc[table["Endpoint"] == "Overall survival", "1 year"].iloc[0]
    assert cell == (f"{100 * at['survival']:.1f} % ({100 * at['lower']:.1f}–{100 * at['upper']:.1f} %)"
                    f" · {int(at['n_at_risk'])} at risk")
    assert table.loc[0, "events"] == str(int(os_.event.sum()))


def test_published_rows_only_when_asked(demo_cohort):
    plain = headline_table(demo_cohort).table
    with_ref = headline_table(demo_cohort, published=True).table
    assert len(with_ref) == 2 * len(plain)
    row = with_ref[with_ref["Endpoint"] == "Relapse-free survival, published"].iloc[0]
    assert row["5 years"] == f"{100 * published_survival()['rfs'][60.0]:.1f} %"
    assert row["events"] == "–"


def test_beyond_follow_up_is_not_estimable(demo_cohort):
    short = demo_cohort[demo_cohort["followup_months"] < 20]
    table = headline_table(short).table
    assert table.loc[0, "5 years"] == "not estimable (0 at risk)"
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
