"""No text from a link or a file is rendered as Markdown or HTML, and no download carries a live formula.

Every page is opened with a hostile share link, or on a cohort whose column
names and values are Markdown and HTML payloads; every string the page
hands to Streamlit as Markdown (bodies, labels, help texts) is collected and
searched for the payloads as written. Escaped, a payload still reads the
same on the page but no longer contains itself verbatim.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import streamlit as st

from analysis.cohort.model import load_demo_cohort
from analysis.text import FORMULA_PREFIXES
from tests.apptest_support import open_app, shown
from ui.state import ActiveData, DataSource

PAYLOADS = ("[log in again](https://evil.example)", "<h1>FAKE</h1>", "<img src=x onerror=alert(1)>", "**bold**")
LINK, HTML, IMAGE, BOLD = PAYLOADS
PAGES = ("overview", "survival", "relapse", "risk_factors", "data")


#: Elements whose value is Markdown (a widget's value is plain text: the option chosen).
MARKDOWN_ELEMENTS = {"Markdown", "Caption", "Title", "Header", "Subheader", "Info", "Warning", "Error", "Success",
                     "Toast", "Exception"}


def _markdown_strings(node, found: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """(element type, text) of every Markdown body, label and help text under ``node``."""
    found = [] if found is None else found
    attributes = ("value", "label", "help") if type(node).__name__ in MARKDOWN_ELEMENTS else ("label", "help")
    for attribute in attributes:
        try:
            text = getattr(node, attribute)
        except Exception:  # an element without that attribute, or a widget without state yet
            continue
        if isinstance(text, str):
            found.append((type(node).__name__, text))
    for child in (getattr(node, "children", None) or {}).values():
        _markdown_strings(child, found)
    return found


def _assert_no_payload(at) -> None:
    assert not at.exception, at.exception[0].message if at.exception else ""
    for kind, text in _markdown_strings(at._tree):
        for payload in PAYLOADS:
            assert payload not in text, f"{kind} renders {payload!r}: {text[:200]!r}"


@pytest.mark.parametrize("page", PAGES)
def test_a_hostile_link_renders_as_text_on_every_page(page):
    at = open_app(page, query={"cmp": [f"{HTML}:sex=male", f"{LINK}:lineage=T-ALL"], "sex": LINK, "lineage": IMAGE,
                               "survival.endpoint": BOLD, "colour": HTML})
    _assert_no_payload(at)
    texts = " ".join(shown(t) for _, t in _markdown_strings(at._tree))
    assert HTML in texts and LINK in texts  # the names are still there, as text
    assert at.session_state["_saved"][0].name == HTML


def _hostile_cohort() -> pd.DataFrame:
    cohort = load_demo_cohort()
    rng = np.random.default_rng(5)
    cohort[LINK] = rng.choice([HTML, IMAGE, BOLD], len(cohort))
    cohort[HTML] = rng.choice(["yes", LINK], len(cohort))
    return cohort


@pytest.fixture
def hostile_session() -> dict:
    return {"_active_data": ActiveData(_hostile_cohort(), DataSource(f"{IMAGE}.csv", False, 0))}


@pytest.mark.parametrize("page", PAGES)
def test_hostile_column_names_and_values_render_as_text(page, hostile_session):
    at = open_app(page, session=hostile_session)
    _assert_no_payload(at)
    at.multiselect(key=f"flt_{LINK}").set_value([HTML, BOLD]).run()
    _assert_no_payload(at)
    if page in ("survival", "relapse"):
        at.selectbox(key=f"{page}.compare").set_value(LINK).run()
        _assert_no_payload(at)
    if page == "overview":
        at.selectbox(key="overview.split").set_value(HTML).run()
        _assert_no_payload(at)
    if page == "risk_factors":
        at.multiselect(key="risk_factors.covariates.os").set_value(["lineage", LINK, HTML]).run()
        _assert_no_payload(at)


def test_an_empty_cohort_with_hostile_filters_renders_as_text(hostile_session):
    at = open_app("survival", session=hostile_session)
    at.multiselect(key=f"flt_{LINK}").set_value([HTML]).run()
    at.multiselect(key="flt_lineage").set_value(["T-ALL"]).run()
    at.slider(key="flt_age").set_value((0.0, 0.5)).run()
    assert any("No patients match" in w.value for w in at.warning)
    _assert_no_payload(at)


def test_notices_are_shown_above_the_page_not_in_a_collapsed_expander():
    at = open_app("survival", query={"survival.ci": "xyz", "survival.times": "12,abc"})
    in_expanders = [shown(w.value) for e in at.expander for w in e.warning]
    notices = [shown(w.value) for w in at.main.warning]
    assert not [n for n in in_expanders if "xyz" in n]
    assert any("“xyz” as the confidence interval scale on this page" in n for n in notices), notices
    assert any("“abc” as landmarks on this page, which is not a choice here; left out." in n for n in notices)
    assert at.multiselect(key="survival.times").value == ["12"]  # the valid part of the list is kept


@pytest.fixture
def downloads(monkeypatch) -> list[tuple[str, bytes | str]]:
    """What every ``st.download_button`` of a run offers: (file name, data)."""
    offered: list[tuple[str, bytes | str]] = []
    original = st.download_button

    def capture(label, data, *args, **kwargs):
        offered.append((kwargs.get("file_name", ""), data))
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", capture)
    return offered


def test_csv_downloads_carry_no_live_formula(downloads):
    payloads = ['=HYPERLINK("https://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd", "\t=1+1"]
    frame = pd.DataFrame({"patient_id": payloads, "followup_months": ["-5", "x", "3", "=1", "4"], "death": 1,
                          "relapse": 0, "relapse_months": np.nan, "=cmd": ["a", "b", "c", "d", "e"]})
    at = open_app("data")
    at.file_uploader(key="data_upload_0").set_value(("evil.csv", frame.to_csv(index=False).encode(), "text/csv"))
    at.run()
    problems = [data for name, data in downloads if name.endswith(".problems.csv")]
    assert problems, [name for name, _ in downloads]
    table = pd.read_csv(io.StringIO(problems[-1]), dtype=str, keep_default_na=False)
    assert len(table) >= 2
    for column in table.columns:
        assert not column.startswith(FORMULA_PREFIXES)
        assert not table[column].str.startswith(FORMULA_PREFIXES).any(), table[column].tolist()
    assert "'=1" in table["value"].tolist() or "'-5" in table["value"].tolist()
    for name, data in downloads:
        if name.endswith(".csv"):
            cells = pd.read_csv(io.StringIO(data if isinstance(data, str) else data.decode()), dtype=str,
                                keep_default_na=False)
            assert not cells.apply(lambda c: c.str.startswith(FORMULA_PREFIXES)).any().any(), name
