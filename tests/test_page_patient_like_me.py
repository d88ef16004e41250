"""The Patient like me page under AppTest: predictions for the profile, the matches, the warnings, the link."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.analyses.models import covariate_spec
from analysis.analyses.patient_like_me import RESEARCH_NOTE, default_profile, with_derived
from analysis.cohort.model import age_group
from analysis.stats.cox.fit import fit_cox
from analysis.stats.cox.predict import predict_survival
from analysis.text import escape_markdown, survival_text
from tests.apptest_support import empty_cohort_query
from tests.test_page_data import TRANSPLANT, _upload
from ui.state import ActiveData, DataSource

PAGE = "patient_like_me"
PAPER_OS = ("age_group", "lineage", "sex", "atg")


def _figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _texts(at) -> str:
    return " ".join(e.value for kind in (at.info, at.warning, at.caption, at.markdown) for e in kind)


def _os_text(cohort, profile: dict, months: float = 24.0) -> str:
    """The page's OS at ``months`` for the profile, recomputed from fit_cox + predict_survival."""
    frame = cohort.assign(age_group=age_group(cohort["age_years"], 10))
    specs = [covariate_spec(frame, c, standard_reference=True) for c in PAPER_OS]
    model = fit_cox(frame, "followup_months", "death", specs)
    row = predict_survival(model, with_derived(profile, 10)).survival_at([months]).iloc[0]
    return survival_text(row["survival"], row["lower"], row["upper"])


@pytest.fixture
def at(open_app):
    return open_app(PAGE)


def test_page_shows_the_predictions_for_the_typical_patient(at, demo_cohort):
    assert not at.exception
    figures = _figures(at)
    assert len(figures) == 2
    names = {t.get("name") for t in figures[0]["data"]}
    assert "Predicted for this profile (Cox, 95 % CI)" in names
    assert f"All filtered patients (Kaplan-Meier, n = {len(demo_cohort)})" in names
    assert any(n and n.startswith("Matching patients (Kaplan-Meier, n = ") for n in names)
    assert RESEARCH_NOTE in _texts(at)
    profile = default_profile(demo_cohort)
    assert at.selectbox(key=f"{PAGE}.profile.lineage").value == profile["lineage"]
    assert at.number_input(key=f"{PAGE}.profile.age_years").value == profile["age_years"]
    sentence = next(m.value for m in at.markdown if "overall survival" in m.value)
    assert escape_markdown(_os_text(demo_cohort, profile)) in sentence
    table = at.dataframe[0].value
    assert list(table["Endpoint"]) == ["OS"] * 3 + ["RFS"] * 3
    assert table["Predicted (95 % CI)"].iloc[0] == _os_text(demo_cohort, profile, 12.0)


def test_a_new_profile_changes_the_prediction_and_the_link(at, demo_cohort):
    before = next(m.value for m in at.markdown if "overall survival" in m.value)
    at.selectbox(key=f"{PAGE}.profile.lineage").set_value("T-ALL")
    at.selectbox(key=f"{PAGE}.profile.atg").set_value("no")
    at.run()
    assert not at.exception
    after = next(m.value for m in at.markdown if "overall survival" in m.value)
    assert after != before
    profile = {**default_profile(demo_cohort), "lineage": "T-ALL", "atg": "no"}
    assert escape_markdown(_os_text(demo_cohort, profile)) in after
    assert at.query_params[f"{PAGE}.profile.lineage"] in ("T-ALL", ["T-ALL"])


def test_the_profile_comes_from_the_link(open_app, demo_cohort):
    at = open_app(PAGE, query={f"{PAGE}.profile.age_years": "4", f"{PAGE}.profile.sex": "female"})
    assert not at.exception
    assert at.number_input(key=f"{PAGE}.profile.age_years").value == 4.0
    assert at.selectbox(key=f"{PAGE}.profile.sex").value == "female"
    profile = {**default_profile(demo_cohort), "age_years": 4.0, "sex": "female"}
    assert escape_markdown(_os_text(demo_cohort, profile)) in _texts(at)


def test_an_out_of_support_profile_is_flagged(open_app):
    at = open_app(PAGE, query={f"{PAGE}.profile.age_years": "28", f"{PAGE}.profile.lineage": "T-ALL",
                               f"{PAGE}.profile.donor": "haplo", f"{PAGE}.match": "age_years,lineage,donor"})
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "lies outside the values of the patients the model was fitted on" in warnings
    assert "fewer than 5" in warnings
    assert "per coefficient, fewer than 10" in warnings


