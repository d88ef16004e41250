"""Kaplan-Meier estimates against R survival 3.5-3 (fixtures made by tests/r/kaplan_meier.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli.reports import km_report
from analysis.cohort.model import as_cohort, endpoint
from analysis.stats.kaplan_meier import (
    EmptyGroupError,
    SurvivalDataError,
    check_survival_data,
    fit_by_group,
    fit_kaplan_meier,
    landmark_table,
    median_followup,
    median_table,
)

FIXTURES = Path(__file__).parent / "fixtures" / "kaplan_meier"
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))
ONE_CURVE = sorted(p.stem for p in FIXTURES.glob("*.json")
                   if json.loads(p.read_text(encoding="utf-8"))["data"]["group"] is None)
ABS_TOL = 1e-6  # the tolerance on survival and CI; R's output is printed to 17 digits


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def as_float(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_close(actual, expected, what: str) -> None:
    """Equal within ABS_TOL, NaN where R has NA (NaN, Inf)."""
    actual = np.asarray(actual, dtype=float)
    expected = as_float(expected)
    assert actual.shape == expected.shape, what
    np.testing.assert_allclose(actual, expected, rtol=0, atol=ABS_TOL, equal_nan=True, err_msg=what)


def curves_of(case: dict) -> list:
    data = case["data"]
    return fit_by_group(data["time"], data["event"], data["group"], order=case["groups"] if data["group"] else None)


def test_every_fixture_is_used():
    assert len(CASES) >= 20
    assert {"lung_sex", "veteran_celltype", "demo_os", "edge_all_censored"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_survfit_table_against_R(name):
    """survfit(Surv(time, event) ~ 1, conf.type = "log-log") per group: every row of the fit."""
    case = load(name)
    for km, ref in zip(curves_of(case), case["curves"], strict=True):
        tab = km.table
        assert km.n == ref["n"] and km.events == ref["events"]
        assert_close(tab["time"], ref["time"], f"{name}/{km.label} time")
        for ours, theirs in [("n_at_risk", "n_risk"), ("n_event", "n_event"), ("n_censor", "n_censor")]:
            np.testing.assert_array_equal(tab[ours], ref[theirs], err_msg=f"{name}/{km.label} {ours}")
        for column in ("survival", "std_err", "lower", "upper"):
            key = "surv" if column == "survival" else column
            assert_close(tab[column], ref[key], f"{name}/{km.label} {column}")


@pytest.mark.parametrize("conf_type", ["log", "plain"])
@pytest.mark.parametrize("name", CASES)
def test_other_confidence_scales_against_R(name, conf_type):
    """survfit(..., conf.type = "log") and conf.type = "plain"."""
    case = load(name)
    data = case["data"]
    for label, ref in zip(case["groups"], case["curves"], strict=True):
        mask = np.ones(len(data["time"]), bool) if data["group"] is None else np.array(data["group"]) == label
        km = fit_kaplan_meier(np.array(data["time"])[mask], np.array(data["event"])[mask], conf_type=conf_type)
        suffix = conf_type.replace("-", "")
        assert_close(km.table["lower"], ref[f"lower_{suffix}"], f"{name}/{label} lower {conf_type}")
        assert_close(km.table["upper"], ref[f"upper_{suffix}"], f"{name}/{label} upper {conf_type}")


@pytest.mark.parametrize("name", CASES)
def test_survival_at_against_R(name):
    """summary(fit, times = ...): survival, CI, SE and number at risk; R drops times past the last follow-up."""
    case = load(name)
    for km, ref in zip(curves_of(case), case["curves"], strict=True):
        s = ref["summary"]
        at = km.survival_at(s["requested"])
        shown = at["time"].isin(s["time"]).to_numpy()
        assert at["time"][shown].tolist() == s["time"]
        for ours, theirs in [("survival", "surv"), ("lower", "lower"), ("upper", "upper"),
                             ("std_err", "std_err"), ("n_at_risk", "n_risk")]:
            assert_close(at.loc[shown, ours], s[theirs], f"{name}/{km.label} at {ours}")
        past = at[~shown]
        assert past["survival"].isna().all() and (past["n_at_risk"] == 0).all()


@pytest.mark.parametrize("name", CASES)
def test_quantiles_against_R(name):
    """quantile(fit, probs = c(.25, .5, .75)) with CI, the median print.survfit shows."""
    case = load(name)
    for km, ref in zip(curves_of(case), case["curves"], strict=True):
        q = ref["quantile"]
        got = [km.quantile(p) for p in q["probs"]]
        assert_close([g.time for g in got], q["time"], f"{name}/{km.label} quantile")
        assert_close([g.lower for g in got], q["lower"], f"{name}/{km.label} quantile lower")
        assert_close([g.upper for g in got], q["upper"], f"{name}/{km.label} quantile upper")
        assert km.median.time == got[1].time or np.isnan(km.median.time)


@pytest.mark.parametrize("name", CASES)
def test_median_followup_against_R(name):
    """quantile(survfit(Surv(time, 1 - event) ~ 1), 0.5): reverse Kaplan-Meier."""
    case = load(name)
    expected = case["followup_median"]
    got = median_followup(case["data"]["time"], case["data"]["event"])
    if expected is None:
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=ABS_TOL)


@pytest.mark.parametrize("name", ONE_CURVE)
def test_followup_median_from_the_table_against_R(name):
    """KaplanMeier.followup_median (from the fitted table) equals R's reverse KM median for one-curve cases."""
    case = load(name)
    expected = case["followup_median"]
    got = curves_of(case)[0].followup_median
    assert (np.isnan(got) and expected is None) or got == pytest.approx(expected, abs=ABS_TOL)


