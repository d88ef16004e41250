"""Right-censored data as every estimator here checks it, and the tie rule they share.

:func:`check_survival_data` validates (time, event) arrays and merges times that
differ only by rounding error, exactly as R's ``aeqSurv`` does
(:func:`aeq_times`); ``survfit`` and ``coxph`` apply that rule by default
(``timefix = TRUE``), so the Kaplan-Meier, log-rank and Cox estimators all call it.
"""

from __future__ import annotations

import numpy as np

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
    y = np.unique(time[np.isfinite(time)])
    if len(y) < 2:
        return time
    gap = np.diff(y)
    tied = (gap <= TOLERANCE) | (gap / np.mean(np.abs(y)) <= TOLERANCE)
    if not tied.any():
        return time
    cuts = y[np.concatenate(([True], ~tied))]
    return cuts[np.searchsorted(cuts, time, side="right") - 1]
