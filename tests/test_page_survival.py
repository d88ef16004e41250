"""The Survival page through AppTest: every control changes what is shown."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from analysis.cohort.model import endpoint
from analysis.stats.kaplan_meier import fit_kaplan_meier
from analysis.stats.logrank import logrank_test
from tests.apptest_support import shown

TWO_SAVED = ["T-ALL:lineage=T-ALL", "B-ALL:lineage=B-ALL"]


def _decode(value):
    """Plotly 6 writes numpy arrays as {"dtype", "bdata"(base64), "shape"}: back to lists."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            if "shape" in value:
                array = array.reshape([int(x) for x in str(value["shape"]).split(",")])
            return array.tolist()
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def spec(at) -> dict:
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return _decode(json.loads(charts[0].proto.spec))


def curve_names(at) -> list[str]:
    return [d["name"] for d in spec(at)["data"] if d.get("name") and d.get("mode") == "lines"]


def risk_rows(at) -> list[dict]:
    return [d for d in spec(at)["data"] if d.get("mode") == "text" and d.get("yaxis") == "y2"]


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def table(at, first_column: str, contains: str):
    """The dataframe whose columns include ``contains``."""
    for df in at.dataframe:
        value = df.value
        if first_column in value.columns and contains in value.columns:
            return value
    raise AssertionError(f"no table with {contains!r}")


@pytest.fixture
def page(open_app):
    at = open_app("survival")
    assert not at.exception
    return at


def test_renders_on_the_demo_cohort_with_published_markers(page, demo_cohort):
    s = spec(page)
    assert "Overall survival" in s["layout"]["title"]["text"]
    assert curve_names(page) == [f"All patients (n = {len(demo_cohort)}, {int(demo_cohort['death'].sum())} events)"]
    published = next(d for d in s["data"] if d.get("name", "").startswith("Published"))
    assert published["y"] == [0.577, 0.48, 0.4]
    ep = endpoint(demo_cohort, "os")
    km = fit_kaplan_meier(ep.time, ep.event)
    medians = table(page, "Group", "Median (95 % CI)")
    assert medians.loc[0, "Median (95 % CI)"].startswith(f"{km.median.time:.1f}")
    assert medians.loc[0, "Median follow-up"] == f"{km.followup_median:.1f}"
    landmarks = table(page, "Group", "Survival (95 % CI)")
    assert landmarks["Month"].tolist() == ["12", "24", "60"]
    assert landmarks.loc[0, "At risk"] == km.survival_at([12])["n_at_risk"].iloc[0]
    assert "Log-rank" not in markdown(page)


def test_endpoint_switches_to_rfs(page, demo_cohort):
    page.radio(key="survival.endpoint").set_value("rfs").run()
    assert "Relapse-free survival" in spec(page)["layout"]["title"]["text"]
    ep = endpoint(demo_cohort, "rfs")
    assert curve_names(page)[0].endswith(f"{int(ep.event.sum())} events)")
    assert page.query_params["survival.endpoint"] in ("rfs", ["rfs"])


def test_compare_by_lineage_draws_two_curves_and_the_log_rank_test(page, demo_cohort):
    page.selectbox(key="survival.compare").set_value("lineage").run()
    assert [n.split(" (")[0] for n in curve_names(page)] == ["B-ALL", "T-ALL"]
    assert len(risk_rows(page)) == 2
    ep = endpoint(demo_cohort, "os")
    test = logrank_test(ep.time, ep.event, demo_cohort["lineage"])
    assert f"χ² = {test.statistic:.2f}, df = 1" in markdown(page)
    assert f"{test.statistic:.2f}" in spec(page)["layout"]["title"]["subtitle"]["text"]
    assert "Pairwise" not in markdown(page)


def test_four_groups_give_pairwise_holm_and_optional_trend(page):
    page.selectbox(key="survival.compare").set_value("donor").run()
    assert len(curve_names(page)) == 4
    pairs = table(page, "Group 1", "p (Holm)")
    assert len(pairs) == 6
    assert "trend" not in markdown(page)
    page.checkbox(key="survival.trend").check().run()
    assert "Test for trend" in markdown(page)
    assert "trend" in spec(page)["layout"]["title"]["subtitle"]["text"]


