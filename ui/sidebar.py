"""The frame's sidebar: the filters, the saved cohorts, and their round trip through the share link.

Widget keys (for ``AppTest``):

* ``flt_age``: age range slider (years), ``flt_cut``: age cut for "age group";
* ``flt_<column>``: a multiselect per categorical covariate (empty = all);
* ``flt_range_<column>``: a range slider per other numeric covariate;
* ``saved_name`` / ``saved_add``: name and save the current filters as a cohort;
  ``saved_del_<i>`` removes saved cohort ``i``; ``flt_reset`` clears the filters.
"""

from __future__ import annotations

from typing import TypeGuard

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analysis._version import __version__
from analysis.cohort.filters import (
    MAX_SAVED_COHORTS,
    CohortFilter,
    FilterOptions,
    SavedCohort,
    clean_cohort_name,
    filter_options,
    from_query_params,
    to_query_params,
    with_age_group,
    with_coded_text,
)
from analysis.cohort.model import STANDARD_LEVELS, label
from analysis.text import escape_markdown
from ui.links import add_notice, notice_area, pop_notices
from ui.state import View, data_generation

DEMO_NAME = "Demo cohort (synthetic)"
_LINK_READ = "_link_read_for_generation"
_SAVED = "_saved"


# ------------------------------------------------------------------ filter state


def options(full: pd.DataFrame) -> FilterOptions:
    """Filter choices of the active data, computed once per dataset in this session."""
    key = ("_filter_options", data_generation(), len(full))
    if st.session_state.get("_filter_options_key") != key:
        st.session_state["_filter_options"] = filter_options(full)
        st.session_state["_filter_options_key"] = key
    return st.session_state["_filter_options"]


def _narrower(chosen: tuple[float, float] | None,
              bounds: tuple[float, float] | None) -> TypeGuard[tuple[float, float]]:
    """Whether a range was chosen and it is narrower than ``bounds``."""
    return bool(chosen and bounds and (chosen[0] > bounds[0] or chosen[1] < bounds[1]))


def _filters_from_state(opts: FilterOptions) -> CohortFilter:
    """The filter the sidebar widgets describe."""
    state = st.session_state
    age = state.get("flt_age")
    flt = CohortFilter(age_range=(float(age[0]), float(age[1])) if _narrower(age, opts.age_bounds) else None,
                       age_cut=float(state.get("flt_cut", 10.0)))
    for column in opts.levels:
        flt = flt.with_levels(column, state.get(f"flt_{column}") or None)
    for column, bounds in opts.ranges.items():
        chosen = state.get(f"flt_range_{column}")
        if _narrower(chosen, bounds):
            flt = flt.with_range(column, chosen)
    return flt


def _clamp(chosen: tuple[float, float] | None, bounds: tuple[float, float]) -> tuple[float, float]:
    lo, hi = chosen or bounds
    return max(bounds[0], lo), min(bounds[1], hi)


def _widget_state_for(opts: FilterOptions, flt: CohortFilter) -> dict[str, object]:
    state: dict[str, object] = {"flt_cut": float(flt.age_cut)}
    if opts.age_bounds:
        state["flt_age"] = _clamp(flt.age_range, opts.age_bounds)
    for column in opts.levels:
        state[f"flt_{column}"] = list(flt.allowed_levels(column) or [])
    for column, bounds in opts.ranges.items():
        state[f"flt_range_{column}"] = _clamp(flt.allowed_range(column), bounds)
    return state


def read_link_once(full: pd.DataFrame, opts: FilterOptions) -> bool:
    """On a session's first run (and after the data change) the link sets the filters; True when it did."""
    if st.session_state.get(_LINK_READ) == data_generation():
        return False
    st.session_state[_LINK_READ] = data_generation()
    params = {k: st.query_params.get_all(k) for k in st.query_params if "." not in k}
    parsed = from_query_params(params, full)
    for text in parsed.notices:
        add_notice(text)
    if parsed.filters.age_range and opts.age_bounds is None:
        add_notice("The link's age range was left out: these data have no age column.")
    st.session_state.update(_widget_state_for(opts, parsed.filters))
    st.session_state[_SAVED] = list(parsed.saved)
    return True


def write_link(flt: CohortFilter, saved: list[SavedCohort], page_path: str,
               extra: dict[str, list[str]] | None = None) -> None:
    """Put the filters and saved cohorts in the URL; keep the current page's own controls and ``extra`` keys."""
    wanted: dict[str, list[str]] = {
        k: [v] if isinstance(v, str) else v for k, v in to_query_params(flt, saved).items()
    }
    wanted.update(extra or {})
    for key in st.query_params:
        if key.startswith(f"{page_path}."):
            wanted[key] = st.query_params.get_all(key)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


