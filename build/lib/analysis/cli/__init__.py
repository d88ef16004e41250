"""The command line: ``python -m analysis COMMAND`` (or ``hsct2 COMMAND`` once installed)."""

from analysis.cli.main import main

__all__ = ["main"]
