"""analysis/calibration.py: the demo cohort against the published targets, checked against R."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.calibration import REPORT_COLUMNS, CalibrationError, calibration_report
from analysis.cohort.model import DEMO_COHORT_PATH
from analysis.cohort.published import load_targets

FIXTURE = Path(__file__).parent / "fixtures" / "demo_cohort" / "r_reference.json"


@pytest.fixture(scope="module")
def targets() -> dict:
    return load_targets()


@pytest.fixture(scope="module")
def report(demo_cohort, targets) -> pd.DataFrame:
    return calibration_report(demo_cohort, targets).set_index("key")


@pytest.fixture(scope="module")
def r_reference() -> dict:
    ref = json.loads(FIXTURE.read_text(encoding="utf-8"))
    md5 = hashlib.md5(DEMO_COHORT_PATH.read_bytes()).hexdigest()
    assert ref["csv_md5"] == md5, "data/demo_cohort.csv changed: rerun Rscript tests/r/demo_cohort.R"
    return ref


def _value(cohort: pd.DataFrame, targets: dict, key: str) -> pd.Series:
    return calibration_report(cohort, targets).set_index("key").loc[key]


def test_report_has_one_row_per_published_target(report, targets):
    expected = (1 + len(targets["km"]["os"]) + len(targets["km"]["rfs"]) + 2 + 1 + 1
                + 2 * (len(targets["cox"]["os"]) + len(targets["cox"]["rfs"])))
    assert len(report) == expected
    assert report.index.is_unique
    assert list(report.reset_index().columns) == REPORT_COLUMNS
    assert {"km.os.12", "km.rfs.60", "relapse.count", "median_followup", "cox.os.atg=yes.hr",
            "cox.rfs.lineage=T-ALL.p"} <= set(report.index)


def test_demo_cohort_meets_every_published_target(report):
    failed = report.loc[~report["passed"], ["quantity", "value", "target", "lower", "upper"]]
    assert failed.empty, failed.to_string()


def test_targets_are_taken_from_the_targets_file(report, targets):
    assert report.loc["km.os.12", "target"] == targets["km"]["os"][0]["survival"]
    assert report.loc["median_followup", "unit"] == targets["median_followup"]["unit"]
    assert report.loc["cox.rfs.lineage=T-ALL.p", "target_text"] == "<0.005"
    assert report.loc["cox.os.sex=male.hr", "lower"] == pytest.approx(0.35 / 1.25)


def test_km_and_followup_against_R(report, r_reference):
    """R: summary(survfit(Surv(t, e) ~ 1, conf.type = "log-log"), times = c(12, 24, 60))$surv;
    quantile(survfit(Surv(followup_months, 1 - death) ~ 1), 0.5) / 12 (tests/r/demo_cohort.R)."""
    for name in ("os", "rfs"):
        km = r_reference["km"][name]
        for months, surv in zip(km["months"], km["surv"], strict=True):
            assert report.loc[f"km.{name}.{months:g}", "value"] == pytest.approx(surv, abs=1e-12)
    assert report.loc["median_followup", "value"] == pytest.approx(r_reference["followup"]["median_years"],
                                                                   abs=1e-12)


def test_relapse_figures_against_R(report, r_reference):
    """R: sum(relapse), 100 * mean(relapse), median(relapse_months[relapse == 1])."""
    ref = r_reference["relapse"]
    assert report.loc["relapse.count", "value"] == ref["count"]
    assert report.loc["relapse.percent", "value"] == pytest.approx(ref["percent"])
    assert report.loc["median_relapse_interval", "value"] == pytest.approx(ref["median_months"])


@pytest.mark.parametrize("name", ["os", "rfs"])
def test_cox_against_R(report, r_reference, targets, name):
    """R: summary(coxph(Surv(t, e) ~ age10 + lineage [+ sex + atg], ties = "efron"))$coefficients."""
    ref = r_reference["cox"][name]
    for term, hr, p in zip(targets["cox"][name], ref["hr"], ref["p"], strict=True):
        key = f"cox.{name}.{term['factor']}={term['level']}"
        assert report.loc[f"{key}.hr", "value"] == pytest.approx(hr, rel=1e-6)
        assert report.loc[f"{key}.p", "value"] == pytest.approx(p, rel=1e-5)


# --- tolerance rules: each can fail ---------------------------------------------------------


def test_absolute_rule_accepts_the_band_and_nothing_beyond(demo_cohort, targets, report):
    value = report.loc["km.os.12", "value"]
    moved = copy.deepcopy(targets)
    moved["km"]["os"][0]["survival"] = value + 0.0149
    assert _value(demo_cohort, moved, "km.os.12")["passed"]
    moved["km"]["os"][0]["survival"] = value - 0.0151
    assert not _value(demo_cohort, moved, "km.os.12")["passed"]


def test_ratio_rule_accepts_a_factor_of_1_25_and_nothing_beyond(demo_cohort, targets, report):
    value = report.loc["cox.os.lineage=T-ALL.hr", "value"]
    moved = copy.deepcopy(targets)
    moved["cox"]["os"][1]["hr"] = value * 1.24
    assert _value(demo_cohort, moved, "cox.os.lineage=T-ALL.hr")["passed"]
    moved["cox"]["os"][1]["hr"] = value / 1.26
    assert not _value(demo_cohort, moved, "cox.os.lineage=T-ALL.hr")["passed"]


def test_p_values_must_be_on_the_published_side_of_0_05(demo_cohort, targets):
    moved = copy.deepcopy(targets)
    moved["cox"]["rfs"][0]["p"] = 0.2  # a published non-significant p the demo's p < 0.05 contradicts
    row = _value(demo_cohort, moved, "cox.rfs.age_group=≥ 10 y.p")
    assert not row["passed"] and row["lower"] == 0.05


def test_exact_rule(demo_cohort, targets):
    moved = copy.deepcopy(targets)
    moved["relapse"]["count"]["value"] = 26
    assert not _value(demo_cohort, moved, "relapse.count")["passed"]


def test_a_changed_cohort_fails(demo_cohort, targets):
    changed = demo_cohort.copy()
    first = changed.index[changed["relapse"] == 1][0]
    changed.loc[first, ["relapse", "relapse_months"]] = [0, np.nan]
    result = calibration_report(changed, targets).set_index("key")
    assert not result.loc["relapse.count", "passed"]
    assert not result["passed"].all()


# --- errors -----------------------------------------------------------------------------------


def test_missing_covariate_is_named(demo_cohort, targets):
    with pytest.raises(CalibrationError, match="needs the column\\(s\\) atg"):
        calibration_report(demo_cohort.drop(columns="atg"), targets)


def test_missing_target_is_named(demo_cohort, targets):
    broken = {k: v for k, v in targets.items() if k != "median_followup"}
    with pytest.raises(CalibrationError, match="no entry 'median_followup'"):
        calibration_report(demo_cohort, broken)


def test_unknown_tolerance_rule_is_named(demo_cohort, targets):
    broken = copy.deepcopy(targets)
    broken["median_followup"]["tolerance"] = {"rule": "roughly", "value": 1}
    with pytest.raises(CalibrationError, match="unknown tolerance rule 'roughly' for median_followup"):
        calibration_report(demo_cohort, broken)


def test_unknown_cox_term_is_named(demo_cohort, targets):
    broken = copy.deepcopy(targets)
    broken["cox"]["os"][2]["level"] = "other"
    with pytest.raises(CalibrationError, match="OS Cox model has no term sex = other"):
        calibration_report(demo_cohort, broken)


def test_targets_default_to_the_committed_file(demo_cohort, report):
    assert calibration_report(demo_cohort).set_index("key").equals(report)


def test_cox_reference_levels_come_from_the_targets(demo_cohort, targets, report):
    swapped = copy.deepcopy(targets)
    swapped["cox"]["os"][1].update(level="B-ALL", reference="T-ALL")
    turned = calibration_report(demo_cohort, swapped).set_index("key")
    assert turned.loc["cox.os.lineage=B-ALL.hr", "value"] == pytest.approx(
        1 / report.loc["cox.os.lineage=T-ALL.hr", "value"], rel=1e-6)
