"""Where are the patients now: four states after HSCT2 over time.

Every patient is, at time t after HSCT2, in exactly one of

1. alive and relapse-free,
2. alive after a relapse,
3. dead after a relapse,
4. dead without relapse (non-relapse mortality, NRM).

The four probabilities come from estimators that each handle censoring
correctly (a "stacked probability" or Pepe-type construction):

* P(relapse-free and alive) = 1 − CIR(t) − NRM(t), with CIR and NRM the
  Aalen-Johansen cumulative incidences (this equals the relapse-free-survival
  Kaplan-Meier estimate);
* P(dead without relapse)  = NRM(t);
* P(dead after relapse)    = (1 − OS(t)) − NRM(t), with OS the Kaplan-Meier
  estimate of overall survival: all deaths minus those without relapse;
* P(alive after relapse)   = CIR(t) − P(dead after relapse).

The last two are differences of estimates from different estimators and can
fall slightly outside [0, CIR(t)] by sampling noise; they are then clipped to
that range, which keeps the four bands summing to 1 (the table records where).

Data that carry only one time and a cause code (vital status after a relapse
unknown) cannot separate states 2 and 3: the result then has one state
"relapsed" in their place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stats._survival_data import distinct_values
from analysis.stats.competing_risks import CompetingRisksError, CumulativeIncidence, cumulative_incidence
from analysis.stats.kaplan_meier import fit_kaplan_meier

CAUSE_RELAPSE, CAUSE_NRM = 1, 2

FREE, ALIVE_AFTER, DEAD_AFTER, DEAD_NO_RELAPSE, RELAPSED = (
    "alive_relapse_free", "alive_after_relapse", "dead_after_relapse", "dead_without_relapse", "relapsed",
)

#: Display labels, in stacking order from the bottom.
STATE_LABELS: dict[str, str] = {
    FREE: "Alive, relapse-free",
    ALIVE_AFTER: "Alive after relapse",
    RELAPSED: "Relapsed (alive or dead)",
    DEAD_AFTER: "Dead after relapse",
    DEAD_NO_RELAPSE: "Dead without relapse",
}


@dataclass(frozen=True)
class PatientStates:
    """State probabilities over time for one group of patients.

    Attributes
    ----------
    label : str
        The group.
    n : int
        Patients.
    table : DataFrame
        ``time`` (0 and every distinct event or censoring time up to the last
        relapse-free-survival time, or to the last follow-up once nobody is
        left relapse-free), one column per state (probabilities that
        sum to 1), ``n_at_risk`` (relapse-free and followed) and ``clipped``
        (True where the relapse split was clipped to [0, CIR]).
    split_available : bool
        False for cause-coded data: the states "alive/dead after relapse" are
        then merged into ``relapsed``.
    """

    label: str
    n: int
    table: pd.DataFrame
    split_available: bool

    @property
    def states(self) -> tuple[str, ...]:
        if self.split_available:
            return (FREE, ALIVE_AFTER, DEAD_AFTER, DEAD_NO_RELAPSE)
        return (FREE, RELAPSED, DEAD_NO_RELAPSE)

    def at(self, times) -> pd.DataFrame:
        """State probabilities at chosen times (NaN after the last follow-up)."""
        t = np.asarray(times, dtype=float)
        grid = self.table["time"].to_numpy()
        idx = np.searchsorted(grid, t, side="right") - 1
        out = self.table.iloc[np.clip(idx, 0, None)].reset_index(drop=True)
        out["time"] = t
        beyond = (t > grid[-1]) | (t < 0)
        out.loc[beyond, list(self.states)] = np.nan
        return out


def state_probabilities(time, cause, os_time=None, os_event=None, *, label: str = "all",
                        fit: CumulativeIncidence | None = None) -> PatientStates:
    """Estimate the four states over time (see the module docstring for the method).

    Parameters
    ----------
    time, cause : array-like
        Time to relapse or death (relapse-free-survival time scale) and the
        cause: 1 relapse, 2 death without relapse, 0 censored.
    os_time, os_event : array-like, optional
        Overall survival of the same patients (time to death or last contact,
        death 0/1). Without them (cause-coded data, vital status after a relapse
        unknown) "alive/dead after relapse" are merged into "relapsed".
    label : str
        The group's name.
    fit : CumulativeIncidence, optional
        ``cumulative_incidence(time, cause)`` when the caller has it already;
        estimated here otherwise.

    Raises
    ------
    CompetingRisksError
        When there are no patients, or ``fit`` is of another number of patients.
    """
    time = np.asarray(time, dtype=float)
    if len(time) == 0:
        raise CompetingRisksError(f"group {label!r} has no patients")
    if fit is None:
        fit = cumulative_incidence(time, cause)
    elif fit.n != len(time):
        raise CompetingRisksError(f"a cumulative incidence fit of {fit.n} patients given for group {label!r} "
                                  f"of {len(time)}")
    split = os_time is not None
    os_t = None if os_time is None else np.asarray(os_time, dtype=float)
    grid = distinct_values(np.concatenate([[0.0], time, [] if os_t is None else os_t]))
    cir, nrm = (fit.value_at(k, "cif", grid) for k in (CAUSE_RELAPSE, CAUSE_NRM))
    # After the last relapse-free-survival time the incidences are known only
    # if nobody is left relapse-free (then they stay final while OS goes on).
    end = fit.last_time if 1.0 - cir[-1] - nrm[-1] > 1e-12 else grid[-1]
    keep = grid <= end
    grid, cir, nrm = grid[keep], cir[keep], nrm[keep]
    table = pd.DataFrame({"time": grid, FREE: 1.0 - cir - nrm})
    if os_t is not None:
        km = fit_kaplan_meier(os_t, os_event).table
        dead = 1.0 - _step_values(km["time"].to_numpy(), km["survival"].to_numpy(), grid, start=1.0)
        raw = dead - nrm
        dead_after = np.clip(raw, 0.0, cir)
        table[ALIVE_AFTER] = cir - dead_after
        table[DEAD_AFTER] = dead_after
        table["clipped"] = ~np.isclose(raw, dead_after, rtol=0, atol=1e-12)
    else:
        table[RELAPSED] = cir
        table["clipped"] = False
    table[DEAD_NO_RELAPSE] = nrm
    table["n_at_risk"] = fit.n_at_risk(grid)
    states = (FREE, ALIVE_AFTER, DEAD_AFTER, DEAD_NO_RELAPSE) if split else (FREE, RELAPSED, DEAD_NO_RELAPSE)
    return PatientStates(
        label=str(label),
        n=len(time),
        table=table[["time", *states, "n_at_risk", "clipped"]],
        split_available=split,
    )


def _step_values(time: np.ndarray, values: np.ndarray, grid: np.ndarray, *, start: float) -> np.ndarray:
    """A right-continuous step function at ``grid``: ``start`` before the first time, held after the last."""
    idx = np.searchsorted(time, grid, side="right") - 1
    return np.where(idx >= 0, values[np.clip(idx, 0, None)], start)
