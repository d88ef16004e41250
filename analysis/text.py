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
* machine-readable output: :func:`jsonable` (NaN and infinities become null);
* text that came from a user's file or a share link: :func:`escape_markdown`
  before it is shown on a page, :func:`formula_safe` / :func:`formula_safe_frame`
  before it is written into a CSV or a spreadsheet;
* a column's labels: :func:`map_unique` (a text function of each value, computed
  once per distinct value: registry columns repeat a few labels).

Nothing here computes a statistic: every function takes numbers and returns text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

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
    """``"14.2 (8.1–30.5)"``, ``"14.2 (8.1 to not reached)"``; ``"not reached"`` for an unreached median.

    A missing lower limit is said in words: ``"14.2 (lower limit not estimable, upper 30.5)"``, and
    ``"14.2 (CI limits not reached)"`` when the confidence band never crosses 50 % (never a dash run into a word).
    """
    if not _finite(median):
        return "not reached"
    if not _finite(lower):
        return f"{median:.1f} (lower limit not estimable, upper {upper:.1f})" if _finite(upper) else (
            f"{median:.1f} (CI limits not reached)")
    if not _finite(upper):
        return f"{median:.1f} ({lower:.1f} to not reached)"
    return f"{median:.1f} ({lower:.1f}–{upper:.1f})"


def landmark_label(months: float) -> str:
    """A landmark in years as a heading: 12 → ``"1 year"``, 60 → ``"5 years"``, 18 → ``"1.5 years"``."""
    years = months / MONTHS_PER_YEAR
    return f"{years:g} year" + ("" if years == 1 else "s")


def month_label(months: float) -> str:
    """``"12 months"``, ``"1 month"``, ``"1.5 months"``."""
    return f"{months:g} month" + ("" if months == 1 else "s")


def hazard_ratio_text(hr: float, lower: float, upper: float) -> str:
    """``"2.50 (1.10–4.02)"``; values of 100 or more without decimals, infinite limits as ``∞``.

    Values below 0.01 keep three decimals and values below 0.001 read ``<0.001``
    (an estimate of 0.002 printed as "0.00" reads as zero).
    """
    def one(v: float) -> str:
        if not _finite(v):
            return "∞"
        if v < 0.01:
            return "0" if v <= 0 else "<0.001" if v < 0.001 else f"{v:.3f}"
        return f"{v:.2f}" if v < 100 else f"{v:.0f}"
    return f"{one(hr)} ({one(lower)}–{one(upper)})"


# ------------------------------------------------------------------ counts and groups


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``count(1, "event")`` → ``"1 event"``, ``count(12, "event")`` → ``"12 events"``."""
    word = singular if n == 1 else (plural or f"{singular}s")
    return f"{n} {word}"


def masked_count(n: int | float, threshold: int | None) -> str:
    """A count as shown under disclosure control: ``"<5"`` below ``threshold``, else the number.

    Zero is shown as it is (no patient is identified by an empty cell); ``threshold`` None or 0 shows every count.
    """
    if not _finite(n):
        return DASH
    n = int(n)
    return f"<{threshold}" if threshold and 0 < n < threshold else str(n)


def disclosure_rule(threshold: int | None) -> str:
    """The rule in words, for the page and every export."""
    if not threshold:
        return "Disclosure control is off: every count is shown."
    return (f"Disclosure control: counts from 1 to {threshold - 1} are shown as “<{threshold}” in tables, "
            "numbers at risk, legends, hover labels and every export; censoring marks carry no hover.")


# Counts inside formatted cells: "12 (16 %)" (Table 1, the percent would give the count away too),
# "30 at risk", "n = 12", "12 events".
_COUNT_PATTERNS = (
    (re.compile(r"^(\d+) \([^)]*\)$"), ""),
    (re.compile(r"(\d+)(?= at risk)"), None),
    (re.compile(r"(?<=n = )(\d+)"), None),
    (re.compile(r"(\d+) events?\b"), " events"),
    (re.compile(r"(\d+)(?= / \d+$)"), None),  # "75 / 35": patients / events (the first ...
    (re.compile(r"(?<= / )(\d+)$"), None),  # ... and the second)
)
#: Column headings that hold counts of patients or events.
COUNT_COLUMNS = frozenset({"n", "events", "at risk", "observed", "n at risk", "patients", "deaths", "relapses",
                           "count", "n_at_risk", "n_event", "n_censor", "n_risk"})


def mask_counts_in_text(text: str, threshold: int | None) -> str:
    """``text`` with every count it holds (see the patterns above) shown by :func:`masked_count`."""
    if not threshold:
        return text
    for pattern, tail in _COUNT_PATTERNS:
        def hide(m: re.Match, tail: str | None = tail) -> str:
            n = int(m.group(1))
            if not 0 < n < threshold:
                return m.group(0)
            return masked_count(n, threshold) + (tail or "")
        text = pattern.sub(hide, text)
    return text


def mask_small_counts(frame: Any, threshold: int | None) -> Any:
    """A copy of a table with small counts hidden (:func:`masked_count`): whole-number columns whose heading
    names a count, and counts written inside text cells. ``threshold`` None or 0 returns the table unchanged."""
    if not threshold:
        return frame
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if str(column).strip().lower() in COUNT_COLUMNS and values.dtype.kind in "iuf":
            out[column] = values.map(lambda v: masked_count(v, threshold))
        elif values.dtype == object or str(values.dtype) == "string":
            out[column] = values.map(lambda v: mask_counts_in_text(v, threshold) if isinstance(v, str) else v)
    return out


def wrap_label(text: str, width: int) -> str:
    """A label broken into lines of at most ``width`` characters at spaces (``<br>`` between), for figures."""
    words, lines, line = str(text).split(" "), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(lines)


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


# ------------------------------------------------------------------ text from files and links

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")
#: A word joiner (U+2060): invisible, but it breaks the patterns that Markdown turns into links by themselves.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(://|(?i:\bwww)(?=\.)|@)")
#: Cells starting with these are run as formulas by spreadsheet programs (CSV injection, OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_markdown(text: object) -> str:
    """``text`` with every Markdown and HTML control character escaped, so a page shows it as it is.

    Streamlit renders ``st.markdown``, captions, alerts and labels as Markdown:
    a column name ``[log in](https://evil.example)`` or a saved-cohort name
    ``<h1>FAKE</h1>`` from a link must stay literal text. Escapes do not stop
    GitHub Markdown from linking a bare address by itself (``https://``,
    ``www.``, an e-mail address), so an invisible word joiner breaks each
    ``://``, ``www.`` and ``@``: the text reads the same and links nowhere.
    """
    joined = _AUTOLINK.sub(lambda m: m.group(1)[0] + WORD_JOINER + m.group(1)[1:], str(text))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", joined)


def formula_safe(value: Any) -> Any:
    """A cell value that a spreadsheet will not run: text starting with ``= + - @`` (or a tab or CR)
    gets a leading apostrophe; numbers and other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def formula_safe_frame(frame: Any) -> Any:
    """A copy of a DataFrame with :func:`formula_safe` applied to every text cell and column name."""
    out = frame.copy()
    out.columns = [formula_safe(c) for c in out.columns]
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) == "string":
            out[column] = out[column].map(formula_safe)
    return out


def map_unique(values: pd.Series, func) -> pd.Series:
    """``values.map(func)`` computed once per distinct value (registry columns repeat a few labels)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [func(u) for u in uniques]
    results[-1] = func(None)
    return pd.Series(results[codes], index=values.index, dtype=object)
