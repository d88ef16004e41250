"""Data: bring your own cohort — upload, map the columns, validate, and use it in every view.

Privacy: the uploaded bytes come from ``st.file_uploader`` (held in memory),
are read from memory, and what is derived from them lives only in this
user's ``st.session_state``: never in a ``st.cache_*`` shared between users,
never on disk. "Remove my data" or the end of the session forgets them.

Widget keys (for AppTest): ``data_upload_<n>`` (file), ``data_sheet``,
``data_mapping_file``, ``map_form``, ``map_unit``, ``map_date_order``,
``map_field_<field>``, ``map_ev_<field>_<column>_<value>``,
``map_lv_<field>_<column>_<value>``, ``map_categorical``, ``map_ignored``,
``data_choice``, ``data_use``, ``data_remove``, ``data_save_mapping``,
``data_template``, ``data_dictionary``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.cohort import STANDARD_LEVELS, CohortError
from analysis.cohort_template import data_dictionary, template_csv
from analysis.loading import FILE_TYPES, MAX_FILE_MB, LoadError, RawTable, read_data_file
from analysis.mapping import (
    ALL_FIELDS,
    CAUSE_LABELS,
    CAUSE_TOKENS,
    COVARIATE_FIELDS,
    DATE_ORDERS,
    EVENT_TOKENS,
    FIELD_LABELS,
    FORM_FIELDS,
    REQUIRED_BY_FORM,
    TIME_FORMS,
    TIME_UNITS,
    ColumnMapping,
    MappingError,
    from_json,
    to_json,
    value_key,
)
from analysis.mapping_proposal import observed_keys, propose_mapping, unit_in_name
from analysis.validation import ROW_NUMBERING, CheckedUpload, check_upload
from pages._context import clear_active_data, get_view, set_active_data

_RAW = "_upload_raw"
_BASE = "_upload_base"
_CHECKED = "_upload_checked"
_ROUND = "_upload_round"
_MESSAGE = "_upload_message"
NOT_MAPPED = "— not in my file —"
AS_IS = "(leave as it is)"
MAX_VALUES = 30
FORM_LABELS = {
    "durations": "Durations (time to death/last contact, time to relapse)",
    "dates": "Dates (HSCT2, relapse, death or last contact)",
    "cause": "One time and a cause code (0 censored, 1 relapse, 2 death without relapse)",
}
DICTIONARY_MD = Path(__file__).resolve().parent.parent / "data" / "data_dictionary.md"


# ------------------------------------------------------------------ state


def _forget_upload() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(("_upload_", "map_"))]:
        if key != _ROUND:
            del st.session_state[key]


def _remove_data() -> None:
    clear_active_data()
    _forget_upload()
    st.session_state[_ROUND] = st.session_state.get(_ROUND, 0) + 1  # a fresh, empty file uploader
    st.session_state[_MESSAGE] = ("info", "Your data were removed from this session; the demo cohort is active.")


def _read(uploaded, sheet: str | None) -> RawTable | None:
    """The upload as a table, read once per file and sheet and kept in this session only."""
    key = (uploaded.file_id, sheet)
    memo = st.session_state.get(_RAW)
    if memo is None or memo["key"] != key:
        try:
            table, error = read_data_file(uploaded.getvalue(), uploaded.name, sheet=sheet), None
        except LoadError as err:
            table, error = None, str(err)
        memo = st.session_state[_RAW] = {"key": key, "table": table, "error": error}
    if memo["error"]:
        st.error(f"{memo['error']} Your previous data stay active.")
        return None
    return memo["table"]


def _checked(raw: RawTable, raw_key, mapping: ColumnMapping) -> CheckedUpload:
    memo = st.session_state.get(_CHECKED)
    if memo is None or memo["key"] != (raw_key, mapping):
        memo = st.session_state[_CHECKED] = {"key": (raw_key, mapping), "checked": check_upload(raw.frame, mapping)}
    return memo["checked"]


# ------------------------------------------------------------------ the mapping widgets


def _set_widgets(mapping: ColumnMapping) -> None:
    """Put a (proposed or loaded) mapping into the widgets."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith("map_")]:
        del st.session_state[key]
    st.session_state["map_form"] = mapping.time_form
    st.session_state["map_unit"] = mapping.time_unit
    st.session_state["map_date_order"] = mapping.date_order
    for name in ALL_FIELDS:
        st.session_state[f"map_field_{name}"] = mapping.column(name) or NOT_MAPPED
    st.session_state["_upload_value_maps"] = (dict(mapping.event_values), dict(mapping.level_values))
    st.session_state["map_categorical"] = list(mapping.categorical)
    st.session_state["map_ignored"] = list(mapping.ignored)


