"""The share link in a real browser: a filter change shows in the count and the URL,
and the URL reopens the same view."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect


def _patients_metric(page: Page) -> str:
    metric = page.locator('[data-testid="stSidebar"] [data-testid="stMetricValue"]').first
    return metric.inner_text().strip()


def _pick(page: Page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text=label)
    box.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def test_filter_changes_count_and_url_and_link_reopens_it(page: Page, app_url, wait_for_app, screenshot):
    page.goto(app_url)
    wait_for_app(page)
    expect(page.locator('[data-testid="stSidebar"] [data-testid="stMetricValue"]').first).to_have_text(
        re.compile(r"^75 of 75$"))
    assert "synthetic" in page.get_by_test_id("stAlert").first.inner_text().lower()

    _pick(page, "Lineage", "T-ALL")
    wait_for_app(page)
    expect(page.locator('[data-testid="stSidebar"] [data-testid="stMetricValue"]').first).not_to_have_text(
        "75 of 75")
    filtered = _patients_metric(page)
    n = int(filtered.split(" of ")[0])
    assert 0 < n < 75
    page.wait_for_function("() => window.location.search.includes('lineage')")
    query = parse_qs(urlparse(page.url).query)
    assert query["lineage"] == ["T-ALL"]
    screenshot(page, "overview-filtered")

    link = page.url
    fresh = page.context.new_page()
    fresh.goto(link)
    wait_for_app(fresh)
    expect(fresh.locator('[data-testid="stSidebar"] [data-testid="stMetricValue"]').first).to_have_text(filtered)
    chips = fresh.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Lineage")
    expect(chips).to_contain_text("T-ALL")
    assert parse_qs(urlparse(fresh.url).query)["lineage"] == ["T-ALL"]


def test_bad_link_value_gives_notice_not_crash(page: Page, app_url, wait_for_app):
    page.goto(f"{app_url}/?lineage=Z-ALL&age=abc")
    wait_for_app(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "The link asks for Lineage “Z-ALL”, which these data do not have; it was left out." in text
    assert "The link's age range “abc” is not two ages like 10-18; all ages are shown." in text
    assert "Traceback" not in text
    expect(page.locator('[data-testid="stSidebar"] [data-testid="stMetricValue"]').first).to_have_text("75 of 75")
