"""A covariate profile chosen with one widget per model covariate, kept in the share link.

Keys: ``<page>.profile.<column>`` — a level of a factor, a number for a numeric
covariate (per unit or cut; the cut side follows the number).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from analysis.analyses.competing_regression import default_profile
from analysis.cohort.model import label, levels
from analysis.stats.cox.design import CovariateSpec
from analysis.text import escape_markdown
from ui.links import persist
from ui.state import View


def profile_control(view: View, page: str, specs: Sequence[CovariateSpec]) -> dict[str, object]:
    """The profile the widgets describe (default: reference levels and medians)."""
    defaults = default_profile(view.cohort, specs)
    profile: dict[str, object] = {}
    cells = st.columns(max(1, min(len(specs), 4)))
    for i, spec in enumerate(specs):
        key = f"{page}.profile.{spec.column}"
        name = escape_markdown(label(spec.column))
        with cells[i % len(cells)]:
            if spec.categorical:
                options = levels(view.full, spec.column)
                default = defaults[spec.column] if defaults[spec.column] in options else options[0]
                persist(key, default, options)
                profile[spec.column] = st.selectbox(name, options, key=key)
            else:
                values = pd.to_numeric(view.full[spec.column], errors="coerce").dropna()
                low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
                start = defaults[spec.column]
                persist(key, round(float(start), 1) if isinstance(start, int | float) else low)
                profile[spec.column] = float(st.number_input(name, min_value=low, max_value=high, key=key))
    return profile