def test_median_and_landmark_tables(two_group_curves):
    medians = median_table(two_group_curves)
    assert medians["group"].tolist() == ["A", "B"]
    assert medians.loc[0, "median"] == two_group_curves[0].median.time
    lm = landmark_table(two_group_curves, [1, 100])
    assert lm["group"].tolist() == ["A", "A", "B", "B"]
    assert lm["n_at_risk"].tolist()[1] == 0 and np.isnan(lm["survival"].iloc[1])


@pytest.fixture
def two_group_curves():
    return fit_by_group([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 0, 1], ["A", "A", "A", "B", "B", "B"])


# Hand-computable cases -------------------------------------------------------------------------

def test_all_censored_stays_at_one_and_has_no_median():
    km = fit_kaplan_meier([2, 4, 4, 7], [0, 0, 0, 0])
    assert (km.table["survival"] == 1).all()
    assert np.isnan(km.median.time) and np.isnan(km.median.lower) and np.isnan(km.median.upper)
    assert km.events == 0


def test_one_patient_who_dies():
    km = fit_kaplan_meier([5.0], [1])
    assert km.table["survival"].tolist() == [0.0]
    assert km.median.time == 5.0
    at = km.survival_at([1, 5, 6])
    assert at["survival"].tolist()[:2] == [1.0, 0.0] and np.isnan(at["survival"].iloc[2])
    assert at["n_at_risk"].tolist() == [1, 1, 0]


def test_ties_of_deaths_and_censorings_count_the_censored_as_at_risk():
    # At t = 2: 10 at risk, 2 deaths, 1 censored; at t = 3: 7 at risk, 1 death, 1 censored.
    km = fit_kaplan_meier([2, 2, 2, 3, 3, 5, 5, 5, 8, 9], [1, 1, 0, 1, 0, 1, 0, 0, 1, 0])
    first, second = km.table.iloc[0], km.table.iloc[1]
    assert (first.n_at_risk, first.n_event, first.n_censor) == (10, 2, 1)
    assert first.survival == pytest.approx(8 / 10)
    assert second.survival == pytest.approx(8 / 10 * 6 / 7)
    greenwood = np.sqrt(2 / (10 * 8) + 1 / (7 * 6))
    assert second.std_err == pytest.approx(second.survival * greenwood)


def test_loglog_interval_matches_the_formula():
    km = fit_kaplan_meier([1, 2, 3, 4], [1, 0, 1, 0])
    s, se = 0.75, np.sqrt(1 / (4 * 3))
    shift = 1.959963984540054 * se / np.log(s)
    assert km.table["lower"].iloc[0] == pytest.approx(np.exp(-np.exp(np.log(-np.log(s)) - shift)))
    assert km.table["upper"].iloc[0] == pytest.approx(np.exp(-np.exp(np.log(-np.log(s)) + shift)))


def test_group_without_events_has_flat_curve():
    curves = fit_by_group([1, 2, 3, 2, 4], [1, 0, 1, 0, 0], ["A", "A", "A", "B", "B"])
    b = curves[1]
    assert b.label == "B" and b.events == 0 and (b.table["survival"] == 1).all()


def test_near_equal_times_are_ties_as_in_R():
    # 12 months computed two ways differ in the last bit; R's aeqSurv makes them one time.
    t = check_survival_data([365.25 / 30.4375, 12.0, 13.0], [1, 1, 0])[0]
    assert t[0] == t[1]
    assert len(fit_kaplan_meier([365.25 / 30.4375, 12.0, 13.0], [1, 1, 0]).table) == 2


def test_risk_table_counts_at_risk_and_cumulative_events():
    km = fit_kaplan_meier([1, 2, 2, 3, 5], [1, 1, 0, 0, 1])
    rt = km.risk_table([0, 2, 2.5, 5, 6])
    assert rt["n_at_risk"].tolist() == [5, 4, 2, 1, 0]
    assert rt["cumulative_events"].tolist() == [0, 2, 2, 3, 3]


@pytest.mark.parametrize(
    ("time", "event", "message"),
    [
        ([], [], "no patients"),
        ([1, 2], [1], "differ in length"),
        ([1, np.nan], [1, 0], "missing or infinite"),
        ([1, -2], [1, 0], "negative"),
        ([1, 2], [1, 2], "0 \\(censored\\) or 1"),
    ],
)
def test_bad_input_is_named(time, event, message):
    with pytest.raises(SurvivalDataError, match=message):
        fit_kaplan_meier(time, event)


