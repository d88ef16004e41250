"""How the view is shown and shared: presentation mode, captions, disclosure control, the data notice.

All of them travel in the share link as ``view.*`` keys, on every page:

* ``view.present``: presentation mode, one toggle for a projector: large type and lines, the sidebar and
  the page controls hidden, captions on;
* ``view.captions``: the caption (data, filters, n of N, method, date) under every figure and table;
* ``view.disclosure`` / ``view.min_count``: for uploaded data, counts from 1 to ``min_count − 1`` show as
  "<min_count" everywhere (tables, numbers at risk, legends, hover labels, exports) and censoring marks
  carry no hover; on by default with 5, set on the Data page;
* ``view.data=upload``: the link was made on uploaded data, which a link never carries; opened where the
  demo cohort is active, the page says so.

Page controls a presentation hides sit in :func:`page_controls` blocks.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analysis.text import disclosure_rule
from ui.links import add_notice, persist
from ui.state import View

PRESENT = "view.present"
CAPTIONS = "view.captions"
DISCLOSURE = "view.disclosure"
MIN_COUNT = "view.min_count"
DATA = "view.data"
UPLOADED = "upload"
DEFAULT_MIN_COUNT = 5
MIN_COUNT_CHOICES = list(range(2, 21))
_CONTROLS_CLASS = "page-controls"

UPLOAD_LINK_NOTICE = (
    "This link was made on uploaded data. A link never carries patient data, so you are looking at the "
    "synthetic demo cohort with the link's settings. To see the shared view, upload the same file on the Data page "
    "(the filters, cohorts and controls of the link apply to it)."
)

_PRESENTATION_CSS = f"""
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[class*="st-key-{_CONTROLS_CLASS}"] {{ display: none !important; }}
[data-testid="stMain"] {{ font-size: 1.3rem; }}
[data-testid="stMain"] h1 {{ font-size: 3rem; }}
[data-testid="stMain"] [data-testid="stCaptionContainer"] {{ font-size: 1.05rem; }}
[data-testid="stMain"] table {{ font-size: 1.25rem; }}
</style>
"""


def presentation_on() -> bool:
    return bool(st.session_state.get(PRESENT, False))


def captions_on() -> bool:
    """Captions show in presentation mode, and elsewhere when asked for."""
    return presentation_on() or bool(st.session_state.get(CAPTIONS, False))


def min_count(view: View) -> int | None:
    """The disclosure threshold in force: None for the synthetic demo cohort or when switched off."""
    if view.source.is_demo or not st.session_state.get(DISCLOSURE, True):
        return None
    return int(st.session_state.get(MIN_COUNT, DEFAULT_MIN_COUNT))


def restore_options() -> None:
    """Read the view options from the link (or this session) before any page runs."""
    persist(PRESENT, False)
    persist(CAPTIONS, False)
    persist(DISCLOSURE, True)
    persist(MIN_COUNT, DEFAULT_MIN_COUNT, MIN_COUNT_CHOICES)


def view_toggles() -> None:
    """The presentation and caption toggles, at the top of every page (the sidebar hides in presentation)."""
    _, caps, present = st.columns([5, 1.4, 2.2])
    caps.toggle("Captions", key=CAPTIONS, disabled=presentation_on(),
                help="Under every figure and table: data, filters, n of N, method, date and version.")
    present.toggle("Presentation mode", key=PRESENT,
                   help="For a projector: large type and lines, sidebar and controls hidden, captions on. "
                        "It travels in the share link.")
    if presentation_on():
        st.html(_PRESENTATION_CSS)


def page_controls(name: str) -> DeltaGenerator:
    """A block for a page's controls, hidden in presentation mode (the controls keep their values).

    ``with page_controls("survival"): ...``.
    """
    return st.container(key=f"{_CONTROLS_CLASS}-{name}")


def disclosure_settings(view: View) -> None:
    """The Data page's disclosure control: on/off and the threshold, for uploaded data."""
    st.subheader("Sharing and disclosure control")
    if view.source.is_demo:
        st.caption("The demo cohort is synthetic: every count is shown. For uploaded data, counts below a threshold "
                   "are hidden by default; the setting appears here once your data are active.")
        return
    st.checkbox("Hide small counts (disclosure control)", key=DISCLOSURE,
                help="Before a view of patient data is shown on a screen, a slide or a shared file.")
    st.selectbox("Smallest count shown", MIN_COUNT_CHOICES, key=MIN_COUNT, disabled=not st.session_state[DISCLOSURE])
    st.caption(disclosure_rule(min_count(view)))


def disclosure_notice(view: View) -> None:
    """State the rule in force on the page (uploaded data only)."""
    if not view.source.is_demo:
        threshold = min_count(view)
        st.caption(disclosure_rule(threshold) + ("" if threshold else " Switch it on on the Data page."))


def link_extras(view: View) -> dict[str, list[str]]:
    """The ``view.*`` keys to keep in the share link, plus the uploaded-data marker."""
    kept = {k: st.query_params.get_all(k) for k in st.query_params if k.startswith("view.") and k != DATA}
    if not view.source.is_demo:
        kept[DATA] = [UPLOADED]
    return kept


def upload_link_notice(is_demo: bool) -> None:
    """A link made on uploaded data, opened on the demo cohort: say that the data are not included."""
    if is_demo and st.query_params.get(DATA) == UPLOADED:
        add_notice(UPLOAD_LINK_NOTICE)
