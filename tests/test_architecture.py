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


#: The only cached functions in pages/ and ui/: public static files, shared between users.
_PUBLIC_CACHES = {("cache.py", "published_targets")}


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
    # Only the frame caches the public demo cohort; pages and their helpers may cache a public static file
    # through a function without parameters (nothing of a session can reach it), and nothing else.
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]:
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


# ------------------------------------------------------------------ layers of analysis/

#: What each layer of ``analysis/`` may import (besides itself). Imports only point down:
#: text and the estimators at the bottom, then the cohort model, ingest, the page-level
#: analyses, figures, the report builders, and the command line on top.
LAYERS: dict[str, set[str]] = {
    "_version": set(),
    "text": set(),
    "stats": set(),
    "cohort": {"text"},
    "ingest": {"cohort", "text"},
    "analyses": {"stats", "cohort", "text"},
    "figures": {"analyses", "stats", "cohort", "text"},
    "reports": {"figures", "analyses", "stats", "cohort", "ingest", "text", "_version"},
    "cli": {"reports", "figures", "analyses", "stats", "cohort", "ingest", "text", "_version"},
    "__main__": {"cli"},
    "__init__": {"reports", "figures", "analyses", "stats", "cohort", "ingest", "text", "cli", "_version"},
}


def _layer(module: str) -> str:
    """``analysis.stats.cox.fit`` -> ``stats``; ``analysis`` itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _submodule(package: str, name: str) -> str:
    """``from package import name``: the module ``package.name`` when it is one, else ``package``."""
    candidate = ROOT.joinpath(*package.split("."), name)
    if package == "analysis" or candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
        return f"{package}.{name}"
    return package


def _analysis_imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported analysis module, line, inside a function) for every import of ``analysis`` in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, in_function) for a in child.names
                             if a.name.split(".")[0] == "analysis")
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0 \
                    and child.module.split(".")[0] == "analysis":
                # "from analysis.cli import reports" imports the module analysis.cli.reports
                found.extend((_submodule(child.module, a.name), child.lineno, in_function) for a in child.names)
            visit(child, inner)

    visit(tree, False)
    return found


def _analysis_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / "analysis").rglob("*.py"))}


def layer_violations(modules: dict[str, Path]) -> list[str]:
    """Imports that point up (or sideways into a layer not listed), and imports inside functions."""
    out = []
    for name, path in modules.items():
        own = _layer(name)
        allowed = LAYERS.get(own)
        if allowed is None:
            out.append(f"{name}: layer {own!r} is not in LAYERS")
            continue
        for target, line, in_function in _analysis_imports(path):
            if in_function:
                out.append(f"{name}:{line} imports {target} inside a function")
            other = _layer(target)
            if other != own and other not in allowed:
                out.append(f"{name}:{line} ({own}) imports {target} ({other})")
    return out


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Cycles among the modules of ``analysis`` (module-level imports; a package counts as its __init__)."""
    graph = {name: sorted({t for t, _, _ in _analysis_imports(path) if t in modules and t != name})
             for name, path in modules.items()}
    cycles, state = [], {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                walk(nxt, [*stack, nxt])
        state[node] = "done"

    for node in graph:
        if node not in state:
            walk(node, [node])
    return cycles


def test_analysis_imports_only_point_down():
    assert layer_violations(_analysis_modules()) == []


def test_analysis_has_no_import_cycle():
    assert import_cycles(_analysis_modules()) == []


def test_the_layer_check_sees_an_upward_import_and_a_dodged_cycle(tmp_path):
    (tmp_path / "analysis" / "stats").mkdir(parents=True)
    (tmp_path / "analysis" / "cohort").mkdir(parents=True)
    up = tmp_path / "analysis" / "stats" / "km.py"
    up.write_text("from analysis.cohort.model import label\n")
    dodge = tmp_path / "analysis" / "cohort" / "model.py"
    dodge.write_text("def f():\n    from analysis.text import ALL\n    return ALL\n")
    found = layer_violations({"analysis.stats.km": up, "analysis.cohort.model": dodge})
    assert found == ["analysis.stats.km:1 (stats) imports analysis.cohort.model (cohort)",
                     "analysis.cohort.model:2 imports analysis.text inside a function"]


def test_the_cycle_check_sees_a_cycle(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from analysis.ingest.b import x\n")
    b.write_text("import analysis.ingest.a\n")
    assert import_cycles({"analysis.ingest.a": a, "analysis.ingest.b": b}) == [
        ["analysis.ingest.a", "analysis.ingest.b", "analysis.ingest.a"]]
