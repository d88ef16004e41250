"""The Risk factors page in a real browser: the forest plot draws, reads and is not clipped."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect


def _open(page: Page, url: str, wait_for_app) -> None:
    # Load the frame first: a fresh server runs a deep-linked page without its frame otherwise.
    page.goto(url.split("/risk_factors")[0] + "/")
    wait_for_app(page)
    page.goto(url)
    wait_for_app(page)


def _forest(page: Page):
    return page.locator(".js-plotly-plot").first


def _inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack)


def test_forest_plot_draws_aligned_and_unclipped(page: Page, app_url, wait_for_app, screenshot):
    _open(page, f"{app_url}/risk_factors", wait_for_app)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "Traceback" not in text
    expect(page.locator(".js-plotly-plot")).to_have_count(1)  # the open tab's figure only
    forest = _forest(page)
    svg_text = forest.text_content()  # SVG text is not in inner_text
    for label in ("Factor", "Events", "HR (95% CI)", "Lineage", "T-ALL", "1 (reference)", "Published (Momm et al.)"):
        assert label in svg_text
    box = forest.bounding_box()
    # every text label of the figure lies inside the figure (nothing clipped at its edges)
    labels = forest.locator("g.textpoint")  # the table's cells are text traces
    assert labels.count() > 40
    for i in range(labels.count()):
        assert _inside(labels.nth(i).bounding_box(), box), labels.nth(i).text_content()
    # the columns line up: every "1 (reference)" starts at the same x
    references = forest.locator("g.textpoint", has_text="1 (reference)")
    refs = [references.nth(i).bounding_box()["x"] for i in range(references.count())]
    assert len(refs) == 4 and max(refs) - min(refs) < 1.5
    # the HR axis sits between the events column and the HR column, without overlap
    axis = forest.locator(".subplot.xy > .xaxislayer-above").bounding_box()  # the HR axis (x2 holds the table)
    events = forest.locator("g.textpoint", has_text="Events").first.bounding_box()
    hr_head = forest.locator("g.textpoint", has_text="HR (95% CI)").first.bounding_box()
    assert events["x"] + events["width"] < axis["x"] < axis["x"] + axis["width"] < hr_head["x"]
    forest.screenshot(path=str(screenshot(page, "risk-factors-page").parent / "risk-factors-forest.png"))


def test_the_sections_open_one_at_a_time_and_travel_in_the_link(page: Page, app_url, wait_for_app, screenshot):
    _open(page, f"{app_url}/risk_factors", wait_for_app)
    page.get_by_role("tab", name="Subgroups").click()
    wait_for_app(page)
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    assert "within subgroups" in _forest(page).text_content()
    assert parse_qs(urlparse(page.url).query)["risk_factors.section"] == ["Subgroups"]
    screenshot(page, "risk-factors-subgroups")
    page.get_by_role("tab", name="Model checks").click()
    wait_for_app(page)
    expect(page.locator(".js-plotly-plot")).to_have_count(0)
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("Proportional hazards")
    expect(main).to_contain_text("Model statistics")
    # the link reopens the same tab
    page.goto(page.url)
    wait_for_app(page)
    expect(page.get_by_role("tab", name="Model checks")).to_have_attribute("aria-selected", "true")


def test_univariable_beside_multivariable_in_the_link(page: Page, app_url, wait_for_app, screenshot):
    _open(page, f"{app_url}/risk_factors?risk_factors.univariable=true&risk_factors.endpoint=rfs", wait_for_app)
    forest = _forest(page)
    svg_text = forest.text_content()
    assert "Multivariable" in svg_text and "Univariable" in svg_text
    assert "Relapse-free survival" in svg_text
    box = forest.bounding_box()
    labels = forest.locator("g.textpoint")
    assert labels.count() > 20
    for i in range(labels.count()):
        assert _inside(labels.nth(i).bounding_box(), box)
    query = parse_qs(urlparse(page.url).query)
    assert query["risk_factors.endpoint"] == ["rfs"]
    forest.screenshot(path=str(screenshot(page, "risk-factors-rfs-uni").parent / "risk-factors-forest-uni.png"))
