"""The hostile corpus through the Data page's path: no file may hang the server (the slowest are reported).

    python -m benchmarks.bench_hostile

Each file of ``tests/fixtures/hostile/make_corpus.py`` is read, mapped with
the proposal and checked, as the Data page and ``--data`` do; the section
reports the slowest files and the whole corpus. The tests check what happens
to each file; this measures how long it takes.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.ingest.loading import LoadError, read_data_file  # noqa: E402
from analysis.ingest.proposal import propose_mapping  # noqa: E402
from analysis.ingest.validation import check_upload  # noqa: E402

TITLE = "hostile corpus: read + map + check, per file"
COLUMNS = ("size", "outcome", "median")
SHOWN = 5


def _corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "tests/fixtures/hostile/make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module
    spec.loader.exec_module(module)
    return module.CORPUS


def _through_the_data_page(content: bytes, name: str) -> str:
    try:
        raw = read_data_file(content, name)
    except LoadError:
        return "refused"
    check_upload(raw.frame, propose_mapping(raw.frame))
    return "read"


def rows(n: int, repeats: int) -> Iterator[tuple[str, ...]]:
    timings = []
    for case in _corpus():
        content = case.make()
        seconds = []
        for _ in range(max(1, repeats // 5)):
            start = time.perf_counter()
            outcome = _through_the_data_page(content, case.name)
            seconds.append(time.perf_counter() - start)
        timings.append((statistics.median(seconds), case.name, len(content), outcome))
    timings.sort(reverse=True)
    for seconds, name, size, outcome in timings[:SHOWN]:
        yield name, f"{size / 1024:,.0f} KB", outcome, f"{1000 * seconds:.0f} ms"
    total = sum(t[0] for t in timings)
    read = sum(t[3] == "read" for t in timings)
    yield (f"all {len(timings)} files ({read} read, {len(timings) - read} refused)", "", "",
           f"{total:.2f} s in all")


if __name__ == "__main__":
    for row in rows(0, 5):
        print("| " + " | ".join(row) + " |")