def test_test_weights_change_the_test(page, demo_cohort):
    page.selectbox(key="survival.compare").set_value("lineage").run()
    page.selectbox(key="survival.test").set_value("fh10").run()
    ep = endpoint(demo_cohort, "os")
    test = logrank_test(ep.time, ep.event, demo_cohort["lineage"], rho=1)
    assert f"**{test.method} test**: χ² = {test.statistic:.2f}" in markdown(page)
    page.selectbox(key="survival.test").set_value("fh01").run()
    assert "Fleming-Harrington G(0, 1)" in markdown(page)


def test_saved_cohorts_are_overlaid_with_their_names(open_app):
    at = open_app("survival", query={"cmp": TWO_SAVED})
    at.selectbox(key="survival.compare").set_value("saved cohorts").run()
    assert not at.exception
    assert [n.split(" (")[0] for n in curve_names(at)] == ["T-ALL", "B-ALL"]
    assert [r["y"][0].split("<b>")[1].split("</b>")[0] for r in risk_rows(at)] == ["T-ALL", "B-ALL"]
    assert "Log-rank test" in markdown(at)
    # published values describe all patients, not saved cohorts
    assert not [d for d in spec(at)["data"] if d.get("name", "").startswith("Published")]


def test_overlapping_saved_cohorts_skip_the_test(open_app):
    at = open_app("survival", query={"cmp": ["Everyone:", "T-ALL:lineage=T-ALL"]})
    at.selectbox(key="survival.compare").set_value("saved cohorts").run()
    assert not at.exception
    assert len(curve_names(at)) == 2
    assert any("share patients" in w.value for w in at.warning)
    assert "Log-rank test" not in markdown(at)


def test_time_unit_years(page):
    months = spec(page)["layout"]["xaxis"]
    page.radio(key="survival.unit").set_value("years").run()
    years = spec(page)["layout"]["xaxis"]
    assert "(years)" in years["title"]["text"] and "(months)" in months["title"]["text"]
    assert max(years["tickvals"]) < max(months["tickvals"])


def test_confidence_scale_changes_the_intervals(page):
    loglog = table(page, "Group", "Survival (95 % CI)")["Survival (95 % CI)"].tolist()
    page.selectbox(key="survival.ci").set_value("plain").run()
    plain = table(page, "Group", "Survival (95 % CI)")["Survival (95 % CI)"].tolist()
    assert [x.split(" (")[0] for x in plain] == [x.split(" (")[0] for x in loglog]
    assert plain != loglog


def test_bands_can_be_hidden(page):
    assert [d for d in spec(page)["data"] if d.get("fill") == "tonexty"]
    page.checkbox(key="survival.band").uncheck().run()
    assert not [d for d in spec(page)["data"] if d.get("fill") == "tonexty"]


def test_cumulative_events_in_the_risk_table(page):
    assert "(" not in risk_rows(page)[0]["text"][0]
    page.checkbox(key="survival.events").check().run()
    assert risk_rows(page)[0]["text"][0].endswith("(0)")


def test_fade_threshold(page):
    def faded(at):
        return [d for d in spec(at)["data"] if d.get("mode") == "lines" and d.get("opacity", 1) < 1]

    assert faded(page)
    page.number_input(key="survival.fade").set_value(0).run()
    assert not faded(page)
    assert "Faded" not in spec(page)["layout"]["annotations"][-1]["text"]


def test_landmarks(page):
    page.multiselect(key="survival.times").set_value(["6", "120"]).run()
    landmarks = table(page, "Group", "Survival (95 % CI)")
    assert landmarks["Month"].tolist() == ["6", "120"]
    cell = landmarks.loc[1, "Survival (95 % CI)"]
    assert cell == "beyond follow-up" or "%" in cell


def test_filter_removes_published_markers_and_changes_n(page, demo_cohort):
    page.multiselect(key="flt_lineage").set_value(["T-ALL"]).run()
    n = int((demo_cohort["lineage"] == "T-ALL").sum())
    assert curve_names(page)[0].startswith(f"All patients (n = {n},")
    assert not [d for d in spec(page)["data"] if d.get("name", "").startswith("Published")]


