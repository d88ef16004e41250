"""The Data page's mapping form: one widget per field and per distinct value.

The rules (which fields, which codes, which columns are numbers) come from
:mod:`analysis.ingest.form`; this module only draws them and reads them back as a
:class:`~analysis.ingest.mapping.ColumnMapping`.

Widget keys (for AppTest): ``data_mapping_file``, ``map_form``, ``map_unit``,
``map_date_order``, ``map_field_<field>``, ``map_ev_<field>_<column>_<value>``,
``map_lv_<field>_<column>_<value>``, ``map_categorical``, ``map_ignored``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.cohort.model import STANDARD_LEVELS
from analysis.ingest.form import FORM_LABELS, event_fields, needs_unit_for_dates, numeric_columns, value_choices
from analysis.ingest.levels import is_assumption
from analysis.ingest.loading import RawTable
from analysis.ingest.mapping import (
    ALL_FIELDS,
    COVARIATE_FIELDS,
    DATE_ORDERS,
    FIELD_LABELS,
    FORM_FIELDS,
    REQUIRED_BY_FORM,
    TIME_FORMS,
    TIME_UNITS,
    ColumnMapping,
    MappingError,
    from_json,
)
from analysis.ingest.post_transplant import EVENT_FIELDS as POST_HSCT2_EVENTS
from analysis.ingest.post_transplant import optional_fields
from analysis.ingest.proposal import propose_mapping
from analysis.ingest.values import observed_keys, value_key
from analysis.text import escape_markdown
from ui.upload import BASE

NOT_MAPPED = "— not in my file —"
AS_IS = "(leave as it is)"
MAX_VALUES = 30


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


def base_mapping(raw: RawTable, raw_key) -> None:
    """Propose a mapping for a new file, or take a saved one the user loads."""
    saved = st.file_uploader("Load a saved mapping (.json)", type=["json"], key="data_mapping_file",
                             help="A mapping saved from this page: next month's export maps in one click.")
    source = ("file", saved.file_id) if saved is not None else ("proposal",)
    memo = st.session_state.get(BASE)
    if memo is not None and memo["key"] == (raw_key, source):
        return
    if saved is not None:
        try:
            mapping = from_json(saved.getvalue())
        except MappingError as err:
            st.error(escape_markdown(str(err)))
            mapping = propose_mapping(raw.frame)
        else:
            missing = [c for c in mapping.mapped_columns if c not in raw.frame.columns]
            if missing:
                st.warning(escape_markdown(f"The saved mapping names column(s) this file does not have: "
                                           f"{', '.join(missing)}."))
    else:
        mapping = propose_mapping(raw.frame)
    _set_widgets(mapping)
    st.session_state[BASE] = {"key": (raw_key, source)}


def _field_select(name: str, columns: list[str], required: bool) -> None:
    label = FIELD_LABELS.get(name, name) + (" *" if required else "")
    if st.session_state.get(f"map_field_{name}") not in (NOT_MAPPED, *columns):
        st.session_state[f"map_field_{name}"] = NOT_MAPPED
    st.selectbox(label, [NOT_MAPPED, *columns], key=f"map_field_{name}")


def _value_selects(raw: RawTable, name: str, column: str, saved: dict[str, object],
                   none_label: str = "not mapped") -> dict[str, object]:
    """One selectbox per distinct value of ``column``; returns {value key: chosen code}."""
    codes, defaults = value_choices(name)
    keys = observed_keys(raw.frame[column], limit=MAX_VALUES)
    shown = {value_key(v): v for v in pd.unique(raw.frame[column].dropna())}
    if len(keys) >= MAX_VALUES:
        st.caption(escape_markdown(f"{column} has more than {MAX_VALUES} different values; only the first "
                                   f"{MAX_VALUES} are listed."))
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
            value = st.selectbox(escape_markdown(f"“{shown.get(key, key)}”"), options, key=widget,
                                 placeholder=none_label, format_func=lambda c: none_label if c is None else codes[c])
        if value is not None:
            chosen[key] = value
    return chosen


def mapping_widgets(raw: RawTable) -> ColumnMapping:
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
    optional = optional_fields(form)
    with st.expander("Events after HSCT2 (GVHD, DLI) and the centre",
                     expanded=any(state.get(f"map_field_{c}") != NOT_MAPPED for c in optional)):
        st.caption("Times of GVHD and DLI are in the unit above (or dates, with times as dates). They are never "
                   "used as baseline covariates: models take them as time-dependent covariates or by landmark.")
        cells = st.columns(3)
        for i, name in enumerate(optional):
            with cells[i % 3]:
                _field_select(name, columns, False)
    chosen = {name: state[f"map_field_{name}"] for name in ALL_FIELDS
              if state.get(f"map_field_{name}", NOT_MAPPED) != NOT_MAPPED}
    saved_events, saved_levels = state.get("_upload_value_maps", ({}, {}))
    events: dict[str, dict] = {}
    levels: dict[str, dict] = {}
    for name in (*event_fields(form), *POST_HSCT2_EVENTS):
        if name in chosen:
            with st.expander(escape_markdown(f"Values of {chosen[name]} → {FIELD_LABELS[name]}"),
                             expanded=name not in POST_HSCT2_EVENTS):
                events[name] = _value_selects(raw, name, chosen[name], dict(saved_events.get(name, ())))
    for name in STANDARD_LEVELS:
        if name in chosen:
            saved = dict(saved_levels.get(name, ()))
            with st.expander(escape_markdown(f"Values of {chosen[name]} → {FIELD_LABELS[name]}"),
                             expanded=_needs_a_look(raw, name, chosen[name], saved)):
                levels[name] = _value_selects(raw, name, chosen[name], saved, AS_IS)
    free = [c for c in columns if c not in chosen.values()]
    numeric = numeric_columns(raw.frame, free)
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


def _needs_a_look(raw: RawTable, name: str, column: str, saved: dict[str, object]) -> bool:
    """Open a category's values when some were assumed from a spelling, or are not a standard level at all."""
    standard = {value_key(level) for level in STANDARD_LEVELS[name]}
    for key in observed_keys(raw.frame[column], limit=MAX_VALUES):
        level = saved.get(key)
        if (level is None and key not in standard) or (isinstance(level, str) and is_assumption(key, level)):
            return True
    return False


def _unit_for_dates(chosen: dict[str, str]) -> str | None:
    """With dates no unit is needed, except for an HSCT1 → relapse interval without one in its name."""
    if not needs_unit_for_dates(chosen):
        return None
    return st.selectbox("Unit of the HSCT1 → relapse interval", [None, *TIME_UNITS], key="map_unit",
                        format_func=_unit_label)


def _unit_label(unit: str | None) -> str:
    return "— choose the unit —" if unit is None else unit
