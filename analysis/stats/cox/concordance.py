"""Harrell's concordance exactly as ``survival::concordance`` reports it for a coxph fit.

Pairs are counted in one pass over the patients in order of risk score, with a
Fenwick (binary indexed) tree over the distinct times: O(n log T) for T
distinct times, compiled with numba, not a loop over pairs.
"""

from __future__ import annotations

import numba
import numpy as np

from analysis.stats._survival_data import stable_order, time_codes


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
    by_risk = stable_order(risk)
    less, tied_x, tied_xy, pairs_y = _count_pairs(by_risk, risk, key, event, 2 * (int(codes.max(initial=0)) + 1))
    # Comparable pairs of a death: everyone with a larger key.
    larger = len(key) - np.cumsum(np.bincount(key, minlength=2 * (int(codes.max(initial=0)) + 1)))
    total = float(larger[key[event]].sum())
    return {"concordant": float(less), "discordant": total - less - tied_x, "tied_x": float(tied_x),
            "tied_y": float(pairs_y - tied_xy), "tied_xy": float(tied_xy)}


@numba.njit(cache=True, nogil=True)
def _count_pairs(by_risk, risk, key, event, n_keys):  # pragma: no cover - compiled
    """In order of increasing risk, per run of equal scores: a death's later patients already seen have
    a smaller score (concordant); those of its own run an equal one (tied_x, tied_xy for same-time deaths)."""
    tree = np.zeros(n_keys + 1, np.int64)  # Fenwick tree: counts of the keys seen so far
    same_time = np.zeros(n_keys, np.int64)
    seen = 0
    less = 0
    tied_x = 0
    tied_xy = 0
    pairs_y = 0
    start = 0
    n = len(by_risk)
    while start < n:
        stop = start + 1
        while stop < n and risk[by_risk[stop]] == risk[by_risk[start]]:
            stop += 1
        run = by_risk[start:stop]
        later = _later_deaths(tree, run, key, event, seen)  # deaths against the smaller scores
        less += later
        seen += _insert(tree, run, key)
        tied_x += _later_deaths(tree, run, key, event, seen) - later  # ... and against the smaller or equal
        tied_xy += _same_time_deaths(same_time, run, key, event)
        start = stop
    deaths = np.bincount(key[event], minlength=n_keys)
    for d in deaths:
        pairs_y += d * (d - 1) // 2
    return less, tied_x, tied_xy, pairs_y


@numba.njit(cache=True, nogil=True)
def _later_deaths(tree, run, key, event, seen):  # pragma: no cover - compiled
    """Σ over the deaths of ``run`` of the patients seen so far with a larger key (later)."""
    total = 0
    for i in run:
        if event[i]:
            total += seen - _prefix(tree, key[i])
    return total


@numba.njit(cache=True, nogil=True)
def _insert(tree, run, key):  # pragma: no cover - compiled
    for i in run:
        j = key[i] + 1
        while j < len(tree):
            tree[j] += 1
            j += j & -j
    return len(run)


@numba.njit(cache=True, nogil=True)
def _same_time_deaths(same_time, run, key, event):  # pragma: no cover - compiled
    """Pairs of deaths of ``run`` (equal scores) at the same time."""
    pairs = 0
    for i in run:
        if event[i]:
            pairs += same_time[key[i]]
            same_time[key[i]] += 1
    for i in run:
        same_time[key[i]] = 0
    return pairs


@numba.njit(cache=True, nogil=True)
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
