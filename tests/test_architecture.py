"""Layering rules that keep the library usable without the UI."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_analysis_never_imports_streamlit():
    offenders = [p.name for p in (ROOT / "analysis").rglob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def test_the_check_itself_sees_a_streamlit_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from streamlit import session_state\n")
    assert "streamlit" in _imports(sample)


def test_pages_do_not_cache_uploaded_data():
    # Only the frame may cache, and only the public demo cohort.
    for path in (ROOT / "pages").glob("*.py"):
        assert "cache_data" not in path.read_text(encoding="utf-8"), path.name
        assert "cache_resource" not in path.read_text(encoding="utf-8"), path.name
