"""Relapse: cumulative incidence of relapse and NRM with Gray's test, patient states, relapse timing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.cif_figure import CAUSE_TITLES, cif_figure, gray_caption, states_figure
from analysis.cohort import CAUSE_NRM, CAUSE_RELAPSE
from analysis.competing_risks import CompetingRisksError, cif_by_group, cif_notes, gray_tests, landmark_table
from analysis.grouping import ALL
from analysis.patient_states import patient_states
from analysis.relapse_timing import (
    BIN_WIDTHS,
    HSCT1_TO_RELAPSE,
    MODES,
    PUBLISHED_MEDIAN_MONTHS,
    SCALES,
    TimingError,
    timing_figure,
    timing_histogram,
)
from pages._context import compare_control, data_generation, get_view, persist, stop_if_empty

LANDMARKS = ["3", "6", "12", "18", "24", "36", "48", "60", "120"]
CAUSE_SHORT = {CAUSE_RELAPSE: "Relapse (CIR)", CAUSE_NRM: "NRM"}

view = get_view()
st.title("Relapse and non-relapse mortality")
st.caption(
    "Relapse after HSCT2 and death without relapse compete: a patient who dies first can no longer relapse. "
    "Both are estimated as cumulative incidence (Aalen-Johansen), never as 1 − Kaplan-Meier, so that "
    "relapse-free survival + relapse incidence + NRM = 100 % at every time."
)
stop_if_empty(view)

left, right = st.columns([2, 3])
with left:
    comparison = compare_control(view, "relapse")
with right:
    persist("relapse.times", ["12", "24", "60"], LANDMARKS)
    chosen = st.multiselect("Landmarks for the table (months)", LANDMARKS, key="relapse.times",
                            help="Cumulative incidence with 95 % CI at these times after HSCT2.")
times = sorted(float(t) for t in chosen) or [12.0, 24.0, 60.0]

groups = [g for g, rows in comparison.groups() if len(rows)]
for g in comparison.order:
    if g not in groups:
        st.info(f"{g}: no patients, left out.")


def _estimate() -> dict:
    """Everything that depends only on the data, the filters and the comparison."""
    fits = cif_by_group(comparison.frame, groups)
    tests = gray_tests(comparison.frame, overlapping=comparison.overlapping) if len(groups) > 1 else None
    legend = comparison.label if comparison.by else None
    figures, problems = {}, {}
    for cause in (CAUSE_RELAPSE, CAUSE_NRM):
        test = None if tests is None else tests.set_index("cause").loc[cause]
        try:
            figures[cause] = cif_figure(fits, cause, legend_title=legend, subtitle=gray_caption(test))
        except CompetingRisksError as err:
            problems[cause] = str(err)
    states = [patient_states(rows, label=g) for g, rows in comparison.groups() if len(rows)]
    return {"fits": fits, "tests": tests, "figures": figures, "problems": problems, "states": states,
            "states_figure": states_figure(states)}


def _memo(key: tuple, build):
    """This session's last few results: a filter toggled back and forth is not recomputed.

    Kept in ``st.session_state`` (this user's session only), never in a cache
    shared between users, since the data may be an upload.
    """
    store = st.session_state.setdefault("_relapse_memo", {})
    if key not in store:
        if len(store) >= 8:
            store.pop(next(iter(store)))
        store[key] = build()
    return store[key]


try:
    result = _memo((data_generation(), view.source, view.filters, view.saved,
                    st.session_state.get("relapse.compare")), _estimate)
except CompetingRisksError as err:
    st.warning(f"Cumulative incidence cannot be estimated: {err}.")
    st.stop()
fits, tests = result["fits"], result["tests"]

st.subheader("Cumulative incidence of relapse and of non-relapse mortality")
for note in cif_notes(fits):
    st.info(note)
for tab, cause in zip(st.tabs([CAUSE_TITLES[c] for c in (CAUSE_RELAPSE, CAUSE_NRM)]),
                      (CAUSE_RELAPSE, CAUSE_NRM), strict=True):
    with tab:
        if cause in result["problems"]:
            st.info(result["problems"][cause].capitalize() + ".")
        else:
            st.plotly_chart(result["figures"][cause], width="stretch", theme=None, key=f"relapse_cif_{cause}")

if tests is not None:
    st.markdown("**Gray's test** (do the groups' cumulative incidences differ?)")
    shown = tests.assign(cause=tests["cause"].map(CAUSE_SHORT))
    st.dataframe(shown.rename(columns={"cause": "Cause", "statistic": "χ²", "df": "df", "p": "p",
                                       "note": "Note"}),
                 hide_index=True, width="stretch",
                 column_config={"χ²": st.column_config.NumberColumn(format="%.2f"),
                                "p": st.column_config.NumberColumn(format="%.4f")})
    if comparison.overlapping:
        st.warning("The saved cohorts share patients, so Gray's test (which assumes independent groups) "
                   "is not reported. The curves are still valid descriptions of each cohort.")

st.markdown("**At the landmarks**: cumulative incidence (95 % CI on the log(−log) scale, variance as R "
            "`cmprsk::timepoints`) and patients still at risk")
table = landmark_table(fits, times)


def _ci_text(row: pd.Series) -> str:
    if pd.isna(row["cif"]):
        return "beyond follow-up"
    return (f"{100 * row['cif']:.1f} % ({100 * row['lower']:.1f}–{100 * row['upper']:.1f}), "
            f"{row['n_at_risk']} at risk")


table["cell"] = table.apply(_ci_text, axis=1)
table["month"] = table["time"].map(lambda t: f"{t:g} months")
landmarks = table.pivot(index=["group", "n", "cause", "events"], columns="month", values="cell")
landmarks = landmarks[[f"{t:g} months" for t in times]].reset_index()
landmarks.columns.name = None
landmarks["group"] = pd.Categorical(landmarks["group"], categories=list(fits), ordered=True)
landmarks = landmarks.sort_values(["group", "cause"])
landmarks["group"] = landmarks["group"].astype(str).replace({ALL: "All patients"})
landmarks["cause"] = landmarks["cause"].map(CAUSE_SHORT)
landmarks = landmarks.rename(columns={"group": "Group", "cause": "Cause", "events": "Events"})
st.dataframe(landmarks, hide_index=True, width="stretch")

# ------------------------------------------------------------------ patient states
st.subheader("Where are the patients now?")
states = result["states"]
st.plotly_chart(result["states_figure"], width="stretch", theme=None, key="relapse_states")
if not all(s.split_available for s in states):
    st.info("These data carry one time and a cause code: whether a patient is alive after a relapse is unknown, "
            "so the split into alive / dead after relapse is unavailable and shown as one band, “relapsed”.")
clipped = any(bool(s.table["clipped"].any()) for s in states)
with st.expander("How the four bands are estimated", expanded=False):
    st.markdown(
        "* **Alive, relapse-free** = 1 − CIR − NRM (equals the relapse-free survival Kaplan-Meier estimate).\n"
        "* **Dead without relapse** = NRM (cumulative incidence, Aalen-Johansen).\n"
        "* **Dead after relapse** = (1 − OS) − NRM: all deaths (1 − overall survival, Kaplan-Meier) minus "
        "those without relapse.\n"
        "* **Alive after relapse** = CIR − dead after relapse.\n\n"
        "The four bands therefore add up to 100 % at every time. The last two are differences between "
        "estimates from different estimators; where sampling noise pushes them outside [0, CIR] they are "
        "clipped to that range (a stacked-probability, Pepe-type construction)."
        + (" Clipping was needed somewhere in this view." if clipped else " No clipping was needed here.")
    )

# ------------------------------------------------------------------ timing
st.subheader("When do relapses happen?")
c1, c2, c3 = st.columns(3)
with c1:
    persist("relapse.bin", 1, [1, 2, 3])
    bin_width = st.radio("Bin width (months)", [int(b) for b in BIN_WIDTHS], key="relapse.bin", horizontal=True)
with c2:
    persist("relapse.mode", "overlay", list(MODES))
    mode = st.radio("Groups", list(MODES), key="relapse.mode", horizontal=True,
                    format_func={"overlay": "Overlaid", "stack": "Stacked"}.get)
with c3:
    persist("relapse.scale", "count", list(SCALES))
    scale = st.radio("Bars show", list(SCALES), key="relapse.scale", horizontal=True,
                     format_func={"count": "Patients", "percent": "% of the group"}.get)

reference = PUBLISHED_MEDIAN_MONTHS if view.is_unfiltered_demo else None
try:
    hist = timing_histogram(comparison.frame, order=groups, bin_width=bin_width)
except TimingError as err:
    st.info(str(err)[0].upper() + str(err)[1:] + ".")
else:
    for note in hist.notes:
        st.info(note)
    st.plotly_chart(timing_figure(hist, mode=mode, scale=scale, reference=reference), width="stretch",
                    theme=None, key="relapse_timing")
    st.caption(
        "Among patients who relapsed after HSCT2; dashed lines mark each group's median (the plain median of "
        "the observed times, descriptive only: how many relapse is the cumulative incidence above)."
        + (f" Dotted line: the published median of {PUBLISHED_MEDIAN_MONTHS:g} months (Momm et al.)."
           if reference else "")
    )

if "months_hsct1_to_relapse" in view.full:
    st.markdown("**Time from HSCT1 to the relapse that led to HSCT2**")
    try:
        hist1 = timing_histogram(comparison.frame, interval=HSCT1_TO_RELAPSE, order=groups,
                                 bin_width=bin_width)
    except TimingError as err:
        st.info(str(err)[0].upper() + str(err)[1:] + ".")
    else:
        st.plotly_chart(timing_figure(hist1, mode=mode, scale=scale), width="stretch", theme=None,
                        key="relapse_timing_hsct1")
        st.caption("Shaded: relapse within 6 months of HSCT1 (early relapse), a known risk factor for HSCT2.")
