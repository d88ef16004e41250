"""Kaplan-Meier curves of one endpoint across the groups of a comparison, with the tests that apply.

The Survival view and the command line's ``km`` both call :func:`compare_survival`,
so the rules for what is estimated and which tests are reported live here:

* one Kaplan-Meier curve per group with patients (R ``survfit``); groups without
  patients are listed in ``empty``, groups whose data cannot be fitted in ``problems``;
* with two or more curves, the log-rank test or a Fleming-Harrington G(rho, gamma)
  test (R ``survdiff``); with three or more, every pair too, Holm-adjusted, and the
  test for trend across the groups in display order when asked for;
* no tests at all when the groups share patients (overlapping saved cohorts): the
  tests assume independent groups. ``note`` says why tests are missing;
* the median follow-up of all the patients, by reverse Kaplan-Meier.

The ``format_*`` helpers turn these numbers into the text of the view's tables
(worded by :mod:`analysis.text`), so a notebook shows exactly what the page shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.cohort.grouping import GROUP, Comparison
from analysis.cohort.model import endpoint as derive_endpoint
from analysis.stats.kaplan_meier import (
    KaplanMeier,
    SurvivalDataError,
    fit_kaplan_meier,
    landmark_table,
    median_followup,
    median_table,
)
from analysis.stats.logrank import (
    LogRankError,
    LogRankTest,
    logrank_test,
    logrank_trend_test,
    pairwise_logrank,
)
from analysis.text import chi2_text as _chi2
from analysis.text import group_text, median_text, months_text, p_cell, statistic_caption, survival_text

#: Between-group tests offered: Fleming-Harrington G(rho, gamma) weights, and how they read.
WEIGHTS: dict[str, tuple[float, float]] = {"logrank": (0.0, 0.0), "fh10": (1.0, 0.0), "fh01": (0.0, 1.0),
                                           "fh11": (1.0, 1.0)}
WEIGHT_LABELS: dict[str, str] = {
    "logrank": "Log-rank (equal weights)",
    "fh10": "Peto-Peto, FH(1, 0): early differences",
    "fh01": "Fleming-Harrington (0, 1): late differences",
    "fh11": "Fleming-Harrington (1, 1): middle",
}
#: The pointwise CI scales (R ``survfit(conf.type = )``), and how they read.
CI_LABELS: dict[str, str] = {"log-log": "log-log (R default for reports)", "log": "log", "plain": "plain (linear)"}
SURVIVAL_ENDPOINTS = ("os", "rfs", "grfs")
OVERLAP_NOTE = ("The saved cohorts share patients, so tests between them (which assume independent groups) "
                "are not reported. The curves are still valid descriptions of each cohort.")
TREND_NOTE = "The trend test needs at least three ordered groups; with two it equals the log-rank test."


@dataclass(frozen=True, eq=False)
class SurvivalComparison:
    """Kaplan-Meier curves of one endpoint per group, and the between-group tests.

    Attributes
    ----------
    endpoint : str
        ``"os"`` or ``"rfs"``.
    curves : tuple of KaplanMeier
        One curve per group with patients, in display order, labelled with the
        group's label (``"all"`` for the whole cohort).
    empty : tuple of str
        Groups without patients (left out of curves and tests).
    problems : mapping of str to str
        Groups whose times or events cannot be analysed, with the reason.
    test : LogRankTest or None
        Log-rank (rho = gamma = 0) or Fleming-Harrington test across the curves'
        groups, R ``survdiff``; None with one curve, overlapping groups, or when
        the test cannot be computed.
    trend : LogRankTest or None
        Log-rank test for trend (scores 1..k in display order), only when asked
        for and with at least three curves.
    pairwise : DataFrame or None
        With at least three curves: every pair's test with Holm-adjusted p
        (:func:`analysis.stats.logrank.pairwise_logrank`).
    overlapping : bool
        The groups share patients, so no test is reported.
    test_error : str or None
        Why the test could not be computed (e.g. no events), in plain words.
    trend_requested : bool
        Whether the trend test was asked for.
    n, events : int
        Patients and events among all patients (see :func:`compare_survival`'s ``cohort``).
    followup_median : float
        Median follow-up of all patients, reverse Kaplan-Meier (Schemper & Smith),
        in months; NaN when not reached or when no group has patients.
    """

    endpoint: str
    curves: tuple[KaplanMeier, ...]
    empty: tuple[str, ...] = ()
    problems: Mapping[str, str] = field(default_factory=dict)
    test: LogRankTest | None = None
    trend: LogRankTest | None = None
    pairwise: pd.DataFrame | None = None
    overlapping: bool = False
    test_error: str | None = None
    trend_requested: bool = False
    n: int = 0
    events: int = 0
    followup_median: float = float("nan")

    @property
    def note(self) -> str | None:
        """Why between-group tests are absent (or incomplete), for the reader; None when nothing is missing."""
        if self.overlapping and len(self.curves) > 1:
            return OVERLAP_NOTE
        if self.test_error:
            return f"The groups cannot be compared: {self.test_error}."
        return None

    @property
    def trend_note(self) -> str | None:
        """Why a requested trend test is not shown: it needs three or more groups."""
        return TREND_NOTE if self.trend_requested and len(self.curves) <= 2 else None

    @property
    def summary(self) -> pd.DataFrame:
        """Tidy: one row per curve with n, events, median (CI) and median follow-up, and the overall test's p."""
        return self.medians.assign(test=None if self.test is None else self.test.method,
                                   p=np.nan if self.test is None else self.test.p)

    @property
    def medians(self) -> pd.DataFrame:
        """Per curve: n, events, median with CI and median follow-up.

        See :func:`analysis.stats.kaplan_meier.median_table`.
        """
        return median_table(self.curves)

    def landmarks(self, times: Iterable[float]) -> pd.DataFrame:
        """Per curve and time: survival with CI and number at risk.

        See :func:`analysis.stats.kaplan_meier.landmark_table`.
        """
        return landmark_table(self.curves, times)


def compare_survival(comparison: Comparison, endpoint: str, *, cohort: pd.DataFrame | None = None,
                     conf_type: str = "log-log", rho: float = 0.0, gamma: float = 0.0,
                     trend: bool = False) -> SurvivalComparison:
    """Kaplan-Meier curves of ``endpoint`` per group of ``comparison``, with the tests that apply.

    Parameters
    ----------
    comparison : Comparison
        Patients labelled by group (:mod:`analysis.cohort.grouping`).
    endpoint : {"os", "rfs"}
        Overall or relapse-free survival (:func:`analysis.cohort.model.endpoint`).
    cohort : DataFrame, optional
        All the patients whose ``n``, ``events`` and median follow-up are reported,
        including those whose group is unknown; default the comparison's rows.
    conf_type : {"log-log", "log", "plain"}
        Scale of the curves' 95 % pointwise CI, as R ``survfit(conf.type = )``.
    rho, gamma : float
        Fleming-Harrington weights ``S(t-)^rho (1 - S(t-))^gamma`` of the
        between-group test; 0, 0 is the log-rank test.
    trend : bool
        Also test for a trend across the groups in display order (scores 1..k);
        done only with three or more groups (with two it is the log-rank test).

    Returns
    -------
    SurvivalComparison
        Curves, tests, and what was left out and why. Groups without patients or
        with unusable data do not raise: they are reported in ``empty`` and
        ``problems``; a test that cannot be computed is None with ``test_error``.

    Raises
    ------
    ValueError
        ``endpoint`` is not OS or RFS.
    analysis.cohort.model.CohortError
        OS asked of data that carry one time and a cause code.
    SurvivalDataError
        The times or events of all patients (``cohort``) cannot be analysed.
    """
    check_endpoint(endpoint)
    curves, empty, problems = _fit_groups(comparison, endpoint, conf_type)
    everyone = comparison.frame if cohort is None else cohort
    ep = derive_endpoint(everyone, endpoint)
    tests: dict = {}
    if len(curves) > 1 and not comparison.overlapping:
        order = [g for g in comparison.order if g not in empty]
        tests = _between_group_tests(derive_endpoint(comparison.frame, endpoint), comparison.frame[GROUP].to_numpy(),
                                     order, rho=rho, gamma=gamma, pairwise=len(curves) > 2,
                                     trend=trend and len(curves) > 2)
    return SurvivalComparison(
        endpoint=endpoint, curves=tuple(curves), empty=tuple(empty), problems=problems,
        overlapping=comparison.overlapping, trend_requested=trend, n=len(ep.time), events=int(ep.event.sum()),
        followup_median=median_followup(ep.time, ep.event) if curves else float("nan"), **tests,
    )


def _fit_groups(comparison: Comparison, endpoint: str,
                conf_type: str) -> tuple[list[KaplanMeier], list[str], dict[str, str]]:
    curves, empty, problems = [], [], {}
    positions = comparison.positions()
    ep = derive_endpoint(comparison.frame, endpoint) if any(len(rows) for _, rows in positions) else None
    for group, rows in positions:
        if ep is None or not len(rows):
            empty.append(group)
            continue
        try:
            curves.append(fit_kaplan_meier(ep.time[rows], ep.event[rows], conf_type=conf_type, label=group))
        except SurvivalDataError as err:
            problems[group] = str(err)
    return curves, empty, problems


def check_endpoint(endpoint: str) -> None:
    """Kaplan-Meier describes OS and RFS; relapse and NRM compete and need cumulative incidence."""
    if endpoint not in SURVIVAL_ENDPOINTS:
        raise ValueError(f"Kaplan-Meier endpoints are os and rfs, got {endpoint!r}")


def _between_group_tests(ep, labels: np.ndarray, order: list[str], *, rho: float, gamma: float,
                         pairwise: bool, trend: bool) -> dict:
    """The overall test; pairwise tests with three or more groups; the trend test when asked."""
    found: dict = {}
    try:
        found["test"] = logrank_test(ep.time, ep.event, labels, rho=rho, gamma=gamma, order=order)
        if pairwise:
            found["pairwise"] = pairwise_logrank(ep.time, ep.event, labels, rho=rho, gamma=gamma, order=order)
        if trend:
            found["trend"] = logrank_trend_test(ep.time, ep.event, labels, order=order)
    except LogRankError as err:
        found["test_error"] = str(err)
    return found


# ------------------------------------------------------------------ text of the view's tables


def logrank_caption(test: LogRankTest) -> str:
    """One line for a figure, e.g. ``"Log-rank: χ² = 13.19, df = 1, p < 0.001"``."""
    return statistic_caption(test.method, test.statistic, test.df, test.p)


def chi2_text(test: LogRankTest) -> str:
    """``"χ² = 13.19, df = 1, p < 0.001"``."""
    return _chi2(test.statistic, test.df, test.p)


def figure_subtitle(result: SurvivalComparison) -> str | None:
    """The figure's subtitle: the overall test and, when done, the trend test; None without tests."""
    parts = [logrank_caption(result.test)] if result.test is not None else []
    if result.trend is not None:
        parts.append(f"trend: {chi2_text(result.trend)}")
    return " · ".join(parts) or None


def format_median_table(result: SurvivalComparison) -> pd.DataFrame:
    """Group, n, events, median with 95 % CI (R ``quantile.survfit``) and median follow-up, as text."""
    med = result.medians
    return pd.DataFrame({
        "Group": med["group"].map(group_text), "n": med["n"], "Events": med["events"],
        "Median (95 % CI)": [median_text(m, lo, hi) for m, lo, hi in
                             zip(med["median"], med["median_lower"], med["median_upper"], strict=True)],
        "Median follow-up": med["followup_median"].map(months_text),
    })


def format_landmark_table(result: SurvivalComparison, times: Iterable[float]) -> pd.DataFrame:
    """Group, month, survival with 95 % CI and number at risk at each landmark, as text."""
    lm = result.landmarks(times)
    return pd.DataFrame({
        "Group": lm["group"].map(group_text), "Month": lm["time"].map(lambda t: f"{t:g}"),
        "Survival (95 % CI)": [survival_text(s, lo, hi)
                               for s, lo, hi in zip(lm["survival"], lm["lower"], lm["upper"], strict=True)],
        "At risk": lm["n_at_risk"],
    })


def format_test_table(test: LogRankTest) -> pd.DataFrame:
    """Per group: n, observed and expected events (weighted for FH tests, as ``survdiff``) and O/E."""
    tab = test.table
    return pd.DataFrame({
        "Group": tab["group"], "n": tab["n"], "Observed": tab["observed"].round(2),
        "Expected": tab["expected"].round(2), "O/E": (tab["observed"] / tab["expected"]).round(2),
    })


def format_pairwise_table(pairwise: pd.DataFrame) -> pd.DataFrame:
    """Each pair's χ², p and Holm-adjusted p, as text."""
    return pd.DataFrame({
        "Group 1": pairwise["group1"], "Group 2": pairwise["group2"], "χ²": pairwise["statistic"].round(2),
        "p": pairwise["p"].map(p_cell), "p (Holm)": pairwise["p_holm"].map(p_cell),
    })
