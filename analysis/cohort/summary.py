"""Descriptive summaries of a cohort: counts for the command line and "Table 1"."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.cohort.model import categorical_covariates, label, levels, numeric_covariates

MISSING = "unknown"


def cohort_summary(cohort: pd.DataFrame) -> dict:
    """n, deaths, relapses, and the count of patients per level of each categorical covariate.

    Deaths are counted among patients with known vital status (cause-coded
    data do not record deaths after a relapse).
    """
    level_counts: dict[str, dict[str, int]] = {}
    numeric: dict[str, dict] = {}
    out = {
        "n": len(cohort),
        "deaths": int(pd.Series(cohort["death"]).fillna(0).sum()),
        "relapses": int(cohort["relapse"].sum()),
        "levels": level_counts,
        "numeric": numeric,
    }
    for column in categorical_covariates(cohort):
        counts = {lvl: int((cohort[column].astype("string") == lvl).sum()) for lvl in levels(cohort, column)}
        n_missing = int(cohort[column].isna().sum())
        if n_missing:
            counts[MISSING] = n_missing
        level_counts[column] = counts
    for column in numeric_covariates(cohort):
        values = pd.to_numeric(cohort[column], errors="coerce").dropna()
        numeric[column] = _describe_numeric(values)
    return out


def _describe_numeric(values: pd.Series) -> dict:
    if values.empty:
        return {"n": 0, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return {"n": len(values), "median": float(med), "q1": float(q1), "q3": float(q3),
            "min": float(values.min()), "max": float(values.max())}


def _numeric_cell(values: pd.Series) -> str:
    d = _describe_numeric(pd.to_numeric(values, errors="coerce").dropna())
    if d["n"] == 0:
        return "–"
    return f"{d['median']:.1f} ({d['q1']:.1f}–{d['q3']:.1f})"


def _count_cell(k: int, n: int) -> str:
    return f"{k} ({100 * k / n:.0f} %)" if n else "–"


def _level_counts(values: pd.Series) -> dict[str, int]:
    """Patients per level (as text), missing values under :data:`MISSING`; counted on the values, not their text."""
    out: dict[str, int] = {}
    counts: dict[Any, int] = values.value_counts(dropna=False, sort=False).to_dict()
    for value, k in counts.items():
        name = MISSING if pd.isna(value) else str(value)
        out[name] = out.get(name, 0) + int(k)
    return out


def table_one(cohort: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Baseline characteristics ("Table 1") of ``cohort``, optionally split by ``by``.

    Numeric covariates: median (interquartile range). Categorical covariates:
    n (% of the column's patients, missing values counted in an "unknown" row).
    Outcome rows count deaths and relapses after HSCT2.
    """
    groups: list[tuple[str, pd.DataFrame]] = [(f"All (n = {len(cohort)})", cohort)]
    if by is not None:
        groups += [(f"{lvl} (n = {int((cohort[by] == lvl).sum())})", cohort[cohort[by] == lvl])
                   for lvl in levels(cohort, by)]
    rows: list[tuple[str, list[str]]] = []
    for column in numeric_covariates(cohort):
        rows.append((f"{label(column)}, median (IQR)", [_numeric_cell(g[column]) for _, g in groups]))
    for column in categorical_covariates(cohort):
        if column == by:
            continue
        rows.append((f"{label(column)}, n (%)", ["" for _ in groups]))
        counts = [_level_counts(g[column]) for _, g in groups]
        shown = levels(cohort, column) + ([MISSING] if cohort[column].isna().any() else [])
        for lvl in shown:
            rows.append((f"    {lvl}", [_count_cell(int(c.get(lvl, 0)), len(g))
                                       for c, (_, g) in zip(counts, groups, strict=True)]))
    rows.append(("Relapse after HSCT2, n (%)", [_count_cell(int(g["relapse"].sum()), len(g)) for _, g in groups]))
    rows.append(("Death, n (%)", [_count_cell(int(pd.Series(g["death"]).fillna(0).sum()), len(g))
                                  for _, g in groups]))
    table = pd.DataFrame([cells for _, cells in rows], columns=[name for name, _ in groups])
    table.insert(0, "Characteristic", [name for name, _ in rows])
    return table
