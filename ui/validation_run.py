"""Running a cross-validation from a page: a progress bar, a Stop button, results kept for this session.

A run takes seconds to minutes, so it starts only when asked (the Run
button). Any interaction while it runs (the Stop button, or any other
control) makes Streamlit rerun the page, which stops the running script at
its next Streamlit call: the progress bar's update between two fits. The run
records how far it got in ``st.session_state``; the next run of the page finds
that record without a result and says the cross-validation was stopped.
Finished results are kept by :func:`ui.cache.session_memo` (this session only,
dropped when the data change), keyed by the cohort's filters and every setting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from ui.cache import session_memo
from ui.state import _MEMO

T = TypeVar("T")
MEMO = "model_validation"
_RUNNING = "_validation_running"


def kept_result(key: tuple) -> Any:
    """This session's finished result for ``key``, if any (without computing it)."""
    return st.session_state.get(_MEMO, {}).get(MEMO, {}).get(key)


def stopped_run() -> tuple[int, int] | None:
    """(fits done, fits in all) of a run that was stopped before it finished; forgotten once reported."""
    record = st.session_state.pop(_RUNNING, None)
    return None if record is None else (record["done"], record["total"])


def run_with_progress(key: tuple, build: Callable[[Callable[[int, int], None]], T], page: str) -> T:
    """``build(progress)`` under a progress bar with a Stop button; the result is kept for ``key``."""
    record = st.session_state[_RUNNING] = {"done": 0, "total": 0}
    holder = st.empty()
    with holder.container():
        stop_column, bar_column = st.columns([1, 6], vertical_alignment="center")
        with stop_column:
            st.button("Stop", key=f"{page}.stop", icon=":material/stop_circle:",
                      help="Stops the cross-validation after the fit that is running.")
        with bar_column:
            bar = st.progress(0.0, text="Starting the cross-validation …")

    def progress(done: int, total: int) -> None:
        record.update(done=done, total=total)
        bar.progress(done / total, text=f"Fit {done} of {total}")  # a Stop click ends the run here

    result = session_memo(MEMO, key, lambda: build(progress), size=4)
    st.session_state.pop(_RUNNING, None)
    holder.empty()
    return result
