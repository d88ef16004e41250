"""Cumulative incidence and Gray's test against R's cmprsk (fixtures from tests/r/competing_risks.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter

from analysis.stats.competing_risks import (
    CompetingRisksError,
    cumulative_incidence,
    gray_test,
)

FIXTURES = Path(__file__).parent / "fixtures" / "competing_risks"
DATASETS = ["hand", "mgus2", "mgus2_rho1", "pbc", "small"]


def _load(name: str) -> tuple[pd.DataFrame, dict]:
    data = pd.read_csv(FIXTURES / f"{name}.csv", dtype={"group": str})
    with open(FIXTURES / f"{name}.json") as fh:
        return data, json.load(fh)


def _num(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _group_curves(name: str):
    data, ref = _load(name)
    for g in ref["groups"]:
        rows = data[data["group"] == g]
        yield g, cumulative_incidence(rows["time"], rows["cause"]), ref


@pytest.mark.parametrize("name", ["hand", "mgus2", "small"])
def test_reference_data_have_tied_times_of_both_causes(name):
    data, _ = _load(name)
    events = data[data["cause"] > 0]
    assert (events.groupby("time")["cause"].nunique() == 2).any()
    assert events[events["cause"] == 2]["time"].duplicated().any()
    assert data[data["cause"] == 0]["time"].isin(events["time"]).any()


@pytest.mark.parametrize("name", DATASETS)
def test_cif_at_against_R(name):
    """R: fit <- cuminc(time, cause, group); timepoints(fit, times)  (est and var, 1e-6 absolute)."""
    for g, fit, ref in _group_curves(name):
        at = fit.cif_at(ref["times"])
        for cause in (1, 2):
            expected = ref["timepoints"].get(f"{g} {cause}")
            if expected is None:  # cmprsk leaves out causes with no event in the whole data set
                continue
            ours = at[at["cause"] == cause]
            np.testing.assert_allclose(ours["cif"], _num(expected["est"]), rtol=0, atol=1e-6)
            np.testing.assert_allclose(ours["variance"], _num(expected["var"]), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["hand", "mgus2", "pbc", "small"])
def test_cif_without_groups_against_R(name):
    """R: timepoints(cuminc(time, cause), times)."""
    data, ref = _load(name)
    at = cumulative_incidence(data["time"], data["cause"]).cif_at(ref["times"])
    for cause in (1, 2):
        expected = ref["timepoints_ungrouped"][f"1 {cause}"]
        ours = at[at["cause"] == cause]
        np.testing.assert_allclose(ours["cif"], _num(expected["est"]), rtol=0, atol=1e-6)
        np.testing.assert_allclose(ours["variance"], _num(expected["var"]), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["hand", "mgus2", "pbc", "small"])
def test_cif_steps_against_R(name):
    """R: cuminc(time, cause, group)[[paste(g, cause)]]: every step of the curve, with its variance.

    cmprsk lists the corners of the step function: (0, 0), then each event time
    twice (value before, value after), then the last follow-up time.
    """
    for g, fit, ref in _group_curves(name):
        for cause in (1, 2):
            expected = ref["curves"].get(f"{g} {cause}")
            if expected is None:
                continue
            steps = fit.curve(cause)
            steps = steps[steps["n_event"] > 0]
            r_time, r_est, r_var = (np.asarray(expected[k]) for k in ("time", "est", "var"))
            after = slice(2, len(r_time) - 1, 2)
            np.testing.assert_allclose(steps["time"], r_time[after], rtol=0, atol=1e-12)
            np.testing.assert_allclose(steps["cif"], r_est[after], rtol=0, atol=1e-6)
            np.testing.assert_allclose(steps["variance"], r_var[after], rtol=0, atol=1e-6)
            assert fit.last_time == pytest.approx(r_time[-1])


@pytest.mark.parametrize("name", DATASETS)
def test_gray_test_against_R(name):
    """R: cuminc(time, cause, group, rho = rho)$Tests  (stat and p, 1e-4 relative).

    cuminc prints p as 1 - pchisq(stat, df), which is 0 below ~1e-16; the
    fixture also keeps pchisq(stat, df, lower.tail = FALSE) for those.
    """
    data, ref = _load(name)
    for cause in (1, 2):
        result = gray_test(data["time"], data["cause"], data["group"], cause_of_interest=cause, rho=ref["rho"])
        expected = ref["tests"][str(cause)]
        assert result.statistic == pytest.approx(expected["stat"], rel=1e-4)
        assert result.df == expected["df"]
        assert result.p == pytest.approx(expected["pv_upper"], rel=1e-4)
        if expected["pv"] > 1e-12:
            assert result.p == pytest.approx(expected["pv"], rel=1e-4)


def test_gray_test_does_not_depend_on_group_labels_or_row_order():
    data, _ = _load("hand")
    base = gray_test(data["time"], data["cause"], data["group"])
    relabelled = data["group"].map({"A": "z", "B": "a", "C": "m"})
    shuffled = data.assign(group=relabelled).sample(frac=1, random_state=3)
    other = gray_test(shuffled["time"], shuffled["cause"], shuffled["group"])
    assert other.statistic == pytest.approx(base.statistic, rel=1e-10)
    assert other.groups == ("a", "m", "z")


def test_rfs_plus_cir_plus_nrm_is_one_at_every_event_time():
    data, _ = _load("mgus2")
    fit = cumulative_incidence(data["time"], data["cause"])
    km = KaplanMeierFitter().fit(data["time"], data["cause"] > 0)
    rfs = km.survival_function_at_times(fit.curve(1)["time"]).to_numpy()
    total = rfs + fit.curve(1)["cif"].to_numpy() + fit.curve(2)["cif"].to_numpy()
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-12)


def test_cumulative_incidence_by_hand():
    # n=4: relapse at 1 (1/4), death at 2 (3/4 * 1/3), censored at 3, relapse at 4 (1/2 * 1/1)
    fit = cumulative_incidence([1, 2, 3, 4], [1, 2, 0, 1])
    at = fit.cif_at([0.5, 1, 2, 3.5, 4])
    assert at.loc[at["cause"] == 1, "cif"].tolist() == pytest.approx([0, 0.25, 0.25, 0.25, 0.75])
    assert at.loc[at["cause"] == 2, "cif"].tolist() == pytest.approx([0, 0, 0.25, 0.25, 0.25])
    assert at.loc[at["cause"] == 1, "n_at_risk"].tolist() == [4, 4, 3, 1, 1]
    assert fit.events == {1: 2, 2: 1}
    # cinc's variance at the first relapse: v1 = v2 = v3 = (4/3)^2 / 16 = 1/9, so
    # v1 + F^2 v3 - 2 F v2 = (1 + 1/16 - 1/2) / 9 = 1/16 (R: timepoints(cuminc(...), 1)$var)
    assert at.loc[(at["cause"] == 1) & (at["time"] == 1), "variance"].item() == pytest.approx(1 / 16)


def test_cif_at_is_undefined_after_last_follow_up_and_before_zero():
    fit = cumulative_incidence([1, 2, 3], [1, 2, 0])
    at = fit.cif_at([-1, 3, 3.01])
    assert at.loc[at["cause"] == 1, "cif"].isna().tolist() == [True, False, True]
    assert at.loc[at["cause"] == 1, "n_at_risk"].tolist() == [3, 1, 0]


def test_log_log_limits_bracket_the_estimate():
    data, _ = _load("mgus2")
    table = cumulative_incidence(data["time"], data["cause"], conf_level=0.9).table
    inside = table[(table["cif"] > 0) & (table["cif"] < 1)]
    assert (inside["lower"] < inside["cif"]).all() and (inside["cif"] < inside["upper"]).all()
    assert table[["lower", "upper"]].stack().between(0, 1).all()
    row = inside.iloc[len(inside) // 2]
    f, se = row["cif"], np.sqrt(row["variance"])
    z = 1.6448536269514722
    assert np.log(-np.log(row["lower"])) == pytest.approx(np.log(-np.log(f)) + z * se / abs(f * np.log(f)))


def test_all_censored_gives_zero_incidence():
    fit = cumulative_incidence([1, 2, 2, 5], [0, 0, 0, 0])
    assert (fit.table["cif"] == 0).all() and (fit.table["variance"] == 0).all()
    assert fit.events == {1: 0, 2: 0}


def test_first_observation_censored_and_single_patient():
    fit = cumulative_incidence([1, 2, 3], [0, 1, 1])
    assert fit.cif_at([3])["cif"].tolist() == pytest.approx([1.0, 0.0])
    one = cumulative_incidence([4.0], [1])
    assert one.cif_at([4])["cif"].tolist() == pytest.approx([1.0, 0.0])


@pytest.mark.parametrize(
    ("time", "cause", "message"),
    [
        ([], [], "no patients"),
        ([1, -2], [1, 0], "negative"),
        ([1, np.nan], [1, 0], "missing or infinite"),
        ([1, 2], [1, -1], "cause codes"),
        ([1, 2], [1], "same length"),
    ],
)
def test_bad_input_is_named(time, cause, message):
    with pytest.raises(CompetingRisksError, match=message):
        cumulative_incidence(time, cause)


def test_bad_conf_level_and_unknown_cause():
    with pytest.raises(CompetingRisksError, match="conf_level"):
        cumulative_incidence([1], [1], conf_level=95)
    with pytest.raises(CompetingRisksError, match="cause 3 was not estimated"):
        cumulative_incidence([1], [1]).curve(3)


def test_gray_test_refuses_one_group_and_no_events():
    with pytest.raises(CompetingRisksError, match="at least two groups"):
        gray_test([1, 2, 3], [1, 2, 0], ["a", "a", "a"])
    with pytest.raises(CompetingRisksError, match="no events of cause 1"):
        gray_test([1, 2, 3], [2, 2, 0], ["a", "b", "a"])
    with pytest.raises(CompetingRisksError, match="missing values"):
        gray_test([1, 2, 3], [1, 2, 0], ["a", None, "b"])
    with pytest.raises(CompetingRisksError, match="one value per patient"):
        gray_test([1, 2, 3], [1, 2, 0], ["a", "b"])


def test_gray_test_refuses_singular_covariance():
    # group b is censored before any event: it carries no information
    with pytest.raises(CompetingRisksError, match="singular"):
        gray_test([2, 3, 4, 1], [1, 2, 1, 0], ["a", "a", "a", "b"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 2)), min_size=1, max_size=40))
def test_cif_properties_on_random_tied_data(rows):
    time = np.array([r[0] for r in rows], dtype=float)
    cause = np.array([r[1] for r in rows])
    fit = cumulative_incidence(time, cause)
    cir, nrm = fit.curve(1), fit.curve(2)
    assert np.all(np.diff(cir["cif"]) >= -1e-12) and np.all(np.diff(nrm["cif"]) >= -1e-12)
    km = KaplanMeierFitter().fit(time, cause > 0)
    rfs = km.survival_function_at_times(cir["time"]).to_numpy()
    np.testing.assert_allclose(rfs + cir["cif"] + nrm["cif"], 1.0, atol=1e-12)
    assert (fit.table["variance"] >= -1e-12).all()


def test_100000_patients_give_proper_estimates_and_tests():
    """Large, heavily tied data (speed is measured in benchmarks/bench_stats.py, not here)."""
    rng = np.random.default_rng(7)
    n = 100_000
    time = np.round(rng.exponential(30, n), 1)
    cause = rng.choice([0, 1, 2], n, p=[0.4, 0.35, 0.25])
    group = rng.choice(["a", "b", "c"], n)
    fit = cumulative_incidence(time, cause)
    at = fit.cif_at([12.0, 60.0])
    assert at["cif"].between(0, 1).all() and (at["lower"] <= at["cif"]).all() and (at["cif"] <= at["upper"]).all()
    for cause_of_interest in (1, 2):
        test = gray_test(time, cause, group, cause_of_interest=cause_of_interest)
        assert test.df == 2 and np.isfinite(test.statistic) and 0 <= test.p <= 1


# --------------------------------------------------------------------------- report and command line


def _cohort_from(data: pd.DataFrame, per_month: float = 1.0) -> pd.DataFrame:
    """A canonical cohort whose RFS time and cause are the fixture's time (in units of ``per_month``) and cause."""
    from analysis.cohort.model import as_cohort

    relapse = (data["cause"] == 1).astype(int)
    months = data["time"] / per_month
    return as_cohort(pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(len(data))],
        "followup_months": months,
        "death": (data["cause"] == 2).astype(int),
        "relapse": relapse,
        "relapse_months": months.where(relapse == 1),
        "arm": data["group"].astype(str),
    }))


