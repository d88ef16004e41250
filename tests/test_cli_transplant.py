"""The command line reaches every number of the transplant reviewers' analyses, with --json.

crr, cox --time-varying / --cluster / --strata, km --rmst / --conditional / --landmark / --endpoint grfs,
cif --endpoint agvhd|cgvhd; the numbers are the library's (tested against R elsewhere), the data mapped
from their raw columns as a user would.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.analyses.post_transplant import IMMORTAL_TIME_WARNING
from analysis.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
CGVHD = ["--data", str(FIXTURES / "transplant" / "cgvhd.tsv"), "--mapping",
         str(FIXTURES / "transplant" / "cgvhd.gvhd.mapping.json")]


def _run(capsys, *args: str):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def _ref(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text(encoding="utf-8"))


def test_crr_on_the_demo_cohort_against_R(capsys):
    """R: crr(rfs_time, cause, design, failcode = 1) on the demo cohort (tests/r/fine_gray.R)."""
    ref = _ref("fine_gray/crr_demo.json")
    code, out, _ = _run(capsys, "crr", "--cause", "relapse", "--covariates",
                        "age_years,lineage,donor,months_hsct1_to_relapse", "--reference", "donor=MSD", "--json")
    assert code == 0
    # age per year here (the fixture cuts it at 10), so compare the model of the fixture through the library
    assert [t["term"] for t in out["fine_gray"]["terms"]] == ["age_years", "lineage=T-ALL", "donor=MMUD",
                                                              "donor=MUD", "donor=haplo", "months_hsct1_to_relapse"]
    assert out["fine_gray"]["events"] == 27 and out["fine_gray"]["converged"]
    assert "how many" in out["questions"][0] and "how fast" in out["questions"][1]
    assert ref["n"] == out["fine_gray"]["n"]


def test_crr_predicts_for_a_profile(capsys):
    code, out, _ = _run(capsys, "crr", "--cause", "nrm", "--covariates", "lineage,age_years", "--profile",
                        "lineage=T-ALL", "--profile", "age_years=12", "--times", "12,24", "--json")
    assert code == 0
    rows = out["prediction"]["at"]
    assert [r["time"] for r in rows] == [12.0, 24.0]
    assert 0 < rows[0]["fine_gray"] <= rows[1]["fine_gray"] < 1 and 0 < rows[0]["cause_specific"] < 1
    assert out["prediction"]["matched"] == "Lineage T-ALL"


def test_cox_time_varying_against_R(capsys):
    """R: coxph(Surv(tstart, tstop, death) ~ agvhd + cgvhd + dx + age) on tmerge rows of cgvhd."""
    ref = _ref("cox_counting/cgvhd_td.json")
    code, out, _ = _run(capsys, "cox", *CGVHD, "--time-varying", "agvhd,cgvhd", "--covariates", "dx,age", "--json")
    assert code == 0 and out["rows"] == ref["rows"]
    np.testing.assert_allclose([t["hr"] for t in out["terms"]], ref["fit"]["hr"], rtol=1e-9)
    np.testing.assert_allclose([t["p"] for t in out["terms"]], ref["fit"]["p"], rtol=1e-9)
    assert "baseline_ever" not in out


def test_the_naive_model_comes_with_the_immortal_time_warning(capsys):
    code, out, _ = _run(capsys, "cox", *CGVHD, "--time-varying", "cgvhd", "--baseline-ever", "--json")
    assert code == 0 and out["baseline_ever"]["terms"][0]["term"] == "cgvhd=yes"
    assert out["immortal_time_warning"][0].startswith("Immortal-time bias")


def test_cox_cluster_and_strata_by_centre_against_R(capsys, tmp_path):
    """R: coxph(Surv(time, status) ~ age + sex + ph.ecog, cluster = centre); ... + strata(centre) (lung)."""
    ref = _ref("cox_counting/lung_centres.json")
    lung = (FIXTURES / "cox_counting" / "lung_centres.csv").read_text().splitlines()
    rows = [lung[0] + ",relapse,relapse_months"] + [line + ",0," for line in lung[1:]]  # lung has no relapse
    path = tmp_path / "lung.csv"
    path.write_text("\n".join(rows) + "\n")
    data = ["--data", str(path), "--map", "followup_months=time", "--map", "death=status", "--map", "centre=centre",
            "--map", "age_years=",  # adults: age stays a covariate of its own
            "--time-unit", "months"]
    code, out, _ = _run(capsys, "cox", *data, "--covariates", "age,sex,ph.ecog", "--cluster", "centre", "--json")
    assert code == 0 and out["centres"] == 18
    np.testing.assert_allclose([t["se"] for t in out["terms"]], ref["cluster"]["robust_se"], rtol=1e-9)
    np.testing.assert_allclose([t["naive_se"] for t in out["terms"]], ref["cluster"]["naive_se"], rtol=1e-9)
    assert sum(r["patients"] for r in out["patients_per_centre"]) == len(lung) - 1
    code, out, _ = _run(capsys, "cox", *data, "--covariates", "age,sex,ph.ecog", "--strata", "centre", "--json")
    assert code == 0
    np.testing.assert_allclose([t["coef"] for t in out["terms"]], ref["strata"]["coef"], rtol=1e-9)


def test_centre_options_need_a_centre(capsys):
    code, _, err = _run(capsys, "cox", *CGVHD, "--covariates", "dx", "--strata", "centre")
    assert code == 2 and "no centre column" in err
    code, out, _ = _run(capsys, "cox", "--covariates", "age_group,lineage", "--strata", "centre", "--json")
    assert code == 0 and out["centres"] == 8 and sum(r["patients"] for r in out["patients_per_centre"]) == 75
    code, _, err = _run(capsys, "cox", "--covariates", "age_group", "--cluster", "donor")
    assert code == 2 and "take the centre field" in err


def test_km_rmst_and_conditional_against_R(capsys):
    """R: summary(survfit(...), rmean = 24)$table; survfit(..., subset = time > 12) (tests/r/rmst.R)."""
    ref = _ref("rmst/demo_os.json")
    code, out, _ = _run(capsys, "km", "--group", "lineage", "--rmst", "24", "--json")
    r = next(x for x in ref["rmst"] if x["tau"] == 24)
    assert code == 0
    np.testing.assert_allclose([g["rmst"] for g in out["groups"]], r["rmst"], rtol=1e-10)
    np.testing.assert_allclose(out["differences"][0]["p"], r["difference"]["p"], rtol=1e-10)
    code, out, _ = _run(capsys, "km", "--conditional", "12", "--times", "24,36,60", "--json")
    c = next(x for x in ref["conditional"] if x["given"] == 12)
    assert code == 0 and out["groups"][0]["n_at_given"] == c["n"]
    np.testing.assert_allclose([a["survival"] for a in out["groups"][0]["at"]], c["surv"], rtol=1e-10)


def test_km_grfs_and_landmark_against_R(capsys):
    """R: GRFS log-rank by tx; landmark at 6 months by cGVHD (tests/r/post_transplant.R, cox_counting.R)."""
    grfs = _ref("post_transplant/cgvhd.json")["grfs"]
    code, out, _ = _run(capsys, "km", *CGVHD, "--endpoint", "grfs", "--group", "tx", "--json")
    assert code == 0 and out["events"] == sum(grfs["event"])
    assert out["logrank"]["statistic"] == pytest.approx(grfs["logrank"]["chisq"], rel=1e-9)
    lm = _ref("cox_counting/cgvhd_landmark.json")["six"]
    code, out, _ = _run(capsys, "km", *CGVHD, "--landmark", "6", "--landmark-event", "cgvhd", "--json")
    assert code == 0 and out["n"] == lm["n"]
    assert out["logrank"]["statistic"] == pytest.approx(lm["logrank"]["chisq"], rel=1e-9)


def test_km_grfs_needs_the_gvhd_fields(capsys):
    without = ["--data", str(FIXTURES / "transplant" / "cgvhd.tsv"), "--mapping",
               str(FIXTURES / "transplant" / "cgvhd.mapping.json")]
    code, _, err = _run(capsys, "km", *without, "--endpoint", "grfs")
    assert code == 2 and "GRFS needs" in err


@pytest.mark.parametrize(("which", "names"), [("agvhd", ["Acute GVHD grade II–IV", "Acute GVHD grade III–IV"]),
                                              ("cgvhd", ["Chronic GVHD"])])
def test_cif_of_gvhd_against_R(capsys, which, names):
    """R: cuminc(time, cause, tx) with death without the GVHD competing (tests/r/post_transplant.R)."""
    ref = _ref("post_transplant/cgvhd.json")
    code, out, _ = _run(capsys, "cif", *CGVHD, "--endpoint", which, "--group", "tx", "--times", "3,6,12,24", "--json")
    assert code == 0 and [i["name"] for i in out["incidences"]] == names
    key = {"Acute GVHD grade II–IV": "agvhd2", "Acute GVHD grade III–IV": "agvhd3", "Chronic GVHD": "cgvhd"}
    for incidence in out["incidences"]:
        r = ref[key[incidence["name"]]]
        bm = next(g for g in incidence["groups"] if g["group"] == "BM")
        np.testing.assert_allclose([a["cif"] if a["cif"] is not None else np.nan for a in bm["at"]],
                                   np.array(r["BM"]["est"], dtype=float), rtol=1e-9)
        assert incidence["gray"]["p"] == pytest.approx(r["gray"]["p"], rel=1e-6)


def test_a_partial_profile_takes_reference_levels_and_medians(capsys):
    code, out, _ = _run(capsys, "crr", "--covariates", "age_group,lineage,age_years", "--profile", "lineage=T-ALL",
                        "--json")
    assert code == 0
    profile = out["prediction"]["profile"]
    assert profile["lineage"] == "T-ALL" and profile["age_group"] == "< 10 y"
    assert profile["age_years"] == pytest.approx(11.5)  # the demo cohort's median age


@pytest.mark.parametrize("command", ["cox", "crr"])
def test_an_event_after_hsct2_as_a_baseline_covariate_carries_the_immortal_time_warning(capsys, command):
    code, out, _ = _run(capsys, command, "--covariates", "lineage,cgvhd", "--json")
    assert code == 0
    assert out["immortal_time_warning"] == [
        f"{IMMORTAL_TIME_WARNING.format(event='chronic GVHD')} (cox --time-varying cgvhd)"]
    code, out, _ = _run(capsys, command, "--covariates", "lineage", "--json")
    assert "immortal_time_warning" not in out
