"""The Relapse page in a real browser: every figure draws, the link carries its controls."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect


def _open(page: Page, url: str, wait_for_app) -> None:
    # A fresh server treats pages/ as legacy auto-discovered pages until the
    # frame has run once (st.navigation), so a first deep link would run the
    # page without its frame: load the frame first (reported to the lead).
    page.goto(url.split("/relapse")[0] + "/")
    wait_for_app(page)
    page.goto(url)
    wait_for_app(page)


def _main_text(page: Page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_relapse_page_draws_and_compares_groups(page: Page, app_url, wait_for_app, screenshot):
    _open(page, f"{app_url}/relapse?relapse.compare=lineage&relapse.bin=2", wait_for_app)
    text = _main_text(page)
    assert "Traceback" not in text
    assert "Relapse and non-relapse mortality" in text
    # Only the open tab's figure is drawn: the cumulative incidence of relapse.
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    cir = page.locator(".js-plotly-plot").first.text_content()  # SVG text is not in inner_text
    assert "Gray's test: χ² =" in cir
    assert "Number at risk" in cir
    assert "B-ALL" in cir and "T-ALL" in cir
    query = parse_qs(urlparse(page.url).query)
    assert query["relapse.compare"] == ["lineage"]
    assert query["relapse.bin"] == ["2"]
    # Streamlit scrolls inside its main block: a tall viewport gets the whole page on one image.
    page.set_viewport_size({"width": 1500, "height": 4600})
    page.wait_for_timeout(800)
    screenshot(page, "relapse-by-lineage")
    page.set_viewport_size({"width": 1500, "height": 1100})

    page.get_by_role("tab", name="Non-relapse mortality").click()
    wait_for_app(page)
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    assert "Non-relapse mortality" in page.locator(".js-plotly-plot").first.text_content()
    screenshot(page, "relapse-nrm-tab", full_page=False)

    page.get_by_role("tab", name="Patient states").click()
    wait_for_app(page)
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    assert "Alive, relapse-free" in page.locator(".js-plotly-plot").first.text_content()

    page.get_by_role("tab", name="Relapse timing").click()
    wait_for_app(page)
    expect(page.locator(".js-plotly-plot")).to_have_count(2)  # HSCT2 → relapse, and HSCT1 → relapse
    query = parse_qs(urlparse(page.url).query)
    assert query["relapse.section"] == ["Relapse timing"] and query["relapse.bin"] == ["2"]
    page.set_viewport_size({"width": 1500, "height": 2600})
    page.wait_for_timeout(800)
    screenshot(page, "relapse-timing-tab")


def test_relapse_page_on_the_whole_demo_cohort_shows_the_published_median(page: Page, app_url, wait_for_app,
                                                                          screenshot):
    _open(page, f"{app_url}/relapse?relapse.section=Relapse+timing", wait_for_app)
    text = _main_text(page)
    assert "published median of 8.2 months" in text
    assert "Traceback" not in text
    page.set_viewport_size({"width": 1500, "height": 4600})
    page.wait_for_timeout(800)
    screenshot(page, "relapse-all")
