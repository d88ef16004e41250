"""HSCT2 Explorer: survival after a second allogeneic stem cell transplant, computed as R does.

The library behind the dashboard and the ``hsct2`` command line. A DataFrame and
column names go in; results come back as objects with tidy ``summary`` tables,
as in lifelines::

    >>> from analysis import load_demo_cohort, fit_kaplan_meier, fit_cox
    >>> cohort = load_demo_cohort()                     # synthetic, calibrated to Momm et al.
    >>> km = fit_kaplan_meier(cohort, duration_col="followup_months", event_col="death")
    >>> km.survival_at([12, 24, 60])                    # R summary(survfit(...), times = ...)
    >>> fit_cox(cohort, duration_col="followup_months", event_col="death",
    ...         covariates=["age_years", "sex", "lineage"]).summary

The page-level analyses take a cohort and a comparison, exactly as the pages do::

    >>> from analysis import apply_filter, compare_by, compare_survival, filter_from_query
    >>> t_all = apply_filter(cohort, filter_from_query("lineage=T-ALL", cohort))
    >>> compare_survival(compare_by(t_all, "atg"), "os").summary

Layers (imports point down only): :mod:`analysis.text` and the estimators in
:mod:`analysis.stats` at the bottom, then the cohort model
(:mod:`analysis.cohort`), reading user files (:mod:`analysis.ingest`), the
page-level analyses (:mod:`analysis.analyses`), figures
(:mod:`analysis.figures`), and the command line (:mod:`analysis.cli`).
"""

from analysis._version import __version__
from analysis.analyses.headline import headline_table
from analysis.analyses.models import covariate_spec, cox_model, specs_from_options
from analysis.analyses.patient_like_me import fit_prediction_models, predict_patient
from analysis.analyses.relapse import compare_relapse, patient_states
from analysis.analyses.risk_factors import analyse_risk_factors, subgroup_effects
from analysis.analyses.survival import compare_survival
from analysis.analyses.validation import validate_models
from analysis.cohort.filters import CohortFilter, SavedCohort, apply_filter, filter_from_query
from analysis.cohort.grouping import compare_by, compare_saved
from analysis.cohort.model import CohortError, as_cohort, cohort_problems, endpoint, load_demo_cohort
from analysis.cohort.summary import cohort_summary, table_one
from analysis.figures.cif import cif_figure, relapse_figures
from analysis.figures.curves import curve_figure, kaplan_meier_curve
from analysis.figures.export import figure_image
from analysis.figures.forest import forest_figure, forest_table
from analysis.figures.prediction import incidence_figure, prediction_figure
from analysis.figures.validation import calibration_figure
from analysis.ingest.loading import read_data_file, read_data_path
from analysis.ingest.mapping import ColumnMapping, apply_mapping
from analysis.ingest.options import load_cohort_for_cli as load_cohort
from analysis.ingest.proposal import propose_mapping
from analysis.ingest.validation import check_upload
from analysis.reports.caption import FigureCaption, with_caption
from analysis.reports.html import report_html
from analysis.reports.methods import methods_paragraph
from analysis.reports.pack import ReportRequest, build_report
from analysis.reports.pptx import report_pptx
from analysis.stats.competing_risks import cumulative_incidence, gray_test
from analysis.stats.cox.cause_specific import predict_cumulative_incidence
from analysis.stats.cox.concordance import concordance
from analysis.stats.cox.design import CovariateSpec
from analysis.stats.cox.diagnostics import cox_zph
from analysis.stats.cox.fit import CoxFitError, fit_cox
from analysis.stats.cox.predict import predict_survival
from analysis.stats.cross_validation import cross_validate
from analysis.stats.kaplan_meier import SurvivalDataError, fit_kaplan_meier, median_followup
from analysis.stats.logrank import logrank_test, logrank_trend_test, pairwise_logrank
from analysis.stats.prediction_metrics import brier_scores, integrated_brier_score, time_dependent_auc, uno_concordance

__all__ = [
    "CohortError", "CohortFilter", "ColumnMapping", "CovariateSpec", "CoxFitError", "FigureCaption",
    "ReportRequest", "SavedCohort", "SurvivalDataError", "__version__", "analyse_risk_factors", "apply_filter",
    "apply_mapping", "as_cohort", "build_report", "check_upload", "cif_figure", "cohort_problems", "cohort_summary",
    "compare_by", "compare_relapse", "compare_saved", "compare_survival", "concordance", "covariate_spec",
    "cox_model", "cox_zph", "cumulative_incidence", "curve_figure", "endpoint", "figure_image", "filter_from_query",
    "fit_cox", "fit_kaplan_meier", "forest_figure", "forest_table", "gray_test", "headline_table",
    "kaplan_meier_curve", "load_cohort", "load_demo_cohort", "logrank_test", "logrank_trend_test",
    "median_followup", "methods_paragraph", "pairwise_logrank", "patient_states", "propose_mapping",
    "read_data_file", "read_data_path", "relapse_figures", "report_html", "report_pptx", "specs_from_options",
    "subgroup_effects", "table_one", "with_caption",
]
__all__ += [  # Patient like me and model validation
    "brier_scores", "calibration_figure", "cross_validate", "fit_prediction_models", "incidence_figure",
    "integrated_brier_score", "predict_cumulative_incidence", "predict_patient", "predict_survival",
    "prediction_figure", "time_dependent_auc", "uno_concordance", "validate_models",
]
