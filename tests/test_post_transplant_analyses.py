"""GVHD incidence, GRFS, time-dependent Cox, landmark, centre models and RMST as the views compute them, against R.

R scripts: tests/r/post_transplant.R (GVHD, GRFS), tests/r/cox_counting.R (tmerge, landmark, centres),
tests/r/rmst.R (RMST, conditional survival). The cohorts are mapped from the public files as an upload is.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.centres import FEW_CENTRES, centre_analysis, patients_per_centre
from analysis.analyses.models import specs_from_options
from analysis.analyses.post_transplant import (
    IMMORTAL_TIME_WARNING,
    gvhd_incidence,
    landmark_analysis,
    time_dependent_cox,
)
from analysis.analyses.risk_factors import analyse_risk_factors
from analysis.analyses.survival_summaries import (
    MIN_AT_RISK,
    NICE_HORIZONS,
    conditional_comparison,
    default_horizon,
    nonproportional_rmst,
    rmst_caption,
    rmst_comparison,
)
from analysis.cohort.grouping import compare_by
from analysis.cohort.model import CohortError, as_cohort, endpoint, load_demo_cohort
from analysis.ingest.loading import read_data_path
from analysis.ingest.mapping import read_mapping_file
from analysis.ingest.validation import check_upload
from analysis.stats.cox.design import CovariateSpec
from analysis.stats.kaplan_meier import fit_kaplan_meier
from analysis.stats.logrank import logrank_test

FIXTURES = Path(__file__).parent / "fixtures"
TIGHT = {"rtol": 1e-9, "atol": 1e-12}


def _json(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text(encoding="utf-8"))


def _mapped(mapping: str) -> pd.DataFrame:
    raw = read_data_path(FIXTURES / "transplant" / "cgvhd.tsv")
    return check_upload(raw.frame, read_mapping_file(FIXTURES / "transplant" / mapping)).cohort(exclude_flagged=False)


@pytest.fixture(scope="module")
def cgvhd() -> pd.DataFrame:
    return _mapped("cgvhd.gvhd.mapping.json")


@pytest.fixture(scope="module")
def without_gvhd() -> pd.DataFrame:
    """The same patients mapped without their GVHD columns (nor a centre)."""
    return _mapped("cgvhd.mapping.json")


# ------------------------------------------------------------------ GVHD and GRFS


@pytest.mark.parametrize("gvhd", ["agvhd2", "agvhd3", "cgvhd"])
def test_gvhd_incidence_against_R(cgvhd, gvhd):
    """R: cuminc(time, cause, tx) with death without the GVHD competing; timepoints(); Gray's test."""
    ref = _json("post_transplant/cgvhd.json")[gvhd]
    result = gvhd_incidence(compare_by(cgvhd, "tx"), gvhd)
    for group in ("BM", "PB"):
        at = result.fits[group].cif_at(ref["times"])
        at = at[at["cause"] == 1]
        np.testing.assert_allclose(at["cif"], np.array(ref[group]["est"], dtype=float), **TIGHT)  # NA: NaN
        np.testing.assert_allclose(at["variance"], np.array(ref[group]["var"], dtype=float), **TIGHT)
    assert sum(f.events[1] for f in result.fits.values()) == ref["events"]
    np.testing.assert_allclose([result.test["statistic"], result.test["p"]], [ref["gray"]["stat"], ref["gray"]["p"]],
                               rtol=1e-6)
    whole = gvhd_incidence(compare_by(cgvhd, None), gvhd)
    at = whole.fits["all"].cif_at(ref["times"])
    np.testing.assert_allclose(at[at["cause"] == 1]["cif"], np.array(ref["all"]["est"], dtype=float), **TIGHT)
    assert whole.test is None


