"""Presentation mode, captions, disclosure control, sign-in and the uploaded-data link notice, through AppTest."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from analysis.cohort.model import load_demo_cohort
from analysis.figures.style import FONT_SIZE
from tests.apptest_support import APP, pin_navigation_pages
from ui.state import _ACTIVE, ActiveData, DataSource
from ui.view_options import UPLOAD_LINK_NOTICE


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _captions(at) -> list[str]:
    """Captions as a reader sees them (text from data and links is shown escaped, as Markdown)."""
    return [re.sub(r"\\(.)", r"\1", c.value) for c in at.caption]


def _uploaded(n: int = 30) -> dict:
    cohort = load_demo_cohort().head(n).reset_index(drop=True)
    return {_ACTIVE: ActiveData(cohort, DataSource("registry_export.csv", is_demo=False))}


def _risk_texts(fig: dict) -> list[str]:
    return [t for d in fig["data"] if d.get("mode") == "text" and d.get("yaxis") == "y2" for t in d["text"]]


def test_presentation_mode_from_the_link_enlarges_hides_controls_and_shows_captions(open_app):
    at = open_app("survival", query={"view.present": "true"})
    assert not at.exception
    fig = _charts(at)[0]
    assert fig["layout"]["xaxis"]["tickfont"]["size"] > FONT_SIZE  # larger type for the projector
    styles = [h.proto.body for h in at.get("html")]
    assert any('stSidebar' in s and "page-controls" in s and "display: none" in s for s in styles)
    assert any(c.startswith("Data: Demo cohort (synthetic), not real patients. Patients: 75 of 75.")
               for c in _captions(at))
    assert not at.get("download_button") or all(b.proto.label in ("PowerPoint", "HTML")
                                                for b in at.get("download_button"))
    assert at.query_params["view.present"] == "True"  # travels on in the link
    at.toggle(key="view.present").set_value(False).run()
    assert not any("page-controls" in h.proto.body for h in at.get("html"))
    assert "view.present" not in at.query_params


def test_captions_toggle_puts_the_caption_under_every_figure_and_table(open_app):
    at = open_app("survival", query={"lineage": "T-ALL", "survival.compare": "sex"})
    assert not any(c.startswith("Data:") for c in _captions(at))
    at.toggle(key="view.captions").set_value(True).run()
    captions = [c for c in _captions(at) if c.startswith("Data:")]
    assert len(captions) >= 3  # the figure and its tables
    assert all("Patients: 17 of 75" in c and "Filters: lineage: T-ALL" in c for c in captions)
    assert any("Kaplan" in c and "log" in c for c in captions)
    assert at.query_params["view.captions"] == "True"
    labels = sorted(b.proto.label for b in at.get("download_button"))
    assert labels.count("PNG") == 1 and labels.count("SVG") == 1 and labels.count("CSV") >= 2


def test_grouped_plot_has_no_published_markers_and_says_why(open_app):
    at = open_app("survival", query={"survival.compare": "lineage"})
    assert not any(d.get("name", "").startswith("Published") for d in _charts(at)[0]["data"])
    assert any("published estimates are for all patients" in c for c in _captions(at))


def test_disclosure_control_hides_small_counts_of_uploaded_data(open_app):
    at = open_app("survival", session=_uploaded(), query={"survival.compare": "lineage"})
    assert not at.exception
    fig = _charts(at)[0]
    texts = _risk_texts(fig)
    assert "<5" in texts and not any(t in {"1", "2", "3", "4"} for t in texts)
    censor = [d for d in fig["data"] if d.get("mode") == "markers" and d.get("marker", {}).get("symbol")
              == "line-ns-open"]
    assert censor and all(d.get("hoverinfo") == "skip" for d in censor)  # no per-patient hover
    assert any(c.startswith("Disclosure control: counts from 1 to 4") for c in _captions(at))
    tables = [t.value for t in at.dataframe]
    landmarks = next(t for t in tables if "At risk" in t.columns)
    assert set(landmarks["At risk"].astype(str)) <= {"<5", "0"} | {str(n) for n in range(5, 31)}
    assert "<5" in set(landmarks["At risk"].astype(str))


def test_disclosure_control_can_be_switched_off(open_app):
    at = open_app("survival", session=_uploaded(), query={"survival.compare": "lineage", "view.disclosure": "false"})
    texts = _risk_texts(_charts(at)[0])
    assert "<5" not in texts and any(t in {"1", "2", "3", "4"} for t in texts)
    assert any("Disclosure control is off" in c for c in _captions(at))


def test_disclosure_threshold_is_set_on_the_data_page(open_app):
    at = open_app("data", session=_uploaded())
    at.selectbox(key="view.min_count").set_value(10).run()
    assert any("counts from 1 to 9" in c for c in _captions(at))
    at.switch_page("pages/relapse.py").run()
    assert not at.exception
    assert "<10" in _risk_texts(_charts(at)[0])


def test_the_demo_cohort_shows_every_count(open_app):
    at = open_app("survival", query={"survival.compare": "donor"})
    assert "<5" not in _risk_texts(_charts(at)[0])


def test_a_link_made_on_uploaded_data_says_the_data_are_not_included(open_app):
    at = open_app("survival", query={"view.data": "upload", "lineage": "T-ALL"})
    assert not at.exception
    assert UPLOAD_LINK_NOTICE in [w.value for w in at.warning]


def test_a_view_of_uploaded_data_marks_its_link(open_app):
    at = open_app("overview", session=_uploaded())
    assert at.query_params["view.data"] == "upload"
    demo = open_app("overview")
    assert "view.data" not in demo.query_params


def test_without_sign_in_the_app_says_it_is_open(open_app):
    at = open_app("overview")
    assert any(c.startswith("Open access: no sign-in is configured") for c in at.sidebar.caption.values)


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "id", "client_secret": "secret",
        "server_metadata_url": "https://login.example/.well-known/openid-configuration"}


def _with_auth(open_app, page: str):
    pin_navigation_pages()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.switch_page(f"pages/{page}.py")
    return at.run()


def test_signed_out_users_see_only_the_sign_in_screen(open_app, monkeypatch):
    monkeypatch.setattr("ui.auth._user", lambda: {})
    at = _with_auth(open_app, "survival")
    assert not at.exception
    assert [b.proto.label for b in at.button] == ["Sign in"]
    assert not at.get("plotly_chart") and "Survival" not in [t.value for t in at.title]


def test_signed_in_users_are_named_and_can_sign_out(open_app, monkeypatch):
    monkeypatch.setattr("ui.auth._user", lambda: {"is_logged_in": True, "name": "Dr. *Test*"})
    at = _with_auth(open_app, "survival")
    assert not at.exception
    assert "Signed in as Dr\\. \\*Test\\*" in at.sidebar.caption.values  # escaped: shown as text, not Markdown
    assert at.button(key="auth_logout").proto.label == "Sign out"
    assert at.get("plotly_chart")


@pytest.mark.parametrize("page", ["overview", "survival", "relapse", "risk_factors", "data"])
def test_every_page_renders_in_presentation_mode(open_app, page):
    at = open_app(page, query={"view.present": "true"})
    assert not at.exception
