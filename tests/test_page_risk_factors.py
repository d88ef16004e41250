"""The Risk factors page, driven through AppTest from the frame: every control changes the output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.analyses.models import cox_model
from analysis.cohort.model import age_group
from analysis.stats.cox.design import CovariateSpec, default_cut
from analysis.stats.cox.profile import profile_likelihood
from analysis.text import hazard_ratio_text as format_hr
from tests.apptest_support import shown

PAGE = "risk_factors"


def _figures(at) -> dict[str, dict]:
    out = {}
    for chart in at.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        title = fig["layout"]["title"]["text"]
        out["subgroups" if "within subgroups" in title else "forest"] = fig
    return out


def _annotations(fig: dict) -> list[str]:
    """The figure's texts: its annotations and, for a forest plot, the cells of its table (text traces)."""
    cells = [text for t in fig["data"] if t.get("mode") == "text" for text in t["text"]]
    return [a["text"] for a in fig["layout"].get("annotations", [])] + cells


def _show(at, section: str):
    """The page with another section (tab) open: only the open tab is computed and sent."""
    at.session_state["risk_factors.section"] = section
    return at.run()


def _texts(at) -> str:
    return " ".join(shown(e.value) for kind in (at.info, at.warning, at.caption, at.markdown) for e in kind)


def _table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _demo_with_age_group(demo_cohort):
    return demo_cohort.assign(age_group=age_group(demo_cohort["age_years"], 10))


def _paper_os_model(cohort):
    specs = [CovariateSpec("age_group", True, "< 10 y"), CovariateSpec("lineage", True, "B-ALL"),
             CovariateSpec("sex", True, "female"), CovariateSpec("atg", True, "no")]
    return cox_model(cohort, "os", specs)


@pytest.fixture
def at(open_app):
    return open_app(PAGE)


def test_page_renders_the_papers_os_model(at, demo_cohort):
    assert not at.exception
    figs = _figures(at)
    assert set(figs) == {"forest"}  # the open tab's figure only
    assert [t.label for t in at.tabs] == ["Multivariable model", "Model checks", "Subgroups"]
    model = _paper_os_model(_demo_with_age_group(demo_cohort))
    # 35 events for 4 coefficients (8.75 each): profile-likelihood intervals by default
    profile = profile_likelihood(model).table.set_index("term").loc["lineage=T-ALL"]
    wald = model.summary.set_index("term").loc["lineage=T-ALL"]
    assert format_hr(profile["hr"], profile["hr_lower"], profile["hr_upper"]) in _annotations(figs["forest"])
    assert format_hr(wald["hr"], wald["lower"], wald["upper"]) not in _annotations(figs["forest"])
    assert "95 % CI: profile likelihood" in figs["forest"]["layout"]["title"]["text"]
    # the unfiltered demo cohort shows the published hazard ratios
    assert any(t.get("name") == "Published (Momm et al.)" for t in figs["forest"]["data"])
    _show(at, "Model checks")
    assert not at.exception and not _figures(at)
    stats = _table(at, "Statistic").set_index("Statistic")
    assert stats.loc["Patients / events", "Value"] == f"{model.n} / {model.events}"
    assert stats.loc["Concordance (C)", "Value"] == f"{model.concordance:.3f}"
    ph = _table(at, "Verdict")
    assert list(ph["Covariate"]) == ["Age group", "Lineage", "Sex", "ATG", "Global"]


def test_endpoint_changes_model_and_default_covariates(at):
    before = _annotations(_figures(at)["forest"])
    at.radio(key="risk_factors.endpoint").set_value("rfs").run()
    assert not at.exception
    assert at.multiselect(key="risk_factors.covariates.rfs").value == ["age_group", "lineage"]
    after = _figures(at)["forest"]
    assert "Relapse-free survival" in after["layout"]["title"]["text"]
    assert _annotations(after) != before
    for ep in ("relapse", "nrm"):
        at.radio(key="risk_factors.endpoint").set_value(ep).run()
        assert not at.exception
        forest = _figures(at)["forest"]
        assert "cause-specific" in forest["layout"]["title"]["text"]
        # the paper models OS and RFS only: no published markers here
        assert not any(t.get("name") == "Published (Momm et al.)" for t in forest["data"])


def test_covariates_control(at):
    at.multiselect(key="risk_factors.covariates.os").set_value(["lineage", "donor"]).run()
    assert not at.exception
    texts = _annotations(_figures(at)["forest"])
    assert "<b>Donor</b>" in texts and "<b>Sex</b>" not in texts
    at.multiselect(key="risk_factors.covariates.os").set_value([]).run()
    assert "Choose at least one covariate." in _texts(at)
    assert not _figures(at)


def test_reference_level_control(at):
    at.selectbox(key="risk_factors.ref.lineage").set_value("T-ALL").run()
    assert not at.exception
    texts = _annotations(_figures(at)["forest"])
    # B-ALL is now the estimated level: its HR is below 1
    assert any(t.startswith("0.") and "(" in t for t in texts)
    lineage_rows = [t for t in texts if t.strip() in ("B-ALL", "T-ALL")]
    assert [t.strip() for t in lineage_rows] == ["T-ALL", "B-ALL"]


