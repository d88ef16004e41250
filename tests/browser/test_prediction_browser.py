"""Patient like me and Model validation in a real browser: figures draw, the profile travels in the link,
a cross-validation runs with its progress bar and can be stopped."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect


def _open(page: Page, app_url: str, path: str, wait_for_app, height: int = 3000) -> None:
    # Tall enough for the whole page in one screenshot (the app scrolls inside its own container).
    page.set_viewport_size({"width": 1500, "height": height})
    # Load the frame first: a fresh server runs a deep-linked page without its frame otherwise.
    page.goto(app_url + "/")
    wait_for_app(page)
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)


def _main_text(page: Page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_patient_like_me_draws_the_predictions_and_keeps_the_profile_in_the_link(page: Page, app_url,
                                                                                wait_for_app, screenshot):
    _open(page, app_url, "patient_like_me?patient_like_me.profile.lineage=T-ALL&patient_like_me.profile.atg=no",
          wait_for_app)
    text = _main_text(page)
    assert "Traceback" not in text
    assert "not a basis for a treatment decision" in text
    assert "Predicted overall survival for this profile" in text
    expect(page.locator(".js-plotly-plot")).to_have_count(2)
    svg = page.locator(".js-plotly-plot").first.text_content()
    for label in ("Overall survival", "Relapse-free survival", "Predicted for this profile", "Matching patients"):
        assert label in svg
    screenshot(page, "patient-like-me-page")
    page.locator(".js-plotly-plot").first.screenshot(
        path=str(screenshot(page, "patient-like-me-page").parent / "patient-like-me-figure.png"))
    query = parse_qs(urlparse(page.url).query)
    assert query["patient_like_me.profile.lineage"] == ["T-ALL"]


def test_an_out_of_support_profile_is_flagged(page: Page, app_url, wait_for_app, screenshot):
    _open(page, app_url, "patient_like_me?patient_like_me.profile.age_years=25&patient_like_me.profile.lineage=T-ALL"
          "&patient_like_me.profile.donor=haplo&patient_like_me.match=lineage,donor,sex", wait_for_app)
    text = _main_text(page)
    assert "Out of support" in text and "fewer than 5" in text and "lies outside the values" in text
    screenshot(page, "patient-like-me-out-of-support")


def test_cross_validation_runs_with_progress_and_can_be_stopped(page: Page, app_url, wait_for_app, screenshot):
    _open(page, app_url, "model_validation?model_validation.folds=3&model_validation.repeats=2", wait_for_app)
    page.get_by_role("button", name="Run cross-validation").click()
    expect(page.get_by_text("kept for this cohort and these settings")).to_be_visible(timeout=90_000)
    wait_for_app(page)
    text = _main_text(page)
    assert "Traceback" not in text and "Discrimination and accuracy" in text
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    screenshot(page, "model-validation-page")
    page.locator(".js-plotly-plot").first.screenshot(
        path=str(screenshot(page, "model-validation-page").parent / "model-validation-calibration.png"))

    _open(page, app_url, "model_validation?model_validation.repeats=40", wait_for_app, height=1100)
    page.get_by_role("button", name="Run cross-validation").click()
    expect(page.get_by_text(re.compile(r"Fit \d+ of \d+"))).to_be_visible(timeout=30_000)
    screenshot(page, "model-validation-running", full_page=False)
    page.locator('[data-testid="stMain"]').get_by_role("button", name="Stop").click()
    expect(page.get_by_text("The cross-validation was stopped after")).to_be_visible(timeout=60_000)
    screenshot(page, "model-validation-stopped", full_page=False)
