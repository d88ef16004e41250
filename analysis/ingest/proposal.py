"""Proposing a column mapping from the names and values a registry export uses.

:func:`propose_mapping` recognises column names (``OS_days``, ``status``,
``dead``, ``time_to_relapse``, ``age``, ``gender``, ``immunophenotype``, ...),
the time unit written in them (``_days``, ``(months)``, ``_yrs``), and the time
form (durations, dates, or one time with a cause code). :func:`propose_values`
then fills the value maps from the values present: ``yes/no``, ``dead/alive``,
``1/0`` for events; ``T / T-ALL / T-lineage → T-ALL`` for categories.

A proposal is only a starting point: the Data page shows every choice, and
values it cannot place stay unmapped so that validation names them.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from analysis.cohort.model import STANDARD_LEVELS
from analysis.ingest.mapping import EVENT_FIELDS, FORM_FIELDS, ColumnMapping, as_value_maps
from analysis.ingest.values import (
    _UNIT_SUFFIX,
    CAUSE_TOKENS,
    EVENT_TOKENS,
    normalise_name,
    observed_keys,
    unit_in_name,
    value_key,
)

#: Column names (normalised: lower case, non-alphanumerics as "_") recognised for each field.
NAME_ALIASES: dict[str, tuple[str, ...]] = {
    "patient_id": ("patient_id", "id", "pid", "patientid", "patient", "patient_no", "patient_number", "pat_id",
                   "subject", "subject_id", "case", "case_id", "record_id", "upn", "stnum", "pseudonym"),
    "followup_months": ("followup_months", "os", "os_time", "ostime", "followup", "follow_up", "fu", "fu_time",
                        "futime", "survtime", "surv_time", "survival_time", "time_to_death", "overall_survival",
                        "os_followup", "time_to_death_or_last_contact", "time_to_last_contact", "time_os"),
    "death": ("death", "dead", "died", "deceased", "vital_status", "vitalstatus", "os_status", "os_event",
              "status", "stat", "death_event", "event_death", "fustat", "death_yn", "verstorben", "tod"),
    "relapse": ("relapse", "relapsed", "rel", "rcens", "relapse_status", "relapse_event", "event_relapse",
                "relapse_yn", "rel_status", "rezidiv"),
    "relapse_months": ("relapse_months", "time_to_relapse", "relapse_time", "reltime", "rel_time", "ttr",
                       "time_relapse", "time_to_rel"),
    "date_hsct2": ("date_hsct2", "hsct2_date", "date_of_hsct2", "date_hsct", "hsct_date", "date_sct", "sct_date",
                   "transplant_date", "date_transplant", "date_of_transplant", "tx_date", "date_tx", "hsct2",
                   "date_of_hsct", "datum_hsct2"),
    "date_relapse": ("date_relapse", "relapse_date", "date_of_relapse", "date_rel", "rel_date", "datum_rezidiv"),
    "date_last_contact": ("date_last_contact", "last_contact", "last_contact_date", "date_of_last_contact",
                          "date_death_or_last_contact", "date_of_death_or_last_contact", "date_last_fu",
                          "last_fu_date", "date_last_followup", "last_followup_date", "date_lfu", "lfu_date",
                          "date_last_follow_up", "last_follow_up"),
    "event_time": ("event_time", "ftime", "time", "failure_time", "time_to_event", "t", "time_to_first_event"),
    "cause": ("cause", "event_type", "fstatus", "cause_of_failure", "failure_cause", "first_event", "cause_code",
              "status"),
    "age_years": ("age_years", "age", "age_at_hsct2", "age_at_hsct", "age_at_transplant", "age_hsct2", "alter",
                  "age_y", "age_yrs", "age_at_sct"),
    "sex": ("sex", "gender", "geschlecht"),
    "lineage": ("lineage", "immunophenotype", "phenotype", "immunology", "all_type", "all_lineage",
                "immunophenotyp", "immunophenotyping", "cell_lineage"),
    "conditioning": ("conditioning", "conditioning_type", "tbi", "conditioning_regimen"),
    "intensity": ("intensity", "conditioning_intensity", "mac_ric", "regimen_intensity"),
    "atg": ("atg", "serotherapy", "atg_yn"),
    "donor": ("donor", "donor_type", "donortype"),
    "remission": ("remission", "remission_status", "disease_status", "status_at_hsct2", "cr_at_hsct2"),
    "months_hsct1_to_relapse": ("months_hsct1_to_relapse", "hsct1_to_relapse", "time_hsct1_to_relapse",
                                "interval_hsct1_relapse", "time_from_hsct1_to_relapse"),
}

#: Names of time columns once a unit suffix is removed (``os_days`` → ``os``).
_TIME_BASES: dict[str, tuple[str, ...]] = {
    "followup_months": (*NAME_ALIASES["followup_months"], "death", "survival", "last_contact", "surv", "fu"),
    "relapse_months": (*NAME_ALIASES["relapse_months"], "relapse", "rel"),
    "event_time": NAME_ALIASES["event_time"],
    "months_hsct1_to_relapse": NAME_ALIASES["months_hsct1_to_relapse"],
}
#: Synonyms of the standard levels (normalised like :func:`value_key`).
LEVEL_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "sex": {"female": ("f", "female", "w", "weiblich", "girl", "woman", "fem"),
            "male": ("m", "male", "männlich", "maennlich", "boy", "man", "masc")},
    "lineage": {
        "B-ALL": ("b", "b-all", "ball", "b all", "bcp", "bcp-all", "bcp all", "pre-b", "pre b", "pre-b-all",
                  "precursor b", "precursor b-cell", "precursor b-cell all", "b-lineage", "b lineage",
                  "b-cell", "b cell", "c-all", "common all", "pro-b", "b-precursor"),
        "T-ALL": ("t", "t-all", "tall", "t all", "t-lineage", "t lineage", "t-cell", "t cell", "pre-t",
                  "precursor t", "precursor t-cell", "precursor t-cell all", "etp", "etp-all", "t-precursor"),
    },
    "conditioning": {"TBI": ("tbi", "tbi-based", "tbi based", "irradiation", "tbi+chemo"),
                     "chemo": ("chemo", "chemotherapy", "chemo-based", "chemo based", "non-tbi", "no tbi",
                               "chemotherapy-based", "chemo only")},
    "intensity": {"MAC": ("mac", "myeloablative", "ma"),
                  "RIC": ("ric", "reduced", "reduced intensity", "nma", "non-myeloablative", "ric/nma")},
    "atg": {"no": ("no", "n", "0", "false", "none", "without atg", "nein"),
            "yes": ("yes", "y", "1", "true", "atg", "with atg", "ja")},
    "donor": {"MSD": ("msd", "sibling", "matched sibling", "mrd", "matched related", "identical sibling"),
              "MUD": ("mud", "matched unrelated", "unrelated", "urd"),
              "MMUD": ("mmud", "mismatched unrelated", "mmurd"),
              "haplo": ("haplo", "haploidentical", "haplo-identical", "mmfd", "haploidentical family")},
    "remission": {"CR": ("cr", "cr1", "cr2", "cr3", "cr4", "cr>2", "complete remission", "remission",
                         "in remission"),
                  "non-CR": ("non-cr", "noncr", "non cr", "ncr", "no cr", "not in cr", "active disease",
                             "pr", "refractory", "nr", "no remission", "active")},
}


def _match(columns: list[str], aliases: dict[str, tuple[str, ...]], taken: set[str],
           fields: list[str]) -> dict[str, str]:
    """Exact normalised-name matches, in alias order, each column used once."""
    found: dict[str, str] = {}
    norm = {c: normalise_name(c) for c in columns}
    for field in fields:
        for alias in aliases.get(field, ()):
            hit = next((c for c in columns if c not in taken and norm[c] == alias), None)
            if hit is not None:
                found[field] = hit
                taken.add(hit)
                break
    return found


def _match_with_units(columns: list[str], taken: set[str], fields: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for field in fields:
        for column in columns:
            hit = _UNIT_SUFFIX.match(normalise_name(column))
            if column not in taken and hit and hit.group("base") in _TIME_BASES.get(field, ()):
                found[field] = column
                taken.add(column)
                break
    return found


def _is_cause_code(values: pd.Series) -> bool:
    """Values for censored, relapse and death (0/1/2 or words): a cause, not a 0/1 event.

    Other values may be present too; they stay unmapped and are reported.
    """
    keys = {value_key(v) for v in values.dropna().unique()[:50]}
    return {CAUSE_TOKENS[k] for k in keys if k in CAUSE_TOKENS} == {0, 1, 2}


def propose_mapping(frame: pd.DataFrame) -> ColumnMapping:
    """A first mapping for ``frame`` from its column names and values.

    Chooses the time form (a cause code and one time → ``cause``; a date of
    HSCT2 → ``dates``; else ``durations``), maps every recognised column,
    reads the time unit from the names (``_days``...; ``*_months`` for a file
    already in the canonical form), and fills the value maps
    (:func:`propose_values`).
    """
    columns = [str(c) for c in frame.columns]
    taken: set[str] = set()
    found: dict[str, str] = {}
    status = next((c for c in columns if normalise_name(c) in ("status", "stat")), None)
    if status is not None and _is_cause_code(frame[status]):
        found["cause"] = status
        taken.add(status)
    found |= _match(columns, NAME_ALIASES, taken, ["patient_id", "date_hsct2", "date_relapse",
                                                  "date_last_contact"])
    found |= _match(columns, NAME_ALIASES, taken, ["followup_months", "relapse_months",
                                                  "months_hsct1_to_relapse"])
    found |= _match_with_units(columns, taken, ["followup_months", "relapse_months", "months_hsct1_to_relapse"])
    found |= _match(columns, NAME_ALIASES, taken, ["death", "relapse"])
    if "cause" not in found:
        found |= _match(columns, {"cause": tuple(a for a in NAME_ALIASES["cause"] if a != "status")}, taken,
                        ["cause"])
    if "cause" in found:
        found |= _match(columns, NAME_ALIASES, taken, ["event_time"])
        found |= _match_with_units(columns, taken, ["event_time"])
    found |= _match(columns, NAME_ALIASES, taken, ["age_years", *STANDARD_LEVELS])

    if "cause" in found and "event_time" in found and "followup_months" not in found:
        form = "cause"
    elif "date_hsct2" in found:
        form = "dates"
    else:
        form = "durations"
    time_columns = [found[f] for f in ("followup_months", "relapse_months", "event_time") if f in found
                    and f in FORM_FIELDS[form]]
    units = {unit_in_name(c) for c in time_columns}
    unit = units.pop() if len(units) == 1 else None
    mapping = ColumnMapping(columns=found, time_form=form, time_unit=unit)
    return propose_values(frame, mapping)


def propose_values(frame: pd.DataFrame, mapping: ColumnMapping) -> ColumnMapping:
    """Fill the value maps of mapped event, cause and category fields that have none yet.

    Only values present in the data are mapped, and only those the standard
    tokens or synonyms recognise; others are left for the user.
    """
    events = {f: dict(v) for f, v in mapping.event_values}
    levels = {f: dict(v) for f, v in mapping.level_values}
    for field in (*EVENT_FIELDS, "cause"):
        column = mapping.column(field)
        if column is None or column not in frame.columns or events.get(field):
            continue
        tokens = CAUSE_TOKENS if field == "cause" else EVENT_TOKENS
        events[field] = {k: tokens[k] for k in observed_keys(frame[column]) if k in tokens}
    for field, synonyms in LEVEL_SYNONYMS.items():
        column = mapping.column(field)
        if column is None or column not in frame.columns or levels.get(field):
            continue
        lookup = {value_key(s): level for level, words in synonyms.items() for s in (*words, level)}
        levels[field] = {k: lookup[k] for k in observed_keys(frame[column]) if k in lookup}
    return replace(mapping, event_values=as_value_maps({f: v for f, v in events.items() if v}),
                   level_values=as_value_maps({f: v for f, v in levels.items() if v}))


