"""The Relapse page, driven through AppTest from the frame."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.analyses.relapse import cif_by_group, gray_tests
from analysis.cohort.grouping import compare_by
from tests.apptest_support import APP, pin_navigation_pages
from tests.apptest_support import open_app as open_with_session


def _charts(at) -> dict[str, dict]:
    """The page's Plotly figures by what they show."""
    out = {}
    for chart in at.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        title = (fig["layout"].get("title") or {}).get("text", "")
        x_title = fig["layout"].get("xaxis", {}).get("title", {}).get("text", "")
        if "relapse</b>" in title:
            out["cir"] = fig
        elif "Non-relapse" in title:
            out["nrm"] = fig
        elif x_title == "Months after HSCT2":
            out["states"] = fig
        elif "HSCT2 to relapse" in x_title:
            out["timing"] = fig
        elif "HSCT1" in x_title:
            out["hsct1"] = fig
    return out


def _show(at, section: str, cause: str | None = None) -> AppTest:
    """The page with another section (tab) open; ``cause`` the open tab of the cumulative incidence."""
    at.session_state["relapse.section"] = section
    if cause is not None:
        at.session_state["relapse.cause"] = cause
    return at.run()


def _every_chart(at) -> dict[str, dict]:
    """The figures of every section: only the open tab's are sent."""
    charts = {}
    for cause in ("Cumulative incidence of relapse", "Non-relapse mortality"):
        charts |= _charts(_show(at, "Cumulative incidence", cause))
    for section in ("Patient states", "Relapse timing"):
        charts |= _charts(_show(at, section))
    _show(at, "Cumulative incidence", "Cumulative incidence of relapse")
    return charts


