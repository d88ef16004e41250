"""An upload in this session: read once, checked once per mapping, used or removed.

Privacy: the uploaded bytes come from ``st.file_uploader`` (held in memory),
are read from memory, and what is derived from them lives only in this
user's ``st.session_state``: never in a ``st.cache_*`` shared between users,
never on disk. Once the user keeps the data, only the cohort stays: the file's
bytes are dropped from Streamlit's upload store, the table read from them and
the check are forgotten, and the uploader starts afresh. (Streamlit frees its
upload store only when a session shuts down, not when a closed tab's session
expires.) "Remove my data" or the end of the session forgets the cohort.

Text from the file (its name, column names, values, the notes about them) is
shown escaped (:func:`analysis.text.escape_markdown`) or in data frames, never
as Markdown; the problem list download is made formula-safe.

Widget keys (for AppTest): ``data_upload_<n>`` (file), ``data_sheet``,
``data_choice``, ``data_use``, ``data_remove``, ``data_problems``,
``data_confirm_levels`` (the assumed category readings are right),
``data_exclude_<i>`` (leave out the rows of warning kind ``i``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analysis.cohort.model import CohortError
from analysis.ingest.levels import level_assumptions
from analysis.ingest.loading import LoadError, RawTable, read_data_file
from analysis.ingest.mapping import ColumnMapping
from analysis.ingest.validation import ROW_NUMBERING, CheckedUpload, check_upload
from analysis.text import escape_markdown, formula_safe_frame
from ui.state import clear_active_data, set_active_data

RAW = "_upload_raw"
BASE = "_upload_base"
CHECKED = "_upload_checked"
ROUND = "_upload_round"
MESSAGE = "_upload_message"
ASSUMED = "_upload_assumed"
CONFIRM = "data_confirm_levels"


def forget_upload() -> None:
    for key in [k for k in st.session_state if isinstance(k, str)
                and k.startswith(("_upload_", "map_", CONFIRM, "data_exclude_"))]:
        if key != ROUND:
            del st.session_state[key]


def _fresh_uploader() -> None:
    """Forget the upload and its bytes in this session; the next run shows an empty file uploader."""
    forget_upload()
    ctx = get_script_run_ctx()
    if ctx is not None:
        ctx.uploaded_file_mgr.remove_session_files(ctx.session_id)
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1


def remove_data() -> None:
    clear_active_data()
    _fresh_uploader()
    st.session_state[MESSAGE] = ("info", "Your data were removed from this session; the demo cohort is active.")


def read_upload(uploaded, sheet: str | None) -> RawTable | None:
    """The upload as a table, read once per file and sheet and kept in this session only."""
    key = (uploaded.file_id, sheet)
    memo = st.session_state.get(RAW)
    if memo is None or memo["key"] != key:
        try:
            table = read_data_file(uploaded.getvalue(), uploaded.name, sheet=sheet)
            error, sheets = None, table.sheet_names
        except LoadError as err:
            table, error, sheets = None, str(err), err.sheet_names
        memo = st.session_state[RAW] = {"key": key, "table": table, "error": error, "sheets": sheets}
    if memo["error"]:
        st.error(escape_markdown(f"{memo['error']} Your previous data stay active."))
        return None
    return memo["table"]


def sheet_choice(raw: RawTable | None, same_file: bool) -> None:
    """The sheet selector of a workbook, also when the sheet first read could not be used."""
    sheets = list(st.session_state[RAW]["sheets"])
    if len(sheets) < 2:
        return
    if not same_file or st.session_state.get("data_sheet") not in sheets:
        st.session_state["data_sheet"] = raw.sheet if raw is not None else sheets[0]
    st.selectbox("Sheet", sheets, key="data_sheet", help="The workbook's sheet that holds one row per patient.")


def first_rows(raw: RawTable, n: int = 10) -> pd.DataFrame:
    """The file's first rows as text, whatever the cells hold (bytes, nested values, very long text)."""
    def text(value: object) -> str:
        shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        return shown if len(shown) <= 200 else shown[:200] + "…"

    return raw.frame.head(n).map(text)


def checked_upload(raw: RawTable, raw_key, mapping: ColumnMapping) -> CheckedUpload:
    memo = st.session_state.get(CHECKED)
    if memo is None or memo["key"] != (raw_key, mapping):
        memo = st.session_state[CHECKED] = {"key": (raw_key, mapping), "checked": check_upload(raw.frame, mapping)}
    return memo["checked"]


