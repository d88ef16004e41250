"""The library installs from a wheel, with its data files and the ``hsct2`` command, and says its version."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from analysis import __version__

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel ``pip install .`` would build, made without network (no build isolation)."""
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy of what the project ships, so no build output lands in (or leaks from) the checkout.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE", "requirements.txt"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("analysis", "data"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                           "--quiet", "-w", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("hsct2_explorer-*.whl")
    return path


def test_every_package_of_the_library_is_packaged():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "analysis").rglob("__init__.py")}
    assert listed == on_disk | {"analysis._data"}


def test_the_wheel_holds_the_data_files_and_the_command(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = next(z.read(n).decode() for n in names if n.endswith("entry_points.txt"))
        metadata = next(z.read(n).decode() for n in names if n.endswith("METADATA"))
    assert {"analysis/_data/demo_cohort.csv", "analysis/_data/published_targets.json"} <= names
    assert "hsct2 = analysis.cli:main" in entry_points
    assert f"Version: {__version__}" in metadata and "License-Expression: MIT" in metadata
    assert not any(n.startswith(("pages/", "tests/", "ui/")) for n in names)


def test_the_installed_library_runs_away_from_the_checkout(wheel, tmp_path):
    """Installed into a plain folder and run from elsewhere: the demo cohort comes from the package."""
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    env = {"PYTHONPATH": str(target), "PATH": ""}
    run = subprocess.run([sys.executable, "-m", "analysis", "summary", "--json"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["n"] == 75
    where = subprocess.run([sys.executable, "-c", "import analysis.cohort.model as m; print(m.DATA_DIR)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()) == target / "analysis" / "_data"


def test_version_on_the_command_line():
    done = subprocess.run([sys.executable, "-m", "analysis", "--version"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"HSCT2 Explorer {__version__}"


def test_citation_and_licence_name_the_same_version():
    citation = (ROOT / "CITATION.cff").read_text()
    assert f"version: {__version__}" in citation and "license: MIT" in citation
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
