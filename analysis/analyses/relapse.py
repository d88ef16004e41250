"""Relapse and non-relapse mortality across the groups of a comparison: what the Relapse view shows.

:func:`compare_relapse` gathers, for the patients of a
:class:`analysis.cohort.grouping.Comparison`,

* the cumulative incidence of relapse (CIR) and of non-relapse mortality (NRM)
  per group with patients (Aalen-Johansen, as R ``cmprsk::cuminc``);
* Gray's test per cause when there are two or more groups (None otherwise; a
  row's ``note`` says why a test is missing, e.g. overlapping saved cohorts);
* the four patient states over time per group.

Its figures are drawn by :func:`analysis.figures.cif.relapse_figures`.
:func:`format_landmark_table` and :func:`format_gray_table` give the view's
tables as text, so a notebook shows what the page shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from analysis.cohort.grouping import GROUP, Comparison
from analysis.cohort.model import (
    CAUSE_NRM,
    CAUSE_RELAPSE,
    competing_cause,
    endpoint,
    has_overall_survival,
    rfs_time,
)
from analysis.stats.competing_risks import (
    CompetingRisksError,
    CumulativeIncidence,
    cumulative_incidence,
    gray_test,
    landmark_table,
)
from analysis.stats.patient_states import PatientStates, state_probabilities
from analysis.text import ALL, cif_text, group_text

CAUSES = (CAUSE_RELAPSE, CAUSE_NRM)
#: Names of the causes in reports (command line, exports).
CAUSE_NAMES: dict[int, str] = {CAUSE_RELAPSE: "relapse", CAUSE_NRM: "nrm"}
CAUSE_SHORT = {CAUSE_RELAPSE: "Relapse (CIR)", CAUSE_NRM: "NRM"}

#: How the four patient states are estimated (:func:`patient_states`), for readers of the view and its reports.
STATES_METHOD = (
    "* **Alive, relapse-free** = 1 − CIR − NRM (equals the relapse-free survival Kaplan-Meier estimate).\n"
    "* **Dead without relapse** = NRM (cumulative incidence, Aalen-Johansen).\n"
    "* **Dead after relapse** = (1 − OS) − NRM: all deaths (1 − overall survival, Kaplan-Meier) minus "
    "those without relapse.\n"
    "* **Alive after relapse** = CIR − dead after relapse.\n\n"
    "The four bands therefore add up to 100 % at every time. The last two are differences between "
    "estimates from different estimators; where sampling noise pushes them outside [0, CIR] they are "
    "clipped to that range (a stacked-probability, Pepe-type construction)."
)


# ------------------------------------------------------------------ a cohort, by group


def cif_by_group(frame: pd.DataFrame, order: Sequence[str] | None = None,
                 *, conf_level: float = 0.95) -> dict[str, CumulativeIncidence]:
    """CIR and NRM per group of a cohort (relapse-free-survival time scale).

    ``frame`` holds canonical cohort rows, optionally with a ``group`` column
    (:mod:`analysis.cohort.grouping`); without one, all rows form the group ``"all"``.
    Groups listed in ``order`` without patients raise :class:`CompetingRisksError`.
    """
    if GROUP not in frame:
        frame = frame.assign(**{GROUP: ALL})
    labels = frame[GROUP].astype(str)
    order = list(order) if order is not None else sorted(labels.unique())
    fits = {}
    for g in order:
        rows = frame[labels == str(g)]
        if rows.empty:
            raise CompetingRisksError(f"group {g!r} has no patients")
        fits[str(g)] = cumulative_incidence(rfs_time(rows), competing_cause(rows), conf_level=conf_level)
    return fits


def gray_tests(frame: pd.DataFrame, *, causes: Sequence[int] = CAUSES,
               overlapping: bool = False, rho: float = 0.0) -> pd.DataFrame:
    """Gray's test for each cause across the groups of ``frame`` (its ``group`` column).

    Returns one row per cause: ``cause``, ``statistic``, ``df``, ``p``, ``note``.
    Where the test cannot be done (one group, no events of the cause, singular
    covariance, or groups sharing patients when ``overlapping``) the numbers
    are NaN and ``note`` says why.
    """
    n_groups = frame[GROUP].nunique() if GROUP in frame else 1
    rows = []
    for cause in causes:
        row = {"cause": cause, "statistic": np.nan, "df": max(n_groups - 1, 0), "p": np.nan, "note": ""}
        if overlapping:
            row["note"] = ("not valid: the saved cohorts share patients, and Gray's test assumes "
                           "independent groups")
        elif n_groups < 2:
            row["note"] = "needs at least two groups"
        else:
            try:
                test = gray_test(rfs_time(frame), competing_cause(frame), frame[GROUP],
                                 cause_of_interest=cause, rho=rho)
                row.update(statistic=test.statistic, df=test.df, p=test.p)
            except CompetingRisksError as err:
                row["note"] = str(err)
        rows.append(row)
    return pd.DataFrame(rows, columns=["cause", "statistic", "df", "p", "note"])


def cif_notes(fits: Mapping[str, CumulativeIncidence]) -> list[str]:
    """Plain-language warnings about groups whose curves mean little."""
    notes = []
    for g, fit in fits.items():
        name = "The cohort" if g == ALL else f"Group {g}"
        if fit.n == 1:
            notes.append(f"{name} has a single patient: its curves jump from 0 to 0 % or 100 % and are not drawn.")
            continue
        if fit.events[CAUSE_RELAPSE] == 0:
            notes.append(f"{name} ({fit.n} patients) has no relapse: its relapse incidence is 0 throughout.")
        if fit.events[CAUSE_NRM] == 0:
            notes.append(f"{name} ({fit.n} patients) has no death without relapse: its NRM is 0 throughout.")
    return notes


def patient_states(cohort: pd.DataFrame, *, label: str = "all",
                   fit: CumulativeIncidence | None = None) -> PatientStates:
    """The four states after HSCT2 over time for one group of patients (cohort rows).

    See :mod:`analysis.stats.patient_states` for the method. Cause-coded data
    (vital status after a relapse unknown) give one state "relapsed" in place
    of alive/dead after relapse. ``fit`` is the group's CIR/NRM fit when the
    caller has it already.
    """
    if len(cohort) == 0:
        raise CompetingRisksError(f"group {label!r} has no patients")
    os_ep = endpoint(cohort, "os") if has_overall_survival(cohort) else None
    return state_probabilities(rfs_time(cohort), competing_cause(cohort),
                               None if os_ep is None else os_ep.time, None if os_ep is None else os_ep.event,
                               label=label, fit=fit)


# ------------------------------------------------------------------ the view


@dataclass(frozen=True, eq=False)
class RelapseComparison:
    """CIR, NRM, Gray's tests and patient states per group.

    Attributes
    ----------
    fits : mapping of str to CumulativeIncidence
        Per group with patients, in display order (``"all"`` for the whole cohort).
    empty : tuple of str
        Groups without patients, left out.
    tests : DataFrame or None
        Gray's test per cause (:func:`gray_tests`); None with a single group.
    states : tuple of PatientStates
        The four states over time per group (:func:`patient_states`).
    legend_title : str or None
        What the groups are (e.g. "Lineage"); None for the whole cohort.
    """

    fits: Mapping[str, CumulativeIncidence]
    empty: tuple[str, ...]
    tests: pd.DataFrame | None
    states: tuple[PatientStates, ...]
    legend_title: str | None = None

    @property
    def groups(self) -> list[str]:
        """Groups with patients, in display order."""
        return list(self.fits)

    @property
    def summary(self) -> pd.DataFrame:
        """Tidy: one row per group and cause with n, events and Gray's test p (NaN with one group)."""
        gray_p = {c: np.nan if (t := self.test_of(c)) is None else float(t["p"]) for c in CAUSES}
        rows = [{"group": g, "cause": CAUSE_NAMES[c], "n": fit.n, "events": fit.events[c], "gray_p": gray_p[c]}
                for g, fit in self.fits.items() for c in CAUSES]
        return pd.DataFrame(rows, columns=["group", "cause", "n", "events", "gray_p"])

    @property
    def notes(self) -> list[str]:
        """Plain-language warnings about groups whose curves mean little (:func:`cif_notes`)."""
        return cif_notes(self.fits)

    @property
    def states_split(self) -> bool:
        """Whether alive and dead after relapse are told apart in every group (vital status known)."""
        return all(s.split_available for s in self.states)

    @property
    def states_clipped(self) -> bool:
        """Whether a state band had to be clipped to [0, CIR] somewhere (estimates from different estimators)."""
        return any(bool(s.table["clipped"].any()) for s in self.states)

    def test_of(self, cause: int) -> pd.Series | None:
        """Gray's test row of one cause, or None with a single group."""
        return None if self.tests is None else cast(pd.Series, self.tests.set_index("cause").loc[cause])


