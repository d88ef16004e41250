"""What a host needs: pinned requirements, packages.txt, config, the optional [auth] secrets, the Dockerfile.

Docker itself is not run here: the test lays out the image's /app from the
Dockerfile's COPY lines and starts the image's CMD in it, as the container would.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _requirements() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def test_requirements_are_pinned_and_hold_what_export_reports_and_sign_in_need():
    reqs = _requirements()
    assert reqs and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", r) for r in reqs)
    names = {r.split("==")[0].lower() for r in reqs}
    assert {"streamlit", "plotly", "kaleido", "python-pptx", "authlib", "openpyxl"} <= names


def test_packages_txt_brings_chromium_and_arial_metric_fonts():
    packages = (ROOT / "packages.txt").read_text(encoding="utf-8").split()
    assert packages == ["chromium", "fonts-liberation"]


def test_streamlit_config_and_secrets_example():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["headless"] is True and config["browser"]["gatherUsageStats"] is False
    example = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8"))
    assert {"redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url"} <= set(
        example["auth"])
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert not (ROOT / ".streamlit" / "secrets.toml").exists() or "secrets.toml" in (ROOT / ".dockerignore").read_text()


def _copies() -> list[tuple[str, str]]:
    out = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            *sources, target = shlex.split(line)[1:]
            out += [(s, target) for s in sources]
    return out


def test_every_file_the_image_copies_exists():
    copies = _copies()
    assert {s for s, _ in copies} >= {"packages.txt", "requirements.txt", "dashboard.py", "pages", "ui", "analysis",
                                      "data", ".streamlit/config.toml"}
    for source, _ in copies:
        assert (ROOT / source).exists(), source


def _image_tree(tmp: Path) -> Path:
    app = tmp / "app"
    app.mkdir()
    for source, target in _copies():
        if source in ("packages.txt", "requirements.txt"):
            continue
        dest = app / Path(source).name if target in (".", "./") else app / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / source).is_dir() else shutil.copy)(ROOT / source, dest)
    return app


def _cmd() -> list[str]:
    line = next(line for line in DOCKERFILE.replace("\\\n", " ").splitlines() if line.startswith("CMD "))
    return json.loads(line[4:].strip())  # the exec form is a JSON list of strings


def test_the_image_command_serves_the_app_from_the_image_tree(tmp_path):
    app = _image_tree(tmp_path)
    assert not (app / "tests").exists()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [a.replace("0.0.0.0", "127.0.0.1").replace("8501", str(port)) for a in _cmd()]
    assert cmd[:3] == ["streamlit", "run", "dashboard.py"]
    env = {**os.environ, "HSCT2_CHROMIUM": "/usr/bin/chromium", "PYTHONPATH": ""}
    proc = subprocess.Popen([sys.executable, "-m", *cmd, "--server.fileWatcherType", "none"], cwd=app, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, healthy = time.monotonic() + 60, False
        while time.monotonic() < deadline and not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    healthy = r.status == 200
            except OSError:
                time.sleep(0.3)
        assert healthy, "the image's command did not serve the app"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/survival", timeout=5) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("section", ["## Deploy"])
def test_readme_has_a_deploy_section_for_both_hosts(section):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    deploy = text[text.index(section):].split("\n## ")[0]
    for needed in ("Streamlit Community Cloud", "packages.txt", "docker compose up", "[auth]", "st.login",
                   "must never"):
        assert needed in deploy, needed
