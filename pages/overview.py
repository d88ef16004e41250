"""Overview: who is in the filtered cohort, and the headline OS and RFS."""

from __future__ import annotations

import streamlit as st

from analysis.analyses.headline import headline_table
from analysis.cohort.model import categorical_covariates, label
from analysis.cohort.summary import table_one
from ui.cache import published_targets, session_memo
from ui.controls import stop_if_empty
from ui.figures import figure_caption, show_table
from ui.links import persist
from ui.state import get_view
from ui.view_options import page_controls

view = get_view()
st.title("HSCT2 Explorer")
st.caption(
    "Survival and relapse after a second allogeneic stem cell transplant (HSCT2) in children with acute "
    "lymphoblastic leukemia. Time zero is the day of HSCT2."
)
stop_if_empty(view)

st.subheader(f"Cohort: {view.n} of {view.n_total} patients")
st.caption(f"Filters: {view.filters.describe()}")

st.markdown("#### Headline survival")
headline = session_memo("overview.headline", (view.filters, view.is_unfiltered_demo),
                        lambda: headline_table(view.cohort, published=view.is_unfiltered_demo,
                                               targets=published_targets()))
show_table(headline.table, "overview_headline", view, figure_caption(view, headline.caption))
st.caption(headline.caption)

st.markdown("#### Patient characteristics")
choices = ["none", *[c for c in categorical_covariates(view.cohort) if view.cohort[c].nunique() > 1]]
persist("overview.split", "none", choices)
with page_controls("overview"):
    split = st.selectbox("Split Table 1 by", choices, key="overview.split",
                         format_func=lambda c: "No split" if c == "none" else label(c))
table = session_memo("overview.table_one", (view.filters, split),
                     lambda: table_one(view.cohort, None if split == "none" else split))
show_table(table, "overview_table_one", view, figure_caption(view, "Table 1: median (IQR) and n (%)"),
           height=min(38 * 40, 35 * (len(view.cohort.columns) * 3 + 6)))
