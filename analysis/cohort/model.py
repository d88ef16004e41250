"""The cohort model: one row per patient, times in months from the day of HSCT2.

The canonical schema is written down for people in ``data/data_dictionary.md``
and enforced here with a pandera schema, so that every problem in a cohort is
reported at once as a table (row, column, value, problem) rather than one
exception at a time.

Two kinds of finding are kept apart:

* **impossible** values (:func:`cohort_problems`): a negative or missing time, a
  time longer than a human life, relapse after last contact, an event that is
  not 0/1, a duplicated ID, an unknown category. Such a row cannot be analysed.
* **implausible** values (:func:`cohort_warnings`): possible but unusual for this
  tool, which was built for children after a second transplant: an age over 30,
  follow-up or a time to relapse over 30 years, a relapse time recorded for a
  patient without relapse. The row is kept; the user sees one warning per kind
  and may exclude those rows.

Endpoints are derived in one place (:func:`endpoint`), following the EBMT
reporting conventions:

* OS  = (followup_months, death)
* RFS = (relapse_months if relapsed else followup_months, relapse or death)
* competing risks on the RFS time scale: cause 1 = relapse,
  cause 2 = death without relapse (non-relapse mortality, NRM), 0 = censored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from analysis.cohort import post_transplant
from analysis.cohort.checks import one_of_codes
from analysis.cohort.post_transplant import OPTIONAL_FIELDS, POST_HSCT2_FIELDS, has_grfs

DAYS_PER_MONTH = 365.25 / 12
MONTHS_PER_YEAR = 12.0
#: Estimates at fixed times are reported at 1, 2 and 5 years after HSCT2 unless asked otherwise.
LANDMARK_MONTHS: tuple[float, ...] = (12.0, 24.0, 60.0)

REQUIRED_FIELDS: tuple[str, ...] = (
    "patient_id",
    "followup_months",
    "death",
    "relapse",
    "relapse_months",
)

#: Standard categorical covariates and their allowed levels, in display order.
STANDARD_LEVELS: dict[str, tuple[str, ...]] = {
    "sex": ("female", "male"),
    "lineage": ("B-ALL", "T-ALL"),
    "conditioning": ("TBI", "chemo"),
    "intensity": ("MAC", "RIC"),
    "atg": ("no", "yes"),
    "donor": ("MSD", "MUD", "MMUD", "haplo"),
    "remission": ("CR", "non-CR"),
}

#: Standard numeric covariates with their unit and plausible range (outside it: a warning, the row is kept).
STANDARD_NUMERIC: dict[str, tuple[str, float, float]] = {
    "age_years": ("years", 0.0, 30.0),
    "months_hsct1_to_relapse": ("months", 0.0, 600.0),
}
#: Times are possible up to a human life and plausible up to 30 years after HSCT2.
MAX_POSSIBLE_MONTHS = 130 * 12.0
MAX_PLAUSIBLE_MONTHS = 30 * 12.0
#: The possible range of the standard numeric covariates (outside it: the row is excluded).
POSSIBLE_NUMERIC: dict[str, tuple[float, float]] = {
    "age_years": (0.0, 130.0),
    "months_hsct1_to_relapse": (0.0, MAX_POSSIBLE_MONTHS),
}

#: Human-readable labels for the standard fields.
LABELS: dict[str, str] = {
    "patient_id": "Patient ID",
    "followup_months": "Follow-up (months)",
    "death": "Death",
    "relapse": "Relapse after HSCT2",
    "relapse_months": "Time to relapse (months)",
    "age_years": "Age at HSCT2 (years)",
    "age_group": "Age group",
    "sex": "Sex",
    "lineage": "Lineage",
    "conditioning": "Conditioning",
    "intensity": "Intensity",
    "atg": "ATG",
    "donor": "Donor",
    "remission": "Remission at HSCT2",
    "months_hsct1_to_relapse": "HSCT1 → relapse (months)",
    **post_transplant.LABELS,
}

ENDPOINT_NAMES: dict[str, str] = {
    "os": "Overall survival",
    "rfs": "Relapse-free survival",
    "relapse": "Relapse (cause-specific)",
    "nrm": "Non-relapse mortality (cause-specific)",
    "grfs": "GVHD-free relapse-free survival",
}

CAUSE_CENSORED, CAUSE_RELAPSE, CAUSE_NRM = 0, 1, 2


class CohortError(ValueError):
    """A cohort that does not satisfy the canonical schema.

    ``problems`` holds one row per problem: row, column, value, problem. The
    message is one line: a column name or value from a file that holds line
    breaks or tabs is shown with them as spaces, so a message never breaks apart.
    """

    def __init__(self, message: str, problems: pd.DataFrame | None = None):
        super().__init__(" ".join(str(message).split()))
        self.problems = problems if problems is not None else _empty_problems()


def label(column: str) -> str:
    """The display label of a column (the column name for non-standard ones)."""
    return LABELS.get(column, column)


def _empty_problems() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype="Int64"), "column": [], "value": [], "problem": []})


_LIFE = f"longer than a human life (over {MAX_POSSIBLE_MONTHS / 12:g} years)"


def _schema(has_death_unknown: bool) -> pa.DataFrameSchema:
    event = pa.Column(
        float,
        one_of_codes([0, 1], error="must be 0 or 1"),
        nullable=False,
        coerce=True,
    )
    columns = {  # the patient ID's rules (text, present, unique) are checked by _id_problems
        "followup_months": pa.Column(
            float,
            [
                pa.Check.ge(0, error="negative follow-up time"),
                pa.Check(lambda s: np.isfinite(s), element_wise=False, error="infinite time"),
                pa.Check.le(MAX_POSSIBLE_MONTHS, error=f"follow-up {_LIFE}"),
            ],
            nullable=False,
            coerce=True,
        ),
        "death": pa.Column(
            float,
            one_of_codes([0, 1], error="must be 0 or 1"),
            nullable=has_death_unknown,
            coerce=True,
        ),
        "relapse": event,
        "relapse_months": pa.Column(
            float,
            [pa.Check.ge(0, error="negative time to relapse"),
             pa.Check.le(MAX_POSSIBLE_MONTHS, error=f"time to relapse {_LIFE}")],
            nullable=True,
            coerce=True,
        ),
    }
    for column, (low, high) in POSSIBLE_NUMERIC.items():
        columns[column] = pa.Column(
            float,
            pa.Check.in_range(low, high, error=f"impossible: outside {low:g}–{high:g}"),
            nullable=True,
            coerce=True,
            required=False,
        )
    for column, levels in STANDARD_LEVELS.items():
        columns[column] = pa.Column(
            None,  # the levels are text: a value outside them fails the check (no per-value type test)
            pa.Check.isin(list(levels), error=f"not one of {', '.join(levels)}"),
            nullable=True,
            coerce=False,
            required=False,
        )
    columns.update(post_transplant.schema_columns())
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _row_problems(df: pd.DataFrame) -> list[dict]:
    """Cross-field rules a column schema cannot express."""
    out: list[dict] = []
    relapse = pd.to_numeric(df["relapse"], errors="coerce")
    rel_t = pd.to_numeric(df["relapse_months"], errors="coerce")
    fu = pd.to_numeric(df["followup_months"], errors="coerce")
    missing = (relapse == 1) & rel_t.isna()
    for i in df.index[missing]:
        out.append({"row": i, "column": "relapse_months", "value": None,
                    "problem": "relapse is 1 but the time to relapse is missing"})
    late = (relapse == 1) & (rel_t > fu + 1e-9)
    for i in df.index[late]:
        out.append({"row": i, "column": "relapse_months", "value": rel_t[i],
                    "problem": f"relapse after last contact ({rel_t[i]:g} > {fu[i]:g} months)"})
    if "death" in df:
        death = pd.to_numeric(df["death"], errors="coerce")
        unknown = death.isna() & (relapse != 1)
        for i in df.index[unknown]:
            out.append({"row": i, "column": "death", "value": None,
                        "problem": "death status missing (allowed only after a relapse)"})
    if any(c in df for c in POST_HSCT2_FIELDS):
        out.extend(post_transplant.row_problems(df))
    return out


def cohort_problems(df: pd.DataFrame) -> pd.DataFrame:
    """Every violation of the canonical schema, one row each.

    Returns a DataFrame with columns ``row`` (the index label of the offending
    row, or <NA> for a whole-column problem), ``column``, ``value`` and
    ``problem``. An empty frame means the data are a valid cohort.
    """
    missing = [c for c in REQUIRED_FIELDS if c not in df.columns]
    if missing:
        return pd.DataFrame(
            {"row": pd.array([pd.NA] * len(missing), dtype="Int64"), "column": missing,
             "value": [None] * len(missing), "problem": ["required column is missing"] * len(missing)}
        )
    schema = _schema(has_death_unknown=True)
    rows, numeric = _coerce_numbers(df, schema.columns)
    rows.extend(_id_problems(df["patient_id"]))
    try:
        schema.validate(numeric, lazy=True, inplace=True)  # numeric is a new frame, ours to change
    except pa.errors.SchemaErrors as err:
        for rec in err.failure_cases.itertuples(index=False):
            idx = rec.index
            rows.append({
                "row": None if pd.isna(idx) else idx,
                "column": rec.column,
                "value": rec.failure_case,
                "problem": _plain_problem(str(rec.check)),
            })
    rows.extend(_row_problems(df))
    if not rows:
        return _empty_problems()
    out = pd.DataFrame(rows, columns=["row", "column", "value", "problem"])
    out["row"] = pd.array(out["row"].to_numpy(), dtype="Int64")
    # A value that is not a number is reported once, not again as "missing".
    unreadable = out.loc[out["problem"] == "not a number", ["row", "column"]]
    key = pd.MultiIndex.from_frame(out[["row", "column"]])
    echo = key.isin(pd.MultiIndex.from_frame(unreadable)) & (out["problem"] == "missing value").to_numpy()
    out = out[~echo]
    return out.drop_duplicates().sort_values(["row", "column"], na_position="first").reset_index(drop=True)


def cohort_warnings(df: pd.DataFrame) -> pd.DataFrame:
    """Values that are possible but unusual for this tool, one row each (same columns as :func:`cohort_problems`).

    The rows stay in the cohort; a page shows each kind once with its count
    and lets the user exclude them. Values that are impossible (reported by
    :func:`cohort_problems`) are not reported again here.
    """
    if any(c not in df.columns for c in REQUIRED_FIELDS):
        return _empty_problems()
    rows: list[dict] = []
    fu = pd.to_numeric(df["followup_months"], errors="coerce")
    rel_t = pd.to_numeric(df["relapse_months"], errors="coerce")
    relapse = pd.to_numeric(df["relapse"], errors="coerce")
    limit = MAX_PLAUSIBLE_MONTHS
    checks = [
        ("followup_months", fu, fu.between(limit, MAX_POSSIBLE_MONTHS, inclusive="right"),
         f"follow-up over {limit / 12:g} years: unusual"),
        ("relapse_months", rel_t, (relapse == 1) & rel_t.between(limit, MAX_POSSIBLE_MONTHS, inclusive="right"),
         f"time to relapse over {limit / 12:g} years: unusual"),
        ("relapse_months", rel_t, (relapse == 0) & rel_t.notna() & (rel_t < fu - 1e-9),
         "relapse is 0 but a time to relapse before last contact is given: a relapse not recorded?"),
    ]
    for column, (unit, low, high) in STANDARD_NUMERIC.items():
        if column in df:
            values = pd.to_numeric(df[column], errors="coerce")
            lo, hi = POSSIBLE_NUMERIC[column]
            unusual = values.between(lo, hi) & ~values.between(low, high)
            checks.append((column, values, unusual, f"outside the usual range {low:g}–{high:g} {unit}"))
    for column, values, mask, problem in checks:
        rows.extend({"row": i, "column": column, "value": values[i], "problem": problem}
                    for i in df.index[mask.fillna(False).to_numpy(dtype=bool)])
    if not rows:
        return _empty_problems()
    out = pd.DataFrame(rows, columns=["row", "column", "value", "problem"])
    out["row"] = pd.array(out["row"].to_numpy(), dtype="Int64")
    return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def _coerce_numbers(df: pd.DataFrame, checked: Iterable[str]) -> tuple[list[dict], pd.DataFrame]:
    """The ``checked`` columns of ``df``, numeric fields as floats; each value that is not a number is reported.

    A value that cannot be read is reported once here and treated as missing
    afterwards, so it is not reported again by the range checks. The frame is
    new and holds only the schema's columns (the others are never copied).
    """
    rows: list[dict] = []
    numeric_fields = ["followup_months", "death", "relapse", "relapse_months", *STANDARD_NUMERIC,
                      *post_transplant.NUMERIC_FIELDS]
    out: dict[str, pd.Series] = {}
    for column in numeric_fields:
        if column not in df:
            continue
        raw = df[column]
        values = pd.to_numeric(raw, errors="coerce")
        unread = values.isna() & raw.notna()  # only these can be text that is not a number
        if unread.any():
            blank = raw[unread].astype(str).str.strip() == ""
            rows.extend({"row": i, "column": column, "value": raw[i], "problem": "not a number"}
                        for i in blank.index[~blank.to_numpy()])
        out[column] = values.astype(float)
    out.update({column: df[column] for column in checked if column in df and column not in out})
    return rows, pd.DataFrame(out, index=df.index, copy=False)  # not merged into blocks: a copy for nothing


def _id_problems(ids: pd.Series) -> list[dict]:
    """Missing and duplicated patient IDs, compared as text (``1`` and ``"1"`` are the same ID).

    One factorisation finds both. (pandera's ``str`` column with ``unique=True``
    tested every value's type and hashed the column twice: ~0.7 s at a million
    rows, this ~0.15 s.)
    """
    text = _as_text(ids)
    codes, _ = pd.factorize(text)  # a missing ID is -1
    present = codes >= 0
    repeated = np.zeros(len(codes), dtype=bool)
    if present.any():
        counts = np.bincount(codes[present])
        repeated[present] = counts[codes[present]] > 1
    rows = [{"row": i, "column": "patient_id", "value": None, "problem": "missing value"}
            for i in ids.index[~present]]
    rows.extend({"row": i, "column": "patient_id", "value": v, "problem": "duplicated ID"}
                for i, v in zip(ids.index[repeated], text[repeated], strict=True))
    return rows


def _as_text(values: pd.Series) -> pd.Series:
    """Every present value as ``str`` (missing ones stay missing); a column of text is returned as it is."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # one pass in C
        return values
    return values.where(values.isna(), values.astype(str))


