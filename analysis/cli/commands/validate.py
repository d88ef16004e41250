"""``validate``: repeated k-fold cross-validation of the Cox model, a random survival forest and the null model."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from analysis.analyses.models import specs_from_options
from analysis.analyses.risk_factors import default_covariates
from analysis.analyses.validation import MODEL_NAMES, VALIDATION_ENDPOINTS, validate_models
from analysis.cli.options import split_list
from analysis.cohort.model import covariates
from analysis.text import json_number

HELP = "cross-validate the Cox model against a random survival forest and a covariate-free model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", choices=list(VALIDATION_ENDPOINTS), default="os")
    parser.add_argument("--covariates", metavar="COL[,COL...]",
                        help="model covariates (default: the paper's model of the endpoint)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\rfit {done} of {total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, cohort: pd.DataFrame) -> dict:
    chosen = (split_list([args.covariates]) if args.covariates
              else default_covariates(args.endpoint, covariates(cohort)))
    specs = specs_from_options(cohort, chosen, split_list(args.categorical), standard_reference=True)
    v = validate_models(cohort, args.endpoint, specs, folds=args.folds, repeats=args.repeats, seed=args.seed,
                        progress=_progress)
    metrics = [{"model": str(r["model"]), "model_name": MODEL_NAMES[str(r["model"])], "metric": str(r["metric"]),
                "apparent": json_number(r["apparent"]), "optimism": json_number(r["optimism"]),
                "corrected": json_number(r["corrected"]), "cross_validated": json_number(r["test"]),
                "folds": int(r["folds"]), "of": int(r["of"])} for r in v.result.summary.to_dict(orient="records")]
    calibration = [{k: (json_number(val) if isinstance(val, float) else val) for k, val in row.items()}
                   for row in v.calibration.to_dict(orient="records")]
    d = v.design
    return {"endpoint": args.endpoint, "covariates": chosen, "terms": list(v.terms), "n": v.n, "events": v.events,
            "folds": d.folds, "repeats": d.repeats, "seed": d.seed, "horizon_months": d.horizon,
            "calibration_months": d.calibration_time, "metrics": metrics, "calibration": calibration,
            "notes": list(v.notes)}
