"""The published figures of Momm et al. (PRSZT), from ``data/published_targets.json``.

This module is the one place that reads the targets file; everything else
takes the dict of :func:`load_targets` and asks the small accessors below for
what it shows (the paper's Kaplan-Meier landmarks, its multivariable hazard
ratios, its median HSCT2 → relapse interval, its number of patients). Keys
are the file's own: ``km``, ``cox``, ``median_relapse_interval``,
``n_patients``.

Nothing is cached here (the library stays pure): the dashboard loads the
file once per process at its edge (``pages/_context.published_targets``) and
passes the dict down. The file is committed with the project, so a missing or
unreadable file is a packaging error and raises :class:`TargetsFileError`;
there is no silent copy of the numbers to fall back on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.cohort.model import DATA_DIR

TARGETS_PATH = DATA_DIR / "published_targets.json"
HAZARD_RATIO_COLUMNS = ["factor", "level", "reference", "hr", "p", "p_text"]


class TargetsFileError(ValueError):
    """The published targets file is missing, unreadable, or lacks an entry."""


def load_targets(path: str | Path = TARGETS_PATH) -> dict:
    """The published targets (Momm et al.) as a dict, read from ``path`` (``data/published_targets.json``).

    Raises
    ------
    TargetsFileError
        When the file is missing (it ships with the project) or is not valid JSON.
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise TargetsFileError(f"cannot read the published targets from {path}: the file is missing "
                               "(it is committed with the project as data/published_targets.json)") from err
    except (OSError, json.JSONDecodeError) as err:
        raise TargetsFileError(f"cannot read the published targets from {path}: {err}") from err


def _entry(targets: dict, key: str):
    try:
        return targets[key]
    except KeyError:
        raise TargetsFileError(f"the published targets have no entry {key!r}") from None


def published_survival(targets: dict) -> dict[str, dict[float, float]]:
    """The paper's Kaplan-Meier estimates: ``{endpoint: {months: survival}}`` (key ``km``)."""
    return {ep: {float(p["months"]): float(p["survival"]) for p in points}
            for ep, points in _entry(targets, "km").items()}


def published_km_labels(targets: dict) -> dict[str, dict[float, str]]:
    """How the paper names each landmark: ``{endpoint: {months: label}}``, e.g. ``{12.0: "1 year"}``."""
    return {ep: {float(p["months"]): str(p["label"]) for p in points}
            for ep, points in _entry(targets, "km").items()}


def published_hazard_ratios(targets: dict, endpoint: str) -> pd.DataFrame:
    """The paper's multivariable Cox hazard ratios of ``endpoint`` (key ``cox``).

    Columns ``factor``, ``level``, ``reference``, ``hr``, ``p`` (Wald),
    ``p_text`` (as printed). Empty for endpoints the paper does not model
    (relapse, NRM).
    """
    rows = _entry(targets, "cox").get(endpoint, [])
    return pd.DataFrame(rows, columns=HAZARD_RATIO_COLUMNS)


def published_median_relapse_months(targets: dict) -> float:
    """The paper's median HSCT2 → relapse interval among the relapsed, in months (plain median)."""
    return float(_entry(targets, "median_relapse_interval")["value"])


def published_n(targets: dict) -> int:
    """The number of patients the published figures describe (key ``n_patients``)."""
    return int(_entry(targets, "n_patients")["value"])