def _base_mapping(raw: RawTable, raw_key) -> None:
    """Propose a mapping for a new file, or take a saved one the user loads."""
    saved = st.file_uploader("Load a saved mapping (.json)", type=["json"], key="data_mapping_file",
                             help="A mapping saved from this page: next month's export maps in one click.")
    source = ("file", saved.file_id) if saved is not None else ("proposal",)
    memo = st.session_state.get(_BASE)
    if memo is not None and memo["key"] == (raw_key, source):
        return
    if saved is not None:
        try:
            mapping = from_json(saved.getvalue())
        except MappingError as err:
            st.error(str(err))
            mapping = propose_mapping(raw.frame)
        else:
            missing = [c for c in mapping.mapped_columns if c not in raw.frame.columns]
            if missing:
                st.warning(f"The saved mapping names column(s) this file does not have: {', '.join(missing)}.")
    else:
        mapping = propose_mapping(raw.frame)
    _set_widgets(mapping)
    st.session_state[_BASE] = {"key": (raw_key, source)}


def _field_select(name: str, columns: list[str], required: bool) -> None:
    label = FIELD_LABELS.get(name, name) + (" *" if required else "")
    if st.session_state.get(f"map_field_{name}") not in (NOT_MAPPED, *columns):
        st.session_state[f"map_field_{name}"] = NOT_MAPPED
    st.selectbox(label, [NOT_MAPPED, *columns], key=f"map_field_{name}")


def _value_selects(raw: RawTable, name: str, column: str, codes: dict, saved: dict[str, object],
                   defaults: dict[str, object], none_label: str = "not mapped") -> dict[str, object]:
    """One selectbox per distinct value of ``column``; returns {value key: chosen code}."""
    keys = observed_keys(raw.frame[column], limit=MAX_VALUES)
    shown = {value_key(v): v for v in pd.unique(raw.frame[column].dropna())}
    if len(keys) >= MAX_VALUES:
        st.caption(f"{column} has more than {MAX_VALUES} different values; only the first {MAX_VALUES} are listed.")
    chosen: dict[str, object] = {}
    options = [None, *codes]
    cells = st.columns(3)
    for i, key in enumerate(keys):
        widget = f"map_{'lv' if name in STANDARD_LEVELS else 'ev'}_{name}_{column}_{key}"
        if widget not in st.session_state:
            st.session_state[widget] = saved.get(key, defaults.get(key))
        if st.session_state[widget] not in options:
            st.session_state[widget] = None
        with cells[i % 3]:
            value = st.selectbox(f"“{shown.get(key, key)}”", options, key=widget, placeholder=none_label,
                                 format_func=lambda c: none_label if c is None else codes[c])
        if value is not None:
            chosen[key] = value
    return chosen


