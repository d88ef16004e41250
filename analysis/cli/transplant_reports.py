"""What the command line prints for the transplant reviewers' analyses, as JSON-ready dicts.

Each report calls the same analysis function as the view it mirrors:
``crr`` (:mod:`analysis.analyses.competing_regression`), ``cox --time-varying``
and ``km --landmark`` (:mod:`analysis.analyses.post_transplant`), ``cox
--cluster`` / ``--strata`` (:mod:`analysis.analyses.centres`), ``km --rmst`` /
``--conditional`` (:mod:`analysis.analyses.survival_summaries`), ``cif
--endpoint agvhd|cgvhd`` (GVHD incidences). NaN and infinities become None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.analyses.centres import centre_analysis
from analysis.analyses.competing_regression import competing_regression, predict_profile
from analysis.analyses.post_transplant import (
    IMMORTAL_TIME_WARNING,
    gvhd_incidence,
    landmark_analysis,
    time_dependent_cox,
)
from analysis.analyses.survival_summaries import conditional_comparison, rmst_comparison
from analysis.cli.reports import with_group_column
from analysis.cohort.grouping import compare_by
from analysis.cohort.model import CohortError
from analysis.cohort.post_transplant import CENTRE, EVENT_NAMES, GVHD_ENDPOINT_NAMES, POST_HSCT2_FIELDS
from analysis.stats.cox.design import CovariateSpec
from analysis.stats.cox.fit import CoxFitError, CoxModel
from analysis.stats.fine_gray import FineGrayError, FineGrayModel
from analysis.text import json_number

#: ``cif --endpoint``: the incidences each name reports.
GVHD_REPORTS: dict[str, tuple[str, ...]] = {"agvhd": ("agvhd2", "agvhd3"), "cgvhd": ("cgvhd",)}


def term_rows(model: CoxModel | FineGrayModel, summary: pd.DataFrame | None = None) -> list[dict]:
    """One dict per term: hr (the sHR for Fine-Gray), 95 % CI, p; None where the estimate is not finite."""
    rows = []
    for row in (model.summary if summary is None else summary).itertuples(index=False):
        estimable = row.term not in model.infinite
        level = None if row.level is None or (isinstance(row.level, float) and np.isnan(row.level)) else row.level
        entry = {"term": row.term, "covariate": row.covariate, "level": level}
        for key in ("coef", "hr", "se", "lower", "upper", "p"):
            entry[key] = json_number(getattr(row, key)) if estimable else None
        if hasattr(row, "naive_se"):
            entry["naive_se"] = json_number(row.naive_se)
        rows.append(entry)
    return rows


def immortal_time_warnings(covariates: Sequence[str]) -> list[str]:
    """The warning for each event after HSCT2 given as a baseline covariate (use --time-varying instead)."""
    events = dict.fromkeys(c.removesuffix("_months").removesuffix("_grade").removesuffix("_severity")
                           for c in covariates if c in POST_HSCT2_FIELDS)
    return [IMMORTAL_TIME_WARNING.format(event=EVENT_NAMES[e]) + f" (cox --time-varying {e})" for e in events]


def _test(test) -> dict:
    return {"statistic": json_number(test.statistic), "df": int(test.df), "p": json_number(test.p)}


def _cox_json(model: CoxModel) -> dict:
    return {"n": model.n, "events": model.events, "lr_test": _test(model.lr_test), "terms": term_rows(model),
            "warnings": list(model.warnings)}


# ------------------------------------------------------------------ crr


def crr_report(cohort: pd.DataFrame, cause: str, specs: Sequence[CovariateSpec],
               profile: Mapping[str, object] | None = None, times: Sequence[float] = (12.0, 24.0, 60.0)) -> dict:
    """``crr``: Fine-Gray (cmprsk::crr) and cause-specific Cox of relapse or NRM; predictions for a profile."""
    result = competing_regression(cohort, cause, specs)
    if result.fine_gray is None and result.cause_specific is None:
        raise FineGrayError(next(iter(result.problems.values())))
    out: dict = {"cause": cause, "questions": result.questions, "warnings": list(result.warnings),
                 "problems": dict(result.problems)}
    fg = result.fine_gray
    if fg is not None:
        out["fine_gray"] = {"n": fg.n, "events": fg.events, "competing": fg.competing,
                            "converged": fg.converged, "iterations": fg.iterations,
                            "pseudo_loglik": [json_number(v) for v in fg.loglik],
                            "pseudo_lr_test": _test(fg.lr_test), "terms": term_rows(fg)}
    if result.cause_specific is not None:
        out["cause_specific"] = _cox_json(result.cause_specific)
    if profile:
        prediction = predict_profile(result, cohort, profile)
        at = prediction.at(times)
        out["prediction"] = {"profile": dict(profile), "matched": prediction.matched, "notes": list(prediction.notes),
                             "at": [{k: json_number(v) for k, v in row.items()} for row in at.to_dict("records")]}
    return out


# ------------------------------------------------------------------ cox variants


def time_varying_report(cohort: pd.DataFrame, endpoint: str, events: Sequence[str],
                        specs: Sequence[CovariateSpec], *, baseline: bool = False) -> dict:
    """``cox --time-varying``: the counting-process Cox model (and, with --baseline-ever, the naive one)."""
    result = time_dependent_cox(cohort, endpoint, events, specs, baseline=baseline)
    if result.model is None:
        raise CoxFitError(result.problem or "the time-dependent model cannot be fitted")
    out = {"endpoint": endpoint, "time_varying": list(events), "patients": result.n_patients, "rows": result.rows,
           "switched_on": dict(result.switched), "notes": list(result.notes), **_cox_json(result.model)}
    if baseline:
        out["baseline_ever"] = None if result.baseline is None else _cox_json(result.baseline)
        out["immortal_time_warning"] = list(result.warnings)
    return out


def centre_report(cohort: pd.DataFrame, endpoint: str, specs: Sequence[CovariateSpec], *, how: str) -> dict:
    """``cox --cluster centre`` (robust variance) or ``--strata centre`` (stratified model)."""
    result = centre_analysis(cohort, endpoint, specs)
    out: dict = {"endpoint": endpoint, "centres": result.n_centres,
                 "patients_per_centre": result.per_centre.to_dict("records"),
                 "warnings": list(result.warnings_for(how))}
    if how == "cluster":
        if result.robust is None or result.model is None:
            raise CoxFitError(result.problems.get("model", "the model cannot be fitted"))
        out.update(_cox_json(result.model), terms=term_rows(result.model, result.robust.summary),
                   robust_wald_test=_test(result.robust.wald_test), variance="cluster-robust (sandwich) by centre")
    else:
        if result.stratified is None:
            raise CoxFitError(result.problems.get("stratified", "the stratified model cannot be fitted"))
        out.update(_cox_json(result.stratified), variance="model-based; a baseline hazard per centre")
    return out


def check_centre_column(column: str, cohort: pd.DataFrame) -> None:
    if column != CENTRE:
        raise CohortError(f"--cluster and --strata take the centre field ({CENTRE}), got {column!r}")
    if CENTRE not in cohort:
        raise CohortError("these data have no centre column (map one with --map centre=COLUMN)")


# ------------------------------------------------------------------ km variants


def rmst_report(cohort: pd.DataFrame, endpoint: str, tau: float, group: str | None = None) -> dict:
    """``km --rmst TAU``: RMST per group with SE and CI, and each group's difference from the first."""
    result = rmst_comparison(compare_by(with_group_column(cohort, group), group), endpoint, tau)
    return {
        "endpoint": endpoint, "tau": tau,
        "groups": [{"group": m.label, "n": m.n, "events": m.events, "rmst": json_number(m.estimate),
                    "se": json_number(m.se), "lower": json_number(m.lower), "upper": json_number(m.upper)}
                   for m in result.means],
        "differences": [{"group": d.first, "reference": d.second, "difference": json_number(d.estimate),
                         "se": json_number(d.se), "lower": json_number(d.lower), "upper": json_number(d.upper),
                         "z": json_number(d.z), "p": json_number(d.p)} for d in result.differences],
        "followed_less_than_tau": list(result.beyond),
    }