def test_numeric_covariate_per_unit_and_cut(at, demo_cohort):
    at.multiselect(key="risk_factors.covariates.os").set_value(["age_years", "lineage"]).run()
    assert "Age at HSCT2 (years), per 1 year" in _annotations(_figures(at)["forest"])
    at.radio(key="risk_factors.numeric.age_years").set_value("cut").run()
    at.number_input(key="risk_factors.cut.age_years").set_value(12.0).run()
    assert not at.exception
    texts = _annotations(_figures(at)["forest"])
    assert "    ≥12" in texts and "    <12" in texts
    n_above = int((demo_cohort["age_years"] >= 12).sum())
    assert str(n_above) in texts


def test_univariable_beside_multivariable(at):
    at.checkbox(key="risk_factors.univariable").set_value(True).run()
    assert not at.exception
    forest = _figures(at)["forest"]
    assert [t["name"] for t in forest["data"] if t.get("showlegend") and t.get("mode") == "markers"][:2] == [
        "Multivariable", "Univariable"]


def test_firth_control(at):
    at.checkbox(key="risk_factors.firth").set_value(True).run()
    assert not at.exception
    forest = _figures(at)["forest"]
    assert "Firth-penalized" in forest["layout"]["title"]["text"]
    assert "Penalty" in set(_table(_show(at, "Model checks"), "Statistic")["Statistic"])


def test_subgroup_controls(at):
    sub = _figures(_show(at, "Subgroups"))["subgroups"]
    assert "forest" not in _figures(at)
    assert "Hazard ratio of ATG: yes vs no within subgroups" in sub["layout"]["title"]["text"]
    at.selectbox(key="risk_factors.subgroup").set_value("sex").run()
    assert not at.exception
    sub = _figures(at)["subgroups"]
    assert "Sex: male vs female" in sub["layout"]["title"]["text"]
    assert "=" not in sub["layout"]["title"]["text"].split("<br>")[0]  # no code names
    at.multiselect(key="risk_factors.subgroup_by").set_value(["lineage"]).run()
    texts = _annotations(_figures(at)["subgroups"])
    assert any(t.startswith("<b>Lineage  (interaction p =") for t in texts)
    assert not any(t.startswith("<b>ATG") for t in texts)
    at.multiselect(key="risk_factors.subgroup_by").set_value([]).run()
    assert "subgroups" not in _figures(at)


def test_filter_refits_and_hides_published_markers(at, demo_cohort):
    at.multiselect(key="flt_sex").set_value(["male"]).run()
    assert not at.exception
    assert "Sex has a single level (male) in these patients and was left out." in _texts(at)
    forest = _figures(at)["forest"]
    assert not any(t.get("name") == "Published (Momm et al.)" for t in forest["data"])
    males = demo_cohort[demo_cohort["sex"] == "male"]
    assert f"n = {len(males)} patients" in forest["layout"]["title"]["text"]


def test_separation_is_explained_not_shown_as_a_result(open_app, demo_cohort):
    """Data in which no T-ALL patient dies: lineage=T-ALL has no OS events (monotone likelihood)."""
    from ui.state import ActiveData, DataSource

    cohort = demo_cohort.copy()
    cohort.loc[cohort["lineage"] == "T-ALL", "death"] = 0
    active = ActiveData(cohort, DataSource("no T-ALL deaths", is_demo=False))
    at = open_app(PAGE, session={"_active_data": active})
    at.multiselect(key="risk_factors.covariates.os").set_value(["lineage", "age_years"]).run()
    assert not at.exception
    texts = _texts(at)
    assert "No events among the" in texts and "Lineage = T-ALL" in texts
    assert "Tick **Firth-penalized fit**" in texts
    forest = _figures(at)["forest"]
    assert any("not estimable" in t for t in _annotations(forest))
    plotted = [x for t in forest["data"] if t.get("mode") == "markers" for x in _numbers(t["x"])]
    assert max(plotted) < 100  # the diverging estimate is never drawn
    at.checkbox(key="risk_factors.firth").set_value(True).run()
    assert not at.exception
    assert not any("not estimable" in t for t in _annotations(_figures(at)["forest"]))


def _numbers(data) -> list[float]:
    import base64

    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"])).astype(float).tolist()
    return [float(v) for v in data]


def test_empty_cohort_says_so(open_app, demo_cohort):
    ages = set(demo_cohort["age_years"].round(1))
    slot = next(k / 2 for k in range(2, 60) if k / 2 not in ages)
    at = open_app(PAGE, query={"age": f"{slot:g}-{slot:g}"})
    assert not at.exception
    assert any("No patients match the current filters" in w.value for w in at.warning)
    assert not _figures(at)


