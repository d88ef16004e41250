"""analysis.analyses.risk_factors: paper models, published HRs, univariable fits, subgroup effects against R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.models import covariate_spec, cox_model
from analysis.analyses.risk_factors import (
    PAPER_MODELS,
    default_covariates,
    subgroup_effects,
    subgroup_factors,
    univariable_models,
    univariable_table,
    unrecorded_covariates,
)
from analysis.cli.reports import cox_report
from analysis.cohort.model import age_group, load_demo_cohort
from analysis.stats.cox.design import CovariateSpec

FIXTURES = Path(__file__).parent / "fixtures" / "cox"


@pytest.fixture
def demo():
    cohort = load_demo_cohort()
    return cohort.assign(age_group=age_group(cohort["age_years"], 10))


def _veteran_cohort():
    """veteran as a cohort with OS = (time, status): followup_months/death columns."""
    data = pd.read_csv(FIXTURES / "veteran_subgroups.csv")
    return pd.DataFrame({"patient_id": [str(i) for i in range(len(data))], "followup_months": data["time"],
                         "death": data["status"], "relapse": 0, "relapse_months": np.nan,
                         "trt": data["trt"].astype(str), "celltype": data["celltype"]})


def test_subgroup_effects_against_R():
    """R: coxph(Surv(time, status) ~ trt, subset = celltype == l) per cell type, and
    anova(coxph(~ trt + celltype), coxph(~ trt * celltype)) for the interaction."""
    ref = json.loads((FIXTURES / "veteran_subgroups.json").read_text())
    cohort = _veteran_cohort()
    effects = subgroup_effects(cohort, "os", CovariateSpec("trt", True, reference="1"),
                               [CovariateSpec("celltype", True)])
    table = effects.table.set_index("level")
    assert effects.term == "trt=2"
    for sub in ref["subgroups"]:
        row = table.loc[sub["level"]]
        assert row["n"] == sub["n"] and row["events"] == sub["events"]
        for key in ("hr", "lower", "upper"):
            assert row[key] == pytest.approx(sub[key], rel=1e-4)
        assert row["p"] == pytest.approx(sub["p"], abs=1e-4)
    test = effects.interaction.set_index("by").loc["celltype"]
    assert test["statistic"] == pytest.approx(ref["interaction"]["statistic"], rel=1e-4)
    assert test["df"] == ref["interaction"]["df"]
    assert test["p"] == pytest.approx(ref["interaction"]["p"], abs=1e-4)


def test_subgroup_factor_must_be_one_term(demo):
    with pytest.raises(ValueError, match="exactly one term"):
        subgroup_effects(demo, "os", covariate_spec(demo, "donor"), [covariate_spec(demo, "sex")])


def test_subgroup_without_events_is_not_estimable(demo):
    cohort = demo.copy()
    cohort.loc[cohort["sex"] == "male", "death"] = 0
    effects = subgroup_effects(cohort, "os", covariate_spec(cohort, "atg"), [covariate_spec(cohort, "sex")])
    male = effects.table.set_index("level").loc["male"]
    assert not male["estimable"] and male["note"] == "no events"
    assert np.isnan(male["hr"])


def test_default_covariates_are_the_papers_model(demo):
    assert default_covariates("os", demo.columns) == list(PAPER_MODELS["os"])
    assert default_covariates("rfs", ["lineage"]) == ["lineage"]


def test_univariable_models_are_each_covariate_alone(demo):
    specs = [covariate_spec(demo, c, standard_reference=True) for c in ("lineage", "atg")]
    models, problems = univariable_models(demo, "os", specs)
    assert problems == {}
    alone = cox_model(demo, "os", [specs[0]])
    assert models["lineage"].coef == pytest.approx(alone.coef)
    table = univariable_table(models)
    assert list(table["term"]) == ["lineage=T-ALL", "atg=yes"]


def test_univariable_problem_is_reported_not_raised(demo):
    cohort = demo[demo["lineage"] == "B-ALL"]
    models, problems = univariable_models(cohort, "os", [covariate_spec(cohort, "lineage"),
                                                          covariate_spec(cohort, "sex")])
    assert "sex" in models and "single level" in problems["lineage"]


def test_cox_report_has_the_cli_format(demo):
    out = cox_report(demo, "os", ["age_years", "lineage", "atg"], reference={"lineage": "T-ALL"})
    assert set(out) == {"endpoint", "n", "events", "concordance", "lr_test", "intervals", "terms", "warnings"}
    assert set(out["lr_test"]) == {"statistic", "df", "p"}
    terms = {t["term"]: t for t in out["terms"]}
    assert set(terms) == {"age_years", "lineage=B-ALL", "atg=yes"}
    assert terms["age_years"]["level"] is None and terms["lineage=B-ALL"]["level"] == "B-ALL"
    model = cox_model(demo, "os", [covariate_spec(demo, "age_years"),
                                   covariate_spec(demo, "lineage", reference="T-ALL"),
                                   covariate_spec(demo, "atg")])
    assert terms["atg=yes"]["hr"] == pytest.approx(float(model.summary.set_index("term").loc["atg=yes", "hr"]))
    json.dumps(out)


def test_cox_report_hides_diverging_terms(demo):
    cohort = demo.copy()
    cohort.loc[cohort["lineage"] == "T-ALL", "death"] = 0
    out = cox_report(cohort, "os", ["lineage", "age_years"])
    tall = next(t for t in out["terms"] if t["term"] == "lineage=T-ALL")
    assert tall["hr"] is None and tall["upper"] is None and tall["p"] is None


def test_cox_report_categorical_numeric_column(demo):
    cohort = demo.assign(score=(demo["age_years"] > 12).astype(int) + (demo["age_years"] > 6).astype(int))
    out = cox_report(cohort, "rfs", ["score"], categorical=["score"])
    assert [t["term"] for t in out["terms"]] == ["score=1", "score=2"]


def test_subgroup_factors_are_two_level_factors_and_cut_numbers(demo):
    specs = [CovariateSpec("lineage", True), CovariateSpec("donor", True), CovariateSpec("age_years", False),
             CovariateSpec("followup_months", False, cut=12.0), CovariateSpec("sex", True)]
    assert len(set(demo["donor"].dropna())) > 2  # a factor with more levels has no single effect
    assert subgroup_factors(demo, specs) == ["lineage", "followup_months", "sex"]
    # Levels are counted in the cohort given (the filtered one): a factor reduced to one level drops out.
    assert subgroup_factors(demo[demo["sex"] == "male"], specs) == ["lineage", "followup_months"]
    assert subgroup_factors(demo, [CovariateSpec("atg", True)]) == ["atg"]
    assert subgroup_factors(demo.assign(atg=np.nan), [CovariateSpec("atg", True)]) == []


def test_unrecorded_covariates_have_no_value_at_all(demo):
    cohort = demo.assign(atg=np.nan, age_years=np.nan)
    assert unrecorded_covariates(cohort, ["lineage", "atg", "age_years", "sex"]) == ["atg", "age_years"]
    assert unrecorded_covariates(demo, ["lineage", "atg"]) == []
