"""Controls that specify a regression model: endpoint, covariates, and how each covariate enters.

Shared by every page that fits a model, so that the same choices read the same
way everywhere and travel in the share link under ``<page>.<control>`` keys:
``<page>.endpoint``, ``<page>.covariates.<endpoint>``, ``<page>.ref.<column>``,
``<page>.numeric.<column>``, ``<page>.cut.<column>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from analysis.analyses.models import covariate_spec
from analysis.analyses.risk_factors import default_covariates, unrecorded_covariates
from analysis.cohort.model import ENDPOINT_NAMES, covariates, is_categorical, label, levels, survival_endpoints
from analysis.stats.cox.design import CovariateSpec, default_cut
from analysis.text import escape_markdown
from ui.links import persist
from ui.state import View

PER_UNIT, CUT = "per unit", "cut"


def model_endpoints(view: View) -> list[str]:
    """OS (vital status after relapse known), RFS, relapse / NRM as cause-specific hazards, GRFS (GVHD fields)."""
    endpoints = survival_endpoints(view.full)
    return [e for e in endpoints if e != "grfs"] + ["relapse", "nrm"] + (["grfs"] if "grfs" in endpoints else [])


def endpoint_control(view: View, page: str, endpoints: Sequence[str] | None = None) -> str:
    """The endpoint radio, kept in the link as ``<page>.endpoint``."""
    endpoints = list(endpoints or model_endpoints(view))
    persist(f"{page}.endpoint", endpoints[0], endpoints)
    return st.radio("Endpoint", endpoints, key=f"{page}.endpoint", format_func=lambda e: ENDPOINT_NAMES[e],
                    help="OS: death. RFS: relapse or death. Relapse / NRM: cause-specific hazards.")


def available_covariates(view: View) -> list[str]:
    """Covariates a model can use, ``age_group`` (the sidebar's cut) first."""
    return (["age_group"] if "age_group" in view.full else []) + [c for c in covariates(view.full)
                                                                  if c != "age_group"]


def covariate_control(view: View, page: str, endpoint: str) -> list[str]:
    """The covariates of the model (default: the paper's model), minus any without a recorded value.

    Stops the page with a message when none is left.
    """
    available = available_covariates(view)
    key = f"{page}.covariates.{endpoint}"
    persist(key, default_covariates(endpoint, available), available)
    chosen = st.multiselect("Covariates of the multivariable model", available, key=key, format_func=label,
                            help="The default is the paper's model (OS: age ≥ 10, lineage, sex, ATG; "
                                 "RFS: age ≥ 10, lineage).")
    if "age_group" in chosen:
        st.caption(f"Age group uses the sidebar's age cut ({view.age_cut:g} years).")
    if not chosen:
        st.info("Choose at least one covariate.")
        st.stop()
    unrecorded = unrecorded_covariates(view.full, chosen)
    if unrecorded:
        st.info(escape_markdown(f"{', '.join(label(c) for c in unrecorded)}: no recorded value in these data, "
                                "left out of the model."))
        chosen = [c for c in chosen if c not in unrecorded]
        if not chosen:
            st.stop()
    return chosen


def covariate_specs(view: View, page: str, chosen: Sequence[str]) -> list[CovariateSpec]:
    """One control per covariate: the reference level of a factor; per unit or a cut for a number."""
    specs: list[CovariateSpec] = []
    option_cols = st.columns(3)
    for i, column in enumerate(chosen):
        with option_cols[i % 3]:
            specs.append(_factor_spec(view, page, column) if is_categorical(view.full, column)
                         else _numeric_spec(view, page, column))
    return specs


def _factor_spec(view: View, page: str, column: str) -> CovariateSpec:
    options = levels(view.full, column)
    key = f"{page}.ref.{column}"
    persist(key, options[0], options)
    reference = st.selectbox(escape_markdown(f"Reference for {label(column)}"), options, key=key)
    return covariate_spec(view.full, column, categorical=True, reference=reference)


def _numeric_spec(view: View, page: str, column: str) -> CovariateSpec:
    key = f"{page}.numeric.{column}"
    persist(key, PER_UNIT, [PER_UNIT, CUT])
    mode = st.radio(escape_markdown(label(column)), [PER_UNIT, CUT], key=key, horizontal=True,
                    format_func=lambda m: "per unit" if m == PER_UNIT else "cut at")
    cut = None
    if mode == CUT:
        persist(f"{page}.cut.{column}", default_cut(view.cohort[column]))
        cut = st.number_input(escape_markdown(f"Cut {label(column)} at (≥ cut vs below)"), key=f"{page}.cut.{column}")
    return covariate_spec(view.full, column, categorical=False, cut=cut)
