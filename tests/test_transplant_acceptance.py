"""Acceptance: public transplant data that no one here wrote, uploaded in five formats, give R's numbers.

The files in ``tests/fixtures/transplant`` are scikit-survival's ``bmt`` (Scrucca et
al. 2007: one time and a cause code) and ``cgvhd`` (Pintilie 2006: OS and relapse
with their own times, in years), exported by ``export.py`` as CSV, TSV, Excel,
SPSS, Stata and Parquet, with the column mappings a user would save.

Each file is read, mapped with its saved mapping, validated, and handed to the
project's report functions — the numbers behind the Survival (``km_report``),
Relapse (``cif_report``) and Risk factors (``cox_report``) views — and through
the command line. ``tests/r/transplant.R`` computed the same quantities in R from
the raw files (``r_reference.json``).
"""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from analysis.cohort.model import CohortError, endpoint, has_overall_survival
from analysis.ingest.loading import read_data_path
from analysis.ingest.mapping import read_mapping_file
from analysis.ingest.options import load_cohort_for_cli
from analysis.ingest.proposal import propose_mapping
from analysis.ingest.validation import check_upload

DIR = Path(__file__).parent / "fixtures" / "transplant"
R = json.loads((DIR / "r_reference.json").read_text())
BMT_FILES = ["bmt.csv", "bmt.sav", "bmt.parquet"]
CGVHD_FILES = ["cgvhd.tsv", "cgvhd.xlsx", "cgvhd.dta", "cgvhd.parquet"]
#: The SPSS file carries value labels where the others carry codes.
GROUP_NAMES = {"ALL": "0", "AML": "1"}
EXACT = {"rel": 1e-9, "abs": 1e-12}
FITTED = {"rel": 1e-6, "abs": 1e-9}  # iterative fits (Cox)


def _cohort(file_name: str):
    raw = read_data_path(DIR / file_name)
    mapping = read_mapping_file(DIR / f"{file_name.split('.')[0]}.mapping.json")
    checked = check_upload(raw.frame, mapping)
    assert checked.is_valid, checked.problems.to_string()
    return checked.cohort(exclude_flagged=False)


def _r_group(label: str) -> str:
    return GROUP_NAMES.get(label, label)


# ------------------------------------------------------------------ mapping


@pytest.mark.parametrize("file_name", BMT_FILES + CGVHD_FILES)
def test_every_file_maps_and_validates(file_name):
    cohort = _cohort(file_name)
    assert len(cohort) == (35 if file_name.startswith("bmt") else 100)


@pytest.mark.parametrize("file_name", BMT_FILES + CGVHD_FILES)
def test_all_formats_give_the_same_cohort(file_name):
    """Same data, whatever the format (bmt's SPSS labels aside)."""
    cohort = _cohort(file_name)
    first = _cohort(BMT_FILES[0] if file_name.startswith("bmt") else CGVHD_FILES[0])
    for column in ("followup_months", "relapse", "relapse_months"):
        np.testing.assert_allclose(cohort[column].to_numpy(dtype=float), first[column].to_numpy(dtype=float),
                                   equal_nan=True)
    np.testing.assert_array_equal(cohort["death"].isna(), first["death"].isna())


def test_the_spss_labels_are_proposed_correctly():
    """Labelled causes (censored/TRM/relapse) need no correction; bare codes 1/2 do."""
    sav = propose_mapping(read_data_path(DIR / "bmt.sav").frame)
    assert sav.time_form == "cause" and sav.event_map("cause") == {"censored": 0, "relapse": 1, "trm": 2}
    csv = propose_mapping(read_data_path(DIR / "bmt.csv").frame)
    assert csv.event_map("cause") == {"0": 0, "1": 1, "2": 2}  # the user must swap 1 and 2: the saved mapping does


def test_adult_ages_are_reported_when_mapped_as_age_at_hsct2():
    """cgvhd's proposal maps 'age' to the pediatric field; validation names every adult as unusual and keeps them."""
    raw = read_data_path(DIR / "cgvhd.tsv")
    mapping = propose_mapping(raw.frame)
    assert mapping.column("age_years") == "age"
    problems = check_upload(raw.frame, mapping.with_column("followup_months", "survtime")).problems
    # The proposal has no unit for "survtime": a column problem, nothing else checked.
    assert problems["problem"].str.startswith("choose the time unit").all()
    from dataclasses import replace

    checked = check_upload(raw.frame, replace(mapping, time_unit="years"))
    adults = raw.frame.loc[raw.frame["age"].astype(int) > 30, "age"]  # text as in the file
    assert checked.problems.empty  # possible ages: no row is lost
    warnings = checked.warnings
    assert warnings["row"].tolist() == adults.index.tolist()
    assert (warnings["problem"] == "outside the usual range 0–30 years").all()
    assert warnings["value"].tolist() == adults.tolist()
    assert checked.warning_groups[["column", "rows"]].values.tolist() == [["age", len(adults)]]
    assert len(checked.cohort(exclude_flagged=False)) == len(raw.frame)


