"""The version of the HSCT2 Explorer: shown in the app, in ``--version``, and on every exported figure."""

__version__ = "0.2.0"
