"""The README's script reproduces the Survival page for the same filter and comparison."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pandas as pd

from analysis.analyses.survival import chi2_text, format_landmark_table

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- tests/test_readme.py runs this block"


def _script() -> str:
    text = README.read_text(encoding="utf-8")
    after = text[text.index(MARKER):]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def _run_script() -> dict:
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(_script(), "README.md", "exec"), namespace)
    namespace["printed"] = out.getvalue()
    return namespace


def test_readme_script_runs_and_prints_its_tables():
    ns = _run_script()
    assert "lower" in ns["printed"] and "Log-rank" in ns["printed"] and "sex=male" in ns["printed"]
    assert list(ns["model"].summary["term"]) == ["age_years", "sex=male"]


def test_readme_script_equals_the_survival_page(open_app):
    ns = _run_script()
    result = ns["result"]
    at = open_app("survival", query={"lineage": "B-ALL", "survival.compare": "atg"})
    assert not at.exception
    page = next(df.value for df in at.dataframe if "Survival (95 % CI)" in df.value.columns)
    pd.testing.assert_frame_equal(page.reset_index(drop=True),
                                  format_landmark_table(result, [12, 24, 60]).reset_index(drop=True))
    shown = " ".join(m.value for m in at.markdown)
    assert chi2_text(result.test) in shown
