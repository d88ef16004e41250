"""Right-censored data as every estimator here checks it, and the tie rule they share.

Every estimator takes either arrays (``fit_kaplan_meier(time, event)``) or a
DataFrame and column names (``fit_kaplan_meier(df, duration_col="os_months",
event_col="death")``, as lifelines' fitters do); :func:`frame_columns` turns
the second form into the first.

:func:`check_survival_data` validates (time, event) arrays and merges times that
differ only by rounding error, exactly as R's ``aeqSurv`` does
(:func:`aeq_times`); ``survfit`` and ``coxph`` apply that rule by default
(``timefix = TRUE``), so the Kaplan-Meier, log-rank and Cox estimators all call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numba
import numpy as np
import pandas as pd

#: R's ``sqrt(.Machine$double.eps)``, the tolerance of ``aeqSurv`` and ``quantile.survfit``.
TOLERANCE = float(np.sqrt(np.finfo(float).eps))


class SurvivalDataError(ValueError):
    """Times and events that cannot be analysed (empty, missing, negative, not 0/1)."""


class EmptyGroupError(SurvivalDataError):
    """A group with no patients."""


def check_survival_data(time, event) -> tuple[np.ndarray, np.ndarray]:
    """Validate right-censored data and return (time, event) as float and int arrays.

    Near-equal times are merged as R's ``aeqSurv`` does, so that ties are ties.
    Raises :class:`SurvivalDataError` naming the problem.
    """
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(event, dtype=float).ravel()
    if len(t) != len(e):
        raise SurvivalDataError(f"times and events differ in length ({len(t)} vs {len(e)})")
    if len(t) == 0:
        raise EmptyGroupError("no patients to analyse")
    if not np.isfinite(t).all():
        raise SurvivalDataError(f"{int((~np.isfinite(t)).sum())} time(s) missing or infinite")
    if (t < 0).any():
        raise SurvivalDataError(f"{int((t < 0).sum())} negative time(s)")
    if not np.isin(e, (0.0, 1.0)).all():
        raise SurvivalDataError("event indicators must be 0 (censored) or 1 (event)")
    return aeq_times(t), e.astype(int)


def aeq_times(time: np.ndarray) -> np.ndarray:
    """Treat times that differ only by rounding error as tied, as R's ``aeqSurv``.

    Times closer than sqrt(machine epsilon), absolutely or relative to their
    mean size, become the first of their run. R applies it in ``survfit`` and
    ``coxph`` (``timefix = TRUE``); both estimators here call this function.
    """
    y = distinct_values(time[np.isfinite(time)])
    if len(y) < 2:
        return time
    gap = np.diff(y)
    tied = (gap <= TOLERANCE) | (gap / np.mean(np.abs(y)) <= TOLERANCE)
    if not tied.any():
        return time
    cuts = y[np.concatenate(([True], ~tied))]
    return cuts[np.searchsorted(cuts, time, side="right") - 1]


def time_codes(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct times, sorted, and each time's index among them (``np.unique(..., return_inverse=True)``).

    By hashing, then sorting the distinct values only (registry times are
    heavily tied: days, or months to two decimals), or, for whole numbers
    (days, ranks), by counting: several times faster than sorting every time.
    """
    time = np.asarray(time, dtype=float)
    whole = _whole_numbers(time)
    if whole is not None:
        present = np.bincount(whole) > 0
        return (np.cumsum(present) - 1)[whole], np.flatnonzero(present).astype(float)
    codes, distinct = pd.factorize(time, sort=True)
    return codes.astype(np.int64, copy=False), np.asarray(distinct, dtype=float)


def _whole_numbers(values: np.ndarray) -> np.ndarray | None:
    """``values`` as int64 when they are whole numbers in [0, 2²²) (days, ranks); else None."""
    if len(values) < 1000 or not (values.min() >= 0 and values.max() < 2**22):
        return None
    whole = values.astype(np.int64)
    return whole if (whole == values).all() else None


