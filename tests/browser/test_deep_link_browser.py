"""A share link that opens a page directly must work on a freshly started server."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import start_server


def test_first_request_on_a_deep_link_runs_the_page_in_its_frame(page: Page, wait_for_app):
    with start_server() as url:  # fresh process: no page has run st.navigation yet
        page.goto(f"{url}/survival?lineage=T-ALL")
        wait_for_app(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.locator('[data-testid="stMetricValue"]').first).not_to_have_text("75 of 75")
        expect(sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Lineage")).to_contain_text("T-ALL")
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "This page is part of the HSCT2 Explorer" not in main
        assert "/survival" in page.url and "lineage=T-ALL" in page.url
