"""What every page reads: the active data, the sidebar filters, the share link.

The frame (``dashboard.py``) builds one :class:`View` per run, before the page
runs; a page calls :func:`get_view` and renders. Pages never filter data
themselves.

Widget keys owned by the frame's sidebar (for ``AppTest``):

* ``flt_age``: age range slider (years), ``flt_cut``: age cut for "age group";
* ``flt_<column>``: a multiselect per categorical covariate (empty = all);
* ``flt_range_<column>``: a range slider per other numeric covariate;
* ``saved_name`` / ``saved_add``: name and save the current filters as a cohort;
  ``saved_del_<i>`` removes saved cohort ``i``; ``flt_reset`` clears the filters.

Page controls that belong in the share link use keys ``<page>.<control>``
(e.g. ``survival.endpoint``) and call :func:`persist` before creating the widget
(without passing ``value``/``index``: the state set here is the value).

Tests: ``tests/conftest.py`` has the ``open_app`` fixture
(``at = open_app("survival", query={"lineage": "T-ALL"})``) that opens the
frame and switches to a page; it also pins the server's ``st.navigation``
behaviour, without which AppTest would run a page without its frame.
Page widget keys are ``<url_path>.<control>`` with url paths ``overview``,
``survival``, ``relapse``, ``risk_factors`` and ``data``.

Uploaded data live only in ``st.session_state`` (this user's session): never
in a cache shared between users, never on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from analysis.cohort import label
from analysis.filters import CohortFilter, SavedCohort
from analysis.grouping import Comparison, compare_by, compare_saved
from analysis.published import load_targets

_VIEW = "_view"
_ACTIVE = "_active_data"
_KEEP = "_kept_controls"
_NOTICES = "_notices"
_DATA_GENERATION = "_data_generation"
_MEMO = "_session_memo"

T = TypeVar("T")

NO_COMPARISON = "none"
AGE_GROUP = "age_group"
SAVED = "saved cohorts"


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


def _hand_over_to_frame() -> None:
    """Rerun through ``dashboard.py`` when a page was started without its frame.

    On a fresh server, a share link that opens a page directly (``/survival?...``)
    reaches Streamlit before ``st.navigation`` has ever run, so Streamlit still
    treats ``pages/`` as legacy auto-discovered pages and runs the page alone.
    ``st.navigation`` would switch that legacy mode off; doing the same here and
    rerunning lets the frame run the page, which keeps its URL path and hash.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if st.session_state.get("_handed_over"):
        st.error("This page is part of the HSCT2 Explorer: start it with `streamlit run dashboard.py`.")
        st.stop()
    st.session_state["_handed_over"] = True
    PagesManager.uses_pages_directory = False
    st.rerun()


def set_view(view: View) -> None:
    st.session_state[_VIEW] = view


def stop_if_empty(view: View) -> None:
    """Say clearly that no patient is left, and stop the page."""
    if view.n == 0:
        st.warning(
            f"**No patients match the current filters** ({view.filters.describe()}). "
            f"None of the {view.n_total} patients is left, so there is nothing to estimate. "
            "Widen the filters in the sidebar, or press “Reset filters”."
        )
        st.stop()


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


# ------------------------------------------------------------------ published targets


@st.cache_data(show_spinner=False)
def published_targets() -> dict:
    """The paper's published figures (``data/published_targets.json``), read once per process.

    Shared between users: a public static file, not data of any session. Pass
    the dict to the analysis accessors (:mod:`analysis.published`); callers get
    a copy each time (``st.cache_data``), so they cannot alter the cached one.
    """
    return load_targets()


# ------------------------------------------------------------------ per-session results


def session_memo(name: str, key: tuple, build: Callable[[], T], size: int = 8) -> T:
    """This session's last ``size`` results of ``build`` under ``name``, by ``key``.

    A filter toggled back and forth is not recomputed. ``key`` must hold
    everything the result depends on besides the active data (filters, saved
    cohorts, controls) and be hashable. Kept in ``st.session_state`` (this
    user's session only), never in a cache shared between users, since the data
    may be an upload; dropped whenever the active data change.
    """
    store: dict[tuple, Any] = st.session_state.setdefault(_MEMO, {}).setdefault(name, {})
    if key not in store:
        if len(store) >= size:
            store.pop(next(iter(store)))  # the oldest
        store[key] = build()
    return store[key]


# ------------------------------------------------------------------ notices


def add_notice(text: str) -> None:
    """A one-time message shown above the next page (e.g. an ignored link value)."""
    st.session_state.setdefault(_NOTICES, []).append(text)


def pop_notices() -> list[str]:
    return st.session_state.pop(_NOTICES, [])


# ------------------------------------------------------- page controls in the link