def _mapping_widgets(raw: RawTable) -> ColumnMapping:
    """The mapping as the widgets describe it."""
    columns = [str(c) for c in raw.frame.columns]
    state = st.session_state
    st.radio("How does your file give the times?", TIME_FORMS, key="map_form", format_func=FORM_LABELS.get)
    form = state["map_form"]
    required = set(REQUIRED_BY_FORM[form])
    left, right = st.columns(2)
    with left:
        _field_select("patient_id", columns, False)
        for name in FORM_FIELDS[form]:
            _field_select(name, columns, name in required)
    with right:
        if form == "dates":
            st.selectbox("Date order for dates like 03/04/2020", DATE_ORDERS, key="map_date_order",
                         help="auto: decided from the values; day first when they cannot tell.")
        else:
            st.selectbox("Unit of the time columns", [None, *TIME_UNITS], key="map_unit", format_func=_unit_label,
                         help="Results are always shown in months.")
        st.caption("Fields marked * are required. Every column not mapped becomes a covariate to filter on, "
                   "group by and put in a Cox model.")
    with st.expander("Standard covariates (age, sex, lineage, …)",
                     expanded=any(state.get(f"map_field_{c}") != NOT_MAPPED for c in COVARIATE_FIELDS)):
        cells = st.columns(3)
        for i, name in enumerate(COVARIATE_FIELDS):
            with cells[i % 3]:
                _field_select(name, columns, False)
    chosen = {name: state[f"map_field_{name}"] for name in ALL_FIELDS
              if state.get(f"map_field_{name}", NOT_MAPPED) != NOT_MAPPED}
    saved_events, saved_levels = state.get("_upload_value_maps", ({}, {}))
    events: dict[str, dict] = {}
    levels: dict[str, dict] = {}
    event_fields = ("cause",) if form == "cause" else tuple(f for f in ("death", "relapse") if f in FORM_FIELDS[form])
    for name in event_fields:
        if name in chosen:
            codes = CAUSE_LABELS if name == "cause" else {1: "event (1)", 0: "no event (0)"}
            tokens = CAUSE_TOKENS if name == "cause" else EVENT_TOKENS
            with st.expander(f"Values of {chosen[name]} → {FIELD_LABELS[name]}", expanded=True):
                events[name] = _value_selects(raw, name, chosen[name], codes, dict(saved_events.get(name, ())),
                                              tokens)
    for name, standard in STANDARD_LEVELS.items():
        if name in chosen:
            codes = {level: level for level in standard}
            with st.expander(f"Values of {chosen[name]} → {FIELD_LABELS[name]}"):
                levels[name] = _value_selects(raw, name, chosen[name], codes, dict(saved_levels.get(name, ())),
                                              {value_key(level): level for level in standard}, AS_IS)
    free = [c for c in columns if c not in chosen.values()]
    numeric = [c for c in free if pd.to_numeric(raw.frame[c], errors="coerce").notna().sum()
               == raw.frame[c].notna().sum()]
    state["map_categorical"] = [c for c in state.get("map_categorical", []) if c in numeric]
    state["map_ignored"] = [c for c in state.get("map_ignored", []) if c in free]
    a, b = st.columns(2)
    a.multiselect("Numeric columns that are categories", numeric, key="map_categorical",
                  help="e.g. centre codes 1, 2, 3: groups, not quantities.")
    b.multiselect("Columns to leave out", free, key="map_ignored",
                  help="e.g. names or other identifiers you do not want in the session.")
    unit = state.get("map_unit") if form != "dates" else _unit_for_dates(chosen)
    return ColumnMapping(columns=chosen, time_form=form, time_unit=unit, date_order=state["map_date_order"],
                         event_values={f: v for f, v in events.items() if v},
                         level_values={f: v for f, v in levels.items() if v},
                         categorical=tuple(state["map_categorical"]), ignored=tuple(state["map_ignored"]))


def _unit_for_dates(chosen: dict[str, str]) -> str | None:
    """With dates no unit is needed, except for an HSCT1 → relapse interval without one in its name."""
    column = chosen.get("months_hsct1_to_relapse")
    if column is None or unit_in_name(column):
        return None
    return st.selectbox("Unit of the HSCT1 → relapse interval", [None, *TIME_UNITS], key="map_unit",
                        format_func=_unit_label)


