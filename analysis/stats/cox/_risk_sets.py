"""Risk sets of a Cox model and the bookkeeping of Efron's tie correction.

Shared by the fit (:mod:`analysis.stats.cox.fit`), the Firth penalty
(:mod:`analysis.stats.cox.firth`) and the proportional-hazards test
(:mod:`analysis.stats.cox.diagnostics`), so that the Efron weights are written once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.stats._survival_data import stable_order


@dataclass(frozen=True)
class RiskSets:
    """Rows sorted by time with the bookkeeping of Efron's tie correction.

    Deaths sharing a time form a group g with d_g deaths; death i of a group
    gets the fraction f_i = l/d_g (l = 0..d_g-1) of the tied deaths removed
    from its risk set.
    """

    order: np.ndarray
    death_pos: np.ndarray
    death_group: np.ndarray
    frac: np.ndarray
    group_start: np.ndarray
    group_first: np.ndarray
    n: int

    @classmethod
    def build(cls, time: np.ndarray, event: np.ndarray) -> RiskSets:
        order = stable_order(time)
        t = time[order]
        death_pos = np.flatnonzero(event[order] == 1)
        td = t[death_pos]  # sorted: a new group wherever the death time changes
        new = np.concatenate(([True], td[1:] != td[:-1])) if len(td) else np.zeros(0, dtype=bool)
        group_first = np.flatnonzero(new)
        group = np.cumsum(new) - 1
        counts = np.diff(np.append(group_first, len(td)))
        rank_in_group = np.arange(len(death_pos)) - group_first[group]
        return cls(order, death_pos, group, rank_in_group / counts[group],
                   np.searchsorted(t, td[group_first], side="left"), group_first, len(t))

    @property
    def n_at_risk(self) -> np.ndarray:
        """Patients at risk at each death time."""
        return (self.n - self.group_start).astype(float)

    @property
    def n_deaths(self) -> np.ndarray:
        """Deaths at each death time."""
        return np.diff(np.append(self.group_first, len(self.death_pos))).astype(float)


@dataclass(frozen=True)
class GroupedRiskSets:
    """The risk sets of a model whose covariates take few distinct rows (patterns), as counts per pattern.

    For a design of 0/1 covariates the patients of one pattern share their
    risk score, so the Efron likelihood only needs, per death time g and
    pattern k, the patients at risk (``at_risk``, time ≥ t_g) and the deaths
    (``deaths``): O(death times × patterns) per iteration instead of O(n).
    ``death_group`` and ``frac`` are per death, as in :class:`RiskSets`;
    ``pattern_deaths`` counts the deaths of each pattern.
    """

    at_risk: np.ndarray
    deaths: np.ndarray
    death_group: np.ndarray
    frac: np.ndarray
    pattern_deaths: np.ndarray

    @classmethod
    def build(cls, time_code: np.ndarray, n_times: int, event: np.ndarray, pattern: np.ndarray,
              n_patterns: int) -> GroupedRiskSets:
        """From each patient's time code (index among the ``n_times`` sorted distinct times) and pattern."""
        cell = (time_code * n_patterns + pattern) * 2 + (event == 1)  # one count of (time, pattern, died)
        counts = np.bincount(cell, minlength=n_times * n_patterns * 2).reshape(n_times, n_patterns, 2)
        dead = counts[:, :, 1]
        total = counts[:, :, 0] + dead
        rows = np.flatnonzero(dead.any(axis=1))
        per_time = dead[rows].sum(axis=1)
        death_group = np.repeat(np.arange(len(rows)), per_time)
        first = np.cumsum(per_time) - per_time
        frac = (np.arange(len(death_group)) - first[death_group]) / per_time[death_group]
        return cls(revcumsum(total)[rows].astype(float), dead[rows].astype(float), death_group, frac,
                   dead.sum(axis=0).astype(float))

    @property
    def n_at_risk(self) -> np.ndarray:
        """Patients at risk at each death time."""
        return self.at_risk.sum(axis=1)

    @property
    def n_deaths(self) -> np.ndarray:
        """Deaths at each death time."""
        return self.deaths.sum(axis=1)


def revcumsum(a: np.ndarray) -> np.ndarray:
    return np.cumsum(a[::-1], axis=0)[::-1]


def at_risk_sums(v: np.ndarray, rs: RiskSets) -> np.ndarray:
    """Σ of ``v`` (last axis = sorted rows) over each death time's risk set (rows with time ≥ t_g).

    Block sums between consecutive death times, accumulated from the end.
    """
    first = rs.group_start[0]
    blocks = np.add.reduceat(v[..., first:], rs.group_start - first, axis=-1)
    return np.cumsum(blocks[..., ::-1], axis=-1)[..., ::-1]


def efron_weights(r: np.ndarray, rs: RiskSets, per_death: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-patient weights that turn risk-set sums over Efron's tied deaths into one weighted sum.

    With ``per_death`` = c_i / den_i for every death i (den_i its Efron risk-set
    sum, c_i any per-death factor), Σ_i c_i Σ_{j in R_i} x_j / den_i equals
    Σ_j w_j x_j. The tied deaths' own share enters with the fraction f_i.
    Returns ``w`` (sorted rows) and the per-group sums ``a`` = Σ c/den and
    ``b`` = Σ f·c/den.
    """
    g, f, dp = rs.death_group, rs.frac, rs.death_pos
    ng = len(rs.group_start)
    a = np.bincount(g, per_death, ng)
    b = np.bincount(g, f * per_death, ng)
    in_risk = np.zeros(rs.n)
    in_risk[rs.group_start] = a
    w = r * np.cumsum(in_risk)
    w[dp] -= r[dp] * b[g]
    return w, a, b
