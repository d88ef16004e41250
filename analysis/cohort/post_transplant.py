"""Events after HSCT2 and the transplant centre: the cohort's optional fields, their rules and endpoints.

Optional fields (``data/data_dictionary.md``), times in months from HSCT2:

=================  ==========================================================
``agvhd``          acute GVHD: 1 yes, 0 no (derived from the grade when only it is given)
``agvhd_grade``    its maximum grade, 0–IV as 0–4 (0: none)
``agvhd_months``   time to its onset; empty without aGVHD
``cgvhd``          chronic GVHD: 1 yes, 0 no
``cgvhd_severity`` limited / extensive (Seattle) or mild / moderate / severe (NIH)
``cgvhd_months``   time to its onset; empty without cGVHD
``dli``            donor lymphocyte infusion: 1 yes, 0 no
``dli_months``     time of the first DLI; empty without one
``centre``         the transplant centre (any text)
=================  ==========================================================

None of the post-HSCT2 events is known on the day of HSCT2: they are never
baseline covariates (immortal-time bias); they enter models as time-dependent
covariates or through a landmark (:mod:`analysis.analyses.post_transplant`).
This module knows their schema and derives the endpoints built on them:

* cumulative incidence of aGVHD grade II–IV, III–IV and of cGVHD, with death
  without that GVHD as the competing event (:func:`gvhd_causes`);
* GRFS, GVHD-free relapse-free survival (Holtan et al., Blood 2015): the first
  of grade III–IV aGVHD, cGVHD needing systemic therapy, relapse or death
  (:func:`grfs`). "Needing systemic therapy" is read from the severity:
  extensive (Seattle) or moderate / severe (NIH).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from analysis.cohort.checks import one_of_codes
from analysis.text import map_unique

#: Each post-HSCT2 event and the field holding its time.
POST_HSCT2_EVENTS: dict[str, str] = {"agvhd": "agvhd_months", "cgvhd": "cgvhd_months", "dli": "dli_months"}
POST_HSCT2_FIELDS: tuple[str, ...] = ("agvhd", "agvhd_grade", "agvhd_months", "cgvhd", "cgvhd_severity",
                                      "cgvhd_months", "dli", "dli_months")
CENTRE = "centre"
OPTIONAL_FIELDS: tuple[str, ...] = (*POST_HSCT2_FIELDS, CENTRE)
NUMERIC_FIELDS: tuple[str, ...] = ("agvhd", "agvhd_grade", "agvhd_months", "cgvhd", "cgvhd_months", "dli",
                                   "dli_months")
AGVHD_GRADES: tuple[int, ...] = (0, 1, 2, 3, 4)
CGVHD_SEVERITIES: tuple[str, ...] = ("limited", "extensive", "mild", "moderate", "severe")
#: cGVHD that needs systemic immunosuppression (GRFS counts it): Seattle extensive, NIH moderate or severe.
SYSTEMIC_CGVHD: tuple[str, ...] = ("extensive", "moderate", "severe")
GRADE_NAMES = {0: "0", 1: "I", 2: "II", 3: "III", 4: "IV"}

LABELS: dict[str, str] = {
    "agvhd": "Acute GVHD", "agvhd_grade": "Acute GVHD grade (0–IV)", "agvhd_months": "Time to acute GVHD (months)",
    "cgvhd": "Chronic GVHD", "cgvhd_severity": "Chronic GVHD severity",
    "cgvhd_months": "Time to chronic GVHD (months)", "dli": "Donor lymphocyte infusion",
    "dli_months": "Time to DLI (months)", "centre": "Centre",
}
EVENT_NAMES: dict[str, str] = {"agvhd": "acute GVHD", "cgvhd": "chronic GVHD", "dli": "DLI"}

#: The GVHD incidences: (event field, lowest grade counted or None for any) and their names.
GVHD_ENDPOINTS: dict[str, tuple[str, int | None]] = {"agvhd2": ("agvhd", 2), "agvhd3": ("agvhd", 3),
                                                      "cgvhd": ("cgvhd", None)}
GVHD_ENDPOINT_NAMES: dict[str, str] = {"agvhd2": "Acute GVHD grade II–IV", "agvhd3": "Acute GVHD grade III–IV",
                                       "cgvhd": "Chronic GVHD"}
CAUSE_GVHD, CAUSE_DEATH_WITHOUT_GVHD = 1, 2


def schema_columns() -> dict[str, pa.Column]:
    """Pandera columns of the optional fields (all nullable, none required)."""
    def binary() -> pa.Column:
        return pa.Column(float, one_of_codes([0, 1], error="must be 0 or 1"), nullable=True, coerce=True,
                         required=False)

    def months(what: str) -> pa.Column:
        return pa.Column(float, pa.Check.ge(0, error=f"negative time to {what}"), nullable=True, coerce=True,
                         required=False)

    return {
        "agvhd": binary(), "cgvhd": binary(), "dli": binary(),
        "agvhd_grade": pa.Column(float, one_of_codes(AGVHD_GRADES, error="not a grade 0–4 (0, I–IV)"),
                                 nullable=True, coerce=True, required=False),
        "agvhd_months": months("acute GVHD"), "cgvhd_months": months("chronic GVHD"), "dli_months": months("DLI"),
        "cgvhd_severity": pa.Column(str, pa.Check.isin(list(CGVHD_SEVERITIES),
                                                       error=f"not one of {', '.join(CGVHD_SEVERITIES)}"),
                                    nullable=True, coerce=False, required=False),
    }


def with_derived_events(df: pd.DataFrame) -> pd.DataFrame:
    """``agvhd`` from the grade (grade ≥ I) when only the grade is given."""
    if "agvhd_grade" in df and "agvhd" not in df:
        grade = pd.to_numeric(df["agvhd_grade"], errors="coerce")
        return df.assign(agvhd=(grade >= 1).astype(float).where(grade.notna()))
    return df


def row_problems(df: pd.DataFrame) -> list[dict]:
    """Cross-field rules of the optional fields: times with events, within follow-up, grade agreeing."""
    df = with_derived_events(df)
    out: list[dict] = []
    followup = pd.to_numeric(df["followup_months"], errors="coerce")
    for event, time_field in POST_HSCT2_EVENTS.items():
        if event not in df:
            continue
        happened = pd.to_numeric(df[event], errors="coerce") == 1
        name = EVENT_NAMES[event]
        if time_field not in df:
            continue
        when = pd.to_numeric(df[time_field], errors="coerce")
        for i in df.index[happened & when.isna()]:
            out.append({"row": i, "column": time_field, "value": None,
                        "problem": f"{event} is 1 but the time to {name} is missing"})
        for i in df.index[happened & (when > followup + 1e-9)]:
            out.append({"row": i, "column": time_field, "value": when[i],
                        "problem": f"{name} after last contact ({when[i]:g} > {followup[i]:g} months)"})
    if "agvhd_grade" in df:
        grade = pd.to_numeric(df["agvhd_grade"], errors="coerce")
        any_agvhd = pd.to_numeric(df["agvhd"], errors="coerce")
        for i in df.index[(any_agvhd == 0) & (grade >= 1)]:
            out.append({"row": i, "column": "agvhd_grade", "value": grade[i],
                        "problem": "acute GVHD is 0 but its grade is I–IV"})
        for i in df.index[(any_agvhd == 1) & (grade == 0)]:
            out.append({"row": i, "column": "agvhd_grade", "value": grade[i],
                        "problem": "acute GVHD is 1 but its grade is 0"})
    return out


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Types of the optional fields: events and grades as floats (NaN unknown), times only with the event."""
    out = with_derived_events(df)
    for column in NUMERIC_FIELDS:
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    for event, time_field in POST_HSCT2_EVENTS.items():
        if event in out and time_field in out:
            out[time_field] = out[time_field].where(out[event] == 1)
    if CENTRE in out:
        out[CENTRE] = map_unique(out[CENTRE], _centre_label)
    for column in (CENTRE, "cgvhd_severity"):  # missing text as NaN, as read_csv gives it
        if column in out:
            out[column] = out[column].where(out[column].notna(), np.nan)
    return out


