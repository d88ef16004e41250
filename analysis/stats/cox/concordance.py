"""Harrell's concordance exactly as ``survival::concordance`` reports it for a coxph fit.

Pairs are counted in one pass over the patients in order of risk score, with a
Fenwick (binary indexed) tree over the distinct times: O(n log T) for T
distinct times, compiled with numba, not a loop over pairs.
"""

from __future__ import annotations

import numba
import numpy as np

from analysis.stats._survival_data import sort_order, time_codes


def concordance_counts(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> dict[str, float]:
    """Concordant, discordant and tied pairs as ``survival::concordance`` counts them for coxph.

    A pair is comparable when the shorter time is an event; a censored time
    equal to an event time counts as longer, two events at the same time are
    not comparable (``tied_y``). A pair is concordant when the patient who
    failed first has the higher risk score, ``tied_x`` when the scores are
    equal; ``tied_xy`` are events at the same time with equal scores.
    """
    time = np.asarray(time, dtype=float).ravel()
    event = np.asarray(event).astype(bool).ravel()
    risk = np.asarray(risk, dtype=float).ravel()
    codes, _ = time_codes(time)
    # Key of "later than": at one time the censored (2t + 1) outlive the deaths (2t).
    key = 2 * codes + ~event
    by_risk = sort_order(risk)
    n_keys = 2 * (int(codes.max(initial=0)) + 1)
    # In order of risk, gathered once: the compiled pass then reads memory in sequence.
    less, tied_x, tied_xy, pairs_y = _count_pairs(risk[by_risk], key[by_risk], event[by_risk], n_keys)
    # Comparable pairs of a death: everyone with a larger key.
    larger = len(key) - np.cumsum(np.bincount(key, minlength=n_keys))
    total = float(larger[key[event]].sum())
    return {"concordant": float(less), "discordant": total - less - tied_x, "tied_x": float(tied_x),
            "tied_y": float(pairs_y - tied_xy), "tied_xy": float(tied_xy)}


@numba.njit(cache=True, nogil=True)
def _count_pairs(risk, key, event, n_keys):  # pragma: no cover - compiled
    """In order of increasing risk, per run of equal scores: a death's later patients already seen have
    a smaller score (concordant); those of its own run an equal one (tied_x, tied_xy for same-time deaths)."""
    tree = np.zeros(n_keys + 1, np.int64)  # Fenwick tree: counts of the keys seen so far
    same_time = np.zeros(n_keys, np.int64)
    less = 0
    tied_x = 0
    tied_xy = 0
    start = 0
    n = len(risk)
    while start < n:
        stop = start + 1
        while stop < n and risk[stop] == risk[start]:
            stop += 1
        later = _later_deaths(tree, key, event, start, stop, start)  # deaths against the smaller scores
        less += later
        _insert(tree, key, start, stop)
        if stop - start > 1:  # ... and against the equal ones (a patient is never later than itself)
            tied_x += _later_deaths(tree, key, event, start, stop, stop) - later
            tied_xy += _same_time_deaths(same_time, key, event, start, stop)
        start = stop
    pairs_y = 0
    for d in np.bincount(key[event], minlength=n_keys):
        pairs_y += d * (d - 1) // 2
    return less, tied_x, tied_xy, pairs_y


@numba.njit(cache=True, nogil=True, inline="always")
def _later_deaths(tree, key, event, start, stop, seen):  # pragma: no cover - compiled
    """Σ over the deaths in [start, stop) of the ``seen`` patients in the tree with a larger key (later)."""
    total = 0
    for i in range(start, stop):
        if event[i]:
            total += seen - _prefix(tree, key[i])
    return total


@numba.njit(cache=True, nogil=True, inline="always")
def _insert(tree, key, start, stop):  # pragma: no cover - compiled
    for i in range(start, stop):
        j = key[i] + 1
        while j < len(tree):
            tree[j] += 1
            j += j & -j


@numba.njit(cache=True, nogil=True)
def _same_time_deaths(same_time, key, event, start, stop):  # pragma: no cover - compiled
    """Pairs of deaths in [start, stop) (equal scores) at the same time."""
    pairs = 0
    for i in range(start, stop):
        if event[i]:
            pairs += same_time[key[i]]
            same_time[key[i]] += 1
    for i in range(start, stop):
        same_time[key[i]] = 0
    return pairs


@numba.njit(cache=True, nogil=True, inline="always")
def _prefix(tree, key):  # pragma: no cover - compiled
    """Keys seen so far that are ≤ ``key``."""
    total = 0
    j = key + 1
    while j > 0:
        total += tree[j]
        j -= j & -j
    return total


def concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's C: (concordant + tied_x / 2) / (concordant + discordant + tied_x); NaN without pairs."""
    c = concordance_counts(time, event, risk)
    pairs = c["concordant"] + c["discordant"] + c["tied_x"]
    return (c["concordant"] + c["tied_x"] / 2) / pairs if pairs else float("nan")