def conditional_report(cohort: pd.DataFrame, endpoint: str, given: float, times: Sequence[float],
                       group: str | None = None) -> dict:
    """``km --conditional S``: survival given event-free at S months, at the later landmarks."""
    result = conditional_comparison(compare_by(with_group_column(cohort, group), group), endpoint, given)
    at = result.at(times)
    groups = []
    for curve in result.curves:
        rows = at[at["group"] == curve.curve.label]
        groups.append({"group": curve.curve.label, "n_at_given": curve.curve.n, "events": curve.curve.events,
                       "at": [{"time": json_number(r.time), "survival": json_number(r.survival),
                               "lower": json_number(r.lower), "upper": json_number(r.upper),
                               "n_at_risk": int(str(r.n_at_risk))} for r in rows.itertuples(index=False)]})
    return {"endpoint": endpoint, "given": given, "groups": groups, "problems": dict(result.problems)}


def landmark_report(cohort: pd.DataFrame, endpoint: str, event: str, landmark: float,
                    times: Sequence[float], specs: Sequence[CovariateSpec] = ()) -> dict:
    """``km --landmark L --landmark-event FIELD``: survival from L by the event's status at L."""
    result = landmark_analysis(cohort, endpoint, event, landmark, specs)
    return {
        "endpoint": endpoint, "event": event, "landmark": landmark, "n": result.n, "excluded": result.excluded,
        "groups": [{"group": km.label, "n": km.n, "events": km.events,
                    "at": [{"months_after_landmark": json_number(r.time), "survival": json_number(r.survival),
                            "lower": json_number(r.lower), "upper": json_number(r.upper)}
                           for r in km.survival_at(times).itertuples(index=False)]} for km in result.curves],
        "logrank": None if result.test is None else _test(result.test),
        "cox": None if result.model is None else _cox_json(result.model),
        "problems": dict(result.problems), "notes": list(result.notes),
    }


# ------------------------------------------------------------------ cif --endpoint agvhd|cgvhd


def gvhd_report(cohort: pd.DataFrame, which: str, group: str | None, times: Sequence[float]) -> dict:
    """``cif --endpoint agvhd|cgvhd``: cumulative incidence (death without the GVHD competing), Gray's test."""
    comparison = compare_by(with_group_column(cohort, group), group)
    out: dict = {"endpoint": which, "n": len(cohort), "incidences": []}
    for name in GVHD_REPORTS[which]:
        result = gvhd_incidence(comparison, name)
        groups = []
        for g, fit in result.fits.items():
            at = fit.cif_at(times)
            at = at[at["cause"] == 1]
            groups.append({"group": g, "n": fit.n, "events": fit.events[1], "competing_deaths": fit.events[2],
                           "at": [{"time": json_number(r.time), "cif": json_number(r.cif),
                                   "variance": json_number(r.variance), "lower": json_number(r.lower),
                                   "upper": json_number(r.upper)} for r in at.itertuples()]})
        gray = None if result.test is None else {"statistic": json_number(result.test["statistic"]),
                                                 "df": int(result.test["df"]), "p": json_number(result.test["p"])}
        out["incidences"].append({"name": GVHD_ENDPOINT_NAMES[name], "groups": groups, "gray": gray,
                                  "gray_note": result.test_note, "notes": list(result.notes)})
    return out
