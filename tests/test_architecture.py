"""Layering rules that keep the library usable without the UI."""

from __future__ import annotations

import ast
import re
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


#: The only cached functions in pages/: public static files, shared between users.
_PUBLIC_CACHES = {("_context.py", "published_targets")}


def _cached_functions(path: Path) -> list[tuple[str, int, int]]:
    """(name, number of parameters) of each function in a module with a cache decorator."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                "cache" in ast.unparse(d) for d in node.decorator_list):
            args = node.args
            found.append((node.name, len(args.posonlyargs + args.args + args.kwonlyargs)
                          + bool(args.vararg) + bool(args.kwarg)))
    return found


def _cache_uses(path: Path) -> int:
    """How often the code (not its docstrings) names st.cache_data or st.cache_resource."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {"cache_data", "cache_resource"}
    return sum((isinstance(n, ast.Attribute) and n.attr in names) or (isinstance(n, ast.Name) and n.id in names)
               for n in ast.walk(tree))


def test_pages_do_not_cache_uploaded_data():
    # Only the frame caches the public demo cohort; pages may cache a public static file through a function
    # without parameters (nothing of a session can reach it), and nothing else.
    for path in (ROOT / "pages").glob("*.py"):
        cached = _cached_functions(path)
        assert {(path.name, name) for name, _ in cached} <= _PUBLIC_CACHES, path.name
        assert all(n_params == 0 for _, n_params in cached), path.name
        assert _cache_uses(path) == len(cached), path.name  # no st.cache_data(...)(f) outside a decorator


def test_the_cache_check_sees_a_cached_function_with_data(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("import streamlit as st\n@st.cache_data\ndef f(frame):\n    return frame\n")
    assert _cached_functions(sample) == [("f", 1)]
    assert _cache_uses(sample) == 1


_MODULE_CACHE = re.compile(r"lru_cache|functools\.cache\b|import cache\b|@cache\b|cache_data|cache_resource")


def test_analysis_does_not_cache():
    # Caching belongs to the UI edge; the library stays pure (a per-object cached_property is no shared cache).
    offenders = [p.name for p in (ROOT / "analysis").rglob("*.py")
                 if _MODULE_CACHE.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    assert _MODULE_CACHE.search("from functools import lru_cache\n")
