"""Model validation: the Cox model against a random survival forest and a covariate-free model, cross-validated."""

from __future__ import annotations

import streamlit as st

from analysis.analyses.validation import VALIDATION_ENDPOINTS, ValidationError, validate_models
from analysis.figures.validation import calibration_figure
from analysis.stats.cox.design import DesignError
from analysis.text import count, escape_markdown
from ui.controls import stop_if_empty
from ui.figures import show_figure
from ui.links import persist
from ui.model_controls import covariate_control, covariate_specs, endpoint_control, model_endpoints
from ui.state import get_view
from ui.validation_run import kept_result, run_with_progress, stopped_run

PAGE = "model_validation"
FOLDS = [3, 5, 10]

view = get_view()
st.title("Model validation")
st.caption(
    "How well would the Cox model predict for new patients? Repeated k-fold cross-validation compares it with a "
    "random survival forest on the same covariates and with a model without covariates (Kaplan-Meier for "
    "everyone). Apparent: fitted and scored on all patients; optimism-corrected: apparent minus the mean "
    "(training − test) difference over the folds (Harrell). Censoring weights as R `riskRegression::Score`."
)
stop_if_empty(view)

endpoints = [e for e in model_endpoints(view) if e in VALIDATION_ENDPOINTS]
top = st.columns([1, 3])
with top[0]:
    ep = endpoint_control(view, PAGE, endpoints)
with top[1]:
    chosen = covariate_control(view, PAGE, ep)
with st.expander("Reference levels and numeric covariates", expanded=False):
    specs = covariate_specs(view, PAGE, chosen)
settings = st.columns(3)
with settings[0]:
    persist(f"{PAGE}.folds", 5, FOLDS)
    folds = st.selectbox("Folds", FOLDS, key=f"{PAGE}.folds")
with settings[1]:
    persist(f"{PAGE}.repeats", 10, list(range(1, 51)))
    repeats = st.number_input("Repeats", min_value=1, max_value=50, step=1, key=f"{PAGE}.repeats")
with settings[2]:
    persist(f"{PAGE}.seed", 1, list(range(0, 100_000)))
    seed = st.number_input("Seed", min_value=0, max_value=99_999, step=1, key=f"{PAGE}.seed",
                           help="Fixes the folds and the forest: the same seed gives the same numbers.")

key = (view.filters, ep, tuple(specs), folds, int(repeats), int(seed))
result = kept_result(key)
stopped = stopped_run()
if stopped is not None and result is None:
    st.warning(f"The cross-validation was stopped after {stopped[0]} of {stopped[1]} fits (Stop, or a control "
               "changed while it ran). Press **Run cross-validation** to start it again.")
if result is None:
    start = st.empty()
    with start.container():
        st.caption(f"{3 * (folds * int(repeats) + 1)} model fits on {count(view.n, 'patient')}. Relapse and NRM "
                   "are not validated here: with a competing event, 1 − Kaplan-Meier is not a patient's risk.")
        run = st.button("Run cross-validation", type="primary", key=f"{PAGE}.run")
    if run:
        start.empty()
        try:
            result = run_with_progress(key, lambda progress: validate_models(
                view.cohort, ep, specs, folds=folds, repeats=int(repeats), seed=int(seed), progress=progress), PAGE)
        except (ValidationError, DesignError, ValueError) as err:
            st.warning(escape_markdown(f"The models cannot be cross-validated: {err}"))
if result is None:
    st.stop()

st.success(f"{result.n} patients, {result.events} events; {folds} folds × {result.design.repeats} repeats, "
           f"seed {result.design.seed} (kept for this cohort and these settings in your session).",
           icon=":material/check_circle:")
for note in result.notes:
    st.info(escape_markdown(note))

table, side = result.table(), result.side_by_side()
st.subheader("Discrimination and accuracy")
st.dataframe(side, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.3f") for c in side.columns if c != "Metric"})
st.caption("Corrected: optimism-corrected. Forest: random survival forest; no covariates: Kaplan-Meier for "
           "everyone. C and AUC: 0.5 is chance, 1 a perfect ordering of risks. Integrated Brier score: lower is "
           f"better; the model without covariates is the reference. τ = {result.design.horizon:.1f} months "
           "(5 years, or earlier where fewer than 20 % of the patients are still followed).")
with st.expander("Every number: training, test, optimism, folds that gave a score"):
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.4f")
                                for c in ("Apparent", "Optimism", "Optimism-corrected", "Cross-validated")})

st.subheader("Calibration")
show_figure(calibration_figure(result), key="validation_calibration")