def test_cause_coded_data_refuse_overall_survival():
    cohort = _cohort("bmt.csv")
    assert not has_overall_survival(cohort)
    with pytest.raises(CohortError, match="Overall survival needs vital status after relapse"):
        endpoint(cohort, "os")
    from analysis.cli.reports import km_report

    with pytest.raises(CohortError, match="one time and a cause code"):
        km_report(cohort, "os")


# ------------------------------------------------------------------ Survival view


def _check_km(report: dict, ref: dict, group_names=lambda g: g) -> None:
    """``km_report`` against ``survfit(conf.type = "log-log")`` and ``survdiff``."""
    by_group = {group_names(g["group"]): g for g in report["groups"]}
    assert set(by_group) == set(ref["groups"]) - {"all"}
    for name, g in by_group.items():
        r = ref["groups"][name]
        assert (g["n"], g["events"]) == (r["n"], r["events"])
        at = {a["time"]: a for a in g["at"]}
        for i, t in enumerate(r["times"]):
            assert [at[t]["survival"], at[t]["lower"], at[t]["upper"]] == pytest.approx(
                [r["surv"][i], r["lower"][i], r["upper"][i]], **EXACT), f"group {name}, {t} months"
            assert at[t]["n_at_risk"] == r["n_risk"][i]
        for key, theirs in zip(("median", "median_lower", "median_upper"), r["median"], strict=True):
            mine = g[key]  # R's NA (not reached) is None in the report
            assert (mine is None and theirs is None) or mine == pytest.approx(theirs, **EXACT), (name, key)
    lr = ref["logrank"]
    assert report["logrank"]["statistic"] == pytest.approx(lr["chisq"], rel=1e-9)
    assert report["logrank"]["df"] == lr["df"]
    assert report["logrank"]["p"] == pytest.approx(lr["p"], rel=1e-8)


@pytest.mark.parametrize("file_name", BMT_FILES)
def test_bmt_relapse_free_survival_against_R(file_name):
    """survfit(Surv(ftime, status != 0) ~ dis, conf.type = "log-log"); survdiff(...)."""
    from analysis.cli.reports import km_report

    ref = R["bmt"]["km_rfs"]
    report = km_report(_cohort(file_name), "rfs", group="dis", times=(6.0, 12.0, 24.0, 48.0))
    _check_km(report, ref, _r_group)


@pytest.mark.parametrize("file_name", CGVHD_FILES)
@pytest.mark.parametrize("name", ["os", "rfs"])
def test_cgvhd_survival_against_R(file_name, name):
    """survfit(Surv(survtime * 12, stat) ~ tx, conf.type = "log-log"); RFS on the relapse-or-death time."""
    from analysis.cli.reports import km_report

    report = km_report(_cohort(file_name), name, group="tx", times=(6.0, 12.0, 24.0, 36.0, 48.0))
    _check_km(report, R["cgvhd"][f"km_{name}"])


# ------------------------------------------------------------------ Relapse view


def _check_cif(report: dict, ref: dict, group_names=lambda g: g) -> None:
    """``cif_report`` against ``cmprsk::cuminc`` + ``timepoints`` and Gray's test."""
    times = ref["times"]
    for g in report["groups"]:
        name = group_names(g["group"])
        for cause, code in (("relapse", 1), ("nrm", 2)):
            r = ref["groups"][f"{name} {code}"]
            at = {a["time"]: a for a in g["causes"][cause]["at"]}
            for i, t in enumerate(times):
                if r["est"][i] is None:
                    continue
                assert at[t]["cif"] == pytest.approx(r["est"][i], **EXACT), (name, cause, t)
                assert at[t]["variance"] == pytest.approx(r["var"][i], **EXACT), (name, cause, t)
    for cause, code in (("relapse", "1"), ("nrm", "2")):
        mine, theirs = report["gray"][cause], ref["gray"][code]
        assert mine["statistic"] == pytest.approx(theirs["stat"], rel=1e-8)
        assert mine["df"] == theirs["df"]
        assert mine["p"] == pytest.approx(theirs["p"], rel=1e-7)


@pytest.mark.parametrize("file_name", BMT_FILES)
def test_bmt_cumulative_incidence_against_R(file_name):
    """cuminc(ftime, cause, dis); timepoints(fit, c(6, 12, 24, 48)); cause 1 relapse, 2 TRM."""
    from analysis.cli.reports import cif_report

    report = cif_report(_cohort(file_name), group="dis", times=(6.0, 12.0, 24.0, 48.0))
    _check_cif(report, R["bmt"]["cif"], _r_group)


