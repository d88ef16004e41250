"""What the dashboard keeps between reruns, and for whom.

* :func:`published_targets`: the paper's figures, a public static file, read
  once per process and shared between users (the only shared cache);
* :func:`session_memo`: this session's recent results, in ``st.session_state``
  only, dropped whenever the active data change (an upload's results never
  reach a cache other users can read).

A session-scoped ``st.cache_data`` would copy (pickle) every result on every
hit; fits of 100,000 patients are read many times per rerun, so the memo keeps
the objects themselves (they are frozen dataclasses). A computation that takes
longer than half a second shows a spinner saying what it does (:data:`PROGRESS`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from analysis.cohort.published import load_targets
from analysis.stats.cox.fit import compile_kernels
from ui.state import _MEMO

T = TypeVar("T")


@st.cache_data(show_spinner=False)
def published_targets() -> dict:
    """The paper's published figures (``data/published_targets.json``), read once per process.

    Shared between users: a public static file, not data of any session. Pass
    the dict to the analysis accessors (:mod:`analysis.cohort.published`); callers get
    a copy each time (``st.cache_data``), so they cannot alter the cached one.
    """
    return load_targets()


#: What a computation is doing, shown (with the elapsed time) when it takes longer than half a second.
PROGRESS = {
    "overview.headline": "Estimating overall and relapse-free survival…",
    "overview.table_one": "Counting the patient characteristics…",
    "survival": "Estimating the survival curves and tests…",
    "relapse": "Estimating the cumulative incidences and Gray's tests…",
    "risk_factors": "Fitting the Cox model and checking proportional hazards…",
    "risk_factors.subgroups": "Fitting the model within each subgroup…",
}


_KERNELS: list[threading.Thread] = []
_KERNELS_LOCK = threading.Lock()


def compiled_kernels() -> None:
    """Once per server process, in the background: compile (or load from numba's cache) the compiled kernels
    of the Cox fit, so that no user waits for it on a first model. Holds nothing of any session."""
    with _KERNELS_LOCK:
        if not _KERNELS:
            _KERNELS.append(threading.Thread(target=compile_kernels, name="compile-kernels", daemon=True))
            _KERNELS[0].start()


def session_memo(name: str, key: tuple, build: Callable[[], T], size: int = 8) -> T:
    """This session's last ``size`` results of ``build`` under ``name``, by ``key``.

    A filter toggled back and forth is not recomputed. ``key`` must hold
    everything the result depends on besides the active data (filters, saved
    cohorts, controls) and be hashable. Kept in ``st.session_state`` (this
    user's session only), never in a cache shared between users, since the data
    may be an upload; dropped whenever the active data change.
    """
    store: dict[tuple, Any] = st.session_state.setdefault(_MEMO, {}).setdefault(name, {})
    if key not in store:
        if len(store) >= size:
            store.pop(next(iter(store)))  # the oldest
        # st.spinner appears only once the work has taken half a second (DELAY_SECS): no flicker on the demo
        with st.spinner(PROGRESS.get(name, "Computing…"), show_time=True):
            store[key] = build()
    return store[key]