def _plain_problem(check: str) -> str:
    if check == "not_nullable":
        return "missing value"
    if check == "field_uniqueness":
        return "duplicated ID"
    if check.startswith("coerce_dtype"):
        return "not a number"
    if check == "column_in_dataframe":
        return "required column is missing"
    return check


def as_cohort(df: pd.DataFrame) -> pd.DataFrame:
    """Validate ``df`` against the canonical schema and return a clean copy.

    Types are normalised (events as int, times as float, IDs and categorical
    covariates as strings); extra columns are kept as generic covariates.
    Raises :class:`CohortError` naming the problems when the data are invalid.
    """
    problems = cohort_problems(df)
    if len(problems):
        first = problems.iloc[0]
        where = "" if pd.isna(first["row"]) else f"row {first['row']}: "
        raise CohortError(
            f"{len(problems)} problem(s) in the cohort, e.g. {where}{first['column']}: {first['problem']}",
            problems,
        )
    return normalise_cohort(df)


def normalise_cohort(df: pd.DataFrame) -> pd.DataFrame:
    """The type normalisation of :func:`as_cohort`, for rows :func:`cohort_problems` found clean.

    Callers that have just run :func:`cohort_problems` themselves (the upload
    check) use this to avoid validating the same rows twice. The result owns
    its data (a copy of each column) and is numbered 0, 1, 2, ...
    """
    out = {c: df[c] for c in df.columns}
    out["patient_id"] = _as_text(df["patient_id"])
    out["followup_months"] = df["followup_months"].astype(float)
    out["relapse"] = df["relapse"].astype(float).astype(int)
    death = pd.to_numeric(df["death"]).astype("Float64")
    out["death"] = death.astype(float).astype(int) if death.notna().all() else death
    out["relapse_months"] = df["relapse_months"].astype(float).where(out["relapse"] == 1)
    for column in STANDARD_NUMERIC:
        if column in out:
            out[column] = df[column].astype(float)
    # Column by column into a new frame: copying a frame of many columns (df.copy, reset_index) would first
    # merge them into one block per type, which at a million rows cost more than the rest of this together.
    cohort = pd.DataFrame({c: _own_copy(values) for c, values in out.items()}, copy=False)
    if any(c in cohort for c in OPTIONAL_FIELDS):
        cohort = post_transplant.normalise(cohort)
    return cohort