def use_data(raw: RawTable, checked: CheckedUpload, exclude: bool, mapping: ColumnMapping,
             excluded_kinds: tuple[str, ...] = ()) -> None:
    try:
        cohort = checked.cohort(exclude_flagged=exclude, exclude_warnings=excluded_kinds)
    except CohortError as err:
        st.session_state[MESSAGE] = ("error", str(err))
        return
    note = None
    if mapping.time_form == "cause":
        note = "One time and a cause code: overall survival after relapse is not available."
    n_excluded = checked.n_rows - len(cohort)
    set_active_data(cohort, name=raw.file_name, n_excluded=n_excluded, note=note)
    _fresh_uploader()  # only the cohort stays: not the file's bytes, nor the table and the check made from them
    excluded = f", {n_excluded} row(s) excluded" if n_excluded else ""
    st.session_state[MESSAGE] = ("success", f"{raw.file_name} is now the active data: N = {len(cohort)}{excluded}.")


def _assumptions_confirmed(raw: RawTable, mapping: ColumnMapping) -> bool:
    """The category values read from common spellings, for the user to confirm; True when nothing is assumed."""
    assumed = level_assumptions(raw.frame, mapping.column_of, {f: dict(v) for f, v in mapping.level_values})
    signature = tuple(map(tuple, assumed[["column", "value", "level"]].to_numpy()))
    if st.session_state.get(ASSUMED) != signature:
        st.session_state[ASSUMED] = signature
        st.session_state[CONFIRM] = False  # new readings: confirm them again
    if assumed.empty:
        return True
    st.info(f"{len(assumed)} category value(s) were read as the standard levels from common spellings. "
            "Check them; change any under “Values of …” above.")
    st.dataframe(assumed.rename(columns={"covariate": "Covariate", "column": "Column", "value": "Value in the file",
                                         "level": "Read as", "rows": "Rows"}).drop(columns="field"),
                 hide_index=True, width="stretch")
    return st.checkbox("These readings are right", key=CONFIRM)


def _warning_kinds(checked: CheckedUpload) -> tuple[str, ...]:
    """Each kind of unusual value once, with its count and a checkbox to leave those rows out."""
    excluded = []
    for i, group in enumerate(checked.warning_groups.itertuples(index=False)):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.warning(escape_markdown(f"{group.column}: {group.rows} row(s) {group.problem} (values {group.values}). "
                                     "Possible, so they are kept."))
        if right.checkbox(f"Exclude these {group.rows} row(s)", key=f"data_exclude_{i}"):
            excluded.append(str(group.key))
    return tuple(excluded)


def _problem_table(raw: RawTable, problems: pd.DataFrame) -> None:
    st.dataframe(problems.rename(columns={"row": "Row", "column": "Column", "value": "Value", "problem": "Problem"}),
                 hide_index=True, width="stretch", height=min(400, 36 + 35 * len(problems)))
    st.caption(ROW_NUMBERING)
    st.download_button("Download the problem list (CSV)", formula_safe_frame(problems).to_csv(index=False),
                       key="data_problems", file_name=f"{Path(raw.file_name).stem}.problems.csv", mime="text/csv")


def validation_section(raw: RawTable, checked: CheckedUpload, mapping: ColumnMapping) -> None:
    st.subheader("3 · Check")
    problems = checked.problems
    for note in (*raw.notes, *checked.mapped.notes):
        st.caption(escape_markdown(note))
    for warning in raw.warnings:
        st.warning(escape_markdown(warning))
    confirmed = _assumptions_confirmed(raw, mapping)
    kinds = _warning_kinds(checked)
    confirm_first = None if confirmed else "Tick “These readings are right” above first."
    if checked.is_valid:
        st.success(f"No problems found in the {checked.n_rows} rows." if checked.warnings.empty else
                   f"No impossible values in the {checked.n_rows} rows; the unusual ones above are kept unless "
                   "you exclude them.")
        n_kept = checked.n_rows - len(checked.warned_rows(kinds))
        st.button("Use these data" if not kinds else f"Use {n_kept} rows", key="data_use", type="primary",
                  on_click=use_data, args=(raw, checked, False, mapping, kinds), disabled=not confirmed,
                  help=confirm_first)
        return
    if not checked.column_problems.empty:
        st.error(escape_markdown("The mapping is incomplete: " + "; ".join(
            f"{r.column}: {r.problem}" for r in checked.column_problems.itertuples()) + "."))
    if problems["row"].notna().any():
        st.warning(f"{int(problems['row'].notna().sum())} problem(s) in {checked.n_flagged} of "
                   f"{checked.n_rows} rows.")
    _problem_table(raw, problems)
    if not checked.can_exclude:
        return
    choice = st.radio("What now?", ["fix", "exclude"], key="data_choice", horizontal=True,
                      format_func=lambda c: "Fix the file and upload it again" if c == "fix"
                      else f"Use the data without the {checked.n_flagged} flagged row(s)")
    if choice == "exclude":
        left_out = len(set(checked.flagged_rows) | set(checked.warned_rows(kinds)))
        st.button(f"Use {checked.n_rows - left_out} rows, exclude {left_out}", key="data_use",
                  type="primary", on_click=use_data, args=(raw, checked, True, mapping, kinds), disabled=not confirmed,
                  help=confirm_first)
