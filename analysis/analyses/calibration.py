"""The demo cohort against every published figure of Momm et al. (PRSZT).

The targets and their tolerance rules (value, unit, absolute / exact / ratio /
same side of 0.05) are read from ``data/published_targets.json`` by
:func:`analysis.cohort.published.load_targets`; each is recomputed on a cohort with the project's own estimators:

* Kaplan-Meier OS and RFS at 12 / 24 / 60 months: :func:`analysis.stats.kaplan_meier.fit_kaplan_meier`
  (R ``summary(survfit(...), times = )``);
* number and percent of patients with a relapse after HSCT2;
* median HSCT2 -> relapse interval among the relapsed: the plain median of
  ``relapse_months``;
* median follow-up by reverse Kaplan-Meier: :func:`analysis.stats.kaplan_meier.median_followup`
  (Schemper & Smith 1996);
* the multivariable Cox models of the paper, :func:`analysis.cox.fit_cox`
  (Efron ties, Wald p): OS ~ age ≥ 10 + T-ALL + male + ATG and
  RFS ~ age ≥ 10 + T-ALL, with the reference level of each term as the targets file gives it
  (age < 10, B-ALL, female, no ATG).

The report is meant for the synthetic demo cohort; on other data it only says
how far they are from the paper.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.cohort.model import MONTHS_PER_YEAR, age_group, endpoint, label
from analysis.cohort.published import load_targets
from analysis.stats.cox.design import CovariateSpec
from analysis.stats.cox.fit import fit_cox
from analysis.stats.kaplan_meier import fit_kaplan_meier, median_followup

REPORT_COLUMNS = ["key", "quantity", "value", "target", "target_text", "unit", "rule", "tolerance",
                  "lower", "upper", "passed"]

_NEEDED = ("age_years", "lineage", "sex", "atg")
_ENDPOINT_LABEL = {"os": "OS", "rfs": "RFS"}


class CalibrationError(ValueError):
    """A cohort or targets file the calibration cannot use (missing columns or targets)."""


def calibration_report(cohort: pd.DataFrame, targets: dict | None = None) -> pd.DataFrame:
    """Every published figure recomputed on ``cohort``, with its tolerance and whether it is met.

    Parameters
    ----------
    cohort : DataFrame
        A validated cohort (:func:`analysis.cohort.as_cohort`) with ``age_years``,
        ``lineage``, ``sex`` and ``atg``.
    targets : dict, optional
        As returned by :func:`analysis.cohort.published.load_targets`; read from
        ``data/published_targets.json`` when not given.

    Returns
    -------
    DataFrame
        One row per target: ``key`` (machine name, e.g. ``km.os.12`` or
        ``cox.rfs.lineage=T-ALL.p``), ``quantity`` (plain words), ``value``
        (from the cohort), ``target`` (published), ``target_text`` (as printed
        in the paper), ``unit``, ``rule`` (``absolute``, ``ratio``, ``exact``,
        ``same_side``), ``tolerance`` (the rule's number), ``lower`` /
        ``upper`` (the accepted range; for ``same_side`` the side of the
        threshold), ``passed``.
    """
    if targets is None:
        targets = load_targets()
    missing = [c for c in _NEEDED if c not in cohort.columns]
    if missing:
        raise CalibrationError(f"the calibration needs the column(s) {', '.join(missing)}, "
                               "which this cohort does not have")
    try:
        rows = [
            _row("n_patients", "Patients", len(cohort), targets["n_patients"]["value"], "patients",
                 targets["n_patients"]["tolerance"]),
            *_km_rows(cohort, targets),
            *_relapse_rows(cohort, targets),
            _followup_row(cohort, targets["median_followup"]),
            *_cox_rows(cohort, targets),
        ]
    except KeyError as err:
        raise CalibrationError(f"the targets file has no entry {err.args[0]!r}") from err
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)


def _km_rows(cohort: pd.DataFrame, targets: dict) -> list[dict]:
    rows = []
    for name in ("os", "rfs"):
        points = targets["km"][name]
        ep = endpoint(cohort, name)
        fitted = _km_survival(ep.time, ep.event, [p["months"] for p in points])
        for point, value in zip(points, fitted, strict=True):
            months = point["months"]
            rows.append(_row(f"km.{name}.{months:g}", f"{_ENDPOINT_LABEL[name]} at {months:g} months (Kaplan-Meier)",
                             value, point["survival"], point.get("unit", "probability"), point["tolerance"]))
    return rows


def _relapse_rows(cohort: pd.DataFrame, targets: dict) -> list[dict]:
    relapsed = cohort["relapse"].to_numpy() == 1
    count, percent = targets["relapse"]["count"], targets["relapse"]["percent"]
    interval = targets["median_relapse_interval"]
    median = float(np.median(cohort.loc[relapsed, "relapse_months"])) if relapsed.any() else math.nan
    return [
        _row("relapse.count", "Patients with a relapse after HSCT2", int(relapsed.sum()), count["value"],
             count["unit"], count["tolerance"]),
        _row("relapse.percent", "Patients with a relapse after HSCT2 (%)", 100.0 * relapsed.mean(),
             percent["value"], percent["unit"], percent["tolerance"]),
        _row("median_relapse_interval", "Median HSCT2 → relapse interval among the relapsed", median,
             interval["value"], interval["unit"], interval["tolerance"]),
    ]


def _followup_row(cohort: pd.DataFrame, target: dict) -> dict:
    ep = endpoint(cohort, "os")
    years = _median_followup_months(ep.time, ep.event) / MONTHS_PER_YEAR
    return _row("median_followup", "Median follow-up (reverse Kaplan-Meier)", years, target["value"],
                target["unit"], target["tolerance"])


def _cox_rows(cohort: pd.DataFrame, targets: dict) -> list[dict]:
    cut = float(targets["cox_age_cut_years"])
    hr_rule, p_rule = targets["cox_tolerance"]["hr"], targets["cox_tolerance"]["p"]
    rows = []
    for name in ("os", "rfs"):
        terms = targets["cox"][name]
        fitted = _cox_hazard_ratios(cohort, name, {t["factor"]: t["reference"] for t in terms}, cut)
        for term in terms:
            match = fitted[(fitted["covariate"] == term["factor"]) & (fitted["level"] == term["level"])]
            if match.empty:
                raise CalibrationError(f"the {name.upper()} Cox model has no term {term['factor']} = "
                                       f"{term['level']}")
            hr, p = float(match["hr"].iloc[0]), float(match["p"].iloc[0])
            what = f"{label(term['factor'])} {term['level']} vs {term['reference']}"
            key = f"cox.{name}.{term['factor']}={term['level']}"
            model = f"{_ENDPOINT_LABEL[name]} Cox"
            rows.append(_row(f"{key}.hr", f"{model} hazard ratio, {what}", hr, term["hr"], "ratio", hr_rule))
            rows.append(_row(f"{key}.p", f"{model} p-value, {what}", p, term["p"], "p", p_rule,
                             target_text=term.get("p_text")))
    return rows


def _row(key: str, quantity: str, value: float, target: float, unit: str, tolerance: dict,
         target_text: str | None = None) -> dict:
    """One report row; ``passed`` applies the tolerance rule of the targets file."""
    rule = tolerance["rule"]
    amount: Any = tolerance.get("value")  # the rule's number, as in the targets file; absent for "exact"
    value, target = float(value), float(target)
    if rule == "absolute":
        lower, upper = target - amount, target + amount
    elif rule == "ratio":
        lower, upper = target / amount, target * amount
    elif rule == "exact":
        lower = upper = target
    elif rule == "same_side":
        lower, upper = (0.0, amount) if target < amount else (amount, math.inf)
    else:
        raise CalibrationError(f"unknown tolerance rule {rule!r} for {key}")
    # a hair of slack so that a value printed at the edge of the range is not failed by rounding
    slack = 1e-9 * max(1.0, abs(target))
    if rule == "same_side":
        passed = (value < amount) == (target < amount)
    else:
        passed = bool(np.isfinite(value)) and lower - slack <= value <= upper + slack
    return {"key": key, "quantity": quantity, "value": value, "target": target,
            "target_text": target_text if target_text is not None else f"{target:g}", "unit": unit,
            "rule": rule, "tolerance": amount, "lower": lower, "upper": upper, "passed": bool(passed)}


# --- estimators: the project's own, behind small functions so the report does not depend on their API


def _km_survival(time: np.ndarray, event: np.ndarray, months: list[float]) -> list[float]:
    """Kaplan-Meier survival at ``months`` (R ``summary(survfit(...), times = months)``)."""
    return fit_kaplan_meier(time, event).survival_at(months)["survival"].tolist()


def _median_followup_months(time: np.ndarray, death: np.ndarray) -> float:
    """Median follow-up by reverse Kaplan-Meier, in months."""
    return float(median_followup(time, death))


def _cox_hazard_ratios(cohort: pd.DataFrame, name: str, references: dict[str, str], cut: float) -> pd.DataFrame:
    """Hazard ratios and Wald p of one of the paper's Cox models (Efron ties), one row per term.

    ``references`` maps each factor to its reference level (the targets
    file's ``reference``). Columns ``covariate``, ``level``, ``hr``, ``p``. The
    age factor is the ``age_group`` column at ``cut``.
    """
    ep = endpoint(cohort, name)
    frame = cohort.assign(age_group=age_group(cohort["age_years"], cut), _time=ep.time, _event=ep.event)
    specs = [CovariateSpec(factor, categorical=True, reference=level) for factor, level in references.items()]
    return fit_cox(frame, "_time", "_event", specs).summary[["covariate", "level", "hr", "p"]]
