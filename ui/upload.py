"""An upload in this session: read once, checked once per mapping, used or removed.

Privacy: the uploaded bytes come from ``st.file_uploader`` (held in memory),
are read from memory, and what is derived from them lives only in this
user's ``st.session_state``: never in a ``st.cache_*`` shared between users,
never on disk. "Remove my data" or the end of the session forgets them.

Widget keys (for AppTest): ``data_upload_<n>`` (file), ``data_sheet``,
``data_choice``, ``data_use``, ``data_remove``, ``data_problems``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.cohort.model import CohortError
from analysis.ingest.loading import LoadError, RawTable, read_data_file
from analysis.ingest.mapping import ColumnMapping
from analysis.ingest.validation import ROW_NUMBERING, CheckedUpload, check_upload
from ui.state import clear_active_data, set_active_data

RAW = "_upload_raw"
BASE = "_upload_base"
CHECKED = "_upload_checked"
ROUND = "_upload_round"
MESSAGE = "_upload_message"


def forget_upload() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(("_upload_", "map_"))]:
        if key != ROUND:
            del st.session_state[key]


def remove_data() -> None:
    clear_active_data()
    forget_upload()
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1  # a fresh, empty file uploader
    st.session_state[MESSAGE] = ("info", "Your data were removed from this session; the demo cohort is active.")


def read_upload(uploaded, sheet: str | None) -> RawTable | None:
    """The upload as a table, read once per file and sheet and kept in this session only."""
    key = (uploaded.file_id, sheet)
    memo = st.session_state.get(RAW)
    if memo is None or memo["key"] != key:
        try:
            table, error = read_data_file(uploaded.getvalue(), uploaded.name, sheet=sheet), None
        except LoadError as err:
            table, error = None, str(err)
        memo = st.session_state[RAW] = {"key": key, "table": table, "error": error}
    if memo["error"]:
        st.error(f"{memo['error']} Your previous data stay active.")
        return None
    return memo["table"]


def checked_upload(raw: RawTable, raw_key, mapping: ColumnMapping) -> CheckedUpload:
    memo = st.session_state.get(CHECKED)
    if memo is None or memo["key"] != (raw_key, mapping):
        memo = st.session_state[CHECKED] = {"key": (raw_key, mapping), "checked": check_upload(raw.frame, mapping)}
    return memo["checked"]


def use_data(raw: RawTable, checked: CheckedUpload, exclude: bool, mapping: ColumnMapping) -> None:
    try:
        cohort = checked.cohort(exclude_flagged=exclude)
    except CohortError as err:
        st.session_state[MESSAGE] = ("error", str(err))
        return
    note = None
    if mapping.time_form == "cause":
        note = "One time and a cause code: overall survival after relapse is not available."
    set_active_data(cohort, name=raw.file_name, n_excluded=checked.n_flagged if exclude else 0, note=note)
    excluded = f", {checked.n_flagged} flagged row(s) excluded" if exclude and checked.n_flagged else ""
    st.session_state[MESSAGE] = ("success", f"{raw.file_name} is now the active data: N = {len(cohort)}{excluded}.")


def validation_section(raw: RawTable, checked: CheckedUpload, mapping: ColumnMapping) -> None:
    st.subheader("3 · Check")
    problems = checked.problems
    for note in (*raw.notes, *checked.mapped.notes):
        st.caption(note)
    if checked.is_valid:
        st.success(f"No problems found in the {checked.n_rows} rows.")
        st.button("Use these data", key="data_use", type="primary", on_click=use_data,
                  args=(raw, checked, False, mapping))
        return
    if not checked.column_problems.empty:
        st.error("The mapping is incomplete: " + "; ".join(
            f"{r.column}: {r.problem}" for r in checked.column_problems.itertuples()) + ".")
    if problems["row"].notna().any():
        st.warning(f"{int(problems['row'].notna().sum())} problem(s) in {checked.n_flagged} of "
                   f"{checked.n_rows} rows.")
    st.dataframe(problems.rename(columns={"row": "Row", "column": "Column", "value": "Value", "problem": "Problem"}),
                 hide_index=True, width="stretch", height=min(400, 36 + 35 * len(problems)))
    st.caption(ROW_NUMBERING)
    st.download_button("Download the problem list (CSV)", problems.to_csv(index=False), key="data_problems",
                       file_name=f"{Path(raw.file_name).stem}.problems.csv", mime="text/csv")
    if not checked.can_exclude:
        return
    choice = st.radio("What now?", ["fix", "exclude"], key="data_choice", horizontal=True,
                      format_func=lambda c: "Fix the file and upload it again" if c == "fix"
                      else f"Use the data without the {checked.n_flagged} flagged row(s)")
    if choice == "exclude":
        st.button(f"Use {checked.n_rows - checked.n_flagged} rows, exclude {checked.n_flagged}", key="data_use",
                  type="primary", on_click=use_data, args=(raw, checked, True, mapping))
