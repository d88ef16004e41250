"""HSCT2 Explorer: the frame.

Navigation, the data source, the shared sidebar filters and the share link
live here once (their widgets in :mod:`ui.sidebar`); the pages in ``pages/``
read the resulting view (:func:`ui.state.get_view`) and render.

Adding a page is one file in ``pages/`` and one ``st.Page`` line in ``PAGES``.

Run with ``streamlit run dashboard.py``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.cohort.filters import filter_mask
from analysis.cohort.model import load_demo_cohort
from ui.auth import signed_in_or_open
from ui.cache import compiled_kernels
from ui.report import report_buttons
from ui.sidebar import DEMO_NAME, banner, labelled, options, read_link_once, sidebar, write_link
from ui.state import DataSource, View, active_data, serve_default_page_by_name, set_view
from ui.view_options import disclosure_notice, link_extras, restore_options, upload_link_notice, view_toggles

st.set_page_config(page_title="HSCT2 Explorer", page_icon=":material/monitoring:", layout="wide")


@st.cache_data(show_spinner=False)
def _demo_cohort() -> pd.DataFrame:
    # Only the public, synthetic demo cohort is cached (shared between users);
    # uploaded data never pass through a cache.
    return load_demo_cohort()


def _active() -> tuple[pd.DataFrame, DataSource]:
    uploaded = active_data()
    if uploaded is not None:
        return uploaded.cohort, uploaded.source
    return _demo_cohort(), DataSource(DEMO_NAME, is_demo=True)


DEFAULT_PATH = "overview"
PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", url_path=DEFAULT_PATH, default=True),
    st.Page("pages/survival.py", title="Survival", icon=":material/monitoring:", url_path="survival"),
    st.Page("pages/survival_summaries.py", title="RMST & conditional", icon=":material/timer:",
            url_path="survival_summaries"),
    st.Page("pages/relapse.py", title="Relapse", icon=":material/replay:", url_path="relapse"),
    st.Page("pages/relapse_models.py", title="Relapse models", icon=":material/call_split:", url_path="relapse_models"),
    st.Page("pages/gvhd.py", title="GVHD & DLI", icon=":material/healing:", url_path="gvhd"),
    st.Page("pages/risk_factors.py", title="Risk factors", icon=":material/forest:", url_path="risk_factors"),
    st.Page("pages/patient_like_me.py", title="Patient like me", icon=":material/person:", url_path="patient_like_me"),
    st.Page("pages/model_validation.py", title="Model validation", icon=":material/rule:", url_path="model_validation"),
    st.Page("pages/data.py", title="Data", icon=":material/upload_file:", url_path="data"),
]


def main() -> None:
    compiled_kernels()  # started once per process, in the background
    serve_default_page_by_name(DEFAULT_PATH)
    page = st.navigation(PAGES)
    if not signed_in_or_open():
        return
    full, source = _active()
    opts = options(full)
    if read_link_once(full, opts):
        upload_link_notice(source.is_demo)
    restore_options()
    flt, saved, count = sidebar(opts)
    full = labelled(full, flt.age_cut)
    cohort = full.loc[filter_mask(full, flt)]
    count.metric("Patients", f"{len(cohort)} of {len(full)}", help="Patients passing the filters, of all patients.")
    view = View(full=full, cohort=cohort, filters=flt, source=source, saved=tuple(saved))
    set_view(view)
    # url_path is "" for the default page; controls keep its name
    write_link(flt, saved, page._url_path, extra=link_extras(view))
    report_buttons(view, page._url_path)
    view_toggles()
    banner(view)
    disclosure_notice(view)
    page.run()


main()