def test_empty_group_in_order_is_named():
    with pytest.raises(EmptyGroupError, match="group 'C' has no patients"):
        fit_by_group([1, 2], [1, 0], ["A", "B"], order=["A", "B", "C"])


def test_unknown_conf_type_is_named():
    with pytest.raises(ValueError, match="unknown conf_type 'logit'"):
        fit_kaplan_meier([1, 2], [1, 0], conf_type="logit")


def test_large_cohort_gives_a_proper_curve():
    """100,000 tied times (speed is measured in benchmarks/bench_stats.py, not here)."""
    rng = np.random.default_rng(1)
    t = np.round(rng.exponential(30, 100_000), 2)
    e = rng.integers(0, 2, 100_000)
    km = fit_kaplan_meier(t, e)
    at = km.survival_at([12, 24, 60])
    assert np.all(np.diff(at["survival"]) < 0) and (at["lower"] < at["survival"]).all()
    assert np.isfinite(km.median.time) and km.n == 100_000


# km_report (the command line's `km`) -----------------------------------------------------------

@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return as_cohort(pd.read_csv(FIXTURES / "demo_cohort.csv", dtype={"patient_id": str}))


@pytest.mark.parametrize(
    ("endpoint", "group", "fixture"),
    [("os", None, "demo_os"), ("rfs", None, "demo_rfs"), ("os", "lineage", "demo_os_lineage"),
     ("rfs", "age_group", "demo_rfs_age"), ("os", "donor", "demo_os_donor")],
)
def test_km_report_on_demo_against_R(demo, endpoint, group, fixture):
    """survfit/summary/quantile/survdiff on the frozen demo cohort, R-derived endpoints."""
    ref = load(fixture)
    report = km_report(demo, endpoint, group, times=(12, 24, 60))
    json.dumps(report, allow_nan=False)  # JSON-serialisable, no NaN
    assert report["endpoint"] == endpoint
    assert report["n"] == len(demo) and report["events"] == int(np.sum(ref["data"]["event"]))
    # The report lists groups in display order (cohort.STANDARD_LEVELS), R in sorted order.
    assert sorted(g["group"] for g in report["groups"]) == ref["groups"]
    assert report["followup_median"] == pytest.approx(ref["followup_median"], abs=ABS_TOL)
    by_label = dict(zip(ref["groups"], ref["curves"], strict=True))
    for got in report["groups"]:
        curve = by_label[got["group"]]
        assert (got["n"], got["events"]) == (curve["n"], curve["events"])
        median = curve["quantile"]["time"][1]
        assert_close([got["median"], got["median_lower"], got["median_upper"]],
                     [median, curve["quantile"]["lower"][1], curve["quantile"]["upper"][1]], "median")
        s = curve["summary"]
        for row in got["at"]:
            if row["time"] in s["time"]:
                i = s["time"].index(row["time"])
                assert_close([row["survival"], row["lower"], row["upper"], row["n_at_risk"]],
                             [s["surv"][i], s["lower"][i], s["upper"][i], s["n_risk"][i]], "at")
            else:
                assert row["survival"] is None and row["n_at_risk"] == 0
    if group is None:
        assert report["logrank"] is None and report["groups"][0]["group"] == "all"
    else:
        sd = ref["tests"]["survdiff"][0]
        assert report["logrank"]["statistic"] == pytest.approx(sd["chisq"], rel=1e-4)
        assert report["logrank"]["df"] == sd["df"]
        assert report["logrank"]["p"] == pytest.approx(sd["pvalue"], rel=1e-4)


def test_km_report_not_reached_median_is_null():
    cohort = as_cohort(pd.DataFrame({
        "patient_id": ["a", "b", "c"], "followup_months": [10.0, 20.0, 30.0], "death": [1, 0, 0],
        "relapse": [0, 0, 0], "relapse_months": [np.nan] * 3,
    }))
    report = km_report(cohort, "os", times=(12, 40))
    group = report["groups"][0]
    assert group["median"] is None and group["group"] == "all"
    assert group["at"][1]["survival"] is None


def test_km_report_rejects_competing_risk_endpoints(demo):
    with pytest.raises(ValueError, match="endpoints are os and rfs"):
        km_report(demo, "relapse")


def test_survival_matches_lifelines_on_the_live_demo_cohort(demo_cohort):
    """Cross-check on data/demo_cohort.csv as it is now (the R fixtures hold a frozen copy)."""
    from lifelines import KaplanMeierFitter

    for name in ("os", "rfs"):
        ep = endpoint(demo_cohort, name)
        ours = fit_kaplan_meier(ep.time, ep.event)
        theirs = KaplanMeierFitter().fit(ep.time, ep.event)
        times = ours.table["time"].to_numpy()
        np.testing.assert_allclose(ours.table["survival"], theirs.survival_function_at_times(times), atol=1e-12)
        if not np.isclose(ours.table["survival"], 0.5).any():  # R's midpoint rule; lifelines takes the first time
            assert ours.median.time == pytest.approx(theirs.median_survival_time_) or np.isnan(ours.median.time)