@pytest.mark.parametrize("name", ["hand", "pbc"])
def test_cif_report_against_R(name):
    """R: fit <- cuminc(time, cause, group); timepoints(fit, times); fit$Tests."""
    from analysis.cli.reports import cif_report
    from analysis.cohort.model import DAYS_PER_MONTH

    data, ref = _load(name)
    # pbc's times are days: read as months they would outlive anyone. The estimates do not depend on the unit.
    scale = DAYS_PER_MONTH if name == "pbc" else 1.0
    times = [t / scale for t in ref["times"]]
    report = cif_report(_cohort_from(data, scale), group="arm", times=times)
    assert report["n"] == len(data)
    assert [g["group"] for g in report["groups"]] == ref["groups"]
    for g in report["groups"]:
        for cause, key in ((1, "relapse"), (2, "nrm")):
            expected = ref["timepoints"][f"{g['group']} {cause}"]
            at = g["causes"][key]["at"]
            assert [a["time"] for a in at] == pytest.approx(times)
            np.testing.assert_allclose(_num([a["cif"] for a in at]), _num(expected["est"]), atol=1e-6)
            np.testing.assert_allclose(_num([a["variance"] for a in at]), _num(expected["var"]), atol=1e-6)
            rows = data[data["group"] == g["group"]]
            assert g["causes"][key]["events"] == int((rows["cause"] == cause).sum())
    for cause, key in ((1, "relapse"), (2, "nrm")):
        assert report["gray"][key]["statistic"] == pytest.approx(ref["tests"][str(cause)]["stat"], rel=1e-4)
        assert report["gray"][key]["p"] == pytest.approx(ref["tests"][str(cause)]["pv_upper"], rel=1e-4)
        assert report["gray"][key]["df"] == ref["tests"][str(cause)]["df"]