@pytest.mark.parametrize("file_name", CGVHD_FILES)
def test_cgvhd_cumulative_incidence_against_R(file_name):
    """cuminc(rfs_time, cause, tx); timepoints(fit, c(6, 12, 24, 36, 48))."""
    from analysis.cli.reports import cif_report

    report = cif_report(_cohort(file_name), group="tx", times=(6.0, 12.0, 24.0, 36.0, 48.0))
    _check_cif(report, R["cgvhd"]["cif"])


# ------------------------------------------------------------------ Risk factors view


def _report_terms(report) -> dict[str, dict]:
    """The model terms of a ``cox_report`` dict, keyed the way R names them (``dxCML``, ``age``)."""
    found: dict[str, dict] = {}

    def visit(node):
        if isinstance(node, dict):
            if "hr" in node and ("term" in node or "level" in node):
                covariate = node.get("covariate") or node.get("factor") or node.get("column")
                level = node.get("level")
                if covariate is not None:
                    key = f"{covariate}{'' if level is None else _r_group(str(level))}"
                else:
                    key = str(node["term"]).replace("=", "")
                found[key] = node
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(report)
    return found


def _check_cox(report: dict, ref: dict) -> None:
    terms = _report_terms(report)
    for r in ref["terms"]:
        mine = terms.get(r["term"])
        assert mine is not None, f"no term {r['term']} in cox_report: {sorted(terms)}"
        assert math.log(mine["hr"]) == pytest.approx(r["coef"], **FITTED)
        assert mine["hr"] == pytest.approx(r["hr"], **FITTED)
        assert mine["lower"] == pytest.approx(r["lower"], **FITTED)
        assert mine["upper"] == pytest.approx(r["upper"], **FITTED)
        assert mine["p"] == pytest.approx(r["p"], **FITTED)


@pytest.mark.parametrize("file_name", BMT_FILES)
@pytest.mark.parametrize("name", ["rfs", "relapse", "nrm"])
def test_bmt_cox_against_R(file_name, name):
    """coxph(Surv(ftime, rfs) ~ dis, ties = "efron"), and cause-specific for relapse and TRM."""
    from analysis.cli.reports import cox_report

    report = cox_report(_cohort(file_name), name, ["dis"], categorical=("dis",), reference={}, intervals="wald")
    _check_cox(report, R["bmt"][f"cox_{name}"])


@pytest.mark.parametrize("file_name", CGVHD_FILES)
@pytest.mark.parametrize("name, covariates", [
    ("os", ["dx", "tx", "extent", "age"]), ("rfs", ["dx", "tx", "extent", "age"]), ("relapse", ["dx", "tx"]),
])
def test_cgvhd_cox_against_R(file_name, name, covariates):
    """coxph(Surv(os_time, stat) ~ dx + tx + extent + age, ties = "efron"), RFS, cause-specific relapse."""
    from analysis.cli.reports import cox_report

    report = cox_report(_cohort(file_name), name, covariates, categorical=(), reference={}, intervals="wald")
    _check_cox(report, R["cgvhd"][f"cox_{name}"])


# ------------------------------------------------------------------ command line


def _cli(*argv: str) -> dict:
    from analysis.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        code = main([*argv, "--json"])
    assert code == 0
    return json.loads(out.getvalue())


@pytest.mark.parametrize("file_name", BMT_FILES)
def test_bmt_through_the_command_line(file_name):
    mapping = str(DIR / "bmt.mapping.json")
    data = str(DIR / file_name)
    km = _cli("km", "--data", data, "--mapping", mapping, "--endpoint", "rfs", "--group", "dis",
              "--times", "6,12,24,48")
    _check_km(km, R["bmt"]["km_rfs"], _r_group)
    cif = _cli("cif", "--data", data, "--mapping", mapping, "--group", "dis", "--times", "6,12,24,48")
    _check_cif(cif, R["bmt"]["cif"], _r_group)


@pytest.mark.parametrize("file_name", CGVHD_FILES)
def test_cgvhd_through_the_command_line_with_map_flags(file_name):
    """No mapping file: --map flags on top of the proposal, age unmapped from the pediatric field."""
    flags = ["--data", str(DIR / file_name), "--map", "followup_months=survtime", "--map", "relapse_months=reltime",
             "--map", "age_years=", "--time-unit", "years"]
    km = _cli("km", *flags, "--endpoint", "os", "--group", "tx", "--times", "6,12,24,36,48")
    _check_km(km, R["cgvhd"]["km_os"])
    cif = _cli("cif", *flags, "--group", "tx", "--times", "6,12,24,36,48")
    _check_cif(cif, R["cgvhd"]["cif"])


def test_cli_loader_uses_the_saved_mapping():
    loaded = load_cohort_for_cli(DIR / "cgvhd.dta", mapping_file=DIR / "cgvhd.mapping.json")
    assert loaded.n_excluded == 0 and len(loaded.cohort) == 100 and loaded.name == "cgvhd.dta"
