"""The report pack of a view: its figures and tables, in the order a tumor board reads them.

:func:`build_report` runs the same analyses as the dashboard's pages for one
view (data, filters, saved cohorts, the "Compare by" choice, landmarks) and
returns a :class:`Report`: a title block (title, date, data source, filters,
n of N), one :class:`ReportItem` per figure or table (Kaplan-Meier OS and
RFS with their number-at-risk tables, medians and landmarks; cumulative
incidence of relapse and NRM with landmarks; the forest plot of the paper's
Cox model), the methods paragraph written from what was computed, and the
synthetic-data notice where it applies. :mod:`analysis.reports.pptx` and
:mod:`analysis.reports.html` write it as a deck and as an offline page.

>>> report = build_report(cohort, ReportRequest(compare="lineage"), source="Demo cohort (synthetic)",
...                       synthetic=True)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd
import plotly.graph_objects as go

from analysis.analyses.models import cox_model, specs_from_options
from analysis.analyses.relapse import CAUSE_NAMES, compare_relapse, format_gray_table
from analysis.analyses.relapse import format_landmark_table as cif_landmarks
from analysis.analyses.risk_factors import default_covariates
from analysis.analyses.survival import compare_survival, figure_subtitle, format_median_table
from analysis.analyses.survival import format_landmark_table as km_landmarks
from analysis.cohort.filters import CohortFilter, SavedCohort, filter_mask, with_age_group
from analysis.cohort.grouping import Comparison, compare_by, compare_saved
from analysis.cohort.model import (
    CAUSE_NRM,
    CAUSE_RELAPSE,
    ENDPOINT_NAMES,
    LANDMARK_MONTHS,
    has_overall_survival,
    label,
)
from analysis.cohort.published import load_targets, published_hazard_ratios, published_km_labels, published_survival
from analysis.figures.cif import CAUSE_TITLES, relapse_figures
from analysis.figures.curves import ReferenceMarker, curve_figure, kaplan_meier_curve
from analysis.figures.forest import forest_figure, forest_table, published_rows
from analysis.reports.caption import SYNTHETIC_NOTICE, FigureCaption
from analysis.reports.methods import MethodsUsed, cif_method, cox_method, km_method, methods_paragraph
from analysis.stats.competing_risks import CompetingRisksError
from analysis.stats.cox.design import DesignError
from analysis.stats.cox.fit import CoxFitError
from analysis.stats.kaplan_meier import SurvivalDataError
from analysis.text import count, group_text, mask_small_counts

SAVED = "saved cohorts"
#: The curves' panel of a report figure: flatter than on a page, so that on a 16:9 slide the figure
#: is drawn larger and its text reads at the back of a room.
REPORT_PLOT_HEIGHT = 260
REPORT_ERRORS = (SurvivalDataError, CompetingRisksError, CoxFitError, DesignError, ValueError, KeyError)


@dataclass(frozen=True)
class ReportRequest:
    """Which view to report: filters, saved cohorts, the comparison and the options of the pages.

    ``compare`` is a categorical column, ``"age_group"``, ``"saved cohorts"`` or None (all patients).
    ``min_count`` turns disclosure control on (counts below it shown as "<min_count").
    """

    filters: CohortFilter = field(default_factory=CohortFilter)
    saved: tuple[SavedCohort, ...] = ()
    compare: str | None = None
    landmarks: tuple[float, ...] = tuple(LANDMARK_MONTHS)
    conf_type: str = "log-log"
    cox_endpoint: str = "os"
    min_count: int | None = None
    title: str = "Outcomes after a second allogeneic HSCT"


@dataclass(frozen=True, eq=False)
class ReportItem:
    """One slide: a figure or a table, its title, and what it shows in words (the caption's method).

    ``key`` names it on the command line (``python -m analysis figure km-os``).
    """

    key: str
    title: str
    method: str
    figure: go.Figure | None = None
    table: pd.DataFrame | None = None
    note: str = ""


@dataclass(frozen=True, eq=False)
class Report:
    """The figures and tables of a view, with the title block, the methods and the notices."""

    title: str
    caption: FigureCaption
    items: tuple[ReportItem, ...]
    methods: str
    notice: str | None
    problems: tuple[str, ...] = ()

    @property
    def date(self) -> dt.date:
        return self.caption.date

    def title_lines(self) -> list[str]:
        """Date, data source, filters and n of N, saved cohorts: the lines under the title."""
        c = self.caption
        lines = [f"{c.date:%d %B %Y}", f"Data: {c.source}", f"Filters: {c.filters}",
                 f"Patients: {c.n} of {c.n_total}"]
        lines += [f"Saved cohort “{name}”: {definition}" for name, definition in c.saved]
        return lines

    def item(self, key: str) -> ReportItem:
        """The item named ``key``; KeyError lists the names there are."""
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(f"no item {key!r} in this report; there are {', '.join(i.key for i in self.items)}")

    @property
    def figures(self) -> list[ReportItem]:
        return [i for i in self.items if i.figure is not None]

    @property
    def tables(self) -> list[ReportItem]:
        return [i for i in self.items if i.table is not None]


def _comparison(full: pd.DataFrame, cohort: pd.DataFrame, request: ReportRequest) -> Comparison:
    if request.compare == SAVED:
        return compare_saved(full, request.saved)
    return compare_by(cohort, request.compare)


def _survival_items(comparison: Comparison, cohort: pd.DataFrame, request: ReportRequest, endpoint: str,
                    references: list[ReferenceMarker] | None) -> tuple[list[ReportItem], str | None, bool]:
    name = ENDPOINT_NAMES[endpoint]
    result = compare_survival(comparison, endpoint, cohort=None if comparison.by == SAVED else cohort,
                              conf_type=request.conf_type)
    if not result.curves:
        raise SurvivalDataError(f"no group has patients for {name.lower()}")
    test = result.test.method if result.test is not None else None
    method = km_method(request.conf_type, test)
    title = name + ("" if comparison.by is None else f" by {comparison.label.lower()}")
    fig = curve_figure([kaplan_meier_curve(km, group_text(km.label)) for km in result.curves], y_title=name,
                       title=title, subtitle=figure_subtitle(result), reference_markers=references,
                       reference_label="Published (Momm et al.), all patients",
                       legend_title=comparison.label if comparison.by else None, min_count=request.min_count,
                       plot_height=REPORT_PLOT_HEIGHT)
    note = result.note or ""
    items = [
        ReportItem(f"km-{endpoint}", title, method, figure=fig, note=note),
        ReportItem(f"km-{endpoint}-medians", f"Median {name.lower()} and follow-up", "median with 95 % CI as R "
                   "quantile.survfit; follow-up by reverse Kaplan-Meier", table=format_median_table(result)),
        ReportItem(f"km-{endpoint}-landmarks", f"{name} at the landmarks", method,
                   table=km_landmarks(result, request.landmarks)),
    ]
    return items, test, result.pairwise is not None


def _relapse_items(comparison: Comparison, request: ReportRequest) -> tuple[list[ReportItem], bool]:
    result = compare_relapse(comparison)
    figures = relapse_figures(result, min_count=request.min_count, plot_height=REPORT_PLOT_HEIGHT)
    gray = result.tests is not None
    method = cif_method(gray=gray)
    items = [ReportItem(f"cif-{CAUSE_NAMES[cause]}", CAUSE_TITLES[cause], method, figure=figures.figures[cause])
             for cause in (CAUSE_RELAPSE, CAUSE_NRM) if cause in figures.figures]
    items.append(ReportItem("cif-landmarks", "Cumulative incidence at the landmarks", method,
                            table=cif_landmarks(result, request.landmarks)))
    if result.tests is not None:
        items.append(ReportItem("cif-gray", "Gray's test", method, table=format_gray_table(result.tests).round(
            {"χ²": 2, "p": 4})))
    return items, gray


def _forest_item(cohort: pd.DataFrame, request: ReportRequest, published: bool) -> tuple[ReportItem, list[str]]:
    endpoint = request.cox_endpoint
    covariates = default_covariates(endpoint, [c for c in cohort.columns if cohort[c].notna().any()])
    specs = specs_from_options(cohort, covariates, standard_reference=True)
    model = cox_model(cohort, endpoint, specs)
    table = forest_table({"Multivariable": model}, order=covariates)
    markers = None
    if published:
        pub = published_hazard_ratios(load_targets(), endpoint)
        markers = published_rows(table, pub) if len(pub) else None
    fig = forest_figure(table, title=f"{ENDPOINT_NAMES[endpoint]}: Cox model", published=markers,
                        subtitle=f"n = {model.n} patients, {count(model.events, 'event')}", min_count=request.min_count)
    note = "Open red diamonds: the paper's multivariable hazard ratios (whole cohort)." if markers is not None else ""
    return ReportItem("forest", f"Risk factors for {ENDPOINT_NAMES[endpoint].lower()}", cox_method(endpoint),
                      figure=fig, note=note), covariates


def _km_references(endpoint: str, unfiltered_demo: bool, grouped: bool) -> list[ReferenceMarker] | None:
    if not unfiltered_demo or grouped:  # published values describe all patients: beside that curve only
        return None
    targets = load_targets()
    labels = published_km_labels(targets).get(endpoint, {})
    return [ReferenceMarker(t, v, labels[t]) for t, v in sorted(published_survival(targets).get(endpoint, {}).items())]


def build_report(full: pd.DataFrame, request: ReportRequest, *, source: str, synthetic: bool,
                 date: dt.date | None = None) -> Report:
    """The report pack of one view of ``full`` (all patients of the data; the request's filters select).

    Parts that cannot be estimated (e.g. a Cox model without events) are left out and named in
    ``problems``; the rest of the report is still built.
    """
    full = with_age_group(full, request.filters.age_cut)
    cohort = full.loc[filter_mask(full, request.filters)]
    comparison = _comparison(full, cohort, request)
    grouped = comparison.by is not None
    unfiltered_demo = synthetic and not request.filters.restricts
    items: list[ReportItem] = []
    problems: list[str] = []
    endpoints = ["os", "rfs"] if has_overall_survival(full) else ["rfs"]
    test, pairwise = None, False
    for endpoint in endpoints:
        try:
            found, test, pairwise = _survival_items(comparison, cohort, request, endpoint,
                                                    _km_references(endpoint, unfiltered_demo, grouped))
            items += found
        except REPORT_ERRORS as err:
            problems.append(f"{ENDPOINT_NAMES[endpoint]}: {err}")
    gray = False
    try:
        found, gray = _relapse_items(comparison, request)
        items += found
    except REPORT_ERRORS as err:
        problems.append(f"Cumulative incidence: {err}")
    covariates: list[str] = []
    cox_endpoint = request.cox_endpoint if request.cox_endpoint in endpoints else endpoints[0]
    request = replace(request, cox_endpoint=cox_endpoint)
    try:
        item, covariates = _forest_item(cohort, request, unfiltered_demo)
        items.append(item)
    except REPORT_ERRORS as err:
        problems.append(f"Cox model: {err}")
    items = [replace(i, table=mask_small_counts(i.table, request.min_count)) if i.table is not None else i
             for i in items]
    caption = FigureCaption(
        source=source, synthetic=synthetic, filters=request.filters.describe(), n=len(cohort), n_total=len(full),
        saved=tuple((s.name, s.filters.describe()) for s in request.saved) if comparison.by == SAVED else (),
        min_count=request.min_count, date=date or dt.date.today())
    used = MethodsUsed(endpoints=tuple(endpoints), conf_type=request.conf_type, test=test, grouped=grouped,
                       gray=gray, cox_endpoint=cox_endpoint if covariates else None,
                       cox_covariates=tuple(label(c) for c in covariates),
                       landmarks=request.landmarks, pairwise=pairwise)
    return Report(title=request.title, caption=caption, items=tuple(items), methods=methods_paragraph(used),
                  notice=SYNTHETIC_NOTICE if synthetic else None, problems=tuple(problems))