def test_cif_report_without_group_has_no_test(demo_cohort):
    from analysis.cli.reports import cif_report

    report = cif_report(demo_cohort)
    assert report["gray"] is None
    assert [g["group"] for g in report["groups"]] == ["all"]
    assert report["groups"][0]["n"] == report["n"] == len(demo_cohort)


def test_cif_report_with_one_level_explains_the_missing_test(demo_cohort):
    from analysis.cli.reports import cif_report

    one = demo_cohort[demo_cohort["lineage"] == "T-ALL"]
    report = cif_report(one, group="lineage")
    assert report["gray"]["relapse"]["statistic"] is None
    assert "at least two groups" in report["gray"]["relapse"]["note"]


def test_gray_tests_refuse_overlapping_groups(demo_cohort):
    from analysis.analyses.relapse import gray_tests
    from analysis.cohort.grouping import compare_by

    frame = compare_by(demo_cohort, "lineage").frame
    table = gray_tests(frame, overlapping=True)
    assert table["statistic"].isna().all()
    assert table["note"].str.contains("share patients").all()
    assert gray_tests(frame)["statistic"].notna().all()


def test_cif_notes_name_groups_without_relapse_or_with_one_patient():
    from analysis.analyses.relapse import cif_notes

    fits = {"a": cumulative_incidence([1, 2, 3], [2, 0, 0]), "b": cumulative_incidence([4], [1])}
    notes = cif_notes(fits)
    assert any("Group a (3 patients) has no relapse" in n for n in notes)
    assert any("Group b has a single patient" in n for n in notes)