def test_grfs_against_R(cgvhd):
    """R: GRFS = first of aGVHD III-IV, cGVHD, relapse, death; survfit by tx, survdiff, coxph(~ tx + dx)."""
    ref = _json("post_transplant/cgvhd.json")["grfs"]
    ep = endpoint(cgvhd, "grfs")
    np.testing.assert_allclose(ep.time, ref["time"], **TIGHT)
    np.testing.assert_array_equal(ep.event, ref["event"])
    got = []
    for group in ("BM", "PB"):
        rows = cgvhd["tx"] == group
        at = fit_kaplan_meier(ep.time[rows], ep.event[rows]).survival_at([3, 6, 12, 24])
        got.append(at["survival"].dropna().to_numpy())  # R leaves out times after the last follow-up
    np.testing.assert_allclose(np.concatenate(got), ref["surv"], **TIGHT)
    test = logrank_test(ep.time, ep.event, cgvhd["tx"])
    np.testing.assert_allclose([test.statistic, test.p], [ref["logrank"]["chisq"], ref["logrank"]["p"]], rtol=1e-9)


def test_rmst_of_grfs_against_R(cgvhd):
    """R: summary(survfit(Surv(grfs_time, grfs_event) ~ tx), rmean = 24)$table."""
    ref = _json("post_transplant/cgvhd.json")["rmst_grfs"]
    result = rmst_comparison(compare_by(cgvhd, "tx"), "grfs", ref["tau"])
    np.testing.assert_allclose([m.estimate for m in result.means], ref["rmst"], **TIGHT)
    np.testing.assert_allclose([m.se for m in result.means], ref["se"], **TIGHT)


def test_gvhd_incidence_needs_the_fields(without_gvhd):
    with pytest.raises(CohortError, match="Acute GVHD grade II–IV needs the acute GVHD fields"):
        gvhd_incidence(compare_by(without_gvhd, None), "agvhd2")


def test_unknown_grades_are_left_out_of_the_graded_incidence(cgvhd):
    holes = cgvhd.assign(agvhd_grade=cgvhd["agvhd_grade"].where(cgvhd["agvhd"] == 0).where(
        np.arange(len(cgvhd)) > 2, cgvhd["agvhd_grade"]))
    result = gvhd_incidence(compare_by(holes, None), "agvhd2")
    unknown = int(((holes["agvhd"] == 1) & holes["agvhd_grade"].isna()).sum())
    assert unknown > 0 and result.notes == (
        f"{unknown} patient(s) with acute GVHD of unknown grade are left out of Acute GVHD grade II–IV.",)
    assert result.fits["all"].n == len(holes) - unknown


# ------------------------------------------------------------------ time-dependent Cox


def test_time_dependent_cox_against_R(cgvhd):
    """R: coxph(Surv(tstart, tstop, death) ~ agvhd + cgvhd + dx + age) on tmerge(..., tdc()) rows."""
    ref = _json("cox_counting/cgvhd_td.json")
    specs = specs_from_options(cgvhd, ["dx", "age"])
    result = time_dependent_cox(cgvhd, "os", ["agvhd", "cgvhd"], specs)
    s = result.model.summary
    assert list(s["term"]) == ["agvhd=since onset", "cgvhd=since onset", "dx=CML", "age"]
    np.testing.assert_allclose(s["coef"], ref["fit"]["coef"], **TIGHT)
    np.testing.assert_allclose(s["se"], ref["fit"]["se"], **TIGHT)
    np.testing.assert_allclose(s["p"], ref["fit"]["p"], **TIGHT)
    assert result.rows == ref["rows"] and result.n_patients == 100
    assert result.baseline is None and result.warnings == ()


def test_the_baseline_model_comes_only_with_the_immortal_time_warning(cgvhd):
    """R: coxph(Surv(os_time, death) ~ ever agvhd + ever cgvhd + dx + age): the biased model, for comparison."""
    ref = _json("cox_counting/cgvhd_td.json")
    result = time_dependent_cox(cgvhd, "os", ["agvhd", "cgvhd"], specs_from_options(cgvhd, ["dx", "age"]),
                                baseline=True)
    np.testing.assert_allclose(result.baseline.summary["coef"], ref["ever"]["coef"], **TIGHT)
    assert result.warnings == tuple(IMMORTAL_TIME_WARNING.format(event=e) for e in ("acute GVHD", "chronic GVHD"))
    assert "Immortal-time bias" in result.warnings[0]


