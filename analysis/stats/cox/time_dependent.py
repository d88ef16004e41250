"""Split follow-up at the times of events after HSCT2, as R's ``tmerge(..., x = tdc(time))``.

A post-transplant event (acute or chronic GVHD, a donor lymphocyte infusion)
is not known at HSCT2: treating "ever had it" as a baseline covariate credits
the patient with the time he had to survive to have it (immortal-time bias,
Anderson, Cain & Gelber 1983). As a time-dependent covariate it is 0 until its
time and 1 afterwards; each patient's follow-up is cut into (start, stop]
rows at those times, and :func:`analysis.stats.cox.counting.fit_counting` fits
``coxph(Surv(tstart, tstop, event) ~ ...)`` to them.

tmerge's rules: a covariate switches on at its time; a time at or before the
start of follow-up (0) switches it on from the start; a time at or after the
end of follow-up changes nothing (the covariate stays 0, the patient's event
happened without it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SplitData:
    """Counting-process rows: ``row_of`` (the patient's position in the input), ``start``, ``stop``,
    ``event`` (on the patient's last row only) and one 0/1 column per time-dependent covariate."""

    row_of: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    event: np.ndarray
    covariates: pd.DataFrame

    @property
    def n_rows(self) -> int:
        return len(self.stop)


def split_at_events(time: np.ndarray, event: np.ndarray, switch_times: Mapping[str, np.ndarray]) -> SplitData:
    """Cut each patient's (0, time] at the times his time-dependent covariates switch on.

    Parameters
    ----------
    time, event : arrays
        End of follow-up and the event indicator, one per patient.
    switch_times : mapping of name to array
        Per covariate, the time it switches on for each patient (NaN: never).

    Returns
    -------
    SplitData
        One row per patient and interval, as ``tmerge(base, base, id, event = event(time, event))``
        followed by ``tmerge(.., name = tdc(switch time))`` for every covariate.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(int)
    n = len(time)
    names = list(switch_times)
    switch = np.column_stack([np.asarray(switch_times[k], dtype=float) for k in names]) if names \
        else np.empty((n, 0))
    inside = np.isfinite(switch) & (switch > 0) & (switch < time[:, None])
    cuts_row = np.repeat(np.arange(n), inside.sum(axis=1))
    cuts_time = switch[inside]
    # per patient: 0, the distinct cut times inside (0, time), time
    rows = np.concatenate([np.arange(n), cuts_row])
    points = np.concatenate([np.zeros(n), cuts_time])
    order = np.lexsort((points, rows))
    rows, points = rows[order], points[order]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (points[1:] != points[:-1])
    rows, starts = rows[keep], points[keep]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = rows[1:] != rows[:-1]
    stops = np.where(last, time[rows], np.roll(starts, -1))
    values = {k: (np.isfinite(switch[rows, j]) & (switch[rows, j] <= starts)).astype(int) for j, k in enumerate(names)}
    # a switch time of 0 or earlier counts from the start: switch <= start = 0 already holds
    return SplitData(rows, starts, stops, np.where(last, event[rows], 0), pd.DataFrame(values))
