"""Risk-factor analysis of a cohort: the paper's models, univariable screens, subgroup effects.

Everything here is assembled from :func:`analysis.analyses.models.cox_model` /
:func:`analysis.stats.cox.fit.fit_design` fits (Efron ties, as R's coxph). The
published hazard ratios (Momm et al.) are read by
:func:`analysis.cohort.published.published_hazard_ratios`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from analysis.analyses.model_checks import (
    EPV_MINIMUM,
    instability_findings,
    proportional_hazards,
    small_sample_warnings,
)
from analysis.analyses.models import cox_model
from analysis.cohort.model import CohortError, endpoint, label, levels
from analysis.stats._survival_data import aeq_times, time_codes
from analysis.stats.cox.design import CovariateSpec, Design, DesignError, build_design
from analysis.stats.cox.diagnostics import ProportionalHazardsTest, events_per_covariate
from analysis.stats.cox.fit import CoxFitError, CoxModel, chi2_sf, fit_design
from analysis.stats.cox.profile import ProfileLikelihood, profile_likelihood, with_profile_intervals
from analysis.text import p_value

#: How the intervals and p-values of the multivariable model are computed: ``auto`` uses the profile
#: likelihood when there are fewer than :data:`EPV_MINIMUM` events per coefficient, Wald otherwise.
INTERVALS: tuple[str, ...] = ("auto", "profile", "wald")

#: The paper's multivariable models (age ≥ 10 is the shared age group).
PAPER_MODELS: dict[str, tuple[str, ...]] = {
    "os": ("age_group", "lineage", "sex", "atg"),
    "rfs": ("age_group", "lineage"),
    "relapse": ("age_group", "lineage"),
    "nrm": ("age_group", "lineage"),
}


def default_covariates(endpoint_name: str, available: Sequence[str]) -> list[str]:
    """The paper's model for the endpoint, restricted to the covariates the cohort has."""
    return [c for c in PAPER_MODELS.get(endpoint_name, ()) if c in available]


