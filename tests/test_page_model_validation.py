"""The Model validation page under AppTest: runs on request, shows the same numbers as the library,
keeps them for the session, says when a run was stopped, handles an empty cohort."""

from __future__ import annotations

import json

import pytest

from analysis.analyses.models import covariate_spec
from analysis.analyses.validation import validate_models
from analysis.cohort.model import age_group
from analysis.text import escape_markdown
from tests.apptest_support import empty_cohort_query
from ui.validation_run import _RUNNING

PAGE = "model_validation"
QUICK = {f"{PAGE}.folds": "3", f"{PAGE}.repeats": "2"}


def _run(at):
    at.button(key=f"{PAGE}.run").click()
    at.run(timeout=180)
    assert not at.exception
    return at


@pytest.fixture
def at(open_app):
    return open_app(PAGE, query=QUICK)


def test_nothing_runs_until_asked(at):
    assert not at.exception
    assert at.selectbox(key=f"{PAGE}.folds").value == 3 and at.number_input(key=f"{PAGE}.repeats").value == 2
    assert any("21 model fits on 75 patients." in c.value for c in at.caption)
    assert not at.get("plotly_chart") and not at.dataframe


def test_run_shows_the_librarys_numbers_with_the_seed(at, demo_cohort):
    _run(at)
    assert any("3 folds × 2 repeats, seed 1" in s.value for s in at.success)
    cohort = demo_cohort.assign(age_group=age_group(demo_cohort["age_years"], 10))
    specs = [covariate_spec(cohort, c, reference=r) for c, r in
             (("age_group", "< 10 y"), ("lineage", "B-ALL"), ("sex", "female"), ("atg", "no"))]
    expected = validate_models(cohort, "os", specs, folds=3, repeats=2, seed=1).side_by_side()
    shown = at.dataframe[0].value
    assert list(shown.columns) == list(expected.columns)
    assert shown.drop(columns="Metric").to_numpy() == pytest.approx(expected.drop(columns="Metric").to_numpy())
    assert shown.set_index("Metric").loc["Harrell's C", "No covariates: apparent"] == 0.5
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "Calibration at 2 years" in figure["layout"]["title"]["text"]


def test_results_are_kept_for_the_session_and_a_new_seed_needs_a_new_run(at):
    _run(at)
    at.run()
    assert at.dataframe and any("seed 1" in s.value for s in at.success)  # kept: no button press needed
    at.number_input(key=f"{PAGE}.seed").set_value(2)
    at.run()
    assert not at.dataframe and at.button(key=f"{PAGE}.run")
    at.number_input(key=f"{PAGE}.seed").set_value(1)
    at.run()
    assert at.dataframe  # the seed-1 result is still kept


def test_a_stopped_run_is_reported(open_app):
    at = open_app(PAGE, query=QUICK, session={_RUNNING: {"done": 12, "total": 63}})
    assert not at.exception
    assert any("stopped after 12 of 63 fits" in w.value for w in at.warning)
    at.run()
    assert not any("stopped after" in w.value for w in at.warning)  # reported once


def test_rfs_and_the_link(open_app):
    at = open_app(PAGE, query={**QUICK, f"{PAGE}.endpoint": "rfs"})
    assert at.radio(key=f"{PAGE}.endpoint").value == "rfs"
    assert len(at.radio(key=f"{PAGE}.endpoint").options) == 2  # OS and RFS only
    _run(at)
    assert any("43 events" in s.value for s in at.success)


def test_too_few_patients_is_a_message(open_app):
    at = open_app(PAGE, query={**QUICK, "lineage": "T-ALL", "sex": "female", "atg": "no"})
    assert any("21 model fits on 1 patient." in c.value for c in at.caption)
    _run(at)
    assert any(escape_markdown("cannot be cross-validated: no covariate of the model varies") in w.value
               for w in at.warning)


def test_empty_cohort_says_so(open_app, demo_cohort):
    at = open_app(PAGE, query=empty_cohort_query(demo_cohort))
    assert not at.exception
    assert any("No patients match the current filters" in w.value for w in at.warning)
