"""compare_relapse and the Relapse view's tables, built from the tested estimators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.relapse import (
    CAUSE_SHORT,
    RelapseComparison,
    cif_by_group,
    cif_text,
    compare_relapse,
    format_gray_table,
    format_landmark_table,
    gray_tests,
    patient_states,
)
from analysis.cohort.filters import CohortFilter, SavedCohort
from analysis.cohort.grouping import compare_by, compare_saved
from analysis.cohort.model import CAUSE_NRM, CAUSE_RELAPSE
from analysis.figures.cif import relapse_figures
from analysis.stats.competing_risks import CompetingRisksError, landmark_table

T_ALL = SavedCohort("T cells", CohortFilter().with_levels("lineage", ["T-ALL"]))
B_ALL = SavedCohort("B cells", CohortFilter().with_levels("lineage", ["B-ALL"]))
EVERYONE = SavedCohort("Everyone", CohortFilter())
NOBODY = SavedCohort("Nobody", CohortFilter(age_range=(200.0, 201.0)))


def test_groups_get_their_fits_tests_figures_and_states(demo_cohort):
    comparison = compare_by(demo_cohort, "lineage")
    result = compare_relapse(comparison)
    assert isinstance(result, RelapseComparison)
    assert result.groups == list(comparison.order) and result.empty == ()
    expected = cif_by_group(comparison.frame, comparison.order)
    for g, fit in result.fits.items():
        pd.testing.assert_frame_equal(fit.table, expected[g].table)
    pd.testing.assert_frame_equal(result.tests, gray_tests(comparison.frame))
    figures = relapse_figures(result)
    assert set(figures.figures) == {CAUSE_RELAPSE, CAUSE_NRM} and figures.problems == {}
    subtitle = figures.figures[CAUSE_RELAPSE].layout.title.subtitle.text
    assert subtitle.startswith(f"Gray's test: χ² = {result.tests['statistic'].iloc[0]:.2f}")
    assert [s.label for s in result.states] == list(comparison.order)
    t_cells = comparison.frame[comparison.frame["group"] == "T-ALL"]
    pd.testing.assert_frame_equal(result.states[1].table, patient_states(t_cells, label="T-ALL").table)


def test_each_group_is_fitted_once(demo_cohort, monkeypatch):
    import analysis.analyses.relapse
    import analysis.stats.competing_risks
    import analysis.stats.patient_states

    calls = []
    original = analysis.stats.competing_risks.cumulative_incidence

    def counted(*args, **kwargs):
        calls.append(len(args[0]))
        return original(*args, **kwargs)

    for module in (analysis.stats.competing_risks, analysis.stats.patient_states, analysis.analyses.relapse):
        if hasattr(module, "cumulative_incidence"):
            monkeypatch.setattr(module, "cumulative_incidence", counted)
    comparison = compare_by(demo_cohort, "lineage")
    compare_relapse(comparison)
    assert sorted(calls) == sorted(len(rows) for _, rows in comparison.groups())


def test_one_group_has_no_test(demo_cohort):
    result = compare_relapse(compare_by(demo_cohort, None))
    assert result.tests is None
    assert relapse_figures(result).figures[CAUSE_RELAPSE].layout.title.subtitle.text is None


def test_overlapping_saved_cohorts_withhold_grays_test(demo_cohort):
    result = compare_relapse(compare_saved(demo_cohort, [EVERYONE, T_ALL]))
    assert result.tests["statistic"].isna().all()
    assert result.tests["note"].str.startswith("not valid").all()
    assert "not valid" in relapse_figures(result).figures[CAUSE_NRM].layout.title.subtitle.text


def test_empty_saved_cohort_is_reported_and_left_out(demo_cohort):
    result = compare_relapse(compare_saved(demo_cohort, [T_ALL, NOBODY, B_ALL]))
    assert result.empty == ("Nobody",)
    assert result.groups == ["T cells", "B cells"]
    assert result.tests["df"].tolist() == [1, 1]
    assert len(result.states) == 2


def test_no_group_with_patients_is_named(demo_cohort):
    with pytest.raises(CompetingRisksError, match=r"no group has patients \('Nobody' matches no patient"):
        compare_relapse(compare_saved(demo_cohort, [NOBODY]))


def test_single_patient_has_no_figure_and_says_why(demo_cohort):
    result = compare_relapse(compare_by(demo_cohort.iloc[:1], None))
    figures = relapse_figures(result)
    assert figures.figures == {}
    assert set(figures.problems) == {CAUSE_RELAPSE, CAUSE_NRM}
    assert "no group has more than one patient" in figures.problems[CAUSE_RELAPSE]
    assert any("single patient" in note for note in result.notes)


def test_cause_coded_data_cannot_split_the_relapsed(demo_cohort):
    coded = demo_cohort.copy()
    coded["death"] = coded["death"].astype("Float64").mask(coded["relapse"] == 1)
    assert not compare_relapse(compare_by(coded, None)).states_split
    assert compare_relapse(compare_by(demo_cohort, None)).states_split


def test_clipping_is_reported_as_the_states_record_it(demo_cohort):
    result = compare_relapse(compare_by(demo_cohort, "donor"))
    assert result.states_clipped == any(bool(s.table["clipped"].any()) for s in result.states)


def test_cif_text():
    assert cif_text(float("nan"), 0.1, 0.2, 0) == "beyond follow-up"
    assert cif_text(0.2354, 0.1412, 0.3428, 30) == "23.5 % (14.1–34.3), 30 at risk"


def test_landmark_table_one_row_per_group_and_cause(demo_cohort):
    comparison = compare_by(demo_cohort, "donor")
    result = compare_relapse(comparison)
    shown = format_landmark_table(result, [24.0, 6.0, 1000.0])
    assert list(shown.columns) == ["Group", "n", "Cause", "Events", "24 months", "6 months", "1000 months"]
    assert shown["Group"].tolist() == [g for g in comparison.order for _ in range(2)]
    assert shown["Cause"].tolist() == [CAUSE_SHORT[CAUSE_RELAPSE], CAUSE_SHORT[CAUSE_NRM]] * comparison.n_groups
    long = landmark_table(dict(result.fits), [6.0])
    first = long[(long["group"] == comparison.order[0]) & (long["cause"] == CAUSE_RELAPSE)].iloc[0]
    assert shown["6 months"].iloc[0] == cif_text(first["cif"], first["lower"], first["upper"], first["n_at_risk"])
    assert (shown["1000 months"] == "beyond follow-up").all()


def test_whole_cohort_is_all_patients(demo_cohort):
    shown = format_landmark_table(compare_relapse(compare_by(demo_cohort, None)), [12.0])
    assert shown["Group"].tolist() == ["All patients", "All patients"]
    assert shown["n"].tolist() == [len(demo_cohort)] * 2


def test_gray_table_names_the_causes(demo_cohort):
    tests = compare_relapse(compare_by(demo_cohort, "lineage")).tests
    shown = format_gray_table(tests)
    assert list(shown.columns) == ["Cause", "χ²", "df", "p", "Note"]
    assert shown["Cause"].tolist() == ["Relapse (CIR)", "NRM"]
    np.testing.assert_allclose(shown["χ²"], tests["statistic"])


def test_result_is_frozen(demo_cohort):
    result = compare_relapse(compare_by(demo_cohort, None))
    with pytest.raises(AttributeError):
        result.tests = None  # type: ignore[misc]