def distinct_values(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (``np.unique``), by counting or hashing rather than sorting them all."""
    whole = _whole_numbers(values)
    if whole is not None:
        return np.flatnonzero(np.bincount(whole)).astype(float)
    return np.sort(pd.unique(values))


def stable_order(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``, by a radix sort of the value codes when values are tied enough.

    Times of a registry and the risk scores of a model with categorical
    covariates take at most a few thousand distinct values; numpy sorts
    16-bit keys by radix, several times faster than comparing doubles. Many
    nearly distinct values (:data:`RADIX_MIN` or more) are sorted by a radix
    sort of the doubles themselves (:func:`_radix_order`).
    """
    values = np.asarray(values, dtype=float)
    if _tied(values):
        codes, distinct = time_codes(values)
        if len(distinct) < 2**16:
            return np.argsort(codes.astype(np.uint16), kind="stable")
    return _continuous_order(values)


def sort_order(values: np.ndarray) -> np.ndarray:
    """An order that sorts ``values``, ties in any order: by radix when they are few (as
    :func:`stable_order`), else numpy's fastest (unstable) sort."""
    values = np.asarray(values, dtype=float)
    return stable_order(values) if _tied(values) else _continuous_order(values)


#: From this many values on, a radix sort beats numpy's comparison sorts (measured: 2× at a million).
RADIX_MIN = 50_000


def _continuous_order(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")`` of nearly distinct values (times, risk scores)."""
    if len(values) < RADIX_MIN or np.isnan(values).any():  # NaN: numpy's order (last)
        return np.argsort(values, kind="stable")
    return _radix_order(np.ascontiguousarray(values))


@numba.njit(cache=True, nogil=True)
def _radix_order(values):  # pragma: no cover - compiled
    """Stable order of non-NaN doubles: an LSD radix sort, one byte a pass, of keys that sort as the values.

    A double's bits sort as an unsigned integer once the sign bit is set for
    positives and every bit is flipped for negatives; -0.0 is keyed as 0.0
    (they are equal). A pass whose byte is the same in every key moves nothing.
    """
    n = len(values)
    bits = values.view(np.uint64)
    top = np.uint64(1) << np.uint64(63)
    key = np.empty(n, np.uint64)
    for i in range(n):
        b = bits[i]
        if b == top:
            b = np.uint64(0)
        key[i] = ~b if b & top else b | top
    order = np.arange(n)
    key_out = np.empty(n, np.uint64)
    order_out = np.empty(n, np.int64)
    count = np.zeros(256, np.int64)
    for shift in range(0, 64, 8):
        s = np.uint64(shift)
        count[:] = 0
        for i in range(n):
            count[(key[i] >> s) & np.uint64(255)] += 1
        if count.max() == n:
            continue
        total = 0
        for d in range(256):
            c = count[d]
            count[d] = total
            total += c
        for i in range(n):
            d = (key[i] >> s) & np.uint64(255)
            j = count[d]
            count[d] = j + 1
            key_out[j] = key[i]
            order_out[j] = order[i]
        key, key_out = key_out, key
        order, order_out = order_out, order
    return order


def _tied(values: np.ndarray) -> bool:
    """Whether more than 1000 values look tied: a sample of nearly all distinct values says they are continuous."""
    if len(values) <= 1000:
        return False
    sample = values[:: max(1, len(values) // 5000)]
    return len(pd.unique(sample)) < 0.9 * len(sample)


def group_codes(group: Any) -> tuple[np.ndarray, list[str]]:
    """Each patient's group as an index into the groups' labels as text (sorted), -1 where it is missing.

    As ``np.unique(labels.astype(str))``, but hashing the values and turning
    only the distinct ones into text (a million patients, a handful of groups).
    """
    codes, uniques = pd.factorize(pd.Series(np.asarray(group, dtype=object))
                                  if not isinstance(group, (pd.Series, pd.Categorical)) else group)
    names, remap = np.unique(np.array([str(u) for u in uniques], dtype=object), return_inverse=True)
    codes = np.asarray(codes, dtype=np.int64)
    out = np.where(codes >= 0, remap.astype(np.int64)[np.maximum(codes, 0)], -1) if len(remap) else codes
    return out, [str(n) for n in names]


def frame_columns(values: tuple[Any, ...], columns: Mapping[str, str | None]) -> tuple[Any, ...]:
    """The estimator's arrays, given as arrays or as a DataFrame (first argument) and column names.

    ``values`` are the positional arguments (``time, event, ...``) and
    ``columns`` the ``*_col`` keywords (``{"duration_col": "t", "event_col": "e"}``).
    With a DataFrame first, every column keyword must name one of its columns
    and no other array may be passed; with arrays, no column keyword may be set.
    """
    first, *rest = values
    names = dict(columns)
    if isinstance(first, pd.DataFrame):
        missing = [k for k, v in names.items() if v is None]
        if missing or any(r is not None for r in rest):
            raise TypeError(f"with a DataFrame, name its columns with {', '.join(names)} (and pass no arrays)")
        absent = [v for v in names.values() if v not in first.columns]
        if absent:
            raise KeyError(f"no column {', '.join(map(repr, absent))} in the data")
        return tuple(first[c].to_numpy() for c in names.values())
    given = [k for k, v in names.items() if v is not None]
    if given:
        raise TypeError(f"{', '.join(given)} name DataFrame columns: pass the DataFrame first")
    if any(r is None for r in rest):
        raise TypeError("pass every array, or a DataFrame and its column names")
    return tuple(values)
