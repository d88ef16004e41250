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


def test_the_default_page_s_own_path_on_a_fresh_server(page: Page, wait_for_app):
    with start_server() as url:
        page.goto(f"{url}/overview?lineage=T-ALL")
        wait_for_app(page)
        page.wait_for_timeout(1500)  # Streamlit's "Page not found" dialog, outside the app, comes a moment later
        body = page.locator("body").inner_text()
        assert "Page not found" not in body and "This page is part of the HSCT2 Explorer" not in body
        assert page.locator('[data-testid="stMain"] h1').first.inner_text() == "HSCT2 Explorer"
        expect(page.locator('[data-testid="stSidebar"] [data-testid="stMetricValue"]').first).not_to_have_text(
            "75 of 75")
