"""Events after HSCT2 (GVHD, DLI): their incidence, and their effect without immortal-time bias.

What the GVHD & DLI view and the command line show:

* cumulative incidence of acute GVHD grade II–IV and III–IV and of chronic
  GVHD per group, death without that GVHD competing (Aalen-Johansen, Gray's
  test; R ``cmprsk::cuminc``), :func:`gvhd_incidence`;
* a Cox model with the event as a **time-dependent** covariate, 0 until its
  onset and 1 after (R ``coxph(Surv(tstart, tstop, event) ~ ...)`` on
  ``tmerge``-split rows), :func:`time_dependent_cox` — the default;
* a **landmark analysis**: the patients still event-free at a landmark L,
  grouped by whether the event had happened by L, followed from L
  (Kaplan-Meier, log-rank, Cox on that subset), :func:`landmark_analysis`;
* the naive model with "ever had the event" as a baseline covariate only on
  request, and always with :data:`IMMORTAL_TIME_WARNING`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.cohort.grouping import GROUP, Comparison
from analysis.cohort.model import CohortError, endpoint, label
from analysis.cohort.post_transplant import (
    CAUSE_GVHD,
    EVENT_NAMES,
    GVHD_ENDPOINT_NAMES,
    GVHD_ENDPOINTS,
    POST_HSCT2_EVENTS,
    gvhd_causes,
)
from analysis.stats.competing_risks import CompetingRisksError, CumulativeIncidence, cumulative_incidence, gray_test
from analysis.stats.cox.counting import fit_counting
from analysis.stats.cox.design import CovariateSpec, DesignError, build_design
from analysis.stats.cox.fit import CoxFitError, CoxModel, fit_cox
from analysis.stats.cox.time_dependent import split_at_events
from analysis.stats.kaplan_meier import KaplanMeier, SurvivalDataError, fit_kaplan_meier
from analysis.stats.logrank import LogRankError, LogRankTest, logrank_test

IMMORTAL_TIME_WARNING = (
    "Immortal-time bias: “ever had {event}” is not known at HSCT2. A patient counted as having it had to survive "
    "until its onset, so this baseline model credits the event with survival it did not cause and makes it look "
    "protective (Anderson, Cain & Gelber 1983). Use the time-dependent model or a landmark analysis instead."
)
BEFORE, AFTER = "not yet", "since onset"
NO, YES = "no", "yes"


# ------------------------------------------------------------------ incidence


@dataclass(frozen=True, eq=False)
class GvhdIncidence:
    """Cumulative incidence of one GVHD endpoint per group (cause 1 the GVHD, 2 death without it).

    ``test`` is Gray's test of the GVHD across the groups (None with one
    group), ``test_note`` why it is missing; ``notes`` what was left out.
    """

    endpoint: str
    fits: Mapping[str, CumulativeIncidence]
    empty: tuple[str, ...] = ()
    test: dict[str, float] | None = None
    test_note: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return GVHD_ENDPOINT_NAMES[self.endpoint]


def _graded(frame: pd.DataFrame, gvhd: str) -> tuple[pd.DataFrame, list[str]]:
    """Rows whose status is known for this endpoint (aGVHD by grade needs the grade)."""
    event, lowest = GVHD_ENDPOINTS[gvhd]
    known = frame[event].notna()
    if lowest is not None:
        known &= ~((frame[event] == 1) & frame["agvhd_grade"].isna())
    notes = []
    if (~known).any():
        what = "acute GVHD of unknown grade" if lowest is not None else "unknown chronic GVHD status"
        notes.append(f"{int((~known).sum())} patient(s) with {what} are left out of {GVHD_ENDPOINT_NAMES[gvhd]}.")
    return frame.loc[known], notes


def gvhd_incidence(comparison: Comparison, gvhd: str) -> GvhdIncidence:
    """Cumulative incidence of ``gvhd`` (``agvhd2``, ``agvhd3``, ``cgvhd``) per group, with Gray's test.

    Raises :class:`CohortError` when the data do not have the fields.
    """
    event, _ = GVHD_ENDPOINTS[gvhd]
    if event not in comparison.frame or POST_HSCT2_EVENTS[event] not in comparison.frame or (
            GVHD_ENDPOINTS[gvhd][1] is not None and "agvhd_grade" not in comparison.frame):
        raise CohortError(f"{GVHD_ENDPOINT_NAMES[gvhd]} needs the {EVENT_NAMES[event]} fields with their times.")
    frame, notes = _graded(comparison.frame, gvhd)
    fits, empty = {}, []
    for group in comparison.order:
        rows = frame[frame[GROUP] == group]
        if rows.empty:
            empty.append(group)
            continue
        fits[group] = cumulative_incidence(*gvhd_causes(rows, gvhd))
    if not fits:
        raise CompetingRisksError("no group has patients with a known GVHD status")
    test, test_note = None, None
    if len(fits) > 1:
        if comparison.overlapping:
            test_note = "not valid: the saved cohorts share patients"
        else:
            try:
                time, cause = gvhd_causes(frame, gvhd)
                g = gray_test(time, cause, frame[GROUP].astype(str), cause_of_interest=CAUSE_GVHD)
                test = {"statistic": g.statistic, "df": g.df, "p": g.p}
            except CompetingRisksError as err:
                test_note = str(err)
    return GvhdIncidence(gvhd, fits, tuple(empty), test, test_note, tuple(notes))


# ------------------------------------------------------------------ time-dependent Cox


@dataclass(frozen=True, eq=False)
class TimeDependentCox:
    """A Cox model with post-HSCT2 events as time-dependent covariates (and, on request, the naive one).

    ``model`` is the counting-process fit (None with ``problem``); ``rows`` the
    number of (start, stop] rows; ``switched`` per event the patients whose
    covariate switched on during follow-up. ``baseline`` is the "ever had it"
    model, fitted only when asked for; ``warnings`` then carry
    :data:`IMMORTAL_TIME_WARNING`.
    """

    endpoint: str
    events: tuple[str, ...]
    model: CoxModel | None
    problem: str | None
    n_patients: int
    rows: int
    switched: Mapping[str, int]
    baseline: CoxModel | None = None
    baseline_problem: str | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def event_spec(event: str, *, time_dependent: bool) -> CovariateSpec:
    """How a post-HSCT2 event enters a model: "not yet"/"since onset", or (naively) "no"/"yes"."""
    name = EVENT_NAMES[event]
    if time_dependent:
        return CovariateSpec(event, True, reference=BEFORE, label=f"{name[0].upper()}{name[1:]} (time-dependent)")
    return CovariateSpec(event, True, reference=NO, label=f"Ever had {name} (baseline)")


def _usable(cohort: pd.DataFrame, endpoint_name: str, events: Sequence[str]):
    """The endpoint, and the patients with a known status of every event and follow-up beyond 0."""
    ep = endpoint(cohort, endpoint_name)
    keep = ep.time > 0
    for event in events:
        keep &= cohort[event].notna().to_numpy()
    notes = []
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} patient(s) without a known event status or with no follow-up "
                     "are left out.")
    return ep, keep, notes


def time_dependent_cox(cohort: pd.DataFrame, endpoint_name: str, events: Sequence[str],
                       specs: Sequence[CovariateSpec] = (), *, baseline: bool = False) -> TimeDependentCox:
    """Cox model of ``endpoint_name`` with each of ``events`` switching on at its time; never raises for bad data."""
    events = tuple(events)
    missing = [e for e in events if e not in cohort or POST_HSCT2_EVENTS[e] not in cohort]
    if missing:
        raise CohortError(f"no {', '.join(EVENT_NAMES[e] for e in missing)} fields with times in these data")
    ep, keep, notes = _usable(cohort, endpoint_name, events)
    data = cohort.loc[keep].reset_index(drop=True)
    time, status = ep.time[keep], ep.event[keep]
    switch = {e: data[POST_HSCT2_EVENTS[e]].where(data[e] == 1).to_numpy(dtype=float) for e in events}
    split = split_at_events(time, status, switch)
    rows = data.iloc[split.row_of].reset_index(drop=True)
    for e in events:
        rows[e] = np.where(split.covariates[e].to_numpy() == 1, AFTER, BEFORE)
    switched = {e: int(((switch[e] > 0) & (switch[e] < time)).sum()) for e in events}
    specs = (*[event_spec(e, time_dependent=True) for e in events], *specs)
    model, problem = None, None
    try:
        design = build_design(rows, specs)
        model = fit_counting(split.start[design.kept], split.stop[design.kept], split.event[design.kept], design)
    except (CoxFitError, DesignError) as err:
        problem = str(err)
    result = TimeDependentCox(endpoint_name, events, model, problem, len(data), split.n_rows, switched,
                              notes=tuple(notes))
    if not baseline:
        return result
    return _with_baseline(result, data, time, status, events, specs[len(events):])


def _with_baseline(result: TimeDependentCox, data: pd.DataFrame, time: np.ndarray, status: np.ndarray,
                   events: Sequence[str], specs: Sequence[CovariateSpec]) -> TimeDependentCox:
    """Add the naive "ever had it" model, with the immortal-time warning."""
    ever = data.assign(**{e: np.where(data[e] == 1, YES, NO) for e in events}, _time=time, _event=status)
    warnings = tuple(IMMORTAL_TIME_WARNING.format(event=EVENT_NAMES[e]) for e in events)
    try:
        naive = fit_cox(ever, "_time", "_event", [*[event_spec(e, time_dependent=False) for e in events], *specs])
    except (CoxFitError, DesignError) as err:
        return replace(result, baseline_problem=str(err), warnings=warnings)
    return replace(result, baseline=naive, warnings=warnings)


# ------------------------------------------------------------------ landmark


@dataclass(frozen=True, eq=False)
class LandmarkAnalysis:
    """Survival from a landmark by the status of a post-HSCT2 event at it.

    ``curves`` are Kaplan-Meier fits on the months since the landmark, one per
    status (``no``/``yes``: the event by the landmark); ``test`` the log-rank
    test between them; ``model`` a Cox model of the status (and ``specs``)
    from the landmark. ``n`` counts the patients still at risk after the
    landmark, ``excluded`` those whose endpoint happened (or who were
    censored) by then.
    """

    endpoint: str
    event: str
    landmark: float
    n: int
    excluded: int
    curves: tuple[KaplanMeier, ...]
    test: LogRankTest | None
    model: CoxModel | None
    problems: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def landmark_analysis(cohort: pd.DataFrame, endpoint_name: str, event: str, landmark: float,
                      specs: Sequence[CovariateSpec] = ()) -> LandmarkAnalysis:
    """Patients still at risk after ``landmark`` months, by ``event`` by then, followed from the landmark.

    R: ``subset(time > L)``; ``survfit``, ``survdiff`` and ``coxph`` of
    ``Surv(time - L, status) ~ status at L (+ specs)``.
    """
    if not np.isfinite(landmark) or landmark <= 0:
        raise ValueError(f"the landmark must be a positive number of months, got {landmark:g}")
    if event not in cohort or POST_HSCT2_EVENTS[event] not in cohort:
        raise CohortError(f"no {EVENT_NAMES[event]} fields with times in these data")
    ep, keep, notes = _usable(cohort, endpoint_name, [event])
    at_risk = keep & (ep.time > landmark)
    data = cohort.loc[at_risk].reset_index(drop=True)
    happened = (data[event] == 1) & (data[POST_HSCT2_EVENTS[event]] <= landmark)
    frame = data.assign(**{event: np.where(happened, YES, NO)}, _time=ep.time[at_risk] - landmark,
                        _event=ep.event[at_risk])
    problems: dict[str, str] = {}
    curves = []
    for status in (NO, YES):
        rows = frame[frame[event] == status]
        try:
            curves.append(fit_kaplan_meier(rows["_time"], rows["_event"], label=status))
        except SurvivalDataError as err:
            problems[status] = str(err)
    test = model = None
    if len(curves) == 2:
        try:
            test = logrank_test(frame["_time"], frame["_event"], frame[event], order=[NO, YES])
        except LogRankError as err:
            problems["log-rank"] = str(err)
        try:
            model = fit_cox(frame, "_time", "_event",
                            [CovariateSpec(event, True, reference=NO, label=f"{label(event)} by month {landmark:g}"),
                             *specs])
        except (CoxFitError, DesignError) as err:
            problems["Cox"] = str(err)
    return LandmarkAnalysis(endpoint_name, event, float(landmark), int(at_risk.sum()),
                            int((keep & ~at_risk).sum()), tuple(curves), test, model, problems, tuple(notes))
