"""python -m analysis predict and validate: the page's numbers on the command line, on the demo and on a file."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.analyses.models import covariate_spec
from analysis.analyses.patient_like_me import fit_prediction_models, predict_patient
from analysis.cli import main
from tests.test_cli import _run

PROFILE = "age_years=12,sex=male,lineage=T-ALL,atg=no"


def test_predict_with_covariates_equals_the_analysis(capsys, demo_cohort):
    code, result, _ = _run(capsys, "predict", "--endpoint", "os", "--covariates", "age_years,sex,lineage,atg",
                           "--profile", PROFILE, "--times", "12,24,60", "--json")
    assert code == 0
    specs = [covariate_spec(demo_cohort, c, standard_reference=True) for c in ("age_years", "sex", "lineage", "atg")]
    profile = {"age_years": 12.0, "sex": "male", "lineage": "T-ALL", "atg": "no", "age_group": "≥ 10 y"}
    expected = predict_patient(fit_prediction_models(demo_cohort, specs), profile,
                               ["age_years", "sex", "lineage", "atg"], {"age_years": 4.2})
    assert [p["time"] for p in result["prediction"]] == [12.0, 24.0, 60.0]
    np.testing.assert_allclose([p["survival"] for p in result["prediction"]], expected.survival["os"].at["survival"])
    np.testing.assert_allclose([p["lower"] for p in result["prediction"]], expected.survival["os"].at["lower"])
    assert result["matching"]["n"] == expected.n_matching
    assert result["warnings"] == list(expected.warnings)
    assert result["model"]["terms"] == ["age_years", "sex=male", "lineage=T-ALL", "atg=yes"]
    assert "not a basis for a treatment decision" in result["note"]


def test_predict_without_covariates_uses_the_pages_model(capsys):
    code, result, _ = _run(capsys, "predict", "--profile", PROFILE, "--json")
    assert code == 0
    assert result["covariates"] == ["age_group", "lineage", "sex", "atg"]
    assert result["profile"]["age_group"] == "≥ 10 y"
    code, relapse, _ = _run(capsys, "predict", "--endpoint", "relapse", "--profile", PROFILE, "--json")
    assert code == 0 and set(relapse["prediction"][0]) == {"time", "cumulative_incidence"}


def test_predict_on_a_mapped_file(capsys, tmp_path, demo_cohort):
    path = tmp_path / "registry.csv"
    demo_cohort.rename(columns={"followup_months": "fu", "age_years": "age"}).to_csv(path, index=False)
    code, mapped, err = _run(capsys, "predict", "--data", str(path), "--map", "followup_months=fu",
                             "--map", "age_years=age", "--time-unit", "months", "--profile", PROFILE, "--json")
    assert code == 0, err
    code, demo, _ = _run(capsys, "predict", "--profile", PROFILE, "--json")
    for ours, theirs in zip(mapped["prediction"], demo["prediction"], strict=True):
        assert ours == pytest.approx(theirs)
    assert mapped["matching"]["n"] == demo["matching"]["n"]


@pytest.mark.parametrize(("args", "message"), [
    (["--profile", "age_years=12"], "the profile needs a value for lineage, sex, atg"),
    (["--profile", "age_years=12,sex=other,lineage=T-ALL,atg=no"], "Sex = 'other' is not one of female, male"),
    (["--profile", "age_years"], "--profile expects COL=VALUE"),
])
def test_predict_errors_are_messages(capsys, args, message):
    code, _, err = _run(capsys, "predict", *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_validate_is_reproducible_and_the_null_model_is_one_half(capsys):
    args = ("validate", "--endpoint", "os", "--folds", "3", "--repeats", "2", "--seed", "1", "--json")
    code, first, _ = _run(capsys, *args)
    assert code == 0
    code, second, _ = _run(capsys, *args)
    assert first == second
    assert (first["folds"], first["repeats"], first["seed"], first["n"], first["events"]) == (3, 2, 1, 75, 35)
    metrics = {(m["model"], m["metric"]): m for m in first["metrics"]}
    assert metrics[("null", "harrell_c")]["apparent"] == 0.5 and metrics[("null", "uno_c")]["corrected"] == 0.5
    assert metrics[("cox", "harrell_c")]["corrected"] == pytest.approx(
        metrics[("cox", "harrell_c")]["apparent"] - metrics[("cox", "harrell_c")]["optimism"])
    assert {c["model"] for c in first["calibration"]} == {"cox", "forest", "null"}


def test_validate_refuses_a_competing_endpoint(capsys):
    with pytest.raises(SystemExit):
        main(["validate", "--endpoint", "relapse"])
    assert "invalid choice" in capsys.readouterr().err
