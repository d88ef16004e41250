"""Regenerate the README's screenshots: ``.venv/bin/python docs/screenshots.py``.

Starts the app with ``streamlit run`` on a free port and photographs pages in
Debian's Chromium, the same way the browser tests do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _wait_for_app, start_server  # noqa: E402

SHOTS = {
    "screenshot-survival.png": "/survival?cmp=" + quote("T-ALL:lineage=T-ALL") + "&cmp=" + quote("B-ALL:lineage=B-ALL")
    + "&survival.compare=" + quote("saved cohorts"),
    "screenshot-risk-factors.png": "/risk_factors",
    "screenshot-relapse.png": "/relapse?relapse.compare=lineage",
    "screenshot-overview.png": "/",
    "screenshot-patient-like-me.png": "/patient_like_me",
    "screenshot-relapse-models.png": "/relapse_models",
    "screenshot-gvhd.png": "/gvhd",
    "screenshot-rmst.png": "/survival_summaries",
    "screenshot-model-validation.png": "/model_validation",
    "screenshot-data.png": "/data",
    "screenshot-presentation.png": "/survival?survival.compare=lineage&view.present=True&view.captions=True",
}


def main() -> int:
    with start_server() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1560})
        for name, path in SHOTS.items():
            page.goto(url + path)
            _wait_for_app(page)
            page.screenshot(path=str(ROOT / "docs" / name))
            print(f"docs/{name}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