def _values(data) -> np.ndarray:
    """An array of a figure's JSON (Plotly 6 sends numpy arrays as base64 "bdata")."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"])).astype(float)
    return np.asarray(data, dtype=float)


def _curve_names(fig: dict) -> list[str]:
    return [t["name"] for t in fig["data"] if t.get("name") and t.get("mode") == "lines"]


def _table(at, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _texts(at) -> str:
    return " ".join(e.value for kind in (at.info, at.warning, at.caption, at.markdown) for e in kind)


def test_page_renders_on_the_demo_cohort(open_app, demo_cohort):
    at = open_app("relapse")
    assert not at.exception
    assert set(_charts(at)) == {"cir"}  # only the open tab's figure is made and sent
    # the sections, and inside the first the two causes (AppTest lists tabs in tree order)
    assert [t.label for t in at.tabs] == ["Cumulative incidence", "Cumulative incidence of relapse",
                                          "Non-relapse mortality", "Patient states", "Relapse timing"]
    charts = _every_chart(at)
    assert not at.exception
    assert set(charts) == {"cir", "nrm", "states", "timing", "hsct1"}
    assert _curve_names(charts["cir"]) == [f"All patients (n = {len(demo_cohort)}, "
                                           f"{int(demo_cohort['relapse'].sum())} events)"]
    landmarks = _table(at, "Events")
    assert list(landmarks.columns) == ["Group", "n", "Cause", "Events", "12 months", "24 months", "60 months"]
    assert landmarks["Cause"].tolist() == ["Relapse (CIR)", "NRM"]
    assert "Gray's test" not in _texts(at)


def test_compare_by_shows_groups_and_grays_test(open_app, demo_cohort):
    at = open_app("relapse")
    at.selectbox(key="relapse.compare").set_value("lineage").run()
    assert not at.exception
    charts = _charts(at)
    assert [n.split(" (")[0] for n in _curve_names(charts["cir"])] == ["B-ALL", "T-ALL"]
    shown = _table(at, "χ²")
    expected = gray_tests(compare_by(demo_cohort, "lineage").frame)
    assert shown["χ²"].to_numpy() == pytest.approx(expected["statistic"].to_numpy())
    assert shown["p"].to_numpy() == pytest.approx(expected["p"].to_numpy())
    assert "Gray's test: χ² =" in charts["cir"]["layout"]["title"]["subtitle"]["text"]
    assert len(_charts(_show(at, "Patient states"))["states"]["data"]) == 8  # four bands per group
    link = at.query_params["relapse.compare"]
    assert (link if isinstance(link, list) else [link]) == ["lineage"]


def test_landmark_control_changes_the_table(open_app, demo_cohort):
    at = open_app("relapse")
    at.multiselect(key="relapse.times").set_value(["36", "6"]).run()
    table = _table(at, "Events")
    assert list(table.columns[-2:]) == ["6 months", "36 months"]
    fit = cif_by_group(demo_cohort)["all"]
    cir6 = fit.cif_at([6]).query("cause == 1").iloc[0]
    cell = table.iloc[0]["6 months"]
    assert cell.startswith(f"{100 * cir6['cif']:.1f} % ({100 * cir6['lower']:.1f}–{100 * cir6['upper']:.1f})")
    assert cell.endswith(f"{int(cir6['n_at_risk'])} at risk")


@pytest.mark.parametrize("width", [2, 3])
def test_bin_width_control(open_app, width):
    at = _show(open_app("relapse"), "Relapse timing")
    before = _charts(at)["timing"]["data"][0]["width"]
    at.radio(key="relapse.bin").set_value(width).run()
    after = _charts(at)
    assert before == 1
    assert after["timing"]["data"][0]["width"] == width
    assert after["hsct1"]["data"][0]["width"] == width


def test_mode_and_scale_controls(open_app):
    at = _show(open_app("relapse"), "Relapse timing")
    at.selectbox(key="relapse.compare").set_value("lineage").run()
    assert _charts(at)["timing"]["layout"]["barmode"] == "overlay"
    at.radio(key="relapse.mode").set_value("stack").run()
    assert _charts(at)["timing"]["layout"]["barmode"] == "stack"
    counts = _values(_charts(at)["timing"]["data"][0]["y"])
    at.radio(key="relapse.scale").set_value("percent").run()
    timing = _charts(at)["timing"]
    assert timing["layout"]["yaxis"]["title"]["text"] == "% of the group's patients"
    percent = _values(timing["data"][0]["y"])
    assert percent.sum() == pytest.approx(100)
    assert percent == pytest.approx(100 * counts / counts.sum())


def test_published_median_only_on_the_unfiltered_demo(open_app):
    def dotted(at):
        return [s for s in _charts(at)["timing"]["layout"].get("shapes", []) if s["line"].get("dash") == "dot"]

    at = _show(open_app("relapse"), "Relapse timing")
    assert [s["x0"] for s in dotted(at)] == [8.2]
    assert "published median of 8.2 months" in _texts(at)
    at.multiselect(key="flt_lineage").set_value(["B-ALL"]).run()
    assert dotted(at) == []


def test_filter_changes_every_estimate(open_app, demo_cohort):
    at = open_app("relapse")
    before = _table(at, "Events")
    at.multiselect(key="flt_lineage").set_value(["T-ALL"]).run()
    after = _table(at, "Events")
    assert after["n"].iloc[0] == int((demo_cohort["lineage"] == "T-ALL").sum())
    assert not before.equals(after)


def test_empty_cohort_says_so(open_app, demo_cohort):
    ages = set(demo_cohort["age_years"].round(1))
    slot = next(k / 2 for k in range(2, 60) if k / 2 not in ages)
    at = open_app("relapse", query={"age": f"{slot:g}-{slot:g}"})
    assert not at.exception
    assert any("No patients match the current filters" in w.value for w in at.warning)
    assert not _charts(at)


def test_link_sets_the_controls():
    # A link opens the page directly (the frame drops other pages' controls from the link).
    pin_navigation_pages()
    at = AppTest.from_file(str(APP), default_timeout=60)
    query = {"relapse.bin": "3", "relapse.mode": "stack", "relapse.scale": "percent", "relapse.times": "6,120",
             "relapse.section": "Relapse timing"}
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page("pages/relapse.py")
    at.run()
    assert not at.exception
    assert at.radio(key="relapse.bin").value == 3
    assert at.radio(key="relapse.mode").value == "stack"
    assert at.radio(key="relapse.scale").value == "percent"
    assert set(_charts(at)) == {"timing", "hsct1"}  # the link opened the Relapse timing tab
    _show(at, "Cumulative incidence")
    assert list(_table(at, "Events").columns[-2:]) == ["6 months", "120 months"]


def test_overlapping_saved_cohorts_withhold_grays_test(open_app):
    at = open_app("relapse", query={"cmp": ["all:", "T cells:lineage=T-ALL"]})
    at.selectbox(key="relapse.compare").set_value("saved cohorts").run()
    assert not at.exception
    assert "share patients" in _texts(at)
    assert _table(at, "χ²")["χ²"].isna().all()
    assert "not valid" in _charts(at)["cir"]["layout"]["title"]["subtitle"]["text"]


def _uploaded(cohort: pd.DataFrame) -> dict:
    from ui.state import ActiveData, DataSource

    return {"_active_data": ActiveData(cohort, DataSource("test upload", False, 0))}


def test_cause_coded_data_explain_the_missing_split(demo_cohort):
    coded = demo_cohort.copy()
    coded["death"] = coded["death"].astype("Float64").mask(coded["relapse"] == 1)
    at = _show(open_with_session("relapse", session=_uploaded(coded)), "Patient states")
    assert not at.exception
    assert "split into alive / dead after relapse is unavailable" in _texts(at)
    names = {t["name"] for t in _charts(at)["states"]["data"]}
    assert names == {"Alive, relapse-free", "Relapsed (alive or dead)", "Dead without relapse"}


def test_group_without_relapse_and_single_patient_are_named(demo_cohort):
    data = demo_cohort.copy()
    data["arm"] = np.where(data["relapse"] == 1, "x", "no relapse")
    data.loc[data.index[0], "arm"] = "solo"
    at = open_with_session("relapse", session=_uploaded(data))
    at.selectbox(key="relapse.compare").set_value("arm").run()
    assert not at.exception
    texts = _texts(at)
    assert "Group no relapse" in texts and "has no relapse" in texts
    assert "Group solo has a single patient" in texts
    assert all("solo" not in n for n in _curve_names(_charts(at)["cir"]))


def test_saved_cohorts_that_match_nobody_give_a_message(open_app):
    # The review's link: a saved cohort of 29- to 30-year-olds (there are none) compared on its own.
    at = open_app("relapse", query={"cmp": "old:age=29-30", "relapse.compare": "saved cohorts"})
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "no group has patients" in warnings and "old" in warnings
    assert not at.get("plotly_chart")