def _unit_label(unit: str | None) -> str:
    return "— choose the unit —" if unit is None else unit


# ------------------------------------------------------------------ validation and use


def _use(raw: RawTable, checked: CheckedUpload, exclude: bool, mapping: ColumnMapping) -> None:
    try:
        cohort = checked.cohort(exclude_flagged=exclude)
    except CohortError as err:
        st.session_state[_MESSAGE] = ("error", str(err))
        return
    note = None
    if mapping.time_form == "cause":
        note = "One time and a cause code: overall survival after relapse is not available."
    set_active_data(cohort, name=raw.file_name, n_excluded=checked.n_flagged if exclude else 0, note=note)
    excluded = f", {checked.n_flagged} flagged row(s) excluded" if exclude and checked.n_flagged else ""
    st.session_state[_MESSAGE] = ("success", f"{raw.file_name} is now the active data: N = {len(cohort)}{excluded}.")


def _validation(raw: RawTable, checked: CheckedUpload, mapping: ColumnMapping) -> None:
    st.subheader("3 · Check")
    problems = checked.problems
    for note in (*raw.notes, *checked.mapped.notes):
        st.caption(note)
    if checked.is_valid:
        st.success(f"No problems found in the {checked.n_rows} rows.")
        st.button("Use these data", key="data_use", type="primary", on_click=_use,
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
                  type="primary", on_click=_use, args=(raw, checked, True, mapping))


# ------------------------------------------------------------------ page


def _active_source() -> None:
    view = get_view()
    src = view.source
    if src.is_demo:
        st.markdown(f"**Active data:** {src.name}, N = {view.n_total}.")
    else:
        excluded = f", {src.n_excluded} row(s) excluded by validation" if src.n_excluded else ""
        st.markdown(f"**Active data:** your file **{src.name}**, N = {view.n_total}{excluded}.")
        st.button("Remove my data", key="data_remove", on_click=_remove_data,
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
message = st.session_state.pop(_MESSAGE, None)
if message:
    getattr(st, message[0])(message[1])
_active_source()
_downloads()

st.subheader("1 · Upload")
uploaded = st.file_uploader(
    f"CSV/TSV, Excel (.xlsx), SPSS (.sav), Stata (.dta) or Parquet, up to {MAX_FILE_MB} MB",
    type=list(FILE_TYPES), key=f"data_upload_{st.session_state.get(_ROUND, 0)}",
)
if uploaded is None:
    for key in (_RAW, _BASE, _CHECKED):  # the file was removed from the uploader: forget it
        st.session_state.pop(key, None)
    st.stop()

previous = st.session_state.get(_RAW)
same_file = previous is not None and previous["key"][0] == uploaded.file_id
raw = _read(uploaded, st.session_state.get("data_sheet") if same_file else None)
if raw is None:
    st.stop()
if len(raw.sheet_names) > 1:
    if not same_file:
        st.session_state["data_sheet"] = raw.sheet
    st.selectbox("Sheet", list(raw.sheet_names), key="data_sheet")
raw_key = st.session_state[_RAW]["key"]
st.caption(f"{raw.file_name}: {raw.description}; {raw.n_rows} rows, {raw.frame.shape[1]} columns.")
with st.expander("First rows of the file"):
    st.dataframe(raw.frame.head(10).astype(str), width="stretch")

st.subheader("2 · Map the columns")
_base_mapping(raw, raw_key)
mapping = _mapping_widgets(raw)
st.download_button("Save this mapping (.json)", to_json(mapping), key="data_save_mapping",
                   file_name=f"{Path(raw.file_name).stem}.mapping.json", mime="application/json",
                   help="Load it next time to map the same kind of file in one click.")
_validation(raw, _checked(raw, raw_key, mapping), mapping)