def _centre_label(value: object) -> object:
    """Centre codes as text: 3 and 3.0 are centre "3"."""
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


# ------------------------------------------------------------------ what the data allow


def has_event(cohort: pd.DataFrame, event: str) -> bool:
    """The cohort records this post-HSCT2 event and its time."""
    return event in cohort and POST_HSCT2_EVENTS[event] in cohort and bool(cohort[event].notna().any())


def available_gvhd_endpoints(cohort: pd.DataFrame) -> list[str]:
    """The GVHD incidences these data can estimate (aGVHD by grade needs the grade)."""
    out = []
    if has_event(cohort, "agvhd") and "agvhd_grade" in cohort:
        out += ["agvhd2", "agvhd3"]
    if has_event(cohort, "cgvhd"):
        out.append("cgvhd")
    return out


def has_grfs(cohort: pd.DataFrame) -> bool:
    """GRFS needs the aGVHD grade with its time and cGVHD with its time."""
    return "agvhd2" in available_gvhd_endpoints(cohort) and has_event(cohort, "cgvhd")


def time_dependent_events(cohort: pd.DataFrame) -> list[str]:
    """Post-HSCT2 events recorded with their times: candidates for time-dependent covariates."""
    return [e for e in POST_HSCT2_EVENTS if has_event(cohort, e)]


