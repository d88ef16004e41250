"""The Data page through AppTest: upload, map, validate, use, remove — and privacy between sessions."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from analysis.cohort.model import load_demo_cohort
from analysis.ingest.mapping import from_json, to_json
from tests.apptest_support import shown
from tests.test_architecture import _cache_uses, _cached_functions

ROOT = Path(__file__).resolve().parent.parent
TRANSPLANT = ROOT / "tests" / "fixtures" / "transplant"
PAGES = ROOT / "pages"
NOT_MAPPED = "— not in my file —"  # pages/data.py (importing a page would run it)


def _upload(at, name: str, content: bytes, round_: int = 0):
    at.file_uploader(key=f"data_upload_{round_}").set_value((name, content, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def _banner(at) -> str:
    return shown(at.info[0].value)


def _texts(elements) -> list[str]:
    return [shown(e.value) for e in elements]


def _messy_csv() -> bytes:
    return (
        b"ID;OS_days;status;time_to_relapse_days;relapsed;age;gender\n"
        b"1;365;dead;100;yes;10;m\n"
        b"2;-5;alive;;no;8;f\n"
        b"3;400;alive;300;yes;12;f\n"
        b"4;500;alive;;no;9;m\n"
        b"5;100;maybe;;no;12;f\n"
    )


@pytest.fixture
def data_page(open_app):
    return open_app("data")


def test_renders_on_the_demo_cohort(data_page):
    at = data_page
    assert not at.exception
    assert "synthetic" in _banner(at)
    assert any("Active data:** Demo cohort" in t for t in _texts(at.markdown))
    assert "patient_id" in at.dataframe[0].value["field"].tolist()  # the data dictionary
    assert not at.main.button  # nothing to use or remove yet


def test_a_canonical_file_is_used_as_it_is(data_page):
    demo = load_demo_cohort()
    at = _upload(data_page, "mine.csv", demo.to_csv(index=False).encode())
    assert "No problems found in the 75 rows." in _texts(at.success)
    assert at.selectbox(key="map_unit").value == "months"
    at.button(key="data_use").click().run()
    assert _banner(at).startswith("**Your data: mine.csv**: N = 75")
    pd.testing.assert_frame_equal(at.session_state["_active_data"].cohort, demo)


def test_a_registry_export_is_mapped_and_used(data_page):
    at = _upload(data_page, "cgvhd.tsv", (TRANSPLANT / "cgvhd.tsv").read_bytes())
    assert at.selectbox(key="map_field_followup_months").value == "survtime"
    assert at.selectbox(key="map_field_cgvhd_months").value == "cgvhtime"  # the GVHD fields are proposed too
    assert _texts(at.error) == ["The mapping is incomplete: survtime, reltime, agvhtime, cgvhtime: choose the time "
                                "unit of these columns (days, weeks, months or years)."]
    at.selectbox(key="map_unit").set_value("years").run()
    # Adults mapped as age at HSCT2: unusual for this tool, possible, so kept; one warning for the column.
    assert _texts(at.warning) == ["age: 90 row(s) outside the usual range 0–30 years (values 31–65). "
                                  "Possible, so they are kept."]
    assert ("No impossible values in the 100 rows; the unusual ones above are kept unless you exclude them."
            in _texts(at.success))
    at.checkbox(key="data_exclude_0").check().run()
    assert at.button(key="data_use").label == "Use 10 rows"
    at.checkbox(key="data_exclude_0").uncheck().run()
    at.button(key="data_use").click().run()
    assert _banner(at).startswith("**Your data: cgvhd.tsv**: N = 100")
    cohort = at.session_state["_active_data"].cohort
    assert cohort["followup_months"].max() == pytest.approx(4.95 * 12)
    assert cohort["age_years"].max() == 65 and "dx" in cohort


def test_unusual_values_can_be_excluded_in_one_click(data_page):
    at = _upload(data_page, "cgvhd.tsv", (TRANSPLANT / "cgvhd.tsv").read_bytes())
    at.selectbox(key="map_unit").set_value("years").run()
    at.checkbox(key="data_exclude_0").check().run()
    at.button(key="data_use").click().run()
    assert "N = 10, 90 row(s) excluded by validation" in _banner(at)
    assert at.session_state["_active_data"].cohort["age_years"].max() <= 30


def test_flagged_rows_can_be_excluded_and_the_count_shows_on_every_page(data_page):
    at = _upload(data_page, "messy.csv", _messy_csv())
    at.selectbox(key="map_unit").set_value("days").run()
    problems = at.dataframe[-1].value
    assert problems[["Row", "Column", "Value"]].astype(str).values.tolist() == [
        ["2", "OS_days", "-5"], ["5", "status", "maybe"]]
    assert any("first row below the column names" in c for c in _texts(at.caption))
    assert at.radio(key="data_choice").value == "fix"
    assert not [b for b in at.button if b.key == "data_use"]
    at.radio(key="data_choice").set_value("exclude").run()
    assert at.button(key="data_use").disabled  # gender m/f was read as male/female: confirm it first
    assert at.dataframe[-2].value[["Value in the file", "Read as"]].values.tolist() == [["f", "female"], ["m", "male"]]
    at.checkbox(key="data_confirm_levels").check().run()
    at.button(key="data_use").click().run()
    assert "2 row(s) excluded by validation" in _banner(at)
    for page in ("overview", "survival", "relapse", "risk_factors"):
        at.switch_page(f"pages/{page}.py")
        at.run()
        assert not at.exception, page
        assert "**Your data: messy.csv**: N = 3, 2 row(s) excluded by validation" in _banner(at), page


def test_a_bad_file_keeps_the_previous_data(data_page):
    at = _upload(data_page, "cgvhd.parquet", (TRANSPLANT / "cgvhd.parquet").read_bytes())
    at.selectbox(key="map_unit").set_value("years").run()
    at.selectbox(key="map_field_age_years").set_value(NOT_MAPPED).run()
    at.button(key="data_use").click().run()
    assert "cgvhd.parquet" in _banner(at)
    for name, content, message in [
        ("junk.csv", bytes(range(256)) * 20, "neither text (CSV/TSV) nor an Excel"),
        ("empty.xlsx", b"", "is empty"),
        ("locked.xlsx", (ROOT / "tests/fixtures/upload/encrypted.xlsx").read_bytes(), "password-protected"),
        ("one.csv", b"a\n1\n2\n", "has only one column"),
    ]:
        _upload(at, name, content, round_=1)  # using the data started a fresh uploader
        errors = _texts(at.error)
        assert len(errors) == 1 and message in errors[0] and errors[0].endswith("Your previous data stay active.")
        assert "cgvhd.parquet" in _banner(at)


def test_cause_coded_file_with_a_saved_mapping(data_page):
    at = _upload(data_page, "bmt.csv", (TRANSPLANT / "bmt.csv").read_bytes())
    assert at.radio(key="map_form").value == "cause"
    assert at.selectbox(key="map_ev_cause_status_1").value == 1  # the proposal: 1 = relapse
    at.file_uploader(key="data_mapping_file").set_value(
        ("bmt.mapping.json", (TRANSPLANT / "bmt.mapping.json").read_bytes(), "application/json")).run()
    assert at.selectbox(key="map_ev_cause_status_1").value == 2  # the saved mapping: 1 = TRM
    assert at.selectbox(key="map_unit").value == "months"
    assert at.multiselect(key="map_categorical").value == ["dis"]
    at.button(key="data_use").click().run()
    assert "overall survival after relapse is not available" in _banner(at)
    cohort = at.session_state["_active_data"].cohort
    relapses = (pd.read_csv(TRANSPLANT / "bmt.csv")["status"] == 2).sum()
    assert cohort["death"].isna().sum() == relapses and cohort["relapse"].sum() == relapses


def test_event_values_can_be_remapped(data_page):
    at = _upload(data_page, "bmt.csv", (TRANSPLANT / "bmt.csv").read_bytes())
    at.selectbox(key="map_unit").set_value("months").run()
    status = pd.read_csv(TRANSPLANT / "bmt.csv")["status"]
    before = at.session_state["_upload_checked"]["checked"].mapped.frame["relapse"].sum()
    at.selectbox(key="map_ev_cause_status_1").set_value(2).run()
    at.selectbox(key="map_ev_cause_status_2").set_value(1).run()
    after = at.session_state["_upload_checked"]["checked"].mapped.frame["relapse"].sum()
    assert (before, after) == ((status == 1).sum(), (status == 2).sum())  # bmt: 1 = TRM, 2 = relapse
    at.selectbox(key="map_ev_cause_status_0").set_value(None).run()
    assert "value not mapped to an event code (0/1/2)" in set(at.dataframe[-1].value["Problem"])


def test_levels_time_form_categorical_and_ignored_columns(data_page):
    frame = pd.DataFrame({
        "pid": ["a", "b", "c"], "date_hsct2": ["01/02/2019", "05/06/2019", "07/08/2019"],
        "date_last_contact": ["10/02/2021", "05/06/2020", "07/08/2020"], "dead": ["no", "yes", "no"],
        "date_relapse": ["", "05/12/2019", ""], "lineage": ["T", "pre-B", "T/B"], "centre": [3, 4, 3],
        "name": ["Anna", "Ben", "Cem"],
    })
    at = _upload(data_page, "dates.csv", frame.to_csv(index=False).encode())
    assert at.radio(key="map_form").value == "dates"
    assert "not one of B-ALL, T-ALL" in set(at.dataframe[-1].value["Problem"])  # "T/B" is not recognised
    at.selectbox(key="map_lv_lineage_lineage_t/b").set_value("T-ALL").run()
    assert "No problems found in the 3 rows." in _texts(at.success)
    checked = at.session_state["_upload_checked"]["checked"]
    assert checked.mapped.frame["lineage"].tolist() == ["T-ALL", "B-ALL", "T-ALL"]
    day_first = checked.mapped.frame["followup_months"].iloc[0]
    at.selectbox(key="map_date_order").set_value("MDY").run()
    month_first = at.session_state["_upload_checked"]["checked"].mapped.frame["followup_months"].iloc[0]
    assert day_first != month_first
    at.multiselect(key="map_categorical").set_value(["centre"]).run()
    at.multiselect(key="map_ignored").set_value(["name"]).run()
    mapped = at.session_state["_upload_checked"]["checked"].mapped.frame
    assert mapped["centre"].tolist() == ["3", "4", "3"] and "name" not in mapped
    at.radio(key="map_form").set_value("durations").run()
    assert "required field" in " ".join(_texts(at.error))


def test_saved_mapping_matches_the_widgets(data_page):
    at = _upload(data_page, "messy.csv", _messy_csv())
    at.selectbox(key="map_unit").set_value("days").run()
    mapping = at.session_state["_upload_checked"]["key"][1]  # what the download button offers, as JSON
    assert mapping.time_unit == "days" and mapping.column("followup_months") == "OS_days"
    assert mapping.event_map("death") == {"dead": 1, "alive": 0}
    assert from_json(to_json(mapping)) == mapping


def test_excel_sheets_can_be_chosen(data_page):
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer) as writer:
        load_demo_cohort().to_excel(writer, sheet_name="cohort", index=False)
        pd.DataFrame({"note": ["made up"], "n": [1]}).to_excel(writer, sheet_name="readme", index=False)
    at = _upload(data_page, "book.xlsx", buffer.getvalue())
    assert at.selectbox(key="data_sheet").value == "cohort"
    assert "No problems found in the 75 rows." in _texts(at.success)
    at.selectbox(key="data_sheet").set_value("readme").run()
    assert "required field" in " ".join(_texts(at.error))


def test_remove_returns_to_the_demo(data_page):
    at = _upload(data_page, "mine.csv", load_demo_cohort().head(20).to_csv(index=False).encode())
    at.button(key="data_use").click().run()
    assert "mine.csv" in _banner(at)
    # once the data are in use, only the cohort stays: no table read from the file, no check, an empty uploader
    assert not any(k in at.session_state for k in ("_upload_raw", "_upload_checked", "_upload_base"))
    assert at.file_uploader(key="data_upload_1").value is None
    at.button(key="data_remove").click().run()
    assert "synthetic" in _banner(at)
    assert "_active_data" not in at.session_state
    assert not any(k.startswith("_upload_raw") for k in at.session_state)
    assert at.file_uploader(key="data_upload_2").value is None  # a fresh, empty uploader (after use, and remove)


def test_empty_filtered_cohort_does_not_break_the_page(data_page):
    at = data_page
    at.slider(key="flt_age").set_value((29.5, 29.5)).run()
    assert not at.exception
    assert any("Active data:" in t for t in _texts(at.markdown))


def test_two_sessions_do_not_see_each_others_data(open_app):
    """Two AppTest sessions in one process share every st.cache_*: a leak there would show here."""
    alice = open_app("data")
    bob = open_app("data")
    secret = load_demo_cohort().head(12).assign(patient_id=lambda d: "ALICE-" + d["patient_id"])
    _upload(alice, "alice.csv", secret.to_csv(index=False).encode())
    alice.button(key="data_use").click().run()
    assert "alice.csv" in _banner(alice)
    bob.run()
    bob.switch_page("pages/overview.py")
    bob.run()
    assert "synthetic" in _banner(bob)
    assert "_active_data" not in bob.session_state
    bob_state = " ".join(str(bob.session_state[k]) for k in bob.session_state)
    assert "ALICE-" not in bob_state
    # Alice still has hers; a new session starts on the demo.
    alice.switch_page("pages/overview.py")
    alice.run()
    assert "alice.csv" in _banner(alice)
    assert "synthetic" in _banner(open_app())


def test_uploads_are_never_cached_between_users():
    """No st.cache_* in the upload path but the public targets file (the frame caches only the demo cohort).

    ``published_targets`` takes no argument, so nothing of a session can reach its cache.
    """
    for path in (PAGES / "data.py", *sorted((PAGES.parent / "ui").glob("*.py"))):
        cached = _cached_functions(path)
        assert cached in ([], [("published_targets", 0)]), path
        assert _cache_uses(path) == len(cached), path


@pytest.mark.parametrize("page", ["overview", "survival", "relapse", "risk_factors"])
@pytest.mark.parametrize("file_name", ["bmt.sav", "cgvhd.xlsx"])
def test_the_views_run_on_public_transplant_data(open_app, file_name, page):
    """The acceptance files, mapped in the UI with their saved mappings, drive every view."""
    at = _upload(open_app("data"), file_name, (TRANSPLANT / file_name).read_bytes())
    mapping = TRANSPLANT / f"{file_name.split('.')[0]}.mapping.json"
    at.file_uploader(key="data_mapping_file").set_value((mapping.name, mapping.read_bytes(), "application/json")).run()
    at.button(key="data_use").click().run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception[0].message
    assert f"Your data: {file_name}" in _banner(at)
    if page == "survival":
        endpoints = at.radio(key="survival.endpoint").options
        assert ("OS" in endpoints) == file_name.startswith("cgvhd")  # cause-coded data have no OS after relapse
