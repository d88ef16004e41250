"""Profile-likelihood intervals and likelihood-ratio p-values of Cox models, against R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.stats.cox.design import CovariateSpec
from analysis.stats.cox.fit import fit_cox
from analysis.stats.cox.profile import profile_likelihood

FIXTURES = Path(__file__).parent / "fixtures" / "cox_profile"
NAMES = ["lung", "demo_t_all", "separation"]


def _load(name: str) -> tuple[pd.DataFrame, dict]:
    text = (FIXTURES / f"profile_{name}.json").read_text(encoding="utf-8")
    ref = json.loads(text.replace('"Infinity"', "Infinity").replace('"-Infinity"', "-Infinity"))
    frame = pd.read_csv(FIXTURES / f"profile_{name}.csv", encoding="utf-8", keep_default_na=False, na_values=[""])
    return frame, ref


def _model(name: str):
    frame, ref = _load(name)
    spec = ref["spec"]
    reference = spec.get("reference") or {}
    specs = [CovariateSpec(c, c in reference, reference=reference.get(c)) for c in spec["covariates"]]
    if "ph.ecog" in frame:
        frame["ph.ecog"] = frame["ph.ecog"].astype(str)
    return fit_cox(frame, spec["duration"], spec["event"], specs), ref


@pytest.mark.parametrize("name", NAMES)
def test_profile_intervals_against_R(name):
    """R (tests/r/cox_profile.R): uniroot() of 2 * (fit$loglik[2] - profile(b)) - qchisq(0.95, 1), where
    profile(b) = coxph(Surv(t, d) ~ X[, -j] + offset(b * X[, j]), ties = "efron")$loglik[2]."""
    model, ref = _model(name)
    table = profile_likelihood(model).table
    assert table["term"].tolist() == ref["terms"]
    np.testing.assert_allclose(model.coef, ref["coef"], atol=1e-6)
    for column in ("lower", "upper"):
        expected = np.array(ref[column], dtype=float)
        got = table[column].to_numpy(float)
        assert (np.isinf(got) == np.isinf(expected)).all() and (np.sign(got) == np.sign(expected))[np.isinf(got)].all()
        np.testing.assert_allclose(got[np.isfinite(got)], expected[np.isfinite(expected)], atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_likelihood_ratio_p_values_against_R(name):
    """R: 2 * (fit$loglik[2] - coxph(Surv(t, d) ~ X[, -j])$loglik[2]), pchisq(lr, 1, lower.tail = FALSE)."""
    model, ref = _model(name)
    table = profile_likelihood(model).table
    np.testing.assert_allclose(table["statistic"], ref["lr_statistic"], rtol=1e-4)
    np.testing.assert_allclose(table["p"], ref["lr_p"], rtol=1e-4)


def test_an_open_side_is_reported_as_a_hazard_ratio_of_zero():
    model, _ = _model("separation")
    profile = profile_likelihood(model)
    assert profile.unbounded == {"group=b": "0"}
    row = profile.table.set_index("term").loc["group=b"]
    assert row["hr_lower"] == 0 and 0 < row["hr_upper"] < 0.2


def test_the_profile_interval_contains_the_estimate_and_is_not_the_wald_one():
    model, _ = _model("lung")
    table = profile_likelihood(model).table.set_index("term")
    wald = model.summary.set_index("term")
    for term in table.index:
        assert table.loc[term, "lower"] < table.loc[term, "coef"] < table.loc[term, "upper"]
    # ph.ecog = 3 has one patient: the likelihood is far from quadratic there
    assert abs(np.log(wald.loc["ph.ecog=3", "upper"]) - table.loc["ph.ecog=3", "upper"]) > 0.1


def test_a_penalized_fit_has_no_profile_here():
    frame, _ = _load("separation")
    model = fit_cox(frame, "time", "status", [CovariateSpec("group", True, reference="a")], penalty="firth")
    with pytest.raises(ValueError, match="ordinary partial likelihood only"):
        profile_likelihood(model)


def test_empty_cells_and_extreme_terms_of_the_t_all_model():
    from analysis.stats.cox.diagnostics import empty_cells, extreme_terms

    model, _ = _model("demo_t_all")
    cells = empty_cells(model)
    atg = cells[(cells["covariate"] == "atg") & (cells["other"] == "donor")].set_index("level")
    assert atg.loc["yes", "absent"] == ("MSD", "haplo") and atg.loc["yes", "present"] == ("MMUD", "MUD")
    assert extreme_terms(model.summary) == ["atg=yes", "donor=MMUD"]  # on the Wald intervals


def test_the_command_line_gives_profile_intervals_below_ten_events_per_coefficient(capsys):
    from analysis.cli import main

    args = ["cox", "--covariates", "age_group,sex,atg,donor,remission", "--filters", "lineage=T-ALL", "--json",
            "--reference", "donor=MSD", "--reference", "sex=female", "--reference", "atg=no",
            "--reference", "remission=CR", "--reference", "age_group=< 10 y"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    _, ref = _load("demo_t_all")
    assert result["intervals"] == "profile likelihood, likelihood-ratio p"
    got = {t["term"]: t for t in result["terms"]}
    for term, lower, upper, p in zip(ref["terms"], ref["lower"], ref["upper"], ref["lr_p"], strict=True):
        assert np.log(got[term]["lower"]) == pytest.approx(lower, abs=1e-6)
        assert np.log(got[term]["upper"]) == pytest.approx(upper, abs=1e-6)
        assert got[term]["p"] == pytest.approx(p, rel=1e-4)
    assert any("ATG = yes occurs only with Donor = MMUD or MUD" in w for w in result["warnings"])
    assert main([*args[:-10], "--intervals", "wald", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["intervals"] == "Wald"
