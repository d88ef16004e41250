"""What an upload may contain: the data dictionary as a table, and a template CSV.

Both are made from the same constants the mapping and the schema use
(``analysis.cohort.model``, ``analysis.ingest.mapping``), so they cannot drift from what
the Data page accepts.
"""

from __future__ import annotations

import pandas as pd

from analysis.cohort.model import STANDARD_LEVELS, STANDARD_NUMERIC
from analysis.cohort.post_transplant import CGVHD_SEVERITIES
from analysis.ingest.mapping import FIELD_LABELS, REQUIRED_BY_FORM
from analysis.ingest.post_transplant import DATE_FIELDS, optional_fields

_MEANING: dict[str, str] = {
    "patient_id": "Unique patient identifier (any text). Without it, patients are named by their row.",
    "followup_months": "Time from HSCT2 to death or last contact.",
    "death": "Died (1) or alive at last contact (0). May be missing after a relapse only.",
    "relapse": "Relapse after HSCT2: 1 yes, 0 no.",
    "relapse_months": "Time from HSCT2 to relapse; empty without relapse.",
    "date_hsct2": "Date of the second transplant (time zero).",
    "date_relapse": "Date of relapse after HSCT2; empty without relapse.",
    "date_last_contact": "Date of death, or of last contact for patients alive.",
    "event_time": "Time from HSCT2 to the first event (relapse or death) or last contact.",
    "cause": "First event: 0 censored, 1 relapse, 2 death without relapse. "
             "Overall survival after a relapse is then unknown.",
    "age_years": "Age at HSCT2.",
    "months_hsct1_to_relapse": "Time from the first transplant to the relapse that led to HSCT2.",
    "sex": "Sex.",
    "lineage": "Immunophenotype: precursor B-cell or T-cell ALL.",
    "conditioning": "Conditioning for HSCT2: TBI-based or chemotherapy-based.",
    "intensity": "Myeloablative (MAC) or reduced intensity (RIC).",
    "atg": "Antithymocyte globulin given with HSCT2.",
    "donor": "Matched sibling, matched unrelated, mismatched unrelated, or haploidentical donor.",
    "remission": "Complete remission at HSCT2, or not.",
    "agvhd": "Acute GVHD after HSCT2: 1 yes, 0 no (derived from the grade when only the grade is given).",
    "agvhd_grade": "Maximum grade of acute GVHD, 0 (none) to IV.",
    "agvhd_months": "Time from HSCT2 to the onset of acute GVHD; empty without it.",
    "cgvhd": "Chronic GVHD after HSCT2: 1 yes, 0 no.",
    "cgvhd_severity": "Chronic GVHD severity: limited / extensive (Seattle) or mild / moderate / severe (NIH); "
                      "extensive, moderate and severe count as needing systemic therapy (GRFS).",
    "cgvhd_months": "Time from HSCT2 to the onset of chronic GVHD; empty without it.",
    "dli": "Donor lymphocyte infusion after HSCT2: 1 yes, 0 no.",
    "dli_months": "Time from HSCT2 to the first DLI; empty without one.",
    "date_agvhd": "Date of onset of acute GVHD (with times as dates).",
    "date_cgvhd": "Date of onset of chronic GVHD (with times as dates).",
    "date_dli": "Date of the first DLI (with times as dates).",
    "centre": "Transplant centre (any text; codes are groups): for centre-robust and centre-stratified models.",
}

_FORMS = {"durations": "times as durations", "dates": "times as dates", "cause": "one time and a cause"}


def data_dictionary() -> pd.DataFrame:
    """One row per field a user's file can map to.

    Columns: field, label, form (which way of giving times uses it), required,
    values (unit, range or allowed levels), meaning.
    """
    rows: list[dict[str, str]] = [_row("patient_id", "all", "no", "text")]
    for form, fields in (("durations", ("followup_months", "death", "relapse", "relapse_months")),
                         ("dates", ("date_hsct2", "date_relapse", "date_last_contact", "death", "relapse")),
                         ("cause", ("event_time", "cause"))):
        for name in fields:
            required = "yes" if name in REQUIRED_BY_FORM[form] else "no"
            rows.append(_row(name, _FORMS[form], required, _values(name)))
    for name, (unit, low, high) in STANDARD_NUMERIC.items():
        rows.append(_row(name, "all", "no", f"number, {unit}, {low:g}–{high:g}"))
    for name, levels in STANDARD_LEVELS.items():
        rows.append(_row(name, "all", "no", " / ".join(levels)))
    for name in (*optional_fields("durations"), *DATE_FIELDS):
        form = "times as dates" if name in DATE_FIELDS else (
            "durations or cause" if name.endswith("_months") else "all")
        rows.append(_row(name, form, "no", _optional_values(name)))
    rows.append({"field": "(any other column)", "label": "Covariate", "form": "all", "required": "no",
                 "values": "numbers or categories",
                 "meaning": "Kept as a covariate to filter on, group by and use in a Cox model."})
    return pd.DataFrame(rows, columns=["field", "label", "form", "required", "values", "meaning"])


def _optional_values(name: str) -> str:
    if name in ("agvhd", "cgvhd", "dli"):
        return "1/0, yes/no, or your own labels"
    if name == "agvhd_grade":
        return "0–4 or 0 / I / II / III / IV"
    if name == "cgvhd_severity":
        return " / ".join(CGVHD_SEVERITIES)
    if name == "centre":
        return "text"
    return _values(name)


def _values(name: str) -> str:
    if name in ("death", "relapse"):
        return "1/0, yes/no, true/false, dead/alive, or your own labels"
    if name == "cause":
        return "0 / 1 / 2, or your own labels"
    if name.startswith("date_"):
        return "date (2019-03-31, 31.03.2019, 03/31/2019, …)"
    return "number, in days, weeks, months or years"


def _row(name: str, form: str, required: str, values: str) -> dict[str, str]:
    return {"field": name, "label": FIELD_LABELS.get(name, name), "form": form, "required": required,
            "values": values, "meaning": _MEANING.get(name, "")}


def template_csv() -> str:
    """A CSV in the canonical format with two made-up rows, for a user to fill in."""
    example = pd.DataFrame({
        "patient_id": ["EX-001", "EX-002"],
        "followup_months": [30.5, 7.2],
        "death": [0, 1],
        "relapse": [1, 0],
        "relapse_months": [11.0, None],
        "age_years": [8.5, 14.0],
        "sex": ["female", "male"],
        "lineage": ["B-ALL", "T-ALL"],
        "conditioning": ["TBI", "chemo"],
        "intensity": ["MAC", "RIC"],
        "atg": ["yes", "no"],
        "donor": ["MUD", "haplo"],
        "remission": ["CR", "non-CR"],
        "months_hsct1_to_relapse": [18.0, 5.5],
        "agvhd": [1, 0],
        "agvhd_grade": [2, 0],
        "agvhd_months": [0.9, None],
        "cgvhd": [1, 0],
        "cgvhd_severity": ["moderate", None],
        "cgvhd_months": [6.5, None],
        "dli": [0, 0],
        "dli_months": [None, None],
        "centre": ["Centre A", "Centre B"],
    })
    return example.to_csv(index=False)
