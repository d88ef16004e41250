"""The transplant reviewers' views through AppTest: Relapse models, GVHD & DLI, RMST & conditional, and the new
controls on Survival and Risk factors. Every control changes what is shown; each page handles an empty cohort and
data without the fields it needs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.analyses.centres import centre_analysis
from analysis.analyses.competing_regression import competing_regression
from analysis.analyses.models import covariate_spec
from analysis.cohort.model import age_group
from analysis.ingest.loading import read_data_path
from analysis.ingest.mapping import read_mapping_file
from analysis.ingest.validation import check_upload
from analysis.text import hazard_ratio_text
from ui.state import ActiveData, DataSource

TRANSPLANT = Path(__file__).parent / "fixtures" / "transplant"


def _figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _titles(at) -> list[str]:
    return [(f["layout"].get("title") or {}).get("text", "") for f in _figures(at)]


def _texts(at) -> str:
    return " ".join(e.value for kind in (at.info, at.warning, at.error, at.caption, at.markdown) for e in kind)


def _annotations(fig: dict) -> list[str]:
    """The figure's texts: its annotations and, for a forest plot, the cells of its table (text traces)."""
    cells = [text for t in fig["data"] if t.get("mode") == "text" for text in t["text"]]
    return [a["text"] for a in fig["layout"].get("annotations", [])] + cells


def _empty_query(demo_cohort) -> dict:
    ages = set(demo_cohort["age_years"].round(1))
    slot = next(k / 2 for k in range(2, 60) if k / 2 not in ages)
    return {"age": f"{slot:g}-{slot:g}"}


def _session(cohort: pd.DataFrame, name: str = "test upload") -> dict:
    return {"_active_data": ActiveData(cohort, DataSource(name, False, 0))}


def _cgvhd(mapping: str = "cgvhd.gvhd.mapping.json") -> pd.DataFrame:
    raw = read_data_path(TRANSPLANT / "cgvhd.tsv")
    return check_upload(raw.frame, read_mapping_file(TRANSPLANT / mapping)).cohort(exclude_flagged=False)


# ------------------------------------------------------------------ Relapse models


@pytest.fixture
def relapse_models(open_app):
    return open_app("relapse_models")


def test_relapse_models_render_both_models_and_the_prediction(relapse_models, demo_cohort):
    at = relapse_models
    assert not at.exception
    forest, prediction = _figures(at)
    cohort = demo_cohort.assign(age_group=age_group(demo_cohort["age_years"], 10))
    specs = [covariate_spec(cohort, "age_group", reference="< 10 y"), covariate_spec(cohort, "lineage",
                                                                                    reference="B-ALL")]
    result = competing_regression(cohort, "relapse", specs)
    for model in (result.fine_gray, result.cause_specific):
        t = model.summary.set_index("term").loc["lineage=T-ALL"]
        assert hazard_ratio_text(t["hr"], t["lower"], t["upper"]) in _annotations(forest)
    assert {t.get("name") for t in prediction["data"]} >= {"Fine-Gray", "CSC"}
    assert "how many" in _texts(at) and "how fast" in _texts(at)


def test_the_cause_the_covariates_and_the_profile_change_the_view(relapse_models):
    at = relapse_models
    at.radio(key="relapse_models.cause").set_value("nrm").run()
    assert not at.exception and any("Non-relapse mortality" in t for t in _titles(at))
    at.multiselect(key="relapse_models.covariates.nrm").set_value(["lineage", "atg"]).run()
    assert any("ATG" in a for a in _annotations(_figures(at)[0]))
    at.selectbox(key="relapse_models.profile.lineage").set_value("T-ALL").run()
    assert not at.exception and any("Lineage T-ALL" in t for t in _titles(at))
    at.multiselect(key="relapse_models.times").set_value(["6", "18"]).run()
    assert at.dataframe[-1].value["Month"].tolist() == ["6", "18"]


def test_a_numeric_profile_value_and_a_reference_level(relapse_models):
    at = relapse_models
    at.multiselect(key="relapse_models.covariates.relapse").set_value(["age_years", "donor"]).run()
    at.number_input(key="relapse_models.profile.age_years").set_value(15.0).run()
    assert not at.exception
    assert any("enter the models per unit" in i.value for i in at.info)
    at.selectbox(key="relapse_models.ref.donor").set_value("MUD").run()
    assert not at.exception and any("MSD" in a for a in _annotations(_figures(at)[0]))