def compare_relapse(comparison: Comparison) -> RelapseComparison:
    """Cumulative incidence of relapse and NRM, Gray's tests and patient states per group.

    Groups without patients are listed in ``empty``. Gray's test is withheld
    (NaN, with a note) when the groups share patients.

    Raises
    ------
    CompetingRisksError
        No group has patients (e.g. saved cohorts that match nobody), or the
        cumulative incidence of a group cannot be estimated.
    """
    present = [(g, rows) for g, rows in comparison.positions() if len(rows)]
    if not present:
        names = ", ".join(repr(g) for g in comparison.order)
        verb = "matches" if len(comparison.order) == 1 else "match"
        raise CompetingRisksError(f"no group has patients ({names} {verb} no patient in these data)")
    # One fit per group serves the curves, the tables and the patient states (as cif_by_group fits it).
    frame = comparison.frame
    time, cause = rfs_time(frame), competing_cause(frame)
    os_ep = endpoint(frame, "os") if has_overall_survival(frame) else None
    fits, states = {}, []
    for g, rows in present:
        fits[g] = cumulative_incidence(time[rows], cause[rows])
        states.append(state_probabilities(time[rows], cause[rows], None if os_ep is None else os_ep.time[rows],
                                          None if os_ep is None else os_ep.event[rows], label=g, fit=fits[g]))
    groups = list(fits)
    tests = gray_tests(comparison.frame, overlapping=comparison.overlapping) if len(groups) > 1 else None
    return RelapseComparison(fits=fits, empty=tuple(g for g in comparison.order if g not in groups), tests=tests,
                             states=tuple(states), legend_title=comparison.label if comparison.by else None)


