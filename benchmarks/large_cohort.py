"""A large synthetic cohort in the canonical schema, for speed measurements only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cohort.model import as_cohort


def make_large_cohort(n: int = 100_000, seed: int = 2026) -> pd.DataFrame:
    """``n`` patients with the standard covariates and plausible, tied event times (2 decimals)."""
    rng = np.random.default_rng(seed)
    age = np.round(rng.uniform(0.5, 19, n), 1)
    lineage = np.where(rng.random(n) < 0.2, "T-ALL", "B-ALL")
    sex = np.where(rng.random(n) < 0.55, "male", "female")
    atg = np.where(rng.random(n) < 0.45, "yes", "no")
    risk = 0.8 * (age >= 10) + 1.2 * (lineage == "T-ALL") - 0.5 * (sex == "male") - 0.5 * (atg == "yes")
    relapse_t = rng.exponential(30 / np.exp(risk))
    nrm_t = rng.exponential(120, n)
    censor = rng.uniform(1, 150, n)
    relapse = relapse_t < np.minimum(nrm_t, censor)
    death_after = relapse_t + rng.exponential(8, n)
    death_t = np.where(relapse, death_after, nrm_t)
    followup = np.minimum(death_t, censor)
    cohort = pd.DataFrame({
        "patient_id": [f"L{i:06d}" for i in range(n)],
        "followup_months": np.round(followup, 2),
        "death": (death_t <= censor).astype(int),
        "relapse": relapse.astype(int),
        "relapse_months": np.where(relapse, np.round(relapse_t, 2), np.nan),
        "age_years": age,
        "sex": sex,
        "lineage": lineage,
        "conditioning": np.where(rng.random(n) < 0.6, "TBI", "chemo"),
        "intensity": np.where(rng.random(n) < 0.75, "MAC", "RIC"),
        "atg": atg,
        "donor": rng.choice(["MSD", "MUD", "MMUD", "haplo"], n),
        "remission": np.where(rng.random(n) < 0.7, "CR", "non-CR"),
        "months_hsct1_to_relapse": np.round(rng.gamma(2.0, 10.0, n), 1),
    })
    cohort["relapse_months"] = np.minimum(cohort["relapse_months"], cohort["followup_months"])
    return as_cohort(cohort)
