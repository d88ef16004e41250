"""analysis.figures.forest: rows, text columns and markers of the forest plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.models import covariate_spec, cox_model
from analysis.analyses.risk_factors import subgroup_effects, univariable_models
from analysis.cohort.model import age_group, load_demo_cohort
from analysis.cohort.published import load_targets, published_hazard_ratios
from analysis.figures.forest import forest_cells, forest_figure, forest_table, published_rows, subgroup_forest_table
from analysis.text import hazard_ratio_text as format_hr
from analysis.text import p_compact as format_p


@pytest.fixture
def demo():
    cohort = load_demo_cohort()
    return cohort.assign(age_group=age_group(cohort["age_years"], 10))


@pytest.fixture
def paper_model(demo):
    specs = [covariate_spec(demo, c, standard_reference=True) for c in ("age_group", "lineage", "sex", "atg")]
    return demo, specs, cox_model(demo, "os", specs)


def _published_os():
    return published_hazard_ratios(load_targets(), "os")


def _annotation_texts(fig) -> list[str]:
    return forest_cells(fig)


def test_forest_table_has_header_reference_and_level_rows(paper_model):
    demo, _, model = paper_model
    table = forest_table({"Multivariable": model})
    lineage = table[table["covariate"] == "lineage"]
    assert list(lineage["kind"]) == ["header", "reference", "level"]
    assert list(lineage["label"]) == ["Lineage", "B-ALL", "T-ALL"]
    ref = lineage.iloc[1]
    assert ref["hr"] == 1 and ref["n"] == (demo["lineage"] == "B-ALL").sum()
    tall = lineage.iloc[2]
    assert tall["events"] == demo.loc[demo["lineage"] == "T-ALL", "death"].sum()
    assert tall["hr"] == pytest.approx(model.summary.set_index("term").loc["lineage=T-ALL", "hr"])
    assert table["row"].is_monotonic_increasing


def test_numeric_covariate_is_one_row_with_its_unit(demo):
    model = cox_model(demo, "os", [covariate_spec(demo, "age_years")])
    table = forest_table({"m": model})
    assert list(table["kind"]) == ["numeric"]
    assert table["label"].iloc[0] == "Age at HSCT2 (years), per 1 year"


def test_figure_columns_and_log_axis(paper_model):
    _, _, model = paper_model
    table = forest_table({"Multivariable": model})
    fig = forest_figure(table, title="OS")
    texts = _annotation_texts(fig)
    for header in ("<b>Factor</b>", "<b>n</b>", "<b>Events</b>", "<b>HR (95% CI)</b>", "<b>p</b>"):
        assert header in texts
    tall = table[table["level"] == "T-ALL"].iloc[0]
    assert format_hr(tall["hr"], tall["lower"], tall["upper"]) in texts
    assert texts.count("1 (reference)") == 4
    assert fig.layout.xaxis.type == "log"
    assert any(s.type == "line" and s.x0 == 1 for s in fig.layout.shapes)
    # the table is text traces on the paper-wide axis x2, one x position per column
    columns = [t for t in fig.data if t.mode == "text"]
    assert {t.xaxis for t in columns} == {"x2"} and fig.layout.xaxis2.range == (0, 1)
    assert len({t.x[0] for t in columns}) == 5 and all(len(set(t.x)) == 1 for t in columns)


def test_two_models_side_by_side(paper_model):
    demo, specs, model = paper_model
    uni, _ = univariable_models(demo, "os", specs)
    table = forest_table({"Multivariable": model, "Univariable": uni})
    assert set(table["model"].dropna()) == {"Multivariable", "Univariable"}
    fig = forest_figure(table, title="OS")
    names = [t.name for t in fig.data if t.showlegend]
    assert names == ["Multivariable", "Univariable"]
    uni_tall = uni["lineage"].summary.iloc[0]
    assert format_hr(uni_tall["hr"], uni_tall["lower"], uni_tall["upper"]) in _annotation_texts(fig)


def test_published_markers_on_matching_rows(paper_model):
    _, _, model = paper_model
    table = forest_table({"Multivariable": model})
    pub = published_rows(table, _published_os())
    assert len(pub) == 4
    tall_row = table.loc[table["level"] == "T-ALL", "row"].iloc[0]
    assert pub.set_index("row").loc[tall_row, "hr"] == pytest.approx(6.62)
    fig = forest_figure(table, title="OS", published=pub)
    diamonds = [t for t in fig.data if t.name == "Published (Momm et al.)"]
    assert len(diamonds) == 1 and list(diamonds[0].x) == list(pub["hr"])


def test_non_estimable_hazard_ratio_has_no_marker(demo):
    cohort = demo.copy()
    cohort.loc[cohort["lineage"] == "T-ALL", "death"] = 0
    model = cox_model(cohort, "os", [covariate_spec(cohort, "lineage"), covariate_spec(cohort, "age_years")])
    table = forest_table({"m": model})
    tall = table[table["level"] == "T-ALL"].iloc[0]
    assert not tall["estimable"]
    fig = forest_figure(table, title="x")
    plotted = np.concatenate([np.asarray(t.x, dtype=float) for t in fig.data if t.mode == "markers"])
    assert not np.any(plotted > 1e3)
    assert any("not estimable" in t for t in _annotation_texts(fig))
    assert fig.layout.xaxis.range[1] <= 2  # the axis is not stretched to the diverging estimate


def test_subgroup_forest_table_carries_interaction_p(demo):
    specs = [covariate_spec(demo, c, standard_reference=True) for c in ("atg", "sex", "lineage")]
    effects = subgroup_effects(demo, "os", specs[0], specs[1:])
    table = subgroup_forest_table(effects)
    headers = table[table["kind"] == "header"]["label"].tolist()
    p_sex = effects.interaction.set_index("by").loc["sex", "p"]
    assert headers[0] == f"Sex  (interaction p = {format_p(p_sex)})"
    assert (table["kind"] != "header").sum() == len(effects.table)
    forest_figure(table, title="ATG")


def test_format_p_and_hr():
    assert format_p(0.0004) == "<0.001" and format_p(0.0123) == "0.012" and format_p(0.5) == "0.50"
    assert format_p(float("nan")) == ""
    assert format_hr(2.5, 1.1, np.inf) == "2.50 (1.10–∞)"


def test_empty_rows_table_draws(paper_model):
    table = pd.DataFrame(columns=forest_table({"m": paper_model[2]}).columns)
    forest_figure(table, title="empty")


def test_figure_dicts_are_valid_plotly(paper_model):
    """The figure is built without validation for speed; validate the same dicts here."""
    import plotly.graph_objects as go

    demo, specs, model = paper_model
    uni, _ = univariable_models(demo, "os", specs)
    table = forest_table({"Multivariable": model, "Univariable": uni})
    fig = forest_figure(table, title="OS", subtitle="n", published=published_rows(table, _published_os()))
    go.Figure(fig.to_dict())  # raises on an invalid property
