"""The four-state "where are the patients now" estimator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from analysis.analyses.relapse import patient_states
from analysis.cohort.model import as_cohort
from analysis.stats.competing_risks import CompetingRisksError
from analysis.stats.patient_states import ALIVE_AFTER, DEAD_AFTER, DEAD_NO_RELAPSE, FREE, RELAPSED


def _cohort(rows: list[tuple[float, int, int, float | None]]) -> pd.DataFrame:
    """(follow-up, death, relapse, relapse time) per patient."""
    return as_cohort(pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(len(rows))],
        "followup_months": [r[0] for r in rows],
        "death": [r[1] for r in rows],
        "relapse": [r[2] for r in rows],
        "relapse_months": [r[3] for r in rows],
    }))


# Everybody dies, nobody is censored: the states are plain proportions.
UNCENSORED = [(10, 1, 1, 2), (4, 1, 1, 3), (6, 1, 0, None), (12, 1, 1, 5), (3, 1, 0, None),
              (8, 1, 1, 8), (15, 1, 1, 6), (9, 1, 0, None)]


def test_states_equal_plain_proportions_without_censoring():
    cohort = _cohort(UNCENSORED)
    states = patient_states(cohort)
    fu = cohort["followup_months"].to_numpy()
    rel = cohort["relapse"].to_numpy() == 1
    rel_t = cohort["relapse_months"].to_numpy()
    for t in (0, 2.5, 3, 5.5, 8, 9.5):
        relapsed_by_t = rel & (rel_t <= t)
        expected = {
            FREE: np.mean(~relapsed_by_t & (fu > t)),
            ALIVE_AFTER: np.mean(relapsed_by_t & (fu > t)),
            DEAD_AFTER: np.mean(relapsed_by_t & (fu <= t)),
            DEAD_NO_RELAPSE: np.mean(~rel & (fu <= t)),
        }
        row = states.at([t]).iloc[0]
        for state, value in expected.items():
            assert row[state] == pytest.approx(value), (t, state)
    assert not states.table["clipped"].any()


def test_states_sum_to_one_and_relapse_free_is_rfs_km(demo_cohort):
    states = patient_states(demo_cohort)
    table = states.table
    np.testing.assert_allclose(table[list(states.states)].sum(axis=1), 1.0, atol=1e-12)
    assert (table[list(states.states)] >= -1e-12).all().all()
    rfs_t = np.where(demo_cohort["relapse"] == 1, demo_cohort["relapse_months"], demo_cohort["followup_months"])
    rfs_e = (demo_cohort["relapse"] == 1) | (demo_cohort["death"] == 1)
    km = KaplanMeierFitter().fit(rfs_t, rfs_e)
    np.testing.assert_allclose(table[FREE], km.survival_function_at_times(table["time"]).to_numpy(), atol=1e-12)


def test_dead_states_add_up_to_one_minus_os(demo_cohort):
    states = patient_states(demo_cohort)
    table = states.table[~states.table["clipped"]]
    km = KaplanMeierFitter().fit(demo_cohort["followup_months"], demo_cohort["death"])
    dead = 1 - km.survival_function_at_times(table["time"]).to_numpy()
    np.testing.assert_allclose(table[DEAD_AFTER] + table[DEAD_NO_RELAPSE], dead, atol=1e-12)


def test_split_is_clipped_when_estimates_disagree():
    # The relapsed patient stays in the OS risk set, diluting the death at 3:
    # 1 - OS(3) = 1/2 but NRM(3) = 2/3, so (1 - OS) - NRM < 0 and is clipped to 0.
    cohort = _cohort([(10, 0, 1, 1), (3, 1, 0, None), (2, 0, 0, None)])
    states = patient_states(cohort)
    row = states.at([3]).iloc[0]
    assert row["clipped"]
    assert row[DEAD_AFTER] == 0
    assert row[ALIVE_AFTER] == pytest.approx(1 / 3)
    assert row[DEAD_NO_RELAPSE] == pytest.approx(2 / 3)
    np.testing.assert_allclose(states.table[list(states.states)].sum(axis=1), 1.0)


def test_cause_coded_data_merge_the_relapse_states():
    rows = [(10, None, 1, 2), (6, 1, 0, None), (12, None, 1, 5), (9, 0, 0, None)]
    states = patient_states(_cohort(rows))
    assert not states.split_available
    assert states.states == (FREE, RELAPSED, DEAD_NO_RELAPSE)
    assert ALIVE_AFTER not in states.table
    assert states.at([5])[RELAPSED].item() == pytest.approx(0.5)


def test_at_is_undefined_after_follow_up():
    states = patient_states(_cohort(UNCENSORED))
    assert states.at([100])[FREE].isna().all()


def test_empty_group_is_named():
    with pytest.raises(CompetingRisksError, match="group 'x' has no patients"):
        patient_states(_cohort(UNCENSORED).iloc[:0], label="x")


def test_a_precomputed_fit_gives_the_same_states(demo_cohort):
    from analysis.cohort.model import competing_cause, rfs_time
    from analysis.stats.competing_risks import cumulative_incidence

    fit = cumulative_incidence(rfs_time(demo_cohort), competing_cause(demo_cohort))
    given = patient_states(demo_cohort, label="x", fit=fit)
    pd.testing.assert_frame_equal(given.table, patient_states(demo_cohort, label="x").table)
    fewer = demo_cohort.iloc[1:]
    with pytest.raises(CompetingRisksError, match=f"fit of {len(fewer)} patients given for group 'x' of "
                                                  f"{len(demo_cohort)}"):
        patient_states(demo_cohort, label="x", fit=cumulative_incidence(rfs_time(fewer), competing_cause(fewer)))


def test_states_figure_stacks_each_group_to_100_percent(demo_cohort):
    from analysis.cohort.grouping import compare_by
    from analysis.figures.cif import states_figure

    comparison = compare_by(demo_cohort, "lineage")
    groups = [patient_states(rows, label=g) for g, rows in comparison.groups()]
    fig = states_figure(groups, max_time=36)
    assert len(fig.data) == 4 * len(groups)
    assert {t.stackgroup for t in fig.data} == {"g1", "g2"}
    first_panel = [t for t in fig.data if t.stackgroup == "g1"]
    np.testing.assert_allclose(np.sum([t.y for t in first_panel], axis=0), 100)
    assert max(max(t.x) for t in fig.data) <= 36
    assert sum(t.showlegend for t in fig.data) == 4


def test_states_figure_without_groups_is_an_empty_figure():
    from analysis.figures.cif import states_figure

    fig = states_figure([])
    assert len(fig.data) == 0
    assert [a.text for a in fig.layout.annotations] == ["No patients"]