def test_unfittable_model_gives_a_message(open_app, demo_cohort):
    at = open_app(PAGE)
    one = demo_cohort.sort_values("followup_months")["patient_id"].iloc[0]
    lineage = demo_cohort.loc[demo_cohort["patient_id"] == one, "lineage"].iloc[0]
    at.multiselect(key="flt_lineage").set_value([lineage]).run()
    at.multiselect(key="risk_factors.covariates.os").set_value(["lineage"]).run()
    assert not at.exception
    assert "cannot be fitted" in _texts(at)


def test_default_cut_is_the_filtered_cohorts(at, demo_cohort):
    at.multiselect(key="flt_lineage").set_value(["T-ALL"]).run()
    at.multiselect(key="risk_factors.covariates.os").set_value(["age_years", "sex"]).run()
    at.radio(key="risk_factors.numeric.age_years").set_value("cut").run()
    assert not at.exception
    t_all = demo_cohort.loc[demo_cohort["lineage"] == "T-ALL", "age_years"]
    assert at.number_input(key="risk_factors.cut.age_years").value == default_cut(t_all)
    assert default_cut(t_all) != default_cut(demo_cohort["age_years"])  # else the test could not fail


def test_covariates_without_any_value_are_left_out_with_a_message(open_app, demo_cohort):
    """An upload whose standard ATG column and a numeric column are empty: the rest of the model is fitted."""
    from ui.state import ActiveData, DataSource

    empty = demo_cohort.assign(atg=np.nan, months_hsct1_to_relapse=np.nan)
    at = open_app(PAGE, session={"_active_data": ActiveData(empty, DataSource("empty columns", is_demo=False))})
    assert not at.exception
    assert "ATG" in _texts(at) and "no recorded value" in _texts(at)
    at.multiselect(key="risk_factors.covariates.os").set_value(
        ["months_hsct1_to_relapse", "lineage", "atg"]).run()
    assert not at.exception
    assert "no recorded value" in _texts(at)
    forest = _figures(at)["forest"]
    assert f"n = {len(demo_cohort)} patients" in forest["layout"]["title"]["text"]


def test_wald_intervals_can_be_chosen(at, demo_cohort):
    at.radio(key="risk_factors.ci").set_value("wald").run()
    assert not at.exception
    wald = _paper_os_model(_demo_with_age_group(demo_cohort)).summary.set_index("term").loc["lineage=T-ALL"]
    assert format_hr(wald["hr"], wald["lower"], wald["upper"]) in _annotations(_figures(at)["forest"])
    stats = _table(_show(at, "Model checks"), "Statistic").set_index("Statistic")
    assert stats.loc["Confidence intervals, p", "Value"] == "Wald (β ± 1.96·se), Wald p"
    assert at.query_params["risk_factors.ci"] in ("wald", ["wald"])


def test_a_small_subgroup_names_why_its_estimates_are_unstable(open_app):
    """T-ALL only with five covariates (17 patients, 13 events): ATG and donor are confounded there."""
    at = open_app(PAGE, query={"lineage": "T-ALL",
                               "risk_factors.covariates.os": "age_group,sex,atg,donor,remission"})
    assert not at.exception
    text = _texts(at)
    assert "ATG = yes occurs only with Donor = MMUD or MUD (never with MSD or haplo)" in text
    assert ("Hazard ratios this far from 1 cannot rest on 13 events (ATG = yes: HR 0.002 (<0.001–0.12); "
            "Donor = MMUD") in text
    forest = _figures(at)["forest"]
    stats = _table(_show(at, "Model checks"), "Statistic").set_index("Statistic")
    assert stats.loc["Confidence intervals, p", "Value"] == "profile likelihood, likelihood-ratio p"
    arrows = [t for t in forest["data"] if t.get("marker", {}).get("symbol", "").startswith("triangle")]
    assert arrows  # the ATG and MMUD intervals run off the axis: their ends are arrows
    assert "0.002 (<0.001–0.12)" in _annotations(forest)  # ATG yes: the profile upper limit, 0.12


def test_no_nan_reaches_the_page_when_all_events_happen_at_once(open_app, demo_cohort):
    from ui.state import ActiveData, DataSource

    at_once = demo_cohort.head(12).assign(followup_months=0.0, death=1, relapse=0, relapse_months=np.nan)
    at = open_app(PAGE, session={"_active_data": ActiveData(at_once, DataSource("at once", False, 0))})
    assert not at.exception
    assert "carry no information on hazard ratios" in _texts(at)
    values = " ".join(str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
    assert "nan" not in values.lower()


def test_a_link_to_a_tab_that_does_not_exist_opens_the_first_with_a_notice(open_app):
    at = open_app(PAGE, query={"risk_factors.section": "Bogus<script>"})
    assert not at.exception
    assert at.session_state["risk_factors.section"] == "Multivariable model"
    assert "forest" in _figures(at) and "subgroups" not in _figures(at)
    assert "The link asks for “Bogus<script>” as the section on this page" in _texts(at)
