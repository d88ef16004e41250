"""Time to load, map and validate a 100,000-row registry export (the issue asks ≤ 5 s).

    python -m benchmarks.bench_upload [--n 100000]

The file is made here in a registry's own shape, not the canonical one:
semicolon-separated, decimal commas, durations in days, labelled events
(dead/alive, yes/no), "T-lineage"-style categories, a numeric centre code
and a free-text column, with 1 % of rows broken (negative times, unknown
event labels, relapse after last contact, duplicated IDs). The timed path is
what the Data page and ``python -m analysis --data`` do: bytes → table
(:func:`analysis.ingest.loading.read_data_file`), proposed mapping with a chosen
time unit, both validation stages, and the cohort without the flagged rows.
A second figure does the same with dates instead of durations.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.ingest.loading import read_data_file
from analysis.ingest.proposal import propose_mapping
from analysis.ingest.validation import check_upload


def registry_export(n: int, *, dates: bool = False, seed: int = 7) -> bytes:
    """A semicolon-separated export of ``n`` patients, 1 % of rows broken."""
    text = registry_frame(n, dates=dates, seed=seed).to_csv(index=False, sep=";")
    return text.replace(".", ",").encode("utf-8") if not dates else text.encode("utf-8")


def registry_parquet(n: int, *, seed: int = 7) -> bytes:
    """The same export as a Parquet file (typed columns: numbers as numbers)."""
    buffer = io.BytesIO()
    registry_frame(n, seed=seed).to_parquet(buffer, index=False)
    return buffer.getvalue()


def registry_frame(n: int, *, dates: bool = False, seed: int = 7) -> pd.DataFrame:
    """The export's table: ``n`` patients in a registry's own shape, 1 % of rows broken."""
    rng = np.random.default_rng(seed)
    os_days = np.ceil(rng.exponential(900, n))
    relapsed = rng.random(n) < 0.35
    rel_days = np.where(relapsed, np.ceil(os_days * rng.uniform(0.05, 1.0, n)), np.nan)
    frame = pd.DataFrame({
        "ID": [f"REG-{i:07d}" for i in range(n)],
        "status": np.where(rng.random(n) < 0.45, "dead", "alive"),
        "relapsed": np.where(relapsed, "yes", "no"),
        "age": np.round(rng.uniform(0.5, 19.5, n), 1),
        "gender": rng.choice(["m", "f"], n),
        "immunophenotype": rng.choice(["B", "pre-B", "T", "T-lineage"], n, p=[0.4, 0.4, 0.1, 0.1]),
        "donor": rng.choice(["MSD", "MUD", "MMUD", "haplo"], n),
        "centre": rng.integers(1, 60, n),
        "remark": rng.choice(["", "late effects", "GvHD grade II", "second CR"], n),
    })
    if dates:
        start = pd.Timestamp("2005-01-01") + pd.to_timedelta(rng.integers(0, 5000, n), unit="D")
        frame.insert(1, "date_hsct2", start.strftime("%d.%m.%Y"))
        frame.insert(2, "date_relapse", (start + pd.to_timedelta(np.nan_to_num(rel_days), unit="D"))
                     .strftime("%d.%m.%Y").where(relapsed, ""))
        frame.insert(3, "date_last_contact", (start + pd.to_timedelta(os_days, unit="D")).strftime("%d.%m.%Y"))
    else:
        frame.insert(1, "OS_days", os_days)
        frame.insert(2, "time_to_relapse_days", rel_days)
    broken = rng.choice(n, n // 100, replace=False)
    kinds = np.array_split(broken, 4)
    frame.loc[kinds[0], "status"] = "unknown"
    frame.loc[kinds[1], "ID"] = "REG-0000000"
    frame.loc[kinds[2], "age"] = 45.0
    if not dates:
        frame.loc[kinds[3], "OS_days"] = -1.0
    return frame


def load_map_validate(content: bytes, unit: str | None = "days", *, keep: bool = False):
    """The Data page's path; returns (patients kept, rows excluded), or the cohort with ``keep``."""
    raw = read_data_file(content, "registry.csv")
    mapping = propose_mapping(raw.frame)
    if mapping.time_form != "dates":
        mapping = replace(mapping, time_unit=unit)
    checked = check_upload(raw.frame, mapping)
    cohort = checked.cohort(exclude_flagged=True)
    return cohort if keep else (len(cohort), checked.n_flagged)


def _median_seconds(content: bytes, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load_map_validate(content)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load_map_validate_seconds(n: int = 100_000, repeats: int = 3, *, dates: bool = False) -> float:
    """Median wall-clock seconds to load, map and validate an ``n``-row CSV export."""
    return _median_seconds(registry_export(n, dates=dates), repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    for dates in (False, True):
        content = registry_export(args.n, dates=dates)
        kept, excluded = load_map_validate(content)
        seconds = _median_seconds(content, args.repeats)
        what = "dates" if dates else "durations in days, decimal commas"
        print(f"| load + map + validate a {args.n:,}-row CSV ({what}; {len(content) / 1e6:.1f} MB, "
              f"{excluded} rows flagged, {kept} kept) | {seconds:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