def unrecorded_covariates(cohort: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Covariates without a single recorded value (e.g. an empty column of an upload).

    A model cannot use them: every patient would be left out as an incomplete case.
    """
    return [c for c in columns if c in cohort.columns and cohort[c].isna().all()]


def subgroup_factors(cohort: pd.DataFrame, specs: Sequence[CovariateSpec]) -> list[str]:
    """Covariates whose effect can be shown within subgroups: those that give exactly one term.

    A categorical covariate with two observed levels in ``cohort`` (pass the
    filtered one) or a numeric covariate cut at a value; a factor with more
    levels has no single hazard ratio, a numeric one per unit no subgroups.
    """
    return [s.column for s in specs
            if (s.categorical and len(levels(cohort, s.column)) == 2) or (not s.categorical and s.cut is not None)]


def univariable_models(cohort: pd.DataFrame, endpoint_name: str,
                       specs: Sequence[CovariateSpec]) -> tuple[dict[str, CoxModel], dict[str, str]]:
    """Each covariate alone: its model, or the plain-language reason it could not be fitted."""
    models: dict[str, CoxModel] = {}
    problems: dict[str, str] = {}
    for spec in specs:
        try:
            models[spec.column] = cox_model(cohort, endpoint_name, [spec])
        except (CoxFitError, DesignError, CohortError) as err:
            problems[spec.column] = str(err)
    return models, problems


def univariable_table(models: dict[str, CoxModel]) -> pd.DataFrame:
    """The summaries of univariable models stacked (one block per covariate)."""
    frames = [m.summary.assign(estimable=[t not in m.infinite for t in m.summary["term"]])
              for m in models.values()]
    if not frames:
        return pd.DataFrame(columns=["term", "covariate", "level", "hr", "lower", "upper", "p", "n", "events"])
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class SubgroupEffects:
    """The effect of one factor within each level of other factors.

    ``table``: by (covariate), level, n, events, hr, lower, upper, p,
    estimable, note; one row per subgroup, the hazard ratio of ``term``
    from a Cox model with the factor alone fitted in that subgroup.
    ``interaction``: by, statistic, df, p: the likelihood-ratio test of the
    factor × by interaction (model factor + by + factor:by against factor + by).
    """

    factor: str
    term: str
    table: pd.DataFrame
    interaction: pd.DataFrame


def subgroup_effects(cohort: pd.DataFrame, endpoint_name: str, factor: CovariateSpec,
                     by: Sequence[CovariateSpec]) -> SubgroupEffects:
    """Hazard ratio of ``factor`` within each level of every ``by`` covariate, with interaction tests."""
    ep = endpoint(cohort, endpoint_name)
    columns = [c for c in dict.fromkeys([factor.column, *(s.column for s in by)]) if c in cohort.columns]
    frame = cohort[columns].assign(_time=_time_ranks(ep.time), _event=ep.event)
    for column in columns:  # coded once: the many subgroup designs below then factorize codes, not text
        if frame[column].dtype == object:
            frame[column] = frame[column].astype("category")
    overall = build_design(frame, [factor])
    if overall.matrix.shape[1] != 1:
        raise DesignError(f"{label(factor.column)} must give exactly one term (two levels, or a cut) "
                          "for a subgroup forest plot.")
    term = overall.names[0]
    rows, tests = [], []
    for spec in by:
        if spec.column == factor.column:
            continue
        known = (frame[spec.column].notna() & frame[factor.column].notna()).to_numpy()
        sub = frame if known.all() else frame.loc[known]
        by_design = build_design(sub, [spec])
        if by_design.matrix.shape[1] == 0:
            continue
        levels = by_design.levels
        member = _membership(by_design)
        for lvl, mask in member.items():
            rows.append(_subgroup_row(sub.loc[mask], factor, term, spec.column, lvl,
                                      bool(levels.loc[levels["level"] == lvl, "is_reference"].any())))
        tests.append(_interaction_test(sub, factor, spec))
    table = pd.DataFrame(rows, columns=["by", "level", "is_reference", "n", "events", "hr", "lower", "upper", "p",
                                        "estimable", "note"])
    interaction = pd.DataFrame(tests, columns=["by", "statistic", "df", "p", "note"])
    return SubgroupEffects(factor.column, term, table, interaction)


def _time_ranks(time: np.ndarray) -> np.ndarray:
    """The times' ranks among the distinct times (aeqSurv-merged), as floats; missing stays missing.

    A Cox model sees the times only through their order, so its estimates on
    the ranks are those on the times; ranks are whole numbers, which every
    subgroup model then counts instead of hashing the times again.
    """
    time = np.asarray(time, dtype=float)
    known = np.isfinite(time)
    out = np.full(len(time), np.nan)
    out[known] = time_codes(aeq_times(time[known]))[0]
    return out


def _membership(design: Design) -> dict[str, np.ndarray]:
    """Boolean masks (over the design's kept rows) of each level of a single categorical/cut covariate."""
    x = design.matrix
    out: dict[str, np.ndarray] = {}
    in_any = (x == 1).any(axis=1)
    full = np.zeros(len(design.kept), dtype=bool)
    for row in design.levels.itertuples(index=False):
        mask = ~in_any if row.is_reference else x[:, design.names.index(cast(str, row.term))] == 1
        kept = full.copy()
        kept[np.flatnonzero(design.kept)[mask]] = True
        out[cast(str, row.level)] = kept
    return out


def _subgroup_row(data: pd.DataFrame, factor: CovariateSpec, term: str, by: str, level: str,
                  is_reference: bool) -> dict:
    row = {"by": by, "level": level, "is_reference": is_reference, "n": len(data),
           "events": int(data["_event"].sum()), "hr": np.nan, "lower": np.nan, "upper": np.nan, "p": np.nan,
           "estimable": False, "note": ""}
    try:
        design = build_design(data, [factor])
        if design.names != [term]:
            row["note"] = f"only one level of {label(factor.column)} here"
            return row
        model = fit_design(data["_time"].to_numpy(float)[design.kept], data["_event"].to_numpy(int)[design.kept],
                           design)
    except (CoxFitError, DesignError):
        row["note"] = "no events" if row["events"] == 0 else "cannot be estimated"
        return row
    s = model.summary.iloc[0]
    if model.infinite or not model.converged:
        row["note"] = "not estimable: no events in one group"
        return row
    row.update(hr=s["hr"], lower=s["lower"], upper=s["upper"], p=s["p"], estimable=True)
    return row


def _interaction_test(data: pd.DataFrame, factor: CovariateSpec, by: CovariateSpec) -> tuple:
    """Likelihood-ratio test of factor × by, both models on the same patients."""
    try:
        main = build_design(data, [factor, by])
        time = data["_time"].to_numpy(float)[main.kept]
        status = data["_event"].to_numpy(int)[main.kept]
        f_cols = main.columns_of(factor.column)
        b_cols = main.columns_of(by.column)
        products = [main.matrix[:, i] * main.matrix[:, j] for i in f_cols for j in b_cols]
        names = [f"{main.names[i]}:{main.names[j]}" for i in f_cols for j in b_cols]
        inter_terms = pd.DataFrame({"term": names, "covariate": ["interaction"] * len(names),
                                    "level": [None] * len(names), "kind": ["interaction"] * len(names),
                                    "unit": [None] * len(names)})
        full = Design(np.column_stack([main.matrix, *products]), pd.concat([main.terms, inter_terms],
                                                                              ignore_index=True),
                      main.levels, main.kept, main.specs, main.notes)
        reduced_fit = fit_design(time, status, main)
        full_fit = fit_design(time, status, full)
    except (CoxFitError, DesignError) as err:
        return by.column, np.nan, 0, np.nan, str(err)
    df = len(full_fit.coef) - len(reduced_fit.coef)
    if df <= 0:
        return by.column, np.nan, 0, np.nan, "no patients in some factor × subgroup cells"
    stat = 2 * (full_fit.loglik[1] - reduced_fit.loglik[1])
    note = "" if full_fit.converged and not full_fit.infinite else "a cell without events: p is approximate"
    return by.column, stat, df, chi2_sf(stat, df), note


@dataclass(frozen=True)
class RiskFactorAnalysis:
    """Everything the risk-factor page shows for one endpoint and model spec.

    ``model`` is None when the multivariable model cannot be fitted; ``problem``
    then says why in plain language. ``warnings`` collects the small-sample
    guardrails (events per coefficient, levels without events, divergence,
    non-convergence, dropped covariates) and the named causes of unstable
    estimates (empty cross-table cells, quasi-separation, extreme hazard
    ratios). ``intervals`` says how the model's CIs and p-values were made:
    with ``profile`` (the profile likelihood, :mod:`analysis.stats.cox.profile`)
    the summary holds profile limits and likelihood-ratio p-values.
    """

    endpoint: str
    specs: tuple[CovariateSpec, ...]
    model: CoxModel | None
    problem: str | None
    univariable: dict[str, CoxModel]
    univariable_problems: dict[str, str]
    proportional_hazards: ProportionalHazardsTest | None
    warnings: tuple[str, ...]
    needs_penalty: bool
    intervals: str = "Wald"
    profile: ProfileLikelihood | None = None

    @property
    def intervals_text(self) -> str:
        if self.profile is not None:
            return "profile likelihood, likelihood-ratio p"
        return "Wald (β ± 1.96·se), Wald p"

    def statistics(self) -> pd.DataFrame:
        """Model statistics as a small table: statistic, value, what it means."""
        m = self.model
        if m is None:
            return pd.DataFrame(columns=["Statistic", "Value", "Meaning"])
        epv = events_per_covariate(m)
        rows = [
            ("Patients / events", f"{m.n} / {m.events}", "complete cases entering the model"),
            ("Likelihood-ratio test", f"χ² = {m.lr_test.statistic:.2f}, df = {m.lr_test.df}, "
             f"{p_value(m.lr_test.p)}", "all covariates together against no covariate"),
            ("Concordance (C)", f"{m.concordance:.3f}" if np.isfinite(m.concordance) else "not computable",
             "0.5 = no discrimination, 1 = perfect ordering of risks"),
            ("Events per coefficient", f"{epv:.1f}", "below 10: unstable, possibly exaggerated hazard ratios"),
            ("Confidence intervals, p", self.intervals_text, "how the hazard ratios' 95 % CIs and p-values are made"),
        ]
        if self.proportional_hazards is not None:
            rows.append(("Proportional hazards (global)", p_value(self.proportional_hazards.global_p),
                         "score test of time-varying effects (cox.zph)"))
        if m.penalty:
            rows.append(("Penalty", m.penalty, "Firth's bias-reduced estimates; Wald CIs from I(β)⁻¹"))
        return pd.DataFrame(rows, columns=["Statistic", "Value", "Meaning"])


def analyse_risk_factors(cohort: pd.DataFrame, endpoint_name: str, specs: Sequence[CovariateSpec], *,
                         penalty: str | None = None, univariable: bool = True,
                         intervals: str = "auto") -> RiskFactorAnalysis:
    """Fit the multivariable model, the univariable ones and the diagnostics; never raises for bad data.

    ``intervals`` (:data:`INTERVALS`): ``auto`` gives the multivariable model
    profile-likelihood intervals and likelihood-ratio p-values when it has
    fewer than :data:`EPV_MINIMUM` events per coefficient (Wald otherwise);
    a Firth fit keeps its Wald intervals.
    """
    if intervals not in INTERVALS:
        raise ValueError(f"unknown intervals {intervals!r}; expected one of {', '.join(INTERVALS)}")
    specs = tuple(specs)
    model, problem = None, None
    try:
        model = cox_model(cohort, endpoint_name, specs, penalty=penalty)
    except (CoxFitError, DesignError, CohortError) as err:
        problem = str(err)
    uni, uni_problems = univariable_models(cohort, endpoint_name, specs) if univariable else ({}, {})
    zph = None
    warnings: list[str] = []
    needs_penalty = False
    profile = None
    if model is not None:
        profile = profile_for(model, intervals)
        if profile is not None:
            model = with_profile_intervals(model, profile)
        warnings.extend(model.warnings)
        guard = small_sample_warnings(model) + instability_findings(model, profile)
        warnings.extend(w for w in guard if w not in warnings)
        needs_penalty = bool(model.infinite) or any(w.startswith("No events among") for w in guard)
        if model.converged and not model.infinite:
            try:
                zph = proportional_hazards(model)
            except (np.linalg.LinAlgError, ValueError):
                zph = None
    return RiskFactorAnalysis(endpoint_name, specs, model, problem, uni, uni_problems, zph,
                              tuple(dict.fromkeys(warnings)), needs_penalty,
                              "profile likelihood" if profile is not None else "Wald", profile)


def profile_for(model: CoxModel, intervals: str = "auto") -> ProfileLikelihood | None:
    """The profile likelihood when it is asked for, or when ``auto`` and the events per coefficient are few."""
    wanted = intervals == "profile" or (intervals == "auto" and events_per_covariate(model) < EPV_MINIMUM)
    if not wanted or model.penalty:
        return None
    return profile_likelihood(model)
