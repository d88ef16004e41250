"""Controls shared by several pages: "Compare by", the landmarks, the page's sections, the empty-cohort stop."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analysis.cohort.grouping import Comparison, compare_by, compare_saved
from analysis.cohort.model import LANDMARK_MONTHS, categorical_covariates, label
from analysis.text import escape_markdown
from ui.links import persist
from ui.state import View

NO_COMPARISON = "none"
AGE_GROUP = "age_group"
SAVED = "saved cohorts"


def stop_if_empty(view: View) -> None:
    """Say clearly that no patient is left, and stop the page."""
    if view.n == 0:
        st.warning(
            f"**No patients match the current filters** ({escape_markdown(view.filters.describe())}). "
            f"None of the {view.n_total} patients is left, so there is nothing to estimate. "
            "Widen the filters in the sidebar, or press “Reset filters”."
        )
        st.stop()


def comparison_choices(view: View) -> list[str]:
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
        st.caption(escape_markdown(f"{comparison.n_missing} patient(s) with unknown {label(choice)} are left out "
                                   "of this comparison."))
    return comparison


def months_control(key: str, label: str, choices: Sequence[float], default: float) -> float:
    """One time in months from ``choices``, kept in the link (e.g. a landmark or a conditioning time)."""
    persist(key, default, list(choices))
    return float(st.selectbox(label, list(choices), key=key, format_func=lambda m: f"{m:g} months"))


LANDMARK_CHOICES = ["3", "6", "12", "18", "24", "36", "48", "60", "120"]
DEFAULT_LANDMARKS = [f"{t:g}" for t in LANDMARK_MONTHS]


def landmark_control(key: str, label: str, help: str) -> list[float]:
    """The landmark months chosen in a multiselect kept in the link (12, 24, 60 when none is chosen)."""
    persist(key, DEFAULT_LANDMARKS, LANDMARK_CHOICES)
    chosen = st.multiselect(label, LANDMARK_CHOICES, key=key, help=help)
    if not chosen:
        st.caption("No landmark chosen: 12, 24 and 60 months are shown.")
    return sorted(float(t) for t in chosen or DEFAULT_LANDMARKS)


def section_tabs(key: str, labels: Sequence[str]) -> tuple[str, DeltaGenerator]:
    """The page's sections as tabs of which only the open one runs: (its label, its container).

    Only the open tab's results are computed and only its figures are sent to the browser, so a filter
    change redraws one section, not the whole page. Choosing another tab reruns the page with that tab
    open (``on_change="rerun"``). The open tab is kept in the share link under ``key`` and across page
    switches; a link naming a tab that does not exist opens the first one with a notice.
    """
    persist(key, labels[0], list(labels))
    tabs = st.tabs(list(labels), key=key, on_change="rerun")
    for name, tab in zip(labels, tabs, strict=True):
        if tab.open:
            return name, tab
    return labels[0], tabs[0]