def test_relapse_models_say_what_cannot_be_fitted(open_app):
    at = open_app("relapse_models", query={"lineage": "T-ALL", "relapse_models.covariates.relapse": "lineage"})
    assert not at.exception
    assert "cannot be fitted" in _texts(at) and not _figures(at)


# ------------------------------------------------------------------ GVHD & DLI


@pytest.fixture
def gvhd(open_app):
    return open_app("gvhd")


def test_gvhd_page_renders_incidence_time_dependent_model_and_landmark(gvhd):
    at = gvhd
    assert not at.exception
    titles = _titles(at)
    assert titles[0].startswith("<b>Cumulative incidence: Acute GVHD grade II–IV")
    assert "time-dependent covariates" in titles[1] and "6-month landmark" in titles[2]
    assert "since onset" in " ".join(_annotations(_figures(at)[1]))
    assert "Immortal-time bias" not in _texts(at)  # the naive model only on request


def test_gvhd_incidence_controls(gvhd):
    at = gvhd
    at.radio(key="gvhd.incidence").set_value("cgvhd").run()
    at.selectbox(key="gvhd.compare").set_value("atg").run()
    assert not at.exception
    fig = _figures(at)[0]
    assert "Chronic GVHD" in fig["layout"]["title"]["text"] and "Gray" in fig["layout"]["title"]["subtitle"]["text"]
    at.multiselect(key="gvhd.times").set_value(["3", "6"]).run()
    table = at.dataframe[0].value
    assert list(table["Group"]) == ["no", "yes"] and {"3 months", "6 months"} <= set(table.columns)


def test_the_naive_model_comes_with_the_immortal_time_warning(gvhd):
    at = gvhd
    at.checkbox(key="gvhd.naive").check().run()
    assert not at.exception
    assert any(e.value.startswith("Immortal-time bias") for e in at.error)
    naive = next(d.value for d in at.dataframe if "HR (95 % CI), biased" in d.value.columns)
    assert naive["Term"].tolist() == ["Ever had acute GVHD (baseline): yes"]


def test_gvhd_model_controls_change_the_model(gvhd):
    at = gvhd
    at.selectbox(key="gvhd.endpoint").set_value("grfs").run()
    at.multiselect(key="gvhd.events").set_value(["cgvhd", "dli"]).run()
    at.multiselect(key="gvhd.covariates").set_value(["lineage"]).run()
    assert not at.exception
    title = _titles(at)[1]
    assert "GVHD-free relapse-free survival" in title
    annotations = " ".join(_annotations(_figures(at)[1]))
    assert "<b>Chronic GVHD</b>" in annotations and "since onset" in annotations and "Lineage" in annotations
    at.selectbox(key="gvhd.landmark").set_value(12.0).run()
    at.selectbox(key="gvhd.landmark_event").set_value("dli").run()
    assert not at.exception and "12-month landmark" in _titles(at)[-1]
    at.multiselect(key="gvhd.events").set_value([]).run()
    assert "Choose at least one event" in _texts(at)


def test_gvhd_page_on_data_without_gvhd(open_app):
    at = open_app("gvhd", session=_session(_cgvhd("cgvhd.mapping.json")))
    assert not at.exception
    assert "no fields for events after HSCT2" in _texts(at) and not _figures(at)


def test_gvhd_page_on_an_upload_with_gvhd(open_app):
    at = open_app("gvhd", session=_session(_cgvhd()))
    assert not at.exception and len(_figures(at)) == 3


# ------------------------------------------------------------------ RMST & conditional


@pytest.fixture
def summaries(open_app):
    return open_app("survival_summaries")


def test_rmst_page_renders_and_reacts(summaries):
    at = summaries
    assert not at.exception
    first = at.dataframe[0].value
    at.select_slider(key="survival_summaries.tau").set_value(12).run()
    assert not at.exception and at.dataframe[0].value["RMST, months (95 % CI)"].iloc[0] != \
        first["RMST, months (95 % CI)"].iloc[0]
    assert "restricted mean to 12 months" in _titles(at)[0]
    at.selectbox(key="survival_summaries.compare").set_value("lineage").run()
    table = at.dataframe[0].value
    assert table["Group"].tolist() == ["B-ALL", "T-ALL"] and table["Difference (95 % CI)"].iloc[0] == "reference"
    at.radio(key="survival_summaries.endpoint").set_value("grfs").run()
    assert not at.exception and "GVHD-free" in _titles(at)[0]


