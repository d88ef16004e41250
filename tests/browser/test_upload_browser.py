"""The Data page in a real browser: upload files, map, see the problem table, use the data; two sessions."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

ROOT = Path(__file__).resolve().parents[2]
TRANSPLANT = ROOT / "tests" / "fixtures" / "transplant"
MESSY = (
    b"ID;OS_days;status;time_to_relapse_days;relapsed;age;gender;immunophenotype\n"
    b"001;365;dead;100;yes;10;m;T-lineage\n"
    b"002;-5;alive;;no;8;f;B\n"
    b"003;400;alive;500;yes;12;f;pre-B\n"
    b"004;500;alive;;no;9;m;T\n"
    b"005;100;maybe;;no;12;f;B\n"
    b"005;240;dead;;no;31;f;B\n"
)


def _open_data_page(page: Page, url: str, wait_for_app) -> None:
    page.goto(url + "/")  # the frame first: a fresh server needs one run of st.navigation
    wait_for_app(page)
    page.goto(url + "/data")
    wait_for_app(page)


def _main_text(page: Page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _banner(page: Page) -> str:
    return page.locator('[data-testid="stAlertContentInfo"]').first.inner_text()


def _upload(page: Page, wait_for_app, files, index: int = 0) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(index).set_input_files(files)
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


def test_upload_with_a_saved_mapping_and_use_it(page: Page, app_url, wait_for_app, screenshot):
    _open_data_page(page, app_url, wait_for_app)
    assert "synthetic" in _banner(page)
    _upload(page, wait_for_app, str(TRANSPLANT / "bmt.sav"))
    text = _main_text(page)
    assert "SPSS data file" in text and "35 rows" in text
    assert "choose the time unit" in text
    _upload(page, wait_for_app, str(TRANSPLANT / "bmt.mapping.json"), index=1)
    expect(page.get_by_text("No problems found in the 35 rows.")).to_be_visible()
    page.get_by_role("button", name="Use these data").click()
    wait_for_app(page)
    assert "Your data: bmt.sav" in _banner(page)
    assert "N = 35" in _banner(page)
    page.set_viewport_size({"width": 1500, "height": 3000})
    page.wait_for_timeout(800)
    screenshot(page, "data-upload-bmt-used")
    page.set_viewport_size({"width": 1500, "height": 1100})
    # Within the session (the sidebar navigation) the data stay active on every page.
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Relapse", exact=True).click()
    wait_for_app(page)
    assert "Your data: bmt.sav" in _banner(page)
    assert "Traceback" not in _main_text(page)
    screenshot(page, "data-upload-bmt-relapse", full_page=False)


def test_problem_table_and_exclusion(page: Page, app_url, wait_for_app, screenshot):
    _open_data_page(page, app_url, wait_for_app)
    _upload(page, wait_for_app, {"name": "registry_export.csv", "mimeType": "text/csv", "buffer": MESSY})
    # "OS_days" and "time_to_relapse_days" both say days: the unit is proposed.
    assert "choose the time unit" not in _main_text(page)
    wait_for_app(page)
    text = _main_text(page)
    assert "problem(s) in 4 of 6 rows" in text
    assert "first row below the column names" in text
    page.set_viewport_size({"width": 1500, "height": 3400})
    page.wait_for_timeout(800)
    screenshot(page, "data-upload-problems")
    page.set_viewport_size({"width": 1500, "height": 1100})
    page.get_by_text("Use the data without the 4 flagged row(s)").click()
    wait_for_app(page)
    expect(page.get_by_role("button", name="Use 2 rows, exclude 4")).to_be_disabled()  # m/f read as male/female
    page.get_by_text("These readings are right").click()
    wait_for_app(page)
    page.get_by_role("button", name="Use 2 rows, exclude 4").click()
    wait_for_app(page)
    assert "Your data: registry_export.csv**" not in _banner(page)  # rendered markdown, not raw
    assert "registry_export.csv" in _banner(page) and "4 row(s) excluded by validation" in _banner(page)


def test_two_browser_sessions_do_not_share_uploads(browser: Browser, app_url, wait_for_app):
    first = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    second = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        _open_data_page(first, app_url, wait_for_app)
        _upload(first, wait_for_app, str(TRANSPLANT / "cgvhd.parquet"))
        _upload(first, wait_for_app, str(TRANSPLANT / "cgvhd.mapping.json"), index=1)
        first.get_by_role("button", name="Use these data").click()
        wait_for_app(first)
        assert "cgvhd.parquet" in _banner(first)
        _open_data_page(second, app_url, wait_for_app)
        assert "synthetic" in _banner(second)
        assert "cgvhd" not in _main_text(second)
        first.reload()  # a reload is a new session: the upload is gone with the old one
        wait_for_app(first)
        assert "synthetic" in _banner(first)
    finally:
        first.context.close()
        second.context.close()