def test_time_dependent_cox_says_why_it_cannot_be_fitted():
    cohort = as_cohort(pd.DataFrame({"patient_id": list("abc"), "followup_months": [5.0, 6.0, 7.0],
                                     "death": [0, 0, 0], "relapse": [0, 0, 0], "relapse_months": [None] * 3,
                                     "dli": [1, 0, 0], "dli_months": [2.0, None, None]}))
    result = time_dependent_cox(cohort, "os", ["dli"])
    assert result.model is None and "no events" in result.problem
    with pytest.raises(CohortError, match="no acute GVHD fields"):
        time_dependent_cox(cohort, "os", ["agvhd"])


# ------------------------------------------------------------------ landmark


@pytest.mark.parametrize(("key", "landmark"), [("six", 6.0), ("twelve", 12.0)])
def test_landmark_analysis_against_R(cgvhd, key, landmark):
    """R: subset(os_time > L); survfit / survdiff / coxph(Surv(os_time - L, death) ~ cGVHD by L + dx)."""
    ref = _json("cox_counting/cgvhd_landmark.json")[key]
    result = landmark_analysis(cgvhd, "os", "cgvhd", landmark, specs_from_options(cgvhd, ["dx"]))
    assert result.n == ref["n"]
    assert {km.label: km.n for km in result.curves} == ref["by_group"]
    surv = np.concatenate([km.survival_at([6, 12, 24]).dropna(subset=["survival"])["survival"].to_numpy()
                           for km in result.curves])
    np.testing.assert_allclose(surv, ref["surv"], **TIGHT)
    np.testing.assert_allclose([result.test.statistic, result.test.p], [ref["logrank"]["chisq"], ref["logrank"]["p"]],
                               rtol=1e-9)
    np.testing.assert_allclose(result.model.summary["coef"], ref["cox"]["coef"], **TIGHT)
    np.testing.assert_allclose(result.model.summary["se"], ref["cox"]["se"], **TIGHT)
    assert result.excluded == 100 - ref["n"]


def test_landmark_needs_a_positive_landmark(cgvhd):
    with pytest.raises(ValueError, match="positive number of months"):
        landmark_analysis(cgvhd, "os", "cgvhd", 0)


# ------------------------------------------------------------------ centres


def _lung_cohort() -> pd.DataFrame:
    lung = pd.read_csv(FIXTURES / "cox_counting" / "lung_centres.csv")
    return as_cohort(lung.assign(patient_id=[f"L{i}" for i in range(len(lung))], followup_months=lung["time"],
                                 death=lung["status"], relapse=0, relapse_months=np.nan)
                     .drop(columns=["time", "status"]))


def test_centre_models_against_R():
    """R: coxph(Surv(time, status) ~ age + sex + ph.ecog, cluster = centre) and ... + strata(centre), lung."""
    ref = _json("cox_counting/lung_centres.json")
    cohort = _lung_cohort()
    result = centre_analysis(cohort, "os", specs_from_options(cohort, ["age", "sex", "ph.ecog"]))
    np.testing.assert_allclose(result.robust.summary["se"], ref["cluster"]["robust_se"], **TIGHT)
    np.testing.assert_allclose(result.robust.summary["p"], ref["cluster"]["p"], **TIGHT)
    np.testing.assert_allclose(result.stratified.summary["coef"], ref["strata"]["coef"], **TIGHT)
    np.testing.assert_allclose(result.stratified.summary["se"], ref["strata"]["se"], **TIGHT)
    assert result.n_centres == ref["centres"] == 18
    table = result.comparison_table()
    np.testing.assert_allclose(table["robust_upper"], ref["cluster"]["upper"], **TIGHT)
    np.testing.assert_allclose(table["stratified_hr"], ref["strata"]["hr"], **TIGHT)


