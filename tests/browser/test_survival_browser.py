"""The Survival page in a real browser: two saved cohorts overlaid, their curves and at-risk rows drawn,
the at-risk numbers under the x ticks, and the hover."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlparse

from playwright.sync_api import Page, expect

SAVED = ["T-ALL:lineage=T-ALL", "B-ALL:lineage=B-ALL"]


def _open(page: Page, url: str, wait_for_app) -> None:
    # A fresh server runs a deep-linked page without its frame until the frame has run once
    # (st.navigation): load the frame first, as the Relapse browser test does.
    page.goto(url.split("/survival")[0] + "/")
    wait_for_app(page)
    page.goto(url)
    wait_for_app(page)


def _centre_x(locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2


def test_two_saved_cohorts_overlaid_with_aligned_risk_table(page: Page, app_url, wait_for_app, screenshot):
    query = "&".join(f"cmp={quote(s)}" for s in SAVED) + "&survival.compare=saved+cohorts"
    _open(page, f"{app_url}/survival?{query}", wait_for_app)
    main = page.locator('[data-testid="stMain"]')
    assert "Traceback" not in main.inner_text()
    figure = page.locator(".js-plotly-plot").first
    expect(figure).to_be_visible()
    svg_text = figure.text_content()  # SVG text is not in inner_text
    assert "Number at risk" in svg_text and "Log-rank: χ² =" in svg_text
    assert "T-ALL (n = " in svg_text and "B-ALL (n = " in svg_text

    # Both curves are drawn: two solid step lines (width 3) with real paths, in different colours.
    lines = figure.locator(".subplot.xy .scatterlayer .trace .js-line")
    solid = [lines.nth(i) for i in range(lines.count())
             if "stroke-width: 3" in (lines.nth(i).get_attribute("style") or "")]
    assert len(solid) >= 2
    longest: dict[str, int] = {}  # per colour, the longest path (a faded tail can be one short step)
    for line in solid:
        colour = line.evaluate("e => getComputedStyle(e).stroke")
        longest[colour] = max(longest.get(colour, 0), len(line.get_attribute("d") or ""))
    assert len(longest) == 2 and min(longest.values()) > 50

    # One at-risk row per cohort, labelled with its name, a number under every x tick.
    labels = figure.locator(".yaxislayer-above .y2tick text")
    top_down = sorted((labels.nth(i).bounding_box()["y"], labels.nth(i).text_content().strip())
                      for i in range(labels.count()))
    assert [name for _, name in top_down] == ["T-ALL", "B-ALL"]  # legend order, top to bottom
    ticks = figure.locator(".xaxislayer-above .xtick text")
    n_ticks = ticks.count()
    assert n_ticks >= 4
    numbers = figure.locator(".subplot.x2y2 .textpoint text")
    assert numbers.count() == 2 * n_ticks
    for i in range(n_ticks):
        tick_x = _centre_x(ticks.nth(i))
        for row in range(2):
            assert abs(_centre_x(numbers.nth(row * n_ticks + i)) - tick_x) < 2.0, f"tick {i}, row {row}"

    # The share link keeps the saved cohorts and the comparison.
    link = parse_qs(urlparse(page.url).query)
    assert link["cmp"] == SAVED and link["survival.compare"] == ["saved cohorts"]

    # Hover on a curve shows time, survival with CI and the number at risk.
    box = max(solid, key=lambda line: len(line.get_attribute("d") or "")).bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    page.wait_for_timeout(300)
    for dx in range(0, int(box["width"]), 7):
        page.mouse.move(box["x"] + dx, box["y"] + 1)
        if page.locator(".hoverlayer .hovertext").count():
            break
    hover = page.locator(".hoverlayer").text_content()
    assert "At risk" in hover and "95 % CI" in hover

    page.mouse.move(5, 5)
    page.set_viewport_size({"width": 1500, "height": 2000})
    page.wait_for_timeout(800)
    path = screenshot(page, "survival-saved-cohorts")
    figure.screenshot(path=str(path.with_name("survival-saved-cohorts-figure.png")))


def test_whole_demo_cohort_shows_published_markers(page: Page, app_url, wait_for_app, screenshot):
    _open(page, f"{app_url}/survival", wait_for_app)
    figure = page.locator(".js-plotly-plot").first
    expect(figure).to_be_visible()
    svg_text = figure.text_content()
    assert "57.7%" in svg_text and "Published" in svg_text
    assert "Traceback" not in page.locator('[data-testid="stMain"]').inner_text()
    screenshot(page, "survival-all", full_page=False)