# ------------------------------------------------------------------ sidebar


def _reset_filters(opts: FilterOptions) -> None:
    st.session_state.update(_widget_state_for(opts, CohortFilter()))


def _save_cohort(opts: FilterOptions) -> None:
    saved: list[SavedCohort] = st.session_state.setdefault(_SAVED, [])
    flt = _filters_from_state(opts)
    name = clean_cohort_name(st.session_state.get("saved_name") or flt.describe())
    taken = {s.name for s in saved}
    base, i = name, 2
    while name in taken:
        name, i = f"{base} ({i})", i + 1
    saved.append(SavedCohort(name, flt))
    st.session_state["saved_name"] = ""


def _delete_saved(index: int) -> None:
    st.session_state[_SAVED].pop(index)


def sidebar(opts: FilterOptions) -> tuple[CohortFilter, list[SavedCohort], DeltaGenerator]:
    """The filter and saved-cohort widgets; returns their filter, the saved cohorts, and where the count goes."""
    with st.sidebar:
        count = st.empty()
        st.markdown("### Filters")
        if opts.age_bounds:
            lo, hi = opts.age_bounds
            st.slider("Age at HSCT2 (years)", min_value=lo, max_value=hi, step=0.5, format="%.1f", key="flt_age")
            st.number_input("Age cut for “age group” (years)", min_value=1.0, max_value=29.0, step=1.0,
                            key="flt_cut", help="The paper compares age ≥ 10 with age < 10 years.")
        standard = [c for c in opts.levels if c in STANDARD_LEVELS]
        others = [c for c in opts.levels if c not in STANDARD_LEVELS]
        for column in standard:
            st.multiselect(label(column), opts.levels[column], key=f"flt_{column}", placeholder="All")
        if others or opts.ranges:
            with st.expander("More filters", expanded=any(st.session_state.get(f"flt_{c}") for c in others)):
                for column in others:  # a column of an upload: its name is the user's text
                    st.multiselect(escape_markdown(label(column)), opts.levels[column], key=f"flt_{column}",
                                   placeholder="All")
                for column, (lo, hi) in opts.ranges.items():
                    st.slider(escape_markdown(label(column)), min_value=lo, max_value=hi, key=f"flt_range_{column}")
        st.button("Reset filters", key="flt_reset", on_click=_reset_filters, args=(opts,))

        flt = _filters_from_state(opts)

        saved: list[SavedCohort] = st.session_state.setdefault(_SAVED, [])
        st.markdown("### Saved cohorts")
        st.caption("Save filter sets to overlay them on the Survival and Relapse pages. They travel in the link.")
        for i, s in enumerate(saved):
            # Names and levels come from the link or the file: shown as text, never as HTML or Markdown.
            left, right = st.columns([5, 1])
            left.markdown(f"**{escape_markdown(s.name)}**")
            left.caption(escape_markdown(s.filters.describe()))
            right.button("", icon=":material/close:", key=f"saved_del_{i}", on_click=_delete_saved, args=(i,),
                         help=f"Remove {escape_markdown(s.name)}")
        if len(saved) < MAX_SAVED_COHORTS:
            st.text_input("Name for the current filters", key="saved_name", placeholder=flt.describe())
            st.button("Save as cohort", key="saved_add", on_click=_save_cohort, args=(opts,))
        else:
            st.caption(f"At most {MAX_SAVED_COHORTS} cohorts can be compared; remove one to save another.")
        st.caption(f"HSCT2 Explorer {__version__} · MIT licence · cite it with CITATION.cff")
    return flt, saved, count


def labelled(full: pd.DataFrame, age_cut: float) -> pd.DataFrame:
    """The active data with ``age_group`` for the current cut, built once per dataset and cut."""
    key = (data_generation(), len(full), age_cut)
    if st.session_state.get("_labelled_key") != key:
        st.session_state["_labelled"] = with_coded_text(with_age_group(full, age_cut))
        st.session_state["_labelled_key"] = key
    return st.session_state["_labelled"]


def banner(view: View) -> None:
    src = view.source
    if src.is_demo:
        st.info(
            f"**{DEMO_NAME}**: N = {view.n_total} synthetic patients generated to reproduce the published "
            "aggregates of Momm et al. (Pediatric Blood & Cancer). Not real patients; use it to explore the tool.",
            icon=":material/science:",
        )
    else:
        excluded = f", {src.n_excluded} row(s) excluded by validation" if src.n_excluded else ""
        note = f" {src.note}" if src.note else ""
        st.info(f"**Your data: {escape_markdown(src.name)}**: N = {view.n_total}{excluded}.{note}",
                icon=":material/description:")
    area = notice_area()
    for text in pop_notices():
        area.warning(escape_markdown(text), icon=":material/link:")
