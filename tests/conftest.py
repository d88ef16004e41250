"""Shared test fixtures: the demo cohort and a way to open the app on a page."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from hypothesis import settings
from streamlit.testing.v1 import AppTest

from analysis.cohort.model import load_demo_cohort
from tests.apptest_support import open_app as _open_app
from tests.apptest_support import pin_navigation_pages

# The property tests explore the same examples on every run and machine: a suite that cannot flake.
# (Explore further with: pytest --hypothesis-profile=explore.)
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("deterministic")


@pytest.fixture(scope="session", autouse=True)
def _navigation_pages_only():
    pin_navigation_pages()


@pytest.fixture(scope="session")
def demo_cohort() -> pd.DataFrame:
    return load_demo_cohort()


@pytest.fixture
def open_app() -> Callable[..., AppTest]:
    """``open_app("survival", query={"lineage": "T-ALL"})``: the app, run, on that page.

    ``session={...}`` presets session state before the first run.
    """
    return _open_app
