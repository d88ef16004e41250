"""How much a file may hold before it is read: its size, its unpacked size, its rows and its cells.

A small upload can unpack to a huge table (an .xlsx or Parquet file is
compressed; a 97 KB workbook can hold 300,000 rows). Every format is
therefore checked against the same limits *before* the expensive parse,
from what the file declares about itself (the ZIP directory of a workbook
and a cell count of its sheet, Parquet and SPSS/Stata metadata, the lines
and fields of a text file), and again after reading.

Each limit has a default and an environment variable that raises it for a
server or a command-line run (``HSCT2_MAX_ROWS=2000000 streamlit run
dashboard.py``); the message that refuses a file names the limit and the
variable. The Data page's upload widget has its own size limit,
``server.maxUploadSize`` in ``.streamlit/config.toml``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

#: Environment variable of each limit (see :class:`LoadLimits`).
ENVIRONMENT: dict[str, str] = {
    "file_mb": "HSCT2_MAX_FILE_MB",
    "uncompressed_mb": "HSCT2_MAX_UNCOMPRESSED_MB",
    "rows": "HSCT2_MAX_ROWS",
    "columns": "HSCT2_MAX_COLUMNS",
    "cells": "HSCT2_MAX_CELLS",
    "spreadsheet_cells": "HSCT2_MAX_SPREADSHEET_CELLS",
}


@dataclass(frozen=True)
class LoadLimits:
    """The largest file the loader reads.

    Attributes
    ----------
    file_mb
        Size of the file as uploaded (MB).
    uncompressed_mb
        Unpacked size of a compressed format: the parts of an .xlsx workbook,
        the column chunks of a Parquet file (MB).
    rows
        Data rows of the table.
    columns
        Columns of the table (each is mapped and offered as a filter and covariate).
    cells
        Rows × columns of the table.
    spreadsheet_cells
        Cells of one Excel sheet; lower than ``cells`` because a spreadsheet
        cell costs about fifty times a CSV cell to read.
    """

    file_mb: float = 200.0
    uncompressed_mb: float = 500.0
    rows: int = 1_000_000
    columns: int = 1_000
    cells: int = 20_000_000
    spreadsheet_cells: int = 2_000_000

    @property
    def file_bytes(self) -> int:
        return int(self.file_mb * 1024 * 1024)

    @property
    def uncompressed_bytes(self) -> int:
        return int(self.uncompressed_mb * 1024 * 1024)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LoadLimits:
        """The defaults, with any limit raised (or lowered) by its environment variable.

        A variable that is not a positive number is ignored.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, float | int] = {}
        for item in fields(cls):
            text = environ.get(ENVIRONMENT[item.name], "").replace("_", "").strip()
            try:
                value = float(text)
            except ValueError:
                continue
            if value > 0:
                values[item.name] = value if item.type in (float, "float") else int(value)
        return cls(**values)  # type: ignore[arg-type]


_LIMIT_WORDS = {
    "file_mb": "{:g} MB",
    "uncompressed_mb": "{:g} MB unpacked",
    "rows": "{:,.0f} rows",
    "columns": "{:,.0f} columns",
    "cells": "{:,.0f} cells",
    "spreadsheet_cells": "{:,.0f} cells in a spreadsheet",
}


def megabytes(n_bytes: float) -> str:
    """``"0.6 MB"``, ``"12 MB"``, ``"1,204 MB"``."""
    mb = n_bytes / 1024**2
    return f"{mb:.1f} MB" if mb < 10 else f"{mb:,.0f} MB"


def over_limit(subject: str, limit_name: str, limits: LoadLimits, advice: str = "") -> str:
    """The sentence refusing a file: ``subject`` (what it holds), the limit, and how to raise it.

    ``over_limit("big.csv has 1,200,000 rows", "rows", limits)`` →
    "big.csv has 1,200,000 rows; the limit is 1,000,000 rows. Raise it with the
    environment variable HSCT2_MAX_ROWS."
    """
    limit = _LIMIT_WORDS[limit_name].format(getattr(limits, limit_name))
    advice = f" {advice.strip()}" if advice.strip() else ""
    return f"{subject}; the limit is {limit}.{advice} Raise it with the environment variable {ENVIRONMENT[limit_name]}."