def test_link_opens_the_same_view():
    """A share link opens on this page (open_app's first run on Overview would drop the page's keys)."""
    from streamlit.testing.v1 import AppTest

    from tests.apptest_support import APP, pin_navigation_pages

    pin_navigation_pages()
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in {"survival.endpoint": "rfs", "survival.compare": "lineage", "survival.unit": "years"}.items():
        at.query_params[key] = value
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception
    s = spec(at)
    assert "Relapse-free survival by lineage" in s["layout"]["title"]["text"]
    assert "(years)" in s["layout"]["xaxis"]["title"]["text"]


def test_empty_cohort_says_so(open_app, demo_cohort):
    ages = set(np.round(demo_cohort["age_years"], 1))
    slot = next(k / 2 for k in range(2, 60) if k / 2 not in ages)
    at = open_app("survival", query={"age": f"{slot:g}-{slot:g}"})
    assert not at.exception
    assert any("No patients match" in w.value for w in at.warning)
    assert not at.get("plotly_chart")


def _uploaded(deaths_b: list[int], deaths_t: list[int]) -> dict:
    """A session whose active data are a small upload; B-ALL and T-ALL patients alternate in time."""
    import pandas as pd

    from analysis.cohort.model import as_cohort
    from ui.state import ActiveData, DataSource

    n = len(deaths_b) + len(deaths_t)
    cohort = as_cohort(pd.DataFrame({
        "patient_id": [f"p{i}" for i in range(n)],
        "followup_months": np.linspace(3, 40, n),
        "death": [d for pair in zip(deaths_b, deaths_t, strict=True) for d in pair],
        "relapse": [0] * n, "relapse_months": [np.nan] * n,
        "lineage": ["B-ALL", "T-ALL"] * (n // 2),
    }))
    return {"_active_data": ActiveData(cohort, DataSource("test upload", False, 0))}


def test_group_without_events_has_a_flat_curve_and_no_median(open_app):
    at = open_app("survival", session=_uploaded([0, 0, 0, 0], [1, 0, 1, 1]))
    at.selectbox(key="survival.compare").set_value("lineage").run()
    assert not at.exception
    medians = table(at, "Group", "Median (95 % CI)").set_index("Group")
    assert medians.loc["B-ALL", "Median (95 % CI)"] == "not reached"
    assert "Log-rank test" in markdown(at)


def test_no_events_at_all_explains_why_there_is_no_test(open_app):
    at = open_app("survival", session=_uploaded([0, 0, 0], [0, 0, 0]))
    at.selectbox(key="survival.compare").set_value("lineage").run()
    assert not at.exception
    assert any("cannot be compared: no events" in shown(w.value) for w in at.warning)
    assert len(curve_names(at)) == 2


def test_deaths_all_at_one_time_explain_why_there_is_no_test(open_app, demo_cohort):
    from ui.state import ActiveData, DataSource

    same_time = demo_cohort.iloc[:6].assign(followup_months=5.0, death=1, relapse=0, relapse_months=np.nan)
    at = open_app("survival", session={"_active_data": ActiveData(same_time, DataSource("test upload", False, 0))})
    at.selectbox(key="survival.compare").set_value("lineage").run()
    assert not at.exception
    assert any("cannot be compared: the test has no information" in shown(w.value) for w in at.warning)


def test_compare_by_age_group_follows_the_shared_cut(page):
    page.selectbox(key="survival.compare").set_value("age_group").run()
    assert [n.split(" (")[0] for n in curve_names(page)] == ["< 10 y", "≥ 10 y"]
    page.number_input(key="flt_cut").set_value(12.0).run()
    assert [n.split(" (")[0] for n in curve_names(page)] == ["< 12 y", "≥ 12 y"]


def test_no_landmark_chosen_falls_back_to_12_24_60_and_says_so(open_app):
    at = open_app("survival")
    at.multiselect(key="survival.times").set_value([]).run()
    assert not at.exception
    assert any("No landmark chosen" in c.value for c in at.caption)
    landmarks = next(d.value for d in at.dataframe if "Month" in d.value.columns)
    assert sorted(set(landmarks["Month"])) == ["12", "24", "60"]