def _own_copy(values: pd.Series) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """The values of a column as a new array (numpy ones as numpy: wrapped, an object array is scanned again)."""
    return values.to_numpy(copy=True) if isinstance(values.dtype, np.dtype) else values.array.copy()


def covariates(cohort: pd.DataFrame) -> list[str]:
    """Covariate columns of a cohort: standard ones first, then the generic ones.

    Events after HSCT2 (GVHD, DLI) are not covariates: they are unknown at
    HSCT2 and enter models only as time-dependent covariates or by landmark.
    """
    standard = [c for c in (*STANDARD_NUMERIC, *STANDARD_LEVELS) if c in cohort.columns]
    extra = [c for c in cohort.columns if c not in REQUIRED_FIELDS and c not in standard
             and c not in POST_HSCT2_FIELDS and not c.startswith("_")]
    return standard + extra


def is_categorical(cohort: pd.DataFrame, column: str) -> bool:
    """Whether a covariate is treated as categorical (non-numeric values)."""
    if column in STANDARD_LEVELS or column == "age_group":
        return True
    return not pd.api.types.is_numeric_dtype(cohort[column])


def categorical_covariates(cohort: pd.DataFrame) -> list[str]:
    return [c for c in covariates(cohort) if is_categorical(cohort, c)]


