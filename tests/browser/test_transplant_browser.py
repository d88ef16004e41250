"""The transplant reviewers' views in a real browser: every figure draws, the link carries the controls."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect


def _open(page: Page, app_url: str, path: str, wait_for_app) -> str:
    page.goto(app_url + "/")  # the frame runs once before a deep link (see test_relapse_browser.py)
    wait_for_app(page)
    page.goto(app_url + path)
    wait_for_app(page)
    return page.locator('[data-testid="stMain"]').inner_text()


@pytest.mark.parametrize(("path", "title", "figures", "in_figure"), [
    ("/relapse_models?relapse_models.cause=nrm", "Relapse and NRM models", 2, "Cause-specific (HR)"),
    ("/gvhd?gvhd.compare=atg&gvhd.incidence=cgvhd", "GVHD and DLI after HSCT2", 3, "Gray's test"),
    ("/survival_summaries?survival_summaries.compare=lineage", "Restricted mean survival", 2, "τ = "),
    ("/risk_factors?risk_factors.centre=strata", "Risk factors", 2, "Stratified by centre"),
])
def test_new_views_draw(page: Page, app_url, wait_for_app, screenshot, path, title, figures, in_figure):
    text = _open(page, app_url, path, wait_for_app)
    assert "Traceback" not in text and title in text
    expect(page.locator(".js-plotly-plot")).to_have_count(figures)
    drawn = " ".join(p.text_content() or "" for p in page.locator(".js-plotly-plot").all())
    assert in_figure in drawn
    name, _, query = path.lstrip("/").partition("?")
    for key, values in parse_qs(query).items():
        assert parse_qs(urlparse(page.url).query)[key] == values
    page.set_viewport_size({"width": 1500, "height": 4600})
    page.wait_for_timeout(800)
    screenshot(page, f"transplant-{name}")