# ------------------------------------------------------------------ text of the view's tables


def format_landmark_table(result: RelapseComparison, times: Iterable[float]) -> pd.DataFrame:
    """One row per group and cause, one column per landmark: CIF with 95 % CI and number at risk.

    The CI is on the log(−log) scale with cmprsk's variance
    (:func:`analysis.stats.competing_risks.landmark_table`).
    """
    times = list(times)
    table = landmark_table(dict(result.fits), times)
    table["cell"] = [cif_text(c, lo, hi, n) for c, lo, hi, n in
                     zip(table["cif"], table["lower"], table["upper"], table["n_at_risk"], strict=True)]
    table["month"] = table["time"].map(lambda t: f"{t:g} months")
    wide = table.pivot(index=["group", "n", "cause", "events"], columns="month", values="cell")
    wide = wide[[f"{t:g} months" for t in times]].reset_index()
    wide.columns.name = None
    wide["group"] = pd.Categorical(wide["group"], categories=result.groups, ordered=True)
    wide = wide.sort_values(["group", "cause"])
    wide["group"] = wide["group"].astype(str).map(group_text)
    wide["cause"] = wide["cause"].map(CAUSE_SHORT)
    return wide.rename(columns={"group": "Group", "cause": "Cause", "events": "Events"})


def format_gray_table(tests: pd.DataFrame) -> pd.DataFrame:
    """Gray's test per cause with the view's column names (χ² and p stay numbers)."""
    return tests.assign(cause=tests["cause"].map(CAUSE_SHORT)).rename(
        columns={"cause": "Cause", "statistic": "χ²", "df": "df", "p": "p", "note": "Note"})

