"""Shared test fixtures: the demo cohort and a way to open the app on a page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from analysis.cohort import load_demo_cohort

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard.py"


@pytest.fixture(scope="session", autouse=True)
def _navigation_pages_only():
    """Run the app as a server does: ``st.navigation`` decides the pages.

    A live server stops treating ``pages/`` as legacy auto-discovered pages once
    ``st.navigation`` is called; AppTest re-detects the folder before every run
    and would then run a page without its frame. Pin the server's behaviour.
    """
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    yield
    PagesManager.__init__ = original


@pytest.fixture(scope="session")
def demo_cohort() -> pd.DataFrame:
    return load_demo_cohort()


def _open(page: str | None = None, query: dict[str, str | list[str]] | None = None,
          timeout: float = 60) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py")
        at.run()
    return at


@pytest.fixture
def open_app() -> Callable[..., AppTest]:
    """``open_app("survival", query={"lineage": "T-ALL"})``: the app, run, on that page."""
    return _open
