"""The commands of ``python -m analysis``: one module each, with ``HELP``, ``add_arguments`` and ``run``.

Adding a command is one module here and its name in :data:`COMMANDS`.
"""

#: Command names, in the order ``--help`` lists them; each is a module of this package.
COMMANDS: tuple[str, ...] = ("summary", "calibration", "km", "cif", "cox", "predict", "validate", "report", "figure")
