"""Every number as a reader sees it: p-values, percents, CIs, counts, time labels.

One home for the wording of the dashboard, its exports and the command line,
so that a page, a slide and a notebook say the same thing the same way:

* p-values: :func:`p_value` for prose and captions (``"p = 0.012"``,
  ``"p < 0.001"``), :func:`p_cell` for a table column headed "p"
  (``"0.012"``, ``"< 0.001"``, ``"–"``), :func:`p_compact` for the narrow
  p column of a forest plot (``"0.012"``, ``"0.35"``, ``"<0.001"``). All three
  share the threshold 0.001 and never print ``0.000``;
* probabilities: :func:`percent` (``"57.7 %"``), :func:`survival_text` and
  :func:`cif_text` with their 95 % CI;
* times: :func:`months_text`, :func:`median_text`, :func:`landmark_label`;
* counts: :func:`count` (``"1 event"``, ``"12 events"``);
* groups: :func:`group_text` (the whole cohort is "All patients");
* machine-readable output: :func:`jsonable` (NaN and infinities become null).

Nothing here computes a statistic: every function takes numbers and returns text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: The group label of a cohort that is not split (:mod:`analysis.cohort.grouping`).
ALL = "all"
#: How the whole cohort is named wherever a group name is shown.
ALL_PATIENTS = "All patients"
#: Shown where a number cannot be given (an untested pair, a missing CI limit).
DASH = "–"
P_THRESHOLD = 0.001
MONTHS_PER_YEAR = 12.0


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------ p-values


def p_value(p: float) -> str:
    """``"p < 0.001"`` or ``"p = 0.012"`` (three decimals), as reviewers expect; ``"p not computed"`` for NaN."""
    if not _finite(p):
        return "p not computed"
    return "p < 0.001" if p < P_THRESHOLD else f"p = {p:.3f}"


def p_cell(p: float) -> str:
    """A table cell under a "p" heading: ``"0.012"``, ``"< 0.001"``, or ``"–"`` where there is no p."""
    if not _finite(p):
        return DASH
    return "< 0.001" if p < P_THRESHOLD else f"{p:.3f}"


def p_compact(p: float | None) -> str:
    """The narrow p column of a figure: ``"<0.001"``, three decimals below 0.1, two above; empty for NaN."""
    if p is None or not _finite(p):
        return ""
    if p < P_THRESHOLD:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def chi2_text(statistic: float, df: int, p: float) -> str:
    """``"χ² = 13.19, df = 1, p < 0.001"``."""
    return f"χ² = {statistic:.2f}, df = {df}, {p_value(p)}"


def statistic_caption(method: str, statistic: float, df: int, p: float) -> str:
    """One line for a figure: ``"Log-rank: χ² = 13.19, df = 1, p < 0.001"``."""
    return f"{method}: {chi2_text(statistic, df, p)}"


# ------------------------------------------------------------------ probabilities and times


def percent(x: float, digits: int = 1) -> str:
    """A probability as a percent, ``"57.7 %"``; ``"–"`` when not a number."""
    return DASH if not _finite(x) else f"{100 * x:.{digits}f} %"


def survival_text(survival: float, lower: float, upper: float) -> str:
    """``"57.7 % (45.1–68.4)"``; ``"beyond follow-up"`` when not estimable, no CI where it is undefined."""
    if not _finite(survival):
        return "beyond follow-up"
    if not (_finite(lower) and _finite(upper)):  # S = 1 or 0: log-log CI undefined
        return percent(survival)
    return f"{percent(survival)} ({100 * lower:.1f}–{100 * upper:.1f})"


def cif_text(cif: float, lower: float, upper: float, n_at_risk: int) -> str:
    """``"23.5 % (14.1–34.3), 30 at risk"``, or ``"beyond follow-up"`` after the last follow-up."""
    if not _finite(cif):
        return "beyond follow-up"
    return f"{percent(cif)} ({100 * lower:.1f}–{100 * upper:.1f}), {n_at_risk} at risk"


def months_text(months: float) -> str:
    """``"12.3"``, or ``"not reached"`` for NaN."""
    return "not reached" if not _finite(months) else f"{months:.1f}"


def median_text(median: float, lower: float, upper: float) -> str:
    """``"14.2 (8.1–30.5)"``; an unreached median or upper limit is ``"not reached"``, a missing lower limit ``–``."""
    if not _finite(median):
        return "not reached"
    return f"{median:.1f} ({DASH if not _finite(lower) else f'{lower:.1f}'}–{months_text(upper)})"


def landmark_label(months: float) -> str:
    """A landmark in years as a heading: 12 → ``"1 year"``, 60 → ``"5 years"``, 18 → ``"1.5 years"``."""
    years = months / MONTHS_PER_YEAR
    return f"{years:g} year" + ("" if years == 1 else "s")


def month_label(months: float) -> str:
    """``"12 months"``, ``"1 month"``, ``"1.5 months"``."""
    return f"{months:g} month" + ("" if months == 1 else "s")


def hazard_ratio_text(hr: float, lower: float, upper: float) -> str:
    """``"2.50 (1.10–4.02)"``; values of 100 or more without decimals, infinite limits as ``∞``."""
    def one(v: float) -> str:
        if not _finite(v):
            return "∞"
        return f"{v:.2f}" if v < 100 else f"{v:.0f}"
    return f"{one(hr)} ({one(lower)}–{one(upper)})"


# ------------------------------------------------------------------ counts and groups


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``count(1, "event")`` → ``"1 event"``, ``count(12, "event")`` → ``"12 events"``."""
    word = singular if n == 1 else (plural or f"{singular}s")
    return f"{n} {word}"


def group_text(group: str) -> str:
    """A group's name for readers: the whole cohort is "All patients"."""
    return ALL_PATIENTS if group == ALL else str(group)


def join_words(items: list[str]) -> str:
    """``["1 year", "2 years", "5 years"]`` → ``"1 year, 2 years and 5 years"``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def sentence(text: str) -> str:
    """A message fragment as a sentence: first letter upper case, a full stop at the end."""
    text = str(text).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


# ------------------------------------------------------------------ machine-readable output


def json_number(value: Any) -> float | None:
    """A float for JSON: NaN and infinities (and None) become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def jsonable(value: Any) -> Any:
    """A result made JSON-ready: NaN and infinities become null, numpy scalars plain numbers, keys text."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
