"""Relapse and non-relapse mortality across the groups of a comparison: what the Relapse view shows.

:func:`compare_relapse` gathers, for the patients of a
:class:`analysis.grouping.Comparison`,

* the cumulative incidence of relapse (CIR) and of non-relapse mortality (NRM)
  per group with patients (Aalen-Johansen, as R ``cmprsk::cuminc``);
* Gray's test per cause when there are two or more groups (None otherwise; a
  row's ``note`` says why a test is missing, e.g. overlapping saved cohorts);
* the two cumulative-incidence figures, and why a figure cannot be drawn;
* the four patient states over time per group, and their stacked figure.

:func:`format_landmark_table` and :func:`format_gray_table` give the view's
tables as text, so a notebook shows what the page shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from analysis.cif_figure import cif_figure, gray_caption, states_figure
from analysis.cohort import CAUSE_NRM, CAUSE_RELAPSE, competing_cause, rfs_time
from analysis.competing_risks import (
    CompetingRisksError,
    CumulativeIncidence,
    cif_notes,
    cumulative_incidence,
    gray_tests,
    landmark_table,
)
from analysis.grouping import ALL, Comparison
from analysis.patient_states import PatientStates, patient_states

CAUSES = (CAUSE_RELAPSE, CAUSE_NRM)
CAUSE_SHORT = {CAUSE_RELAPSE: "Relapse (CIR)", CAUSE_NRM: "NRM"}


@dataclass(frozen=True, eq=False)
class RelapseComparison:
    """CIR, NRM, Gray's tests and patient states per group, with their figures.

    Attributes
    ----------
    fits : mapping of str to CumulativeIncidence
        Per group with patients, in display order (``"all"`` for the whole cohort).
    empty : tuple of str
        Groups without patients, left out.
    tests : DataFrame or None
        Gray's test per cause (:func:`analysis.competing_risks.gray_tests`);
        None with a single group.
    figures : mapping of int to plotly Figure
        Cumulative incidence figure per cause code, subtitled with Gray's test.
    problems : mapping of int to str
        Causes whose figure cannot be drawn, with the reason.
    states : tuple of PatientStates
        The four states over time per group (:func:`analysis.patient_states.patient_states`).
    states_figure : plotly Figure
        The stacked states, one panel per group.
    """

    fits: Mapping[str, CumulativeIncidence]
    empty: tuple[str, ...]
    tests: pd.DataFrame | None
    figures: Mapping[int, go.Figure]
    problems: Mapping[int, str]
    states: tuple[PatientStates, ...]
    states_figure: go.Figure = field(repr=False)

    @property
    def groups(self) -> list[str]:
        """Groups with patients, in display order."""
        return list(self.fits)

    @property
    def notes(self) -> list[str]:
        """Plain-language warnings about groups whose curves mean little (:func:`cif_notes`)."""
        return cif_notes(dict(self.fits))

    @property
    def states_split(self) -> bool:
        """Whether alive and dead after relapse are told apart in every group (vital status known)."""
        return all(s.split_available for s in self.states)

    @property
    def states_clipped(self) -> bool:
        """Whether a state band had to be clipped to [0, CIR] somewhere (estimates from different estimators)."""
        return any(bool(s.table["clipped"].any()) for s in self.states)


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
    present = [(g, rows) for g, rows in comparison.groups() if len(rows)]
    if not present:
        names = ", ".join(repr(g) for g in comparison.order)
        verb = "matches" if len(comparison.order) == 1 else "match"
        raise CompetingRisksError(f"no group has patients ({names} {verb} no patient in these data)")
    # One fit per group serves the curves, the tables and the patient states (as cif_by_group fits it).
    fits, states = {}, []
    for g, rows in present:
        fits[g] = cumulative_incidence(rfs_time(rows), competing_cause(rows))
        states.append(patient_states(rows, label=g, fit=fits[g]))
    groups = list(fits)
    tests = gray_tests(comparison.frame, overlapping=comparison.overlapping) if len(groups) > 1 else None
    legend = comparison.label if comparison.by else None
    figures, problems = {}, {}
    for cause in CAUSES:
        test = None if tests is None else tests.set_index("cause").loc[cause]
        try:
            figures[cause] = cif_figure(fits, cause, legend_title=legend, subtitle=gray_caption(test))
        except CompetingRisksError as err:
            problems[cause] = str(err)
    return RelapseComparison(fits=fits, empty=tuple(g for g in comparison.order if g not in groups), tests=tests,
                             figures=figures, problems=problems, states=tuple(states),
                             states_figure=states_figure(states))


# ------------------------------------------------------------------ text of the view's tables


def cif_text(cif: float, lower: float, upper: float, n_at_risk: int) -> str:
    """``"23.5 % (14.1–34.3), 30 at risk"``, or ``"beyond follow-up"`` after the last follow-up."""
    if pd.isna(cif):
        return "beyond follow-up"
    return f"{100 * cif:.1f} % ({100 * lower:.1f}–{100 * upper:.1f}), {n_at_risk} at risk"


def format_landmark_table(result: RelapseComparison, times: Iterable[float]) -> pd.DataFrame:
    """One row per group and cause, one column per landmark: CIF with 95 % CI and number at risk.

    The CI is on the log(−log) scale with cmprsk's variance
    (:func:`analysis.competing_risks.landmark_table`).
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
    wide["group"] = wide["group"].astype(str).replace({ALL: "All patients"})
    wide["cause"] = wide["cause"].map(CAUSE_SHORT)
    return wide.rename(columns={"group": "Group", "cause": "Cause", "events": "Events"})


def format_gray_table(tests: pd.DataFrame) -> pd.DataFrame:
    """Gray's test per cause with the view's column names (χ² and p stay numbers)."""
    return tests.assign(cause=tests["cause"].map(CAUSE_SHORT)).rename(
        columns={"cause": "Cause", "statistic": "χ²", "df": "df", "p": "p", "note": "Note"})
