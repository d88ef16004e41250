"""The Patient-like-me controls: the patient's profile and which factors the matching patients share.

Every value travels in the share link: ``<page>.profile.<column>`` (one per
covariate the data hold), ``<page>.match`` (the matching factors) and
``<page>.window.<column>`` (how close a number must be to match).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from analysis.analyses.patient_like_me import default_profile, default_window, profile_fields, with_derived
from analysis.cohort.model import STANDARD_NUMERIC, is_categorical, label, levels
from ui.links import persist
from ui.state import View

COLUMNS = 5


def profile_control(view: View, page: str) -> dict[str, object]:
    """One widget per covariate the data hold (default: a typical patient of all the data), plus the age group."""
    typical = default_profile(view.full)
    fields = profile_fields(view.full)
    columns = st.columns(COLUMNS)
    profile: dict[str, object] = {}
    for i, column in enumerate(fields):
        key = f"{page}.profile.{column}"
        with columns[i % COLUMNS]:
            if is_categorical(view.full, column):
                options = levels(view.full, column)
                persist(key, typical[column], options)
                profile[column] = st.selectbox(label(column), options, key=key)
            else:
                persist(key, float(typical[column]))  # type: ignore[arg-type]
                low, high = STANDARD_NUMERIC.get(column, (None, None, None))[1:]
                _keep_within(key, low, high, float(typical[column]))  # type: ignore[arg-type]
                profile[column] = st.number_input(label(column), min_value=low, max_value=high, step=0.5,
                                                  format="%.1f", key=key)
    return with_derived(profile, view.age_cut)


def _keep_within(key: str, low: float | None, high: float | None, default: float) -> None:
    """A value from a link outside the widget's range falls back to the default, with a notice."""
    value = st.session_state[key]
    if (low is not None and value < low) or (high is not None and value > high):
        st.warning(f"Share link: ignored {key}={value:g}, outside {low:g}–{high:g}; the default is used.")
        st.session_state[key] = default


def match_control(view: View, page: str, model_columns: Sequence[str]) -> tuple[list[str], dict[str, float]]:
    """The factors matching patients share (default: the model's covariates) and the window of each number."""
    options = (["age_group"] if "age_group" in view.full else []) + profile_fields(view.full)
    key = f"{page}.match"
    persist(key, [c for c in model_columns if c in options], options)
    chosen = st.multiselect("Matching patients share", options, key=key, format_func=label,
                            help="The Kaplan-Meier curve of the patients equal to the profile on these factors "
                                 "(a number: within ± the window below).")
    windows: dict[str, float] = {}
    numeric = [c for c in chosen if not is_categorical(view.full, c)]
    for column, col in zip(numeric, st.columns(max(len(numeric), 1)), strict=False):
        wkey = f"{page}.window.{column}"
        persist(wkey, default_window(view.full[column]))
        with col:
            windows[column] = float(st.number_input(f"{label(column)}: match within ±", min_value=0.0, step=0.5,
                                                    key=wkey))
    return chosen, windows
