"""When relapses happen: histograms of the time to relapse.

Two intervals are shown:

* HSCT2 → relapse, among the patients who relapsed after HSCT2 (the paper
  reports a median, :func:`analysis.cohort.published.published_median_relapse_months`);
* HSCT1 → the relapse that led to HSCT2 (``months_hsct1_to_relapse``), when
  the data have it; a relapse within 6 months of HSCT1 ("early relapse") is a
  known risk factor.

These are descriptive: the median is the plain median of the observed times
among patients who had the event, not a Kaplan-Meier median, and it says
nothing about how many patients relapse (that is the cumulative incidence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.cohort.grouping import GROUP
from analysis.text import ALL, count, group_text

BIN_WIDTHS = (1.0, 2.0, 3.0)
#: Times are binned up to this many months; longer ones (impossible after validation) are counted in the last bin.
MAX_BINNED_MONTHS = 130 * 12.0
MODES = ("overlay", "stack")
SCALES = ("count", "percent")
EARLY_RELAPSE_MONTHS = 6.0

HSCT2_TO_RELAPSE = "hsct2_to_relapse"
HSCT1_TO_RELAPSE = "hsct1_to_relapse"
_TITLES = {
    HSCT2_TO_RELAPSE: "Months from HSCT2 to relapse (patients who relapsed)",
    HSCT1_TO_RELAPSE: "Months from HSCT1 to the relapse that led to HSCT2",
}


class TimingError(ValueError):
    """A histogram that cannot be drawn (bad options, missing column, no times at all)."""


@dataclass(frozen=True)
class TimingHistogram:
    """Counts of an interval per bin and group.

    Attributes
    ----------
    interval : str
        ``"hsct2_to_relapse"`` or ``"hsct1_to_relapse"``.
    bin_width : float
        Months per bin; bins are [start, start + width).
    table : DataFrame
        ``group``, ``bin_start``, ``bin_end``, ``count``, ``percent`` (of the
        group's patients with a time, so each group's bars sum to 100 %).
        Groups without any time are left out.
    summary : DataFrame
        Per group: ``group``, ``n`` (patients), ``n_with_time`` (relapsed, or
        with a known interval), ``median``, ``q1``, ``q3`` (months; NaN without
        times).
    notes : tuple of str
        Plain-language remarks, e.g. a group without relapses.
    """

    interval: str
    bin_width: float
    table: pd.DataFrame
    summary: pd.DataFrame
    notes: tuple[str, ...]

    @property
    def title(self) -> str:
        return _TITLES[self.interval]


def _groups(frame: pd.DataFrame, order: Sequence[str] | None) -> list[tuple[str, np.ndarray]]:
    """(label, positions of its rows in ``frame``) per group."""
    if GROUP not in frame:
        return [(ALL, np.arange(len(frame)))]
    codes, found = pd.factorize(frame[GROUP])  # hashing the labels once, not comparing text per group
    index = {str(g): i for i, g in enumerate(found)}
    labels = list(order) if order is not None else sorted(index)
    return [(g, np.flatnonzero(codes == index.get(str(g), -1))) for g in labels]


def _interval_times(rows: pd.DataFrame, interval: str) -> np.ndarray:
    """Each patient's interval in months (NaN where there is none: no relapse, unknown, negative)."""
    if interval == HSCT2_TO_RELAPSE:
        values = rows["relapse_months"].where(rows["relapse"] == 1)
    else:
        values = rows["months_hsct1_to_relapse"]
    times = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(times) & (times >= 0), times, np.nan)


def timing_histogram(
    frame: pd.DataFrame,
    *,
    interval: str = HSCT2_TO_RELAPSE,
    order: Sequence[str] | None = None,
    bin_width: float = 1.0,
) -> TimingHistogram:
    """Histogram data of an interval, per group.

    Parameters
    ----------
    frame : DataFrame
        Cohort rows, optionally with a ``group`` column (from
        :mod:`analysis.cohort.grouping`); without it all rows form one group.
    interval : {"hsct2_to_relapse", "hsct1_to_relapse"}
    order : sequence of str, optional
        Display order of the groups.
    bin_width : {1, 2, 3}
        Months per bin.

    Raises
    ------
    TimingError
        Unknown interval or bin width; the HSCT1 interval without its column;
        or no times in any group.
    """
    if interval not in _TITLES:
        raise TimingError(f"unknown interval {interval!r}; expected one of {', '.join(_TITLES)}")
    if float(bin_width) not in BIN_WIDTHS:
        raise TimingError(f"bin width must be 1, 2 or 3 months, got {bin_width:g}")
    if interval == HSCT1_TO_RELAPSE and "months_hsct1_to_relapse" not in frame:
        raise TimingError("the data have no column months_hsct1_to_relapse (time from HSCT1 to relapse)")
    every = _interval_times(frame, interval)
    groups = [(g, rows, every[rows][np.isfinite(every[rows])]) for g, rows in _groups(frame, order)]
    longest = max((t.max() for _, _, t in groups if len(t)), default=None)
    if longest is None:
        what = "relapse after HSCT2" if interval == HSCT2_TO_RELAPSE else "known time from HSCT1 to relapse"
        raise TimingError(f"no patient with a {what} in the selected cohort")
    longest = min(longest, MAX_BINNED_MONTHS)  # the number of bins never grows beyond a human life
    edges = np.arange(0.0, np.floor(longest / bin_width) * bin_width + bin_width + 1e-9, bin_width)
    parts, rows_summary, notes = [], [], []
    for g, rows, times in groups:
        rows_summary.append({
            "group": g, "n": len(rows), "n_with_time": len(times),
            "median": float(np.median(times)) if len(times) else np.nan,
            "q1": float(np.quantile(times, 0.25)) if len(times) else np.nan,
            "q3": float(np.quantile(times, 0.75)) if len(times) else np.nan,
        })
        notes.extend(_group_notes(g, len(rows), len(times), interval))
        if not len(times):
            continue
        counts, _ = np.histogram(np.minimum(times, edges[-1] - bin_width / 2), bins=edges)
        parts.append(pd.DataFrame({"group": g, "bin_start": edges[:-1], "bin_end": edges[1:],
                                   "count": counts, "percent": 100.0 * counts / len(times)}))
    return TimingHistogram(interval, float(bin_width), pd.concat(parts, ignore_index=True),
                           pd.DataFrame(rows_summary), tuple(notes))


def _group_notes(group: str, n: int, n_times: int, interval: str) -> list[str]:
    name = group_text(group) if group == ALL else f"Group {group}"
    if n_times == 0:
        what = "no relapse after HSCT2" if interval == HSCT2_TO_RELAPSE else "no known time from HSCT1 to relapse"
        return [f"{name} ({count(n, 'patient')}): {what}, so nothing to show."]
    if n_times == 1:
        return [f"{name}: a single time, so its 'median' is that one patient's time."]
    return []
