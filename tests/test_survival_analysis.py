"""compare_survival: which curves and tests a comparison gets, against R and by construction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.survival import (
    OVERLAP_NOTE,
    TREND_NOTE,
    SurvivalComparison,
    chi2_text,
    compare_survival,
    figure_subtitle,
    format_landmark_table,
    format_median_table,
    format_pairwise_table,
    format_test_table,
    logrank_caption,
    median_text,
    months_text,
    survival_text,
)
from analysis.cohort.filters import CohortFilter, SavedCohort
from analysis.cohort.grouping import compare_by, compare_saved
from analysis.cohort.model import endpoint
from analysis.stats.kaplan_meier import fit_kaplan_meier, median_followup
from analysis.stats.logrank import holm_adjust, logrank_test, logrank_trend_test, pairwise_logrank
from analysis.text import ALL
from analysis.text import p_cell as p_text

FIXTURES = Path(__file__).parent / "fixtures" / "kaplan_meier"
REL_TOL = 1e-4  # the tolerance of tests/test_logrank.py


def _r_case(name: str) -> tuple[dict, pd.DataFrame]:
    """A fixture of tests/r/kaplan_meier.R as a minimal cohort (OS = the fixture's time and event)."""
    case = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    d = case["data"]
    cohort = pd.DataFrame({"patient_id": [f"p{i}" for i in range(len(d["time"]))],
                           "followup_months": np.asarray(d["time"], float),
                           "death": np.asarray(d["event"], int), "arm": d["group"]})
    return case, cohort


def _saved(*cohorts: tuple[str, CohortFilter]) -> list[SavedCohort]:
    return [SavedCohort(name, filters) for name, filters in cohorts]


T_ALL = CohortFilter().with_levels("lineage", ["T-ALL"])
B_ALL = CohortFilter().with_levels("lineage", ["B-ALL"])
NOBODY = CohortFilter(age_range=(200.0, 201.0))


# ------------------------------------------------------------------ against R


@pytest.mark.parametrize("name", ["veteran_celltype", "lung_ecog"])
def test_compare_survival_against_R(name):
    """survdiff(Surv(time, event) ~ group) and G(1, 1) by hand; pairwise survdiff + p.adjust("holm");
    trend U^2 / V with scores 1..k; quantile(survfit(...), 0.5); reverse-KM median of all patients."""
    case, cohort = _r_case(name)
    comparison = compare_by(cohort, "arm")
    assert list(comparison.order) == case["groups"]
    fh11 = next(t for t in case["tests"]["fh"] if (t["p"], t["q"]) == (1, 1))

    result = compare_survival(comparison, "os", cohort=cohort, rho=1, gamma=1, trend=True)

    assert result.test.statistic == pytest.approx(fh11["chisq"], rel=REL_TOL)
    assert result.test.df == fh11["df"]
    plain = compare_survival(comparison, "os", cohort=cohort)
    assert plain.test.statistic == pytest.approx(case["tests"]["survdiff"][0]["chisq"], rel=REL_TOL)
    assert plain.test.p == pytest.approx(case["tests"]["survdiff"][0]["pvalue"], rel=REL_TOL)
    ref_pairs = case["tests"]["pairwise"]
    np.testing.assert_allclose(plain.pairwise["p_holm"], [r["p_holm"] for r in ref_pairs], rtol=REL_TOL)
    assert result.trend.statistic == pytest.approx(case["tests"]["trend"]["statistic"], rel=REL_TOL)
    for km, curve in zip(result.curves, case["curves"], strict=True):
        assert (km.n, km.events) == (curve["n"], curve["events"])
        r_median = curve["quantile"]["time"][1]
        assert km.median.time == pytest.approx(r_median) if r_median is not None else np.isnan(km.median.time)
    if case["followup_median"] is not None:  # all patients, those with a missing group too
        assert result.followup_median == pytest.approx(case["followup_median"])
    assert result.n == len(cohort) and result.events == int(cohort["death"].sum())


# ------------------------------------------------------------------ which tests a comparison gets


def test_whole_cohort_has_one_curve_and_no_test(demo_cohort):
    result = compare_survival(compare_by(demo_cohort, None), "rfs", trend=True)
    assert [km.label for km in result.curves] == [ALL]
    assert result.test is result.pairwise is result.trend is None
    assert result.note is None
    assert result.trend_note == TREND_NOTE  # asked for, but there is nothing to order
    ep = endpoint(demo_cohort, "rfs")
    assert result.curves[0].table.equals(fit_kaplan_meier(ep.time, ep.event).table)


def test_two_groups_get_the_test_but_no_pairwise_and_no_trend(demo_cohort):
    comparison = compare_by(demo_cohort, "lineage")
    result = compare_survival(comparison, "os", trend=True)
    ep = endpoint(comparison.frame, "os")
    expected = logrank_test(ep.time, ep.event, comparison.frame["group"], order=comparison.order)
    assert result.test.statistic == pytest.approx(expected.statistic)
    assert result.test.df == 1
    assert result.pairwise is None and result.trend is None
    assert result.trend_note == TREND_NOTE


def test_three_or_more_groups_get_pairwise_tests_with_holm(demo_cohort):
    comparison = compare_by(demo_cohort, "donor")
    k = comparison.n_groups
    assert k >= 3
    result = compare_survival(comparison, "os", rho=1.0)
    pairs = result.pairwise
    assert len(pairs) == k * (k - 1) // 2
    np.testing.assert_allclose(pairs["p_holm"], holm_adjust(pairs["p"]))
    ep = endpoint(comparison.frame, "os")
    direct = pairwise_logrank(ep.time, ep.event, comparison.frame["group"], rho=1.0, order=comparison.order)
    pd.testing.assert_frame_equal(pairs, direct)
    assert result.test.df == k - 1 and result.test.rho == 1.0
    assert result.trend is None and result.trend_note is None  # not asked for


def test_trend_only_when_asked_and_with_three_groups(demo_cohort):
    comparison = compare_by(demo_cohort, "donor")
    assert compare_survival(comparison, "os").trend is None
    result = compare_survival(comparison, "os", trend=True, rho=1.0)
    ep = endpoint(comparison.frame, "os")
    expected = logrank_trend_test(ep.time, ep.event, comparison.frame["group"], order=comparison.order)
    assert result.trend.statistic == pytest.approx(expected.statistic)
    assert result.trend.rho == 0.0  # the trend test is unweighted whatever the overall test's weights
    assert result.trend_note is None


def test_overlapping_saved_cohorts_get_no_test_and_a_note(demo_cohort):
    comparison = compare_saved(demo_cohort, _saved(("Everyone", CohortFilter()), ("T-ALL", T_ALL),
                                                   ("B-ALL", B_ALL)))
    assert comparison.overlapping
    result = compare_survival(comparison, "os", trend=True)
    assert len(result.curves) == 3
    assert result.test is result.pairwise is result.trend is None
    assert result.note == OVERLAP_NOTE
    assert result.test_error is None


def test_disjoint_saved_cohorts_are_tested(demo_cohort):
    comparison = compare_saved(demo_cohort, _saved(("T-ALL", T_ALL), ("B-ALL", B_ALL)))
    result = compare_survival(comparison, "os")
    assert result.test is not None and result.note is None
    assert [km.label for km in result.curves] == ["T-ALL", "B-ALL"]


def test_empty_group_is_reported_and_left_out_of_the_tests(demo_cohort):
    comparison = compare_saved(demo_cohort, _saved(("T-ALL", T_ALL), ("Nobody", NOBODY), ("B-ALL", B_ALL)))
    result = compare_survival(comparison, "os", trend=True)
    assert result.empty == ("Nobody",)
    assert [km.label for km in result.curves] == ["T-ALL", "B-ALL"]
    assert result.test.table["group"].tolist() == ["T-ALL", "B-ALL"]
    assert result.test.df == 1
    assert result.pairwise is None and result.trend is None  # two groups left


def test_no_group_with_patients_gives_no_curves():
    cohort = pd.DataFrame({"patient_id": ["a", "b"], "followup_months": [1.0, 2.0], "death": [1, 0],
                           "age_years": [5.0, 6.0]})
    result = compare_survival(compare_saved(cohort, _saved(("Nobody", NOBODY))), "os")
    assert result.curves == () and result.empty == ("Nobody",)
    assert np.isnan(result.followup_median)


def test_no_events_names_the_problem():
    cohort = pd.DataFrame({"patient_id": list("abcd"), "followup_months": [1.0, 2.0, 3.0, 4.0],
                           "death": [0, 0, 0, 0], "arm": ["x", "y", "x", "y"]})
    result = compare_survival(compare_by(cohort, "arm"), "os")
    assert len(result.curves) == 2 and result.test is None
    assert result.test_error == "no events in any group: the groups cannot be compared"
    assert result.note.startswith("The groups cannot be compared: no events")


def test_test_without_information_names_the_problem():
    # Every patient dies at month 5: R survdiff stops with a singular variance, here the reader gets a note.
    cohort = pd.DataFrame({"patient_id": list("abcd"), "followup_months": [5.0] * 4, "death": [1] * 4,
                           "arm": ["x", "y", "x", "y"]})
    result = compare_survival(compare_by(cohort, "arm"), "os")
    assert len(result.curves) == 2 and result.test is None
    assert result.note.startswith("The groups cannot be compared: the test has no information")


def test_unusable_group_is_reported_not_raised():
    cohort = pd.DataFrame({"patient_id": list("abcd"), "followup_months": [1.0, -2.0, 3.0, 4.0],
                           "death": [1, 0, 1, 0], "arm": ["x", "y", "x", "y"]})
    # The follow-up of all patients cannot be estimated either; restrict it to the usable group.
    result = compare_survival(compare_by(cohort, "arm"), "os", cohort=cohort[cohort["arm"] == "x"])
    assert result.problems == {"y": "1 negative time(s)"}
    assert [km.label for km in result.curves] == ["x"]


def test_follow_up_counts_patients_whose_group_is_unknown(demo_cohort):
    cohort = demo_cohort.assign(arm=np.where(np.arange(len(demo_cohort)) % 3 == 0, None, demo_cohort["lineage"]))
    comparison = compare_by(cohort, "arm")
    assert comparison.n_missing > 0
    everyone = compare_survival(comparison, "os", cohort=cohort)
    grouped = compare_survival(comparison, "os")
    ep = endpoint(cohort, "os")
    assert everyone.n == len(cohort) and grouped.n == len(comparison.frame)
    assert everyone.followup_median == pytest.approx(median_followup(ep.time, ep.event))


def test_confidence_scale_reaches_the_curves(demo_cohort):
    result = compare_survival(compare_by(demo_cohort, "lineage"), "os", conf_type="plain")
    assert {km.conf_type for km in result.curves} == {"plain"}


def test_only_survival_endpoints(demo_cohort):
    with pytest.raises(ValueError, match="endpoints are os and rfs, got 'relapse'"):
        compare_survival(compare_by(demo_cohort, None), "relapse")


# ------------------------------------------------------------------ text


def test_cell_texts():
    assert months_text(float("nan")) == "not reached" and months_text(12.345) == "12.3"
    assert median_text(float("nan"), 1.0, 2.0) == "not reached"
    assert median_text(14.24, float("nan"), float("nan")) == "14.2 (CI limits not reached)"
    assert median_text(14.24, 8.0, float("nan")) == "14.2 (8.0 to not reached)"
    assert median_text(14.24, float("nan"), 30.5) == "14.2 (lower limit not estimable, upper 30.5)"
    assert median_text(14.24, 8.05, 30.51) == "14.2 (8.1–30.5)"
    assert survival_text(float("nan"), 0.1, 0.2) == "beyond follow-up"
    assert survival_text(1.0, float("nan"), float("nan")) == "100.0 %"
    assert survival_text(0.5771, 0.4512, 0.6843) == "57.7 % (45.1–68.4)"
    assert [p_text(p) for p in (float("nan"), 0.0004, 0.0123, 0.5)] == ["–", "< 0.001", "0.012", "0.500"]


def test_test_texts(demo_cohort):
    result = compare_survival(compare_by(demo_cohort, "donor"), "os", trend=True)
    assert f"{result.test.method}: {chi2_text(result.test)}" == logrank_caption(result.test)
    assert chi2_text(result.trend).startswith(f"χ² = {result.trend.statistic:.2f}, df = 1, p")
    assert figure_subtitle(result) == f"{logrank_caption(result.test)} · trend: {chi2_text(result.trend)}"
    assert figure_subtitle(compare_survival(compare_by(demo_cohort, None), "os")) is None


def test_tables_show_the_estimates(demo_cohort):
    result = compare_survival(compare_by(demo_cohort, None), "os")
    km = result.curves[0]
    medians = format_median_table(result)
    assert medians.loc[0, "Group"] == "All patients"
    assert medians.loc[0, "Median (95 % CI)"] == median_text(km.median.time, km.median.lower, km.median.upper)
    assert medians.loc[0, "Median follow-up"] == months_text(km.followup_median)
    landmarks = format_landmark_table(result, [6.0, 24.0, 1000.0])
    at = km.survival_at([6.0, 24.0])
    assert landmarks["Month"].tolist() == ["6", "24", "1000"]
    assert landmarks["Survival (95 % CI)"].tolist()[:2] == [
        survival_text(s, lo, hi) for s, lo, hi in zip(at["survival"], at["lower"], at["upper"], strict=True)]
    assert landmarks["Survival (95 % CI)"].iloc[2] == "beyond follow-up"
    assert landmarks["At risk"].tolist() == [*at["n_at_risk"], 0]


def test_test_tables(demo_cohort):
    result = compare_survival(compare_by(demo_cohort, "donor"), "os")
    shown = format_test_table(result.test)
    tab = result.test.table
    np.testing.assert_allclose(shown["O/E"], (tab["observed"] / tab["expected"]).round(2))
    pairs = format_pairwise_table(result.pairwise)
    assert pairs["p (Holm)"].tolist() == [p_text(p) for p in result.pairwise["p_holm"]]


def test_result_is_frozen(demo_cohort):
    result = compare_survival(compare_by(demo_cohort, None), "os")
    assert isinstance(result, SurvivalComparison)
    with pytest.raises(AttributeError):
        result.test = None  # type: ignore[misc]
