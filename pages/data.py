"""Data: bring your own cohort — upload, map the columns, validate, and use it in every view.

The upload's session state lives in :mod:`ui.upload`, the mapping form in
:mod:`ui.mapping_form`; the rules behind both in :mod:`analysis.ingest`.
Widget keys (for AppTest): those of both modules, plus ``data_save_mapping``,
``data_template``, ``data_dictionary``, ``data_dictionary_md``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.cohort.model import DATA_DIR
from analysis.ingest.loading import FILE_TYPES, MAX_FILE_MB
from analysis.ingest.mapping import to_json
from analysis.ingest.template import data_dictionary, template_csv
from ui.mapping_form import base_mapping, mapping_widgets
from ui.state import get_view
from ui.upload import BASE, CHECKED, MESSAGE, RAW, ROUND, checked_upload, read_upload, remove_data, validation_section
from ui.view_options import disclosure_settings

DICTIONARY_MD = DATA_DIR / "data_dictionary.md"


def _active_source() -> None:
    view = get_view()
    src = view.source
    if src.is_demo:
        st.markdown(f"**Active data:** {src.name}, N = {view.n_total}.")
    else:
        excluded = f", {src.n_excluded} row(s) excluded by validation" if src.n_excluded else ""
        st.markdown(f"**Active data:** your file **{src.name}**, N = {view.n_total}{excluded}.")
        st.button("Remove my data", key="data_remove", on_click=remove_data,
                  help="Forget the uploaded data in this session and return to the demo cohort.")


def _downloads() -> None:
    with st.expander("Template and data dictionary"):
        st.markdown("Fill in the template, or upload your registry export as it is and map its columns below.")
        a, b, c = st.columns(3)
        a.download_button("Template CSV", template_csv(), file_name="hsct2_cohort_template.csv", mime="text/csv",
                          key="data_template")
        dictionary = data_dictionary()
        b.download_button("Data dictionary (CSV)", dictionary.to_csv(index=False),
                          file_name="hsct2_data_dictionary.csv", mime="text/csv", key="data_dictionary")
        if DICTIONARY_MD.exists():
            c.download_button("Demo cohort dictionary (Markdown)", DICTIONARY_MD.read_text(encoding="utf-8"),
                              file_name="data_dictionary.md", mime="text/markdown", key="data_dictionary_md")
        st.dataframe(dictionary, hide_index=True, width="stretch")


st.title("Data")
st.caption("Run every view on your own transplant registry export. The file stays in your browser session: "
           "it is not shared with other users, not written to disk, and gone when you remove it or close the tab.")
message = st.session_state.pop(MESSAGE, None)
if message:
    getattr(st, message[0])(message[1])
_active_source()
disclosure_settings(get_view())
_downloads()

st.subheader("1 · Upload")
uploaded = st.file_uploader(
    f"CSV/TSV, Excel (.xlsx), SPSS (.sav), Stata (.dta) or Parquet, up to {MAX_FILE_MB} MB",
    type=list(FILE_TYPES), key=f"data_upload_{st.session_state.get(ROUND, 0)}",
)
if uploaded is None:
    for key in (RAW, BASE, CHECKED):  # the file was removed from the uploader: forget it
        st.session_state.pop(key, None)
    st.stop()

previous = st.session_state.get(RAW)
same_file = previous is not None and previous["key"][0] == uploaded.file_id
raw = read_upload(uploaded, st.session_state.get("data_sheet") if same_file else None)
if raw is None:
    st.stop()
if len(raw.sheet_names) > 1:
    if not same_file:
        st.session_state["data_sheet"] = raw.sheet
    st.selectbox("Sheet", list(raw.sheet_names), key="data_sheet")
raw_key = st.session_state[RAW]["key"]
st.caption(f"{raw.file_name}: {raw.description}; {raw.n_rows} rows, {raw.frame.shape[1]} columns.")
with st.expander("First rows of the file"):
    st.dataframe(raw.frame.head(10).astype(str), width="stretch")

st.subheader("2 · Map the columns")
base_mapping(raw, raw_key)
mapping = mapping_widgets(raw)
st.download_button("Save this mapping (.json)", to_json(mapping), key="data_save_mapping",
                   file_name=f"{Path(raw.file_name).stem}.mapping.json", mime="application/json",
                   help="Load it next time to map the same kind of file in one click.")
validation_section(raw, checked_upload(raw, raw_key, mapping), mapping)