def numeric_covariates(cohort: pd.DataFrame) -> list[str]:
    return [c for c in covariates(cohort) if not is_categorical(cohort, c)]


def levels(cohort: pd.DataFrame, column: str) -> list[str]:
    """Observed levels of a categorical covariate, standard order first."""
    present = [str(v) for v in pd.unique(cohort[column].dropna())]
    order = STANDARD_LEVELS.get(column, ())
    known = [lvl for lvl in order if lvl in present]
    return known + sorted(v for v in present if v not in order)


def age_group(age_years: pd.Series, cut: float) -> pd.Series:
    """``"< cut"`` / ``"≥ cut"`` labels (missing age stays missing)."""
    labels = np.where(age_years >= cut, f"≥ {cut:g} y", f"< {cut:g} y")
    return pd.Series(labels, index=age_years.index).where(age_years.notna())


def has_overall_survival(cohort: pd.DataFrame) -> bool:
    """False for cause-coded data, where vital status after a relapse is unknown."""
    return bool(pd.Series(cohort["death"]).notna().all())


def survival_endpoints(cohort: pd.DataFrame) -> list[str]:
    """The Kaplan-Meier endpoints the data allow: OS (vital status known), RFS, GRFS (GVHD fields given)."""
    return (["os"] if has_overall_survival(cohort) else []) + ["rfs"] + (["grfs"] if has_grfs(cohort) else [])