def centres(cohort: pd.DataFrame) -> pd.Series:
    """Patients per centre (most first); empty without a ``centre`` column."""
    if CENTRE not in cohort:
        return pd.Series(dtype=int)
    return cohort[CENTRE].dropna().astype(str).value_counts()


# ------------------------------------------------------------------ endpoints


def gvhd_onset(cohort: pd.DataFrame, endpoint: str) -> np.ndarray:
    """Months to the GVHD an endpoint counts (NaN when it did not happen or its grade is unknown)."""
    event, lowest = GVHD_ENDPOINTS[endpoint]
    happened = cohort[event].to_numpy(dtype=float) == 1
    if lowest is not None:
        happened &= cohort["agvhd_grade"].to_numpy(dtype=float) >= lowest
    return np.where(happened, cohort[POST_HSCT2_EVENTS[event]].to_numpy(dtype=float), np.nan)


def gvhd_causes(cohort: pd.DataFrame, endpoint: str) -> tuple[np.ndarray, np.ndarray]:
    """(time, cause) for the cumulative incidence of a GVHD: 1 the GVHD, 2 death without it, 0 censored.

    Patients without that GVHD are followed to death or last contact.
    """
    onset = gvhd_onset(cohort, endpoint)
    followup = cohort["followup_months"].to_numpy(dtype=float)
    died = pd.Series(cohort["death"]).fillna(0).to_numpy(dtype=float) == 1
    had = np.isfinite(onset)
    time = np.where(had, onset, followup)
    cause = np.where(had, CAUSE_GVHD, np.where(died, CAUSE_DEATH_WITHOUT_GVHD, 0)).astype(int)
    return time, cause


@dataclass(frozen=True)
class GRFS:
    """GRFS times and events, and what the reader must know about how they were made."""

    time: np.ndarray
    event: np.ndarray
    notes: tuple[str, ...]


def grfs(cohort: pd.DataFrame) -> GRFS:
    """GVHD-free relapse-free survival (Holtan 2015): the first of aGVHD III–IV, systemic cGVHD, relapse, death.

    cGVHD counts when its severity is extensive, moderate or severe; without a
    severity column every cGVHD counts. aGVHD of unknown grade and cGVHD of
    unknown severity (when the column exists) do not count; the notes say how many.
    """
    followup = cohort["followup_months"].to_numpy(dtype=float)
    relapsed = cohort["relapse"].to_numpy() == 1
    died = pd.Series(cohort["death"]).fillna(0).to_numpy(dtype=float) == 1
    candidates = [followup, np.where(relapsed, cohort["relapse_months"].to_numpy(dtype=float), np.inf),
                  np.nan_to_num(gvhd_onset(cohort, "agvhd3"), nan=np.inf)]
    notes = []
    had_c = cohort["cgvhd"].to_numpy(dtype=float) == 1
    if "cgvhd_severity" in cohort:
        severity = cohort["cgvhd_severity"]
        systemic = had_c & severity.isin(SYSTEMIC_CGVHD).to_numpy()
        unknown = int((had_c & severity.isna().to_numpy()).sum())
        if unknown:
            notes.append(f"{unknown} patient(s) with chronic GVHD of unknown severity: their cGVHD does not "
                         "count as a GRFS event.")
    else:
        systemic = had_c
        notes.append("The data give no cGVHD severity: every chronic GVHD counts as needing systemic therapy.")
    candidates.append(np.where(systemic, cohort["cgvhd_months"].to_numpy(dtype=float), np.inf))
    ungraded = int(((cohort["agvhd"].to_numpy(dtype=float) == 1) & cohort["agvhd_grade"].isna().to_numpy()).sum())
    if ungraded:
        notes.append(f"{ungraded} patient(s) with acute GVHD of unknown grade: their aGVHD does not count as a "
                     "GRFS event.")
    time = np.min(np.column_stack(candidates), axis=1)
    event = (died | relapsed | np.isfinite(candidates[2]) | np.isfinite(candidates[3])).astype(int)
    return GRFS(time, event, tuple(notes))