def _encode(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _decode(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.lower() in {"true", "1", "yes"}:
            return True
        if raw.lower() in {"false", "0", "no"}:
            return False
        raise ValueError(raw)
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list | tuple):
        return [v for v in raw.split(",") if v]
    return raw


def persist(key: str, default: Any, options: Sequence[Any] | None = None) -> Any:
    """Keep a page control in the share link and across page switches.

    The control's value comes, in this order, from its live widget state,
    from the last value it had in this session, from the link, or from
    ``default``. A link value that is not one of ``options`` is ignored
    with a notice. Call before creating the widget with ``key=key``.
    """
    kept: dict[str, Any] = st.session_state.setdefault(_KEEP, {})
    if key not in st.session_state:
        if key in kept:
            st.session_state[key] = kept[key]
        else:
            st.session_state[key] = _from_link(key, default, options)
    value = st.session_state[key]
    if options is not None and not _valid(value, options):
        value = st.session_state[key] = default
    kept[key] = value
    if value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = _encode(value)
    return value


def _valid(value: Any, options: Sequence[Any]) -> bool:
    if isinstance(value, list | tuple):
        return all(v in options for v in value)
    return value in options


def _from_link(key: str, default: Any, options: Sequence[Any] | None) -> Any:
    raw = st.query_params.get(key)
    if raw is None:
        return default
    try:
        value = _decode(raw, default)
    except ValueError:
        value = None
    if value is None or (options is not None and not _valid(value, options)):
        st.warning(f"Share link: ignored {key}={raw!r}, not one of the choices; the default is used.")
        return default
    return value


# ----------------------------------------------------------- compare control


def comparison_choices(view: View) -> list[str]:
    from analysis.cohort import categorical_covariates

    choices = [NO_COMPARISON]
    if "age_group" in view.cohort:
        choices.append(AGE_GROUP)
    choices += [c for c in categorical_covariates(view.full) if c != "age_group"]
    if view.saved:
        choices.append(SAVED)
    return choices


def _choice_label(choice: str, view: View) -> str:
    if choice == NO_COMPARISON:
        return "Nothing (whole cohort)"
    if choice == AGE_GROUP:
        return f"Age group (cut at {view.age_cut:g} y)"
    if choice == SAVED:
        return f"Saved cohorts ({len(view.saved)})"
    return label(choice)


def compare_control(view: View, key_prefix: str) -> Comparison:
    """The shared “Compare by” selector; returns the patients labelled by group.

    With saved cohorts the sidebar filters are not applied: each saved
    cohort carries its own complete filter set.
    """
    key = f"{key_prefix}.compare"
    choices = comparison_choices(view)
    persist(key, NO_COMPARISON, choices)
    choice = st.selectbox(
        "Compare by",
        choices,
        key=key,
        format_func=lambda c: _choice_label(c, view),
        help="Split the filtered cohort by a factor, or overlay the cohorts saved in the sidebar.",
    )
    if choice == SAVED:
        st.caption("Saved cohorts are compared as saved; the sidebar filters do not apply to them.")
        return compare_saved(view.full, view.saved)
    comparison = compare_by(view.cohort, None if choice == NO_COMPARISON else choice)
    if comparison.n_missing:
        st.caption(f"{comparison.n_missing} patient(s) with unknown {label(choice)} are left out of this comparison.")
    return comparison


# ------------------------------------------------------------------ figures

#: The camera button of every figure saves a slide-ready PNG (3× the screen resolution).
FIGURE_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 3},
}


def show_figure(fig, key: str) -> None:
    """Render a Plotly figure with its own slide styling and a high-resolution PNG export."""
    config = {**FIGURE_CONFIG, "toImageButtonOptions": {**FIGURE_CONFIG["toImageButtonOptions"],
                                                         "filename": f"hsct2-{key}"}}
    # theme=None: the figure keeps its own fonts and colours instead of Streamlit's theme.
    st.plotly_chart(fig, width="stretch", theme=None, key=key, config=config)


# ------------------------------------------------------------------ landmarks

LANDMARK_CHOICES = ["3", "6", "12", "18", "24", "36", "48", "60", "120"]
DEFAULT_LANDMARKS = ["12", "24", "60"]


def landmark_control(key: str, label: str, help: str) -> list[float]:
    """The landmark months chosen in a multiselect kept in the link (12, 24, 60 when none is chosen)."""
    persist(key, DEFAULT_LANDMARKS, LANDMARK_CHOICES)
    chosen = st.multiselect(label, LANDMARK_CHOICES, key=key, help=help)
    if not chosen:
        st.caption("No landmark chosen: 12, 24 and 60 months are shown.")
    return sorted(float(t) for t in chosen or DEFAULT_LANDMARKS)

