"""Harrell's concordance exactly as ``survival::concordance`` reports it for a coxph fit.

Pairs are counted in O(n log n) numpy passes (a bit partition for few distinct
risk scores, a bottom-up merge sort otherwise), not by looping over pairs.
"""

from __future__ import annotations

import numpy as np


def concordance_counts(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> dict[str, float]:
    """Concordant, discordant and tied pairs as ``survival::concordance`` counts them for coxph.

    A pair is comparable when the shorter time is an event; a censored time
    equal to an event time counts as longer, two events at the same time are
    not comparable (``tied_y``). A pair is concordant when the patient who
    failed first has the higher risk score, ``tied_x`` when the scores are
    equal. Counted in O(n log n) numpy passes (see :func:`_count_smaller_before`),
    not by looping over pairs.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    _, rank = np.unique(risk, return_inverse=True)
    rank = rank.astype(np.int64).ravel()
    # Sequence by decreasing time; at each time the censored first (they outlive the deaths), then
    # the deaths by decreasing score. Everyone earlier in the sequence is comparable with a death,
    # except the deaths at its own time: none of them has a smaller score, and the ones with an
    # equal score are the tied_xy pairs, subtracted below.
    order = np.lexsort((-rank, event, -time))
    rank_s = rank[order]
    event_s = event[order]
    less, tied_before = _count_smaller_before(rank_s, np.ones(len(rank_s), dtype=bool), event_s)
    dt, dr = time[event], rank[event]
    pairs_y = _tied_pairs(dt)
    tied_xy = _tied_pairs_2(dt, dr)
    total = float(np.flatnonzero(event_s).sum()) - pairs_y
    tied = tied_before - tied_xy
    return {"concordant": less, "discordant": total - less - tied, "tied_x": tied,
            "tied_y": pairs_y - tied_xy, "tied_xy": tied_xy}


def _tied_pairs(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    return float(np.sum(counts * (counts - 1) / 2))


def _tied_pairs_2(a: np.ndarray, b: np.ndarray) -> float:
    """Pairs tied on both a and b (b: non-negative integer ranks)."""
    if len(a) == 0:
        return 0.0
    _, ia = np.unique(a, return_inverse=True)
    key = ia.astype(np.int64) * (int(b.max()) + 1) + b
    return _tied_pairs(key)


def _count_smaller_before(rank: np.ndarray, is_item: np.ndarray, is_query: np.ndarray) -> tuple[float, float]:
    """For every query, items earlier in the sequence with a smaller rank, and with an equal one (summed).

    Ties come from grouping by rank. The strictly smaller counts come from a
    partition on the bits of the rank when there are few distinct ranks, and
    from a bottom-up merge sort otherwise; both are O(m log m) numpy passes.
    """
    m = len(rank)
    if m == 0:
        return 0.0, 0.0
    order = np.argsort(rank, kind="stable")  # by rank, then sequence
    items = is_item[order].astype(np.int64)
    first = np.searchsorted(rank[order], rank[order], side="left")
    c = np.concatenate(([0], np.cumsum(items)))
    tied = float(((c[:-1] - c[first]) * is_query[order]).sum())
    nbits = int(rank.max()).bit_length()
    less = _bitwise_less(rank, is_item, is_query) if nbits <= 6 else _merge_less(rank, is_item, is_query)
    return less, tied


def _bitwise_less(rank: np.ndarray, is_item: np.ndarray, is_query: np.ndarray) -> float:
    """Most significant bit first, a stable partition within groups that agree on the higher bits.

    At each bit, an item with a 0 that precedes a query with a 1 in the same
    group has a smaller rank. One pass per bit of the largest rank.
    """
    m = len(rank)
    rk = rank.astype(np.int64)
    it = is_item.astype(np.int64)
    qu = is_query.astype(np.int64)
    idx = np.arange(m, dtype=np.int64)
    gstart = np.zeros(m, dtype=np.int64)
    gend = np.full(m, m, dtype=np.int64)
    less = 0
    for b in range(int(rk.max()).bit_length() - 1, -1, -1):
        bit = (rk >> b) & 1
        zero = 1 - bit
        c = np.concatenate(([0], np.cumsum(it * zero)))
        less += int(((c[:-1] - c[gstart]) * (qu * bit)).sum())
        z = np.concatenate(([0], np.cumsum(zero)))
        zs = z[gstart]
        zeros_before = z[:-1] - zs
        one_start = gstart + (z[gend] - zs)
        newpos = np.where(bit == 0, gstart + zeros_before, one_start + (idx - gstart - zeros_before))
        perm = np.empty(m, dtype=np.int64)
        perm[newpos] = idx
        rk, it, qu, bp = rk[perm], it[perm], qu[perm], bit[perm]
        gs, ge, os_ = gstart[perm], gend[perm], one_start[perm]
        gstart = np.where(bp == 0, gs, os_)
        gend = np.where(bp == 0, os_, ge)
    return float(less)


def _merge_less(rank: np.ndarray, is_item: np.ndarray, is_query: np.ndarray) -> float:
    """Bottom-up merge sort on the sequence, counting across the two halves of each merge.

    Keys pack (pair of runs, rank, left/right, item, query) into one int64 so
    that numpy's stable sort (a merge of two sorted runs per pair) does the
    merging; on equal ranks the right run sorts first, so only strictly
    smaller ranks of the left run are counted.
    """
    m = len(rank)
    shift = int(rank.max()).bit_length() + 4
    low = (1 << shift) - 1
    keys = (rank.astype(np.int64) << 4) | (is_item.astype(np.int64) << 1) | is_query.astype(np.int64)
    idx = np.arange(m, dtype=np.int64)
    less = 0
    for k in range(int(m - 1).bit_length()):
        left = ((~idx >> k) & 1) << 3
        keys = np.sort(((idx >> (k + 1)) << shift) | left | (keys & low), kind="stable")
        left_items = (keys >> 3) & (keys >> 1) & 1
        c = np.cumsum(left_items) - left_items
        pair_start = (idx >> (k + 1)) << (k + 1)
        right_queries = (1 - ((keys >> 3) & 1)) & keys & 1
        less += int(np.dot(c - c[pair_start], right_queries))
        keys &= low ^ 8
    return float(less)


def concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's C: (concordant + tied_x / 2) / (concordant + discordant + tied_x); NaN without pairs."""
    c = concordance_counts(time, event, risk)
    pairs = c["concordant"] + c["discordant"] + c["tied_x"]
    return (c["concordant"] + c["tied_x"] / 2) / pairs if pairs else float("nan")