def test_a_link_value_outside_the_range_falls_back(open_app, demo_cohort):
    at = open_app(PAGE, query={f"{PAGE}.profile.age_years": "99"})
    assert not at.exception
    assert at.number_input(key=f"{PAGE}.profile.age_years").value == default_profile(demo_cohort)["age_years"]
    assert any("outside 0–30" in w.value for w in at.warning)


def test_matching_factors_and_window_change_the_matching_curve(at):
    def matching_n(at) -> int:
        name = next(t["name"] for t in _figures(at)[0]["data"] if str(t.get("name")).startswith("Matching"))
        return int(name.split("n = ")[1].rstrip(")"))

    at.multiselect(key=f"{PAGE}.match").set_value(["lineage"])
    at.run()
    only_lineage = matching_n(at)
    at.multiselect(key=f"{PAGE}.match").set_value(["lineage", "age_years"])
    at.run()
    narrow = matching_n(at)
    at.number_input(key=f"{PAGE}.window.age_years").set_value(20.0)
    at.run()
    assert not at.exception
    assert narrow < only_lineage == matching_n(at)


def test_a_filter_refits_the_models(at):
    before = next(m.value for m in at.markdown if "overall survival" in m.value)
    at.multiselect(key="flt_sex").set_value(["male"])
    at.run()
    assert not at.exception
    assert next(m.value for m in at.markdown if "overall survival" in m.value) != before
    assert any(t.get("name") == "All filtered patients (Kaplan-Meier, n = 44)" for t in _figures(at)[0]["data"])


def test_empty_cohort_says_so(open_app, demo_cohort):
    at = open_app(PAGE, query=empty_cohort_query(demo_cohort))
    assert not at.exception
    assert any("No patients match the current filters" in w.value for w in at.warning)
    assert not _figures(at)


def test_data_without_vital_status_after_relapse_predict_rfs_only(open_app, demo_cohort):
    cause_coded = demo_cohort.assign(death=np.where(demo_cohort["relapse"] == 1, np.nan, demo_cohort["death"]))
    at = open_app(PAGE, session={"_active_data": ActiveData(cause_coded, DataSource("cause coded", False))})
    assert not at.exception
    assert list(at.dataframe[0].value["Endpoint"].unique()) == ["RFS"]
    assert not any("overall survival" in m.value for m in at.markdown)


@pytest.mark.parametrize("file_name", ["bmt.sav", "cgvhd.xlsx"])
def test_both_pages_run_on_public_transplant_data(open_app, file_name):
    """scikit-survival's public transplant data (cause-coded bmt without OS after relapse; cgvhd), mapped in the UI."""
    at = _upload(open_app("data"), file_name, (TRANSPLANT / file_name).read_bytes())
    mapping = TRANSPLANT / f"{file_name.split('.')[0]}.mapping.json"
    at.file_uploader(key="data_mapping_file").set_value((mapping.name, mapping.read_bytes(), "application/json")).run()
    at.button(key="data_use").click().run()
    at.switch_page(f"pages/{PAGE}.py")
    at.run()
    assert any("Choose at least one covariate" in i.value for i in at.info)  # no covariate of the paper's model
    first = at.multiselect(key=f"{PAGE}.covariates.os").options[0]
    at.multiselect(key=f"{PAGE}.covariates.os").set_value([first]).run()
    assert not at.exception, at.exception[0].message
    assert set(at.dataframe[0].value["Endpoint"]) == ({"OS", "RFS"} if file_name.startswith("cgvhd") else {"RFS"})
    assert len(at.get("plotly_chart")) == 2
    at.switch_page("pages/model_validation.py")
    at.run()
    endpoint = at.radio(key="model_validation.endpoint").value
    at.multiselect(key=f"model_validation.covariates.{endpoint}").set_value([first]).run()
    at.selectbox(key="model_validation.folds").set_value(3)
    at.number_input(key="model_validation.repeats").set_value(1)
    at.run()
    at.button(key="model_validation.run").click()
    at.run(timeout=180)
    assert not at.exception, at.exception[0].message
    assert at.dataframe[0].value.shape == (6, 7)
