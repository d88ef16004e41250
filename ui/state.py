"""This session's active data and the view every page reads.

The frame (``dashboard.py``) builds one :class:`View` per run, before the page
runs; a page calls :func:`get_view` and renders. Pages never filter data
themselves.

Uploaded data live only in ``st.session_state`` (this user's session): never
in a cache shared between users, never on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from analysis.cohort.filters import CohortFilter, SavedCohort

_VIEW = "_view"
_ACTIVE = "_active_data"
_KEEP = "_kept_controls"
_DATA_GENERATION = "_data_generation"
_MEMO = "_session_memo"


@dataclass(frozen=True)
class DataSource:
    """Which data are active: the synthetic demo cohort or a user's upload."""

    name: str
    is_demo: bool
    n_excluded: int = 0
    note: str | None = None


@dataclass(frozen=True)
class ActiveData:
    cohort: pd.DataFrame
    source: DataSource


@dataclass(frozen=True)
class View:
    """The data as the sidebar leaves them, shared by every page."""

    full: pd.DataFrame
    cohort: pd.DataFrame
    filters: CohortFilter
    source: DataSource
    saved: tuple[SavedCohort, ...] = field(default_factory=tuple)

    @property
    def age_cut(self) -> float:
        return self.filters.age_cut

    @property
    def n(self) -> int:
        return len(self.cohort)

    @property
    def n_total(self) -> int:
        return len(self.full)

    @property
    def is_unfiltered_demo(self) -> bool:
        """Demo data with no restriction: the published figures apply as references."""
        return self.source.is_demo and not self.filters.restricts


def get_view() -> View:
    """The view the frame built for this run."""
    try:
        return st.session_state[_VIEW]
    except KeyError:
        _hand_over_to_frame()


def _hand_over_to_frame() -> NoReturn:
    """Rerun through ``dashboard.py`` when a page was started without its frame.

    On a fresh server, a share link that opens a page directly (``/survival?...``)
    reaches Streamlit before ``st.navigation`` has ever run, so Streamlit still
    treats ``pages/`` as legacy auto-discovered pages and runs the page alone.
    ``st.navigation`` would switch that legacy mode off; doing the same here and
    rerunning lets the frame run the page, which keeps its URL path and hash.
    """
    if st.session_state.get("_handed_over"):
        st.error("This page is part of the HSCT2 Explorer: start it with `streamlit run dashboard.py`.")
        st.stop()
    st.session_state["_handed_over"] = True
    PagesManager.uses_pages_directory = False
    st.rerun()


def serve_default_page_by_name(url_path: str) -> None:
    """Let ``/<url_path>`` (e.g. ``/overview``) open the default page. Call before ``st.navigation``.

    Streamlit serves the default page at ``/`` only and answers its own path with "Page not found";
    a link that names the default page is asking for it, so it is resolved as the default.
    """
    ctx = get_script_run_ctx()
    manager = ctx.pages_manager if ctx is not None else None
    if manager is not None and manager.intended_page_name == url_path and not manager.intended_page_script_hash:
        manager.set_script_intent("", "")


def set_view(view: View) -> None:
    st.session_state[_VIEW] = view


# ----------------------------------------------------------------- active data


def active_data() -> ActiveData | None:
    """The user's uploaded cohort in this session, or None for the demo cohort."""
    return st.session_state.get(_ACTIVE)


def set_active_data(cohort: pd.DataFrame, *, name: str, n_excluded: int, note: str | None = None) -> None:
    """Make an uploaded cohort the active data for this session only."""
    st.session_state[_ACTIVE] = ActiveData(cohort, DataSource(name, False, n_excluded, note))
    _reset_controls()


def clear_active_data() -> None:
    """Forget the uploaded cohort; the demo cohort becomes active again."""
    st.session_state.pop(_ACTIVE, None)
    _reset_controls()


def data_generation() -> int:
    """Bumped whenever the active data change (widgets keyed on it start afresh)."""
    return st.session_state.get(_DATA_GENERATION, 0)


def _reset_controls() -> None:
    """Filters and page controls refer to columns of the old data: drop them."""
    for key in list(st.session_state):
        if isinstance(key, str) and (key.startswith("flt_") or "." in key or key == "_saved"):
            del st.session_state[key]
    st.session_state[_KEEP] = {}
    st.session_state.pop(_MEMO, None)  # results of the old data
    st.session_state[_DATA_GENERATION] = data_generation() + 1
