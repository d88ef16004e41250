"""Figures that stand alone, in a real browser: nothing cut or overlapping, links that reopen the same view,
every export downloaded, every page reachable by its path, presentation mode; screenshots of each."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import SCREENSHOTS

LONG_NAME = "Older children with T-ALL after ATG"
SAVED = [f"{LONG_NAME}:lineage=T-ALL&age=10-19", "All patients:"]


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def _inside(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack)


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def _open(page: Page, url: str, wait_for_app) -> None:
    page.goto(url)
    wait_for_app(page)


def _assert_nothing_cut(figure) -> None:
    """Every text of the figure lies inside the figure, and the legend clears the title and subtitle."""
    frame = _box(figure.locator(".main-svg").first)
    texts = figure.locator("text")
    for i in range(texts.count()):
        text = texts.nth(i)
        if not (text.text_content() or "").strip() or not text.is_visible():
            continue
        box = text.bounding_box()
        if box and box["width"] > 0:
            assert _inside(box, frame), f"cut: {text.text_content()!r} {box} outside {frame}"
    legend = figure.locator(".legend").first
    if legend.count():
        legend_box = _box(legend)
        for title in (figure.locator(".gtitle"), figure.locator(".gtitle-subtitle")):
            if title.count():
                assert not _overlap(legend_box, _box(title.first)), "the legend runs over the title block"


def test_four_groups_with_trend_and_long_labels_fit(page: Page, app_url, wait_for_app, screenshot):
    _open(page, f"{app_url}/survival?survival.compare=donor&survival.trend=true", wait_for_app)
    figure = page.locator(".js-plotly-plot").first
    expect(figure).to_be_visible()
    assert "trend" in figure.text_content()
    _assert_nothing_cut(figure)
    assert "Published" not in figure.text_content()  # the all-patients markers are not on a grouped plot
    figure.screenshot(path=str(SCREENSHOTS / "slide-survival-by-donor.png"))

    query = "&".join(f"cmp={quote(s)}" for s in SAVED) + "&survival.compare=saved+cohorts"
    _open(page, f"{app_url}/survival?{query}", wait_for_app)
    figure = page.locator(".js-plotly-plot").first
    ticks = figure.locator(".y2tick text")
    labels = [t for _, t in sorted((_box(ticks.nth(i))["y"], ticks.nth(i).text_content().strip())
                                   for i in range(ticks.count()))]
    assert labels == [LONG_NAME, "All patients"]  # whole, top to bottom in legend order, not "ll patients"
    _assert_nothing_cut(figure)
    figure.screenshot(path=str(SCREENSHOTS / "slide-survival-saved-cohorts.png"))


@pytest.mark.parametrize("path", ["/relapse?relapse.compare=donor", "/risk_factors?risk_factors.univariable=true"])
def test_other_figures_fit(page: Page, app_url, wait_for_app, path):
    _open(page, f"{app_url}{path}", wait_for_app)
    figures = page.locator(".js-plotly-plot")
    expect(figures.first).to_be_visible()
    visible = [figures.nth(i) for i in range(figures.count()) if figures.nth(i).is_visible()]
    assert visible
    for figure in visible[:3]:  # the figures not in a hidden tab
        figure.scroll_into_view_if_needed()
        _assert_nothing_cut(figure)


def test_a_copied_link_reopens_the_same_view_in_a_new_browser(browser: Browser, page: Page, app_url,
                                                               wait_for_app):
    _open(page, f"{app_url}/survival?lineage=B-ALL", wait_for_app)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Compare by").click()
    page.get_by_role("option", name="Donor", exact=True).click()
    wait_for_app(page)
    page.get_by_text("Captions", exact=True).click()
    wait_for_app(page)
    page.wait_for_function("() => window.location.search.includes('view.captions')")
    link = page.url
    legend = page.locator(".js-plotly-plot .legend").first.text_content()
    count = page.locator('[data-testid="stSidebar"] [data-testid="stMetricValue"]').first.inner_text()

    other = browser.new_context(viewport={"width": 1500, "height": 1100})
    try:
        fresh = other.new_page()
        fresh.goto(link)
        wait_for_app(fresh)
        assert fresh.locator(".js-plotly-plot .legend").first.text_content() == legend
        assert fresh.locator('[data-testid="stSidebar"] [data-testid="stMetricValue"]').first.inner_text() == count
        main = fresh.locator('[data-testid="stMain"]').inner_text()
        assert "Data: Demo cohort (synthetic), not real patients." in main  # captions on, from the link
    finally:
        other.close()


def _download(page: Page, name: str) -> bytes:
    """Press the first of the app's download buttons labelled ``name`` (not Plotly's camera button)."""
    button = page.locator('[data-testid="stDownloadButton"]').filter(has_text=name).locator("button").first
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=90_000) as info:
        button.click()
    path = info.value.path()
    assert path is not None
    return Path(path).read_bytes()


def test_every_export_downloads(page: Page, app_url, wait_for_app):
    _open(page, f"{app_url}/survival?survival.compare=lineage", wait_for_app)
    png = _download(page, "PNG")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 2 * 1200
    svg = _download(page, "SVG").decode("utf-8")
    assert svg.startswith("<svg") and "Overall survival by lineage" in svg and "not real patients" in svg
    csv = _download(page, "CSV").decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("Group,n,Events")
    xlsx = _download(page, "XLSX")
    assert zipfile.ZipFile(io.BytesIO(xlsx)).namelist()
    deck = _download(page, "PowerPoint")
    assert "ppt/slides/slide1.xml" in zipfile.ZipFile(io.BytesIO(deck)).namelist()
    report = _download(page, "HTML").decode("utf-8")
    assert report.startswith("<!DOCTYPE html>") and "Overall survival by lineage" in report
    assert "http://" not in report and "https://" not in report


@pytest.mark.parametrize("path", ["overview", "survival", "relapse", "risk_factors", "data"])
def test_every_page_path_is_a_deep_link(browser: Browser, app_url, wait_for_app, screenshot, path):
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    try:
        page = context.new_page()
        page.goto(app_url)  # the server has run st.navigation once (a fresh server is tested in test_deep_link)
        wait_for_app(page)
        page.goto(f"{app_url}/{path}")
        wait_for_app(page)
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "Traceback" not in main
        page.wait_for_timeout(1500)  # Streamlit's "Page not found" dialog, outside the app, comes a moment later
        assert "Page not found" not in page.locator("body").inner_text()
        heading = page.locator('[data-testid="stMain"] h1').first.inner_text()
        assert heading == {"overview": "HSCT2 Explorer", "risk_factors": "Risk factors"}.get(path, heading)
        screenshot(page, f"page-{path}", full_page=False)
    finally:
        context.close()


def test_presentation_mode_hides_controls_and_enlarges(browser: Browser, app_url, wait_for_app, screenshot):
    context = browser.new_context(viewport={"width": 1400, "height": 2000})
    try:
        page = context.new_page()
        page.goto(f"{app_url}/survival?view.present=true&survival.compare=lineage")
        wait_for_app(page)
        expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
        expect(page.locator('[data-testid="stSelectbox"]').filter(has_text="Compare by")).to_be_hidden()
        expect(page.get_by_text("Presentation mode", exact=True)).to_be_visible()  # the way back
        figure = page.locator(".js-plotly-plot").first
        tick = figure.locator(".xtick text").first
        assert float(tick.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) > 16
        _assert_nothing_cut(figure)
        assert "Data: Demo cohort (synthetic)" in page.locator('[data-testid="stMain"]').inner_text()
        screenshot(page, "presentation-survival", full_page=False)
    finally:
        context.close()
