"""What the command line prints: the page-level analyses as JSON-ready dicts.

Every report calls the same analysis function as the dashboard page it
mirrors (:func:`~analysis.analyses.survival.compare_survival` for ``km``,
:func:`~analysis.analyses.relapse.compare_relapse` for ``cif``,
:func:`~analysis.analyses.models.cox_model` for ``cox``), so a number on the
page and in ``--json`` output cannot disagree. NaN and infinities become
``None`` (:func:`analysis.text.json_number`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import pandas as pd

from analysis.analyses.calibration import calibration_report
from analysis.analyses.models import cox_model, specs_from_options
from analysis.analyses.relapse import CAUSE_NAMES, compare_relapse, gray_tests
from analysis.analyses.survival import check_endpoint, compare_survival
from analysis.cohort.grouping import compare_by
from analysis.cohort.model import LANDMARK_MONTHS, age_group
from analysis.cohort.published import load_targets
from analysis.cohort.summary import cohort_summary
from analysis.stats.kaplan_meier import SurvivalDataError
from analysis.stats.logrank import LogRankError
from analysis.text import json_number


def summary_report(cohort: pd.DataFrame) -> dict:
    """``summary``: n, deaths, relapses, counts per level (:func:`analysis.cohort.summary.cohort_summary`)."""
    return cohort_summary(cohort)


def calibration_json(cohort: pd.DataFrame) -> dict:
    """``calibration``: the demo cohort against every published target, and whether all pass."""
    rows = calibration_report(cohort, load_targets()).to_dict(orient="records")
    return {"all_passed": all(r["passed"] for r in rows), "targets": rows}


def with_group_column(cohort: pd.DataFrame, group: str | None, age_cut: float = 10.0) -> pd.DataFrame:
    """The cohort, with ``age_group`` added at ``age_cut`` when it is asked for and missing."""
    if group is None or group in cohort:
        return cohort
    if group == "age_group":
        if "age_years" not in cohort:
            raise ValueError("age group needs the column age_years, which the cohort does not have")
        return cohort.assign(age_group=age_group(cohort["age_years"], age_cut))
    raise ValueError(f"no column {group!r} in the cohort")


def km_report(cohort: pd.DataFrame, endpoint: str, group: str | None = None,
              times: Sequence[float] = LANDMARK_MONTHS, *, age_cut: float = 10.0) -> dict:
    """``km``: Kaplan-Meier per group with landmarks, medians, the log-rank test and median follow-up.

    Parameters
    ----------
    cohort : DataFrame
        A canonical cohort (:mod:`analysis.cohort.model`); times in months.
    endpoint : {"os", "rfs"}
    group : str or None
        A categorical covariate, or ``"age_group"`` (made from ``age_years`` at
        ``age_cut`` when the cohort lacks the column). None gives one group
        ``"all"`` and no log-rank test.
    times : sequence of float
        Landmarks in months for survival with log-log 95 % CI and number at risk.

    Top-level ``n``/``events`` count the whole cohort; groups leave out patients
    whose group is missing, and so does the log-rank test (``survdiff``).
    Medians not reached, and survival beyond the last follow-up, are ``None``.
    ``followup_median`` is the reverse Kaplan-Meier median in months.
    """
    check_endpoint(endpoint)
    comparison = compare_by(with_group_column(cohort, group, age_cut), group)
    result = compare_survival(comparison, endpoint, cohort=cohort)
    if result.problems:
        raise SurvivalDataError(next(iter(result.problems.values())))
    if group is not None and result.test is None:
        # A comparison was asked for on the command line: say why there is no test rather than print null.
        raise LogRankError(result.test_error or "a between-group test needs at least two groups with patients")
    groups = []
    for km in result.curves:
        m = km.median
        at = km.survival_at(times)
        groups.append({
            "group": km.label, "n": km.n, "events": km.events,
            "median": json_number(m.time), "median_lower": json_number(m.lower),
            "median_upper": json_number(m.upper),
            "at": [{"time": json_number(r.time), "survival": json_number(r.survival),
                    "lower": json_number(r.lower), "upper": json_number(r.upper),
                    "n_at_risk": int(cast(int, r.n_at_risk))} for r in at.itertuples(index=False)],
        })
    logrank = None
    if result.test is not None:
        test = result.test
        logrank = {"statistic": json_number(test.statistic), "df": int(test.df), "p": json_number(test.p)}
    return {
        "endpoint": endpoint, "n": result.n, "events": result.events,
        "groups": groups, "logrank": logrank,
        "followup_median": json_number(result.followup_median),
    }


def cif_report(cohort: pd.DataFrame, group: str | None = None,
               times: Sequence[float] = LANDMARK_MONTHS) -> dict:
    """``cif``: cumulative incidence of relapse and NRM per group, and Gray's test.

    ``n`` counts the whole cohort; groups (levels of ``group``, a categorical
    column or ``age_group``) leave out patients whose value is missing, and so
    does Gray's test. Per group and cause: events, and at each time the CIF,
    the variance ``cmprsk::timepoints`` reports, and log(-log) 95 % limits
    (None after the group's last follow-up). ``gray`` is None without a group;
    a test that cannot be done has None statistic and p and a ``note``.
    """
    comparison = compare_by(cohort, group)
    result = compare_relapse(comparison)
    groups = []
    for g, fit in result.fits.items():
        at = fit.cif_at(times)
        causes = {}
        for cause, name in CAUSE_NAMES.items():
            rows = at[at["cause"] == cause]
            causes[name] = {
                "events": fit.events[cause],
                "at": [{"time": float(cast(float, r.time)), "cif": json_number(r.cif),
                        "variance": json_number(r.variance), "lower": json_number(r.lower),
                        "upper": json_number(r.upper)} for r in rows.itertuples()],
            }
        groups.append({"group": g, "n": fit.n, "causes": causes})
    gray = None
    if group is not None:
        # One group only: the page shows no test; the command line says why.
        tests = result.tests if result.tests is not None else gray_tests(comparison.frame)
        gray = {}
        for r in tests.itertuples():
            entry: dict[str, object] = {"statistic": json_number(r.statistic), "df": int(cast(int, r.df)),
                                        "p": json_number(r.p)}
            if r.note:
                entry["note"] = r.note
            gray[CAUSE_NAMES[cast(int, r.cause)]] = entry
    return {"n": len(cohort), "groups": groups, "gray": gray}


def cox_report(
    cohort: pd.DataFrame,
    endpoint: str,
    covariates: Sequence[str],
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    cuts: Mapping[str, float] | None = None,
) -> dict:
    """``cox``: a Cox model of one endpoint (NaN -> None).

    Default reference level: the first in sorted order. A term whose
    likelihood has no maximum (monotone likelihood) gets ``None`` for its
    hazard ratio, CI and p: the number where the iteration stopped is not an
    estimate.
    """
    specs = specs_from_options(cohort, covariates, categorical, reference, cuts)
    model = cox_model(cohort, endpoint, specs)
    terms = []
    for row in model.summary.itertuples(index=False):
        estimable = row.term not in model.infinite
        terms.append({
            "term": row.term,
            "covariate": row.covariate,
            "level": None if row.level is None or (isinstance(row.level, float) and np.isnan(row.level))
            else row.level,
            "hr": json_number(row.hr) if estimable else None,
            "lower": json_number(row.lower) if estimable else None,
            "upper": json_number(row.upper) if estimable else None,
            "p": json_number(row.p) if estimable else None,
        })
    return {
        "endpoint": endpoint,
        "n": model.n,
        "events": model.events,
        "concordance": json_number(model.concordance),
        "lr_test": {"statistic": json_number(model.lr_test.statistic), "df": model.lr_test.df,
                    "p": json_number(model.lr_test.p)},
        "terms": terms,
    }
