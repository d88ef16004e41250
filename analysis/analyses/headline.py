"""Headline outcomes: OS and RFS at 1, 2 and 5 years, beside the published values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.analyses.survival import survival_text
from analysis.cohort.model import ENDPOINT_NAMES, MONTHS_PER_YEAR, endpoint, has_overall_survival
from analysis.cohort.published import load_targets, published_n, published_survival
from analysis.stats.kaplan_meier import fit_kaplan_meier, median_followup

LANDMARKS_MONTHS = (12.0, 24.0, 60.0)


@dataclass(frozen=True)
class Headline:
    """The headline table and a caption saying how its numbers were made."""

    table: pd.DataFrame
    caption: str


def _percent(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.1f} %"


def _cell(row: pd.Series) -> str:
    # The Survival page's wording of the same estimate, so the two pages read alike.
    return f"{survival_text(row['survival'], row['lower'], row['upper'])} · {int(row['n_at_risk'])} at risk"


def _landmark_label(months: float) -> str:
    years = months / MONTHS_PER_YEAR
    return f"{years:g} year" + ("" if years == 1 else "s")


def headline_table(cohort: pd.DataFrame, *, published: bool = False,
                   times: tuple[float, ...] = LANDMARKS_MONTHS, targets: dict | None = None) -> Headline:
    """Kaplan-Meier OS and RFS at ``times`` (months) with 95 % log-log CI and number at risk.

    Cells read as on the Survival page (:func:`analysis.analyses.survival.survival_text`):
    ``"57.7 % (45.1–68.4) · 30 at risk"``; no CI where the log-log CI is
    undefined (S = 1 or 0); ``"beyond follow-up · 0 at risk"`` after the last
    follow-up. With ``published`` the paper's values are added as a row per endpoint,
    from ``targets`` (:func:`analysis.cohort.published.load_targets`; read from the file when not given).
    """
    reference: dict[str, dict[float, float]] = {}
    n_published = 0
    if published:
        targets = targets if targets is not None else load_targets()
        reference, n_published = published_survival(targets), published_n(targets)
    rows = []
    names = ["os", "rfs"] if has_overall_survival(cohort) else ["rfs"]
    for name in names:
        ep = endpoint(cohort, name)
        km = fit_kaplan_meier(ep.time, ep.event, label=name)
        at = km.survival_at(times)
        row = {"Endpoint": ENDPOINT_NAMES[name], "n": km.n, "events": km.events}
        row.update({_landmark_label(t): _cell(r) for t, (_, r) in zip(times, at.iterrows(), strict=True)})
        rows.append(row)
        if published:
            ref = reference.get(name, {})
            pub = {"Endpoint": f"{ENDPOINT_NAMES[name]}, published", "n": n_published,
                   "events": "–"}  # not reported
            pub.update({_landmark_label(t): _percent(ref[t]) if t in ref else "–" for t in times})
            rows.append(pub)
    table = pd.DataFrame(rows)
    table["events"] = table["events"].astype(str)
    fu = median_followup(cohort["followup_months"], pd.Series(cohort["death"]).fillna(0))
    fu_text = "not reached" if not np.isfinite(fu) else f"{fu:.1f} months ({fu / MONTHS_PER_YEAR:.2f} years)"
    caption = (
        "Kaplan-Meier estimates with 95 % confidence intervals (Greenwood variance, log-log scale) and the "
        f"number still at risk. Median follow-up by reverse Kaplan-Meier: {fu_text}."
    )
    if "os" not in names:
        caption += " Overall survival is not shown: these data do not record vital status after a relapse."
    if published:
        caption += f" Published: Momm et al., Pediatric Blood & Cancer (N = {n_published})."
    return Headline(table, caption)