@dataclass(frozen=True)
class Endpoint:
    """Times (months) and 0/1 event indicators of one endpoint, aligned with the cohort rows."""

    name: str
    time: np.ndarray
    event: np.ndarray


def rfs_time(cohort: pd.DataFrame) -> np.ndarray:
    relapsed = cohort["relapse"].to_numpy() == 1
    return np.where(relapsed, cohort["relapse_months"].to_numpy(dtype=float),
                    cohort["followup_months"].to_numpy(dtype=float))


def competing_cause(cohort: pd.DataFrame) -> np.ndarray:
    """Cause on the RFS time scale: 1 relapse, 2 death without relapse, 0 censored."""
    relapsed = cohort["relapse"].to_numpy() == 1
    died = pd.Series(cohort["death"]).fillna(0).to_numpy(dtype=float) == 1
    return np.where(relapsed, CAUSE_RELAPSE, np.where(died, CAUSE_NRM, CAUSE_CENSORED)).astype(int)


def endpoint(cohort: pd.DataFrame, name: str) -> Endpoint:
    """Derive an endpoint: ``os``, ``rfs``, ``relapse``, ``nrm`` or ``grfs``.

    ``relapse`` and ``nrm`` are cause-specific: the competing event is censored
    at its time (for Cox models; cumulative incidence uses
    :func:`competing_cause` instead, never 1 − KM). ``grfs`` is GVHD-free
    relapse-free survival (:func:`analysis.cohort.post_transplant.grfs`).
    """
    if name == "os":
        if not has_overall_survival(cohort):
            raise CohortError(
                "Overall survival needs vital status after relapse, which these data do not have "
                "(they carry one time and a cause code)."
            )
        return Endpoint(name, cohort["followup_months"].to_numpy(dtype=float),
                        cohort["death"].to_numpy(dtype=float).astype(int))
    cause = competing_cause(cohort)
    time = rfs_time(cohort)
    if name == "rfs":
        return Endpoint(name, time, (cause != CAUSE_CENSORED).astype(int))
    if name == "relapse":
        return Endpoint(name, time, (cause == CAUSE_RELAPSE).astype(int))
    if name == "nrm":
        return Endpoint(name, time, (cause == CAUSE_NRM).astype(int))
    if name == "grfs":
        if not has_grfs(cohort):
            raise CohortError("GRFS needs the acute GVHD grade and the chronic GVHD fields with their times, "
                              "which these data do not have.")
        found = post_transplant.grfs(cohort)
        return Endpoint(name, found.time, found.event)
    raise ValueError(f"unknown endpoint {name!r}; expected one of {', '.join(ENDPOINT_NAMES)}")


def _data_dir() -> Path:
    """``data/`` of a source checkout, or the copy ``pip install .`` puts inside the package."""
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "demo_cohort.csv").exists():
        return checkout
    return Path(__file__).resolve().parents[1] / "_data"


DATA_DIR = _data_dir()
DEMO_COHORT_PATH = DATA_DIR / "demo_cohort.csv"


def load_demo_cohort() -> pd.DataFrame:
    """The embedded synthetic demo cohort (N = 75), validated."""
    return as_cohort(pd.read_csv(DEMO_COHORT_PATH, dtype={"patient_id": str}))
