"""The frame and the Overview page, driven through AppTest."""

from __future__ import annotations

import pytest

from analysis.cohort.filters import CohortFilter, apply_filter
from tests.apptest_support import shown


def _count(at) -> str:
    return at.sidebar.metric[0].value


def _link(at) -> dict[str, list[str]]:
    """The app's query parameters, each as a list of values."""
    return {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()}


def _impossible_age_range(cohort) -> str:
    """A half-year slot of the age slider that no patient's age falls in."""
    ages = set(cohort["age_years"].round(1))
    slot = next(k / 2 for k in range(2, 60) if k / 2 not in ages)
    return f"{slot:g}-{slot:g}"


def test_overview_renders_on_the_demo_cohort(open_app):
    at = open_app()
    assert not at.exception
    assert _count(at) == "75 of 75"
    assert "synthetic" in at.info[0].value
    headline = at.dataframe[0].value
    assert list(headline["Endpoint"]) == ["Overall survival", "Overall survival, published",
                                          "Relapse-free survival", "Relapse-free survival, published"]
    assert headline.loc[1, "1 year"] == "57.7 %"


def test_filter_changes_count_tables_and_link(open_app, demo_cohort):
    at = open_app()
    at.multiselect(key="flt_lineage").set_value(["T-ALL"]).run()
    n = int((demo_cohort["lineage"] == "T-ALL").sum())
    assert _count(at) == f"{n} of 75"
    assert _link(at)["lineage"] == ["T-ALL"]
    headline = at.dataframe[0].value
    assert list(headline["Endpoint"]) == ["Overall survival", "Relapse-free survival"]  # no published row
    assert headline.loc[0, "n"] == n


def test_split_table_one(open_app):
    at = open_app()
    at.selectbox(key="overview.split").set_value("lineage").run()
    columns = list(at.dataframe[1].value.columns)
    assert columns[2].startswith("B-ALL") and columns[3].startswith("T-ALL")
    assert _link(at)["overview.split"] == ["lineage"]


def test_link_reopens_the_same_view(open_app, demo_cohort):
    query = {"lineage": "B-ALL", "age": "10-19", "cut": "12", "overview.split": "sex"}
    at = open_app(query=query)
    expected = apply_filter(demo_cohort, CohortFilter(age_range=(10, 19)).with_levels("lineage", ["B-ALL"]))
    assert _count(at) == f"{len(expected)} of 75"
    assert at.multiselect(key="flt_lineage").value == ["B-ALL"]
    assert at.slider(key="flt_age").value == (10.0, 19.0)
    assert at.number_input(key="flt_cut").value == 12.0
    assert at.selectbox(key="overview.split").value == "sex"
    assert {k: _link(at)[k] for k in query} == {k: [v] for k, v in query.items()}


def test_bad_link_gives_notices_and_still_opens(open_app):
    at = open_app(query={"lineage": "Z-ALL", "age": "x", "overview.split": "nope"})
    notices = " ".join(shown(w.value) for w in at.warning)
    assert "The link asks for Lineage “Z-ALL”, which these data do not have; it was left out." in notices
    assert "The link's age range “x” is not two ages like 10-18; all ages are shown." in notices
    assert ("The link asks for “nope” as the split of Table 1 on this page, which is not one of the choices; the "
            "default (none) is shown.") in notices
    assert _count(at) == "75 of 75"
    assert not at.exception


@pytest.mark.parametrize("page", ["overview", "survival", "relapse", "risk_factors"])
def test_empty_cohort_message_on_every_analysis_page(open_app, page, demo_cohort):
    at = open_app(page, query={"age": _impossible_age_range(demo_cohort)})
    assert _count(at) == "0 of 75"
    assert not at.exception
    assert any("No patients match the current filters" in w.value for w in at.warning)


def test_reset_filters(open_app):
    at = open_app(query={"lineage": "T-ALL"})
    at.button(key="flt_reset").click().run()
    assert _count(at) == "75 of 75"
    assert "lineage" not in at.query_params


def test_save_and_remove_cohorts_travel_in_the_link(open_app):
    at = open_app(query={"lineage": "T-ALL"})
    at.text_input(key="saved_name").input("T cells")
    at.button(key="saved_add").click().run()
    assert _link(at)["cmp"] == ["T cells:lineage=T-ALL"]
    at.multiselect(key="flt_lineage").set_value(["B-ALL"]).run()
    at.button(key="saved_add").click().run()  # unnamed: described by its filters
    assert _link(at)["cmp"] == ["T cells:lineage=T-ALL", "lineage  B-ALL:lineage=B-ALL"]
    at.button(key="saved_del_0").click().run()
    assert _link(at)["cmp"] == ["lineage  B-ALL:lineage=B-ALL"]


@pytest.mark.parametrize("page", ["survival", "relapse", "risk_factors"])
def test_every_figure_exports_a_slide_ready_png(open_app, page):
    import json

    at = open_app(page)
    charts = at.get("plotly_chart")
    assert charts
    for chart in charts:
        options = json.loads(chart.proto.config)["toImageButtonOptions"]
        assert options["format"] == "png" and options["scale"] >= 3
        assert options["filename"].startswith("hsct2-")