def test_command_line_prints_the_issue_format(capsys):
    from analysis.cli import main

    assert main(["cif", "--group", "lineage", "--times", "12,24", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"n", "groups", "gray"}
    group = out["groups"][0]
    assert set(group) == {"group", "n", "causes"}
    assert set(group["causes"]) == {"relapse", "nrm"}
    assert set(group["causes"]["relapse"]) == {"events", "at"}
    assert set(group["causes"]["relapse"]["at"][0]) == {"time", "cif", "variance", "lower", "upper"}
    assert [a["time"] for a in group["causes"]["nrm"]["at"]] == [12, 24]
    assert set(out["gray"]) == {"relapse", "nrm"}
    assert set(out["gray"]["relapse"]) == {"statistic", "df", "p"}


def test_landmark_table_per_group(demo_cohort):
    from analysis.analyses.relapse import cif_by_group
    from analysis.cohort.grouping import compare_by
    from analysis.stats.competing_risks import landmark_table

    comparison = compare_by(demo_cohort, "lineage")
    fits = cif_by_group(comparison.frame, comparison.order)
    table = landmark_table(fits, [24, 12])
    assert list(fits) == list(comparison.order)
    assert len(table) == 2 * 2 * len(fits)
    row = table[(table["group"] == "T-ALL") & (table["cause"] == 1) & (table["time"] == 12)].iloc[0]
    rows = comparison.frame[comparison.frame["group"] == "T-ALL"]
    assert row["n"] == len(rows) and row["events"] == int((rows["relapse"] == 1).sum())
    assert row["cif"] == pytest.approx(fits["T-ALL"].cif_at([12])["cif"].iloc[0])
    with pytest.raises(CompetingRisksError, match="group 'x' has no patients"):
        cif_by_group(comparison.frame, ["x"])


def test_landmark_table_without_groups_is_empty_with_its_columns():
    from analysis.stats.competing_risks import landmark_table

    table = landmark_table({}, [12, 24])
    assert table.empty
    assert list(table.columns) == ["group", "n", "cause", "events", "time", "cif", "variance", "lower", "upper",
                                   "n_at_risk"]


# --------------------------------------------------------------------------- figure


def test_cif_curve_hands_the_step_function_to_the_curve_builder():
    from analysis.figures.cif import cif_curve

    data, _ = _load("hand")
    fit = cumulative_incidence(data["time"], data["cause"])
    curve = cif_curve(fit, 1, "all")
    steps = fit.curve(1)
    steps = steps[steps["n_event"] > 0]
    assert curve.start == 0.0
    assert curve.time[:-1].tolist() == steps["time"].tolist()[: len(curve.time) - 1]
    assert curve.estimate[-1] == pytest.approx(fit.cif_at([fit.last_time])["cif"].iloc[0])
    assert curve.at_risk(np.array([0.0, 3.0])).tolist() == [len(data), int((data["time"] >= 3).sum())]
    assert curve.cumulative_events(np.array([100.0])).tolist() == [fit.events[1]]
    assert curve.events == fit.events[1] and curve.n == len(data)


def test_cif_figure_leaves_out_single_patients():
    from analysis.figures.cif import cif_figure

    fits = {"a": cumulative_incidence([1, 2, 3, 4], [1, 2, 0, 1]), "solo": cumulative_incidence([4], [1])}
    fig = cif_figure(fits, 1)
    names = [t.name for t in fig.data if t.name]
    assert any(n.startswith("a (") for n in names) and not any("solo" in n for n in names)
    with pytest.raises(CompetingRisksError, match="no group has more than one patient"):
        cif_figure({"solo": fits["solo"]}, 2)


def test_gray_caption():
    from analysis.figures.cif import gray_caption

    row = pd.Series({"statistic": 12.345, "df": 2, "p": 0.0004, "note": ""})
    assert gray_caption(row) == "Gray's test: χ² = 12.35, df = 2, p < 0.001"
    assert gray_caption(pd.Series({**row, "p": 0.0421})).endswith("p = 0.042")
    skipped = pd.Series({"statistic": np.nan, "df": 1, "p": np.nan, "note": "needs at least two groups"})
    assert gray_caption(skipped) == "Gray's test not computed: needs at least two groups."
    assert gray_caption(None) is None
