"""Opening the app with AppTest, shared by the page tests and the benchmarks."""

from __future__ import annotations

from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard.py"


def pin_navigation_pages() -> None:
    """Run the app as a server does: ``st.navigation`` decides the pages.

    A live server stops treating ``pages/`` as legacy auto-discovered pages once
    ``st.navigation`` is called; AppTest re-detects the folder before every run
    and would then run a page without its frame. Pin the server's behaviour.
    """
    if getattr(PagesManager.__init__, "_pinned", False):
        return
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    init._pinned = True
    PagesManager.__init__ = init


def open_app(page: str | None = None, query: dict[str, str | list[str]] | None = None,
             session: dict | None = None, timeout: float = 60) -> AppTest:
    """The app opened directly on ``pages/<page>.py`` (as a share link to that page would), run once."""
    pin_navigation_pages()
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in (session or {}).items():
        at.session_state[key] = value
    if page is not None:
        at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def empty_cohort_query(cohort) -> dict[str, str]:
    """A share-link age filter that no patient of ``cohort`` passes (a half-year slot nobody's age falls in)."""
    ages = set(cohort["age_years"].round(1))
    slot = next(k / 2 for k in range(2, 60) if k / 2 not in ages)
    return {"age": f"{slot:g}-{slot:g}"}
