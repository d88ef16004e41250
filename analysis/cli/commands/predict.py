"""``predict``: predicted survival (or cumulative incidence) for a patient profile, with its warnings."""

from __future__ import annotations

import argparse

import pandas as pd

from analysis.analyses.models import specs_from_options
from analysis.analyses.patient_like_me import (
    RESEARCH_NOTE,
    PatientPrediction,
    PredictionModels,
    clean_profile,
    default_window,
    fit_prediction_models,
    predict_patient,
    with_derived,
)
from analysis.analyses.risk_factors import default_covariates
from analysis.cli.options import parse_times, split_list
from analysis.cohort.filters import from_query_params, parse_query_string
from analysis.cohort.model import ENDPOINT_NAMES, LANDMARK_MONTHS, CohortError, covariates, is_categorical
from analysis.text import json_number

HELP = "predicted survival for a patient profile (Patient like me)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", choices=["os", "rfs", "relapse", "nrm"], default="os",
                        help="os / rfs: survival with 95 %% CI; relapse / nrm: cumulative incidence from the "
                             "cause-specific models")
    parser.add_argument("--covariates", metavar="COL[,COL...]",
                        help="model covariates (default: the page's model, the paper's OS model)")
    parser.add_argument("--profile", required=True, metavar="COL=VALUE[,...]",
                        help='the patient, e.g. "age_years=12,sex=male,lineage=T-ALL,atg=no"')
    parser.add_argument("--match", metavar="COL[,COL...]",
                        help="factors the matching patients share (default: the model's covariates)")
    parser.add_argument("--window", action="append", default=[], metavar="COL=WIDTH",
                        help="a number matches within ± WIDTH (default: half its interquartile range)")
    parser.add_argument("--times", type=parse_times, default=LANDMARK_MONTHS, help="times in months")


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CohortError(f"{what} expects COL=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    age_cut = from_query_params(parse_query_string(args.filters), cohort).filters.age_cut
    chosen = split_list([args.covariates]) if args.covariates else default_covariates("os", covariates(cohort))
    profile = with_derived(clean_profile(cohort, _pairs(split_list([args.profile]), "--profile")), age_cut)
    missing = [c for c in chosen if c not in profile]
    if missing:
        raise CohortError(f"the profile needs a value for {', '.join(missing)} (a covariate of the model)")
    specs = specs_from_options(cohort, chosen, split_list(args.categorical), standard_reference=True)
    match_on = split_list([args.match]) if args.match else chosen
    windows = {c: default_window(cohort[c]) for c in match_on if not is_categorical(cohort, c)}
    windows.update({c: float(w) for c, w in _pairs(args.window, "--window").items()})
    models = fit_prediction_models(cohort, specs)
    prediction = predict_patient(models, profile, match_on, windows, args.times)
    return {
        "endpoint": args.endpoint, "covariates": chosen, "profile": profile,
        "model": _model_summary(models, args.endpoint), "prediction": _values(prediction, args.endpoint),
        "matching": {"on": match_on, "description": prediction.matching, "n": prediction.n_matching,
                     "windows": windows},
        "warnings": list(prediction.warnings), "sentences": list(prediction.sentences), "note": RESEARCH_NOTE,
    }


def _model_summary(models: PredictionModels, endpoint: str) -> dict:
    if endpoint not in models.models:
        raise CohortError(f"no {ENDPOINT_NAMES[endpoint]} model: {models.problems[endpoint]}")
    model = models.models[endpoint]
    return {"n": model.n, "events": model.events, "terms": model.design.names}


def _values(prediction: PatientPrediction, endpoint: str) -> list[dict]:
    if endpoint in ("os", "rfs"):
        p = prediction.survival[endpoint]
        if p.curve is None:
            raise CohortError(f"no prediction for this profile: {p.problem}")
        columns = ("time", "survival", "lower", "upper")
        return [dict(zip(columns, (json_number(v) for v in row), strict=True))
                for row in p.at[list(columns)].to_numpy(dtype=float)]
    if prediction.incidence is None:
        raise CohortError(f"no prediction for this profile: {prediction.incidence_problem}")
    column = "cif1" if endpoint == "relapse" else "cif2"
    return [{"time": float(t), "cumulative_incidence": json_number(v)}
            for t, v in zip(prediction.times, prediction.incidence.at(prediction.times)[column], strict=True)]