def test_conditional_survival_controls(summaries):
    at = summaries
    at.selectbox(key="survival_summaries.given").set_value(24.0).run()
    assert not at.exception and "at month 24" in _titles(at)[1]
    at.multiselect(key="survival_summaries.times").set_value(["36", "60"]).run()
    assert at.dataframe[-1].value["Month"].tolist() == ["36", "60"]


# ------------------------------------------------------------------ Survival and Risk factors


def test_grfs_is_an_endpoint_only_when_the_data_allow_it(open_app):
    at = open_app("survival")
    assert at.radio(key="survival.endpoint").options == ["OS", "RFS", "GRFS"]
    at.radio(key="survival.endpoint").set_value("grfs").run()
    assert not at.exception and _titles(at)[0].startswith("<b>GVHD-free relapse-free survival")
    at = open_app("survival", session=_session(_cgvhd("cgvhd.mapping.json")))
    assert at.radio(key="survival.endpoint").options == ["OS", "RFS"]


@pytest.mark.parametrize("how", ["cluster", "strata"])
def test_the_centre_option_on_risk_factors(open_app, demo_cohort, how):
    at = open_app("risk_factors")
    assert at.radio(key="risk_factors.centre").value == "none"
    at.radio(key="risk_factors.centre").set_value(how).run()
    assert not at.exception
    cohort = demo_cohort.assign(age_group=age_group(demo_cohort["age_years"], 10))
    specs = [covariate_spec(cohort, c, reference=r) for c, r in
             (("age_group", "< 10 y"), ("lineage", "B-ALL"), ("sex", "female"), ("atg", "no"))]
    result = centre_analysis(cohort, "os", specs)
    fig = _figures(at)[1]
    row = (result.robust.summary if how == "cluster" else result.stratified.summary).set_index("term").loc[
        "lineage=T-ALL"]
    assert hazard_ratio_text(row["hr"], row["lower"], row["upper"]) in _annotations(fig)
    assert "8 centres" in _texts(at)


def test_no_centre_section_without_a_centre(open_app):
    at = open_app("risk_factors", session=_session(_cgvhd("cgvhd.mapping.json")))
    assert not at.exception and "Centres" not in [s.value for s in at.subheader]


def test_rmst_is_offered_where_proportional_hazards_fail(open_app, crossing_hazards):
    cohort = crossing_hazards
    at = open_app("risk_factors", session=_session(cohort),
                  query={"risk_factors.covariates.os": "arm", "risk_factors.section": "Model checks"})
    assert not at.exception
    assert "Hazards not proportional for arm" in _texts(at)
    assert any("RMST, months (95 % CI)" in d.value.columns for d in at.dataframe)


# ------------------------------------------------------------------ Data page


def test_the_mapping_form_maps_the_gvhd_fields_and_lets_the_user_unmap_them(open_app):
    at = open_app("data")
    at.file_uploader(key="data_upload_0").set_value(
        ("cgvhd.tsv", (TRANSPLANT / "cgvhd.tsv").read_bytes(), "application/octet-stream")).run()
    at.selectbox(key="map_unit").set_value("years").run()
    at.selectbox(key="map_field_age_years").set_value("— not in my file —").run()
    assert at.selectbox(key="map_field_agvhd_grade").value == "agvhdgd"
    at.selectbox(key="map_field_cgvhd").set_value("— not in my file —").run()
    at.selectbox(key="map_field_cgvhd_months").set_value("— not in my file —").run()
    at.button(key="data_use").click().run()
    assert not at.exception
    cohort = at.session_state["_active_data"].cohort
    assert int(cohort["agvhd"].sum()) == 73 and "cgvhd" not in cohort
    assert "cgvh" in cohort  # an unmapped column stays a covariate of its own


def test_small_counts_of_an_upload_are_hidden_on_the_gvhd_view(open_app):
    """Disclosure control (on for uploads, threshold 5): 2 of the 8 patients with extensive disease had cGVHD."""
    cohort = _cgvhd()
    at = open_app("gvhd", session=_session(cohort))
    at.radio(key="gvhd.incidence").set_value("cgvhd").run()
    at.selectbox(key="gvhd.compare").set_value("extent").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("Group")
    events = int(cohort.loc[cohort["extent"] == "E", "cgvhd"].sum())
    assert 0 < events < 5 and table.loc["E", "Events"] == "<5" and table.loc["L", "Events"] == "85"


@pytest.mark.parametrize("page", ["relapse_models", "gvhd", "survival_summaries"])
def test_page_with_an_empty_cohort(open_app, demo_cohort, page):
    at = open_app(page, query=_empty_query(demo_cohort))
    assert not at.exception and "No patients match the current filters" in _texts(at)
