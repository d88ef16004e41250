"""Every file of the hostile corpus through the loader, the command line and the Data page.

The corpus (``tests/fixtures/hostile/make_corpus.py``) is built in a temporary
directory. Each file must be read, or refused with one sentence naming the
problem; no traceback, and on the Data page the data loaded before stay
active. How long each file takes is measured by ``benchmarks/bench_hostile.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.cohort.model import load_demo_cohort
from analysis.ingest.loading import LoadError, read_data_file
from analysis.ingest.proposal import propose_mapping
from analysis.ingest.validation import check_upload
from tests.apptest_support import open_app, shown

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "tests/fixtures/hostile/make_corpus.py")
corpus = importlib.util.module_from_spec(_spec)
sys.modules["make_corpus"] = corpus
_spec.loader.exec_module(corpus)
CASES = {case.name: case for case in corpus.CORPUS}
BEFORE = "before.csv"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return corpus.build(tmp_path_factory.mktemp("hostile"))


def _page_text(at) -> str:
    texts = [shown(e.value) for kind in (at.error, at.warning, at.info, at.caption, at.success) for e in kind]
    for frame in at.dataframe:
        value = frame.value
        if isinstance(value, pd.DataFrame):
            texts += value.astype(str).to_numpy().ravel().tolist()
    return " ".join(texts)


def test_the_corpus_covers_both_outcomes():
    outcomes = [case.outcome for case in corpus.CORPUS]
    assert len(outcomes) >= 45 and set(outcomes) == {"read", "refused"}
    assert len(CASES) == len(outcomes)  # one name, one case


@pytest.mark.parametrize("name", list(CASES))
def test_the_loader_reads_or_refuses_with_a_named_problem(files, name):
    case = CASES[name]
    try:
        raw = read_data_file(files[name].read_bytes(), name)
    except LoadError as err:
        message = str(err)
        assert case.outcome == "refused", message
        assert case.expect in message
        assert "\n" not in message and "Traceback" not in message
        return
    assert case.outcome == "read", f"{name} was read but should be refused"
    checked = check_upload(raw.frame, propose_mapping(raw.frame))
    said = " ".join([*raw.notes, *raw.warnings, *checked.mapped.notes, *checked.problems["problem"].astype(str),
                     *checked.warnings["problem"].astype(str)])
    assert case.expect in said
    assert raw.frame.columns.is_unique and raw.frame.shape[1] >= 2


@pytest.mark.parametrize("name", list(CASES))
def test_the_command_line_reads_or_refuses_without_a_traceback(files, name, capsys):
    case = CASES[name]
    code = main(["summary", "--data", str(files[name]), *case.cli])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    assert all(line.startswith(("note:", "warning:", "assumed:", "error:")) for line in err.splitlines()), err
    if case.outcome == "refused":
        assert code == 2 and err.startswith("error:"), err
    else:
        assert code in (0, 2)
        assert code == 0 or not err.splitlines()[-1].startswith("error: Cannot open")
    assert case.expect in err


@pytest.fixture(scope="module")
def data_page():
    """One session that has loaded a file of its own, and then meets every file of the corpus."""
    at = open_app("data")
    before = load_demo_cohort().head(20).to_csv(index=False).encode()
    at.file_uploader(key="data_upload_0").set_value((BEFORE, before, "text/csv")).run()
    at.button(key="data_use").click().run()
    assert f"Your data: {BEFORE}" in shown(at.info[0].value)
    return at


@pytest.mark.parametrize("name", list(CASES))
def test_the_data_page_reads_or_refuses_and_keeps_the_data_in_use(data_page, files, name):
    case = CASES[name]
    at = data_page
    at.file_uploader(key="data_upload_1").set_value((name, files[name].read_bytes(), "application/octet-stream"))
    at.run(timeout=120)
    assert not at.exception, at.exception[0].message if at.exception else ""
    assert shown(at.info[0].value).startswith(f"**Your data: {BEFORE}**: N = 20")  # the data in use stay
    text = _page_text(at)
    assert "Traceback" not in text
    errors = [shown(e.value) for e in at.error]
    loader_errors = [e for e in errors if e.endswith("Your previous data stay active.")]
    if case.outcome == "refused":
        assert len(loader_errors) == 1 and case.expect in loader_errors[0], errors
    else:
        assert not loader_errors, loader_errors
        assert case.expect in text