def test_patients_per_centre_and_the_centre_warnings(without_gvhd):
    cohort = _lung_cohort()
    per = patients_per_centre(cohort, "os")
    assert per["patients"].sum() == len(cohort) and per["patients"].is_monotonic_decreasing
    few = cohort[cohort["centre"].isin(per["centre"].head(3))].assign(
        centre=lambda d: d["centre"].where(np.arange(len(d)) > 0))
    result = centre_analysis(few, "os", [CovariateSpec("age", False)])
    assert result.warnings == ("1 patient(s) without a centre are left out of these models.",)
    robust = result.warnings_for("cluster")
    assert "Only 3 centres" in robust[1] and str(FEW_CENTRES) in robust[1]
    assert not any("Only" in w for w in result.warnings_for("strata"))
    with pytest.raises(CohortError, match="no centre column"):
        centre_analysis(without_gvhd, "os", [CovariateSpec("age", False)])


# ------------------------------------------------------------------ RMST and conditional survival


def test_rmst_and_conditional_survival_by_group_against_R():
    """R: summary(survfit(Surv(followup_months, death) ~ lineage), rmean = tau); survfit(subset = time > s)."""
    ref = _json("rmst/demo_os.json")
    comparison = compare_by(load_demo_cohort(), "lineage")
    for r in ref["rmst"]:
        result = rmst_comparison(comparison, "os", r["tau"])
        np.testing.assert_allclose([m.estimate for m in result.means], r["rmst"], **TIGHT)
        d = result.differences[0]  # T-ALL − B-ALL; R's is B-ALL − T-ALL
        np.testing.assert_allclose([-d.estimate, d.se, d.p], [r["difference"]["estimate"], r["difference"]["se"],
                                                              r["difference"]["p"]], **TIGHT)
        assert "T-ALL − B-ALL" in rmst_caption(result)
    whole = compare_by(load_demo_cohort(), None)
    for r in ref["conditional"]:
        result = conditional_comparison(whole, "os", r["given"])
        at = result.at(r["times"])
        np.testing.assert_allclose(at["survival"], r["surv"], **TIGHT)
        np.testing.assert_array_equal(at["n_at_risk"], r["n_risk"])


def test_default_horizon_keeps_patients_at_risk_in_every_group():
    comparison = compare_by(load_demo_cohort(), "lineage")
    tau = default_horizon(comparison, "os")
    needed = {g: min(MIN_AT_RISK, max(2, int(np.ceil(0.1 * len(rows))))) for g, rows in comparison.groups()}
    assert needed == {"B-ALL": 5, "T-ALL": 2}
    for g, rows in comparison.groups():
        assert (endpoint(rows, "os").time >= tau).sum() >= needed[g]
    bigger = NICE_HORIZONS[NICE_HORIZONS.index(tau) + 1]
    assert any((endpoint(rows, "os").time >= bigger).sum() < needed[g] for g, rows in comparison.groups())


def test_rmst_is_offered_for_the_factors_whose_hazards_are_not_proportional(crossing_hazards):
    cohort = crossing_hazards
    analysis = analyse_risk_factors(cohort, "os", [CovariateSpec("arm", True, reference="a")], univariable=False)
    assert analysis.proportional_hazards.table["p"].iloc[0] < 0.05
    found = nonproportional_rmst(cohort, analysis)
    assert len(found) == 1 and [m.label for m in found[0].means] == ["a", "b"]
    assert found[0].tau == default_horizon(compare_by(cohort, "arm"), "os")
    assert nonproportional_rmst(cohort, analyse_risk_factors(cohort, "relapse", analysis.specs)) == []


def test_patients_per_centre_lists_only_the_centres_in_the_filtered_cohort(demo_cohort):
    """The app codes text as categoricals (with_coded_text): a filtered cohort keeps every category."""
    from analysis.cohort.filters import with_coded_text

    coded = with_coded_text(demo_cohort)
    some = coded[coded["centre"].isin(["Centre A", "Centre B"])]
    table = patients_per_centre(some, "os")
    assert sorted(table["centre"]) == ["Centre A", "Centre B"] and (table["patients"] > 0).all()
