"""Groups to compare: the levels of one covariate, or several saved cohorts.

Both the Survival and the Relapse views (and the command line's ``--group``)
compare curves across the groups built here, so the rules live in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.cohort.filters import SavedCohort, apply_filter
from analysis.cohort.model import label, levels

GROUP = "group"
ALL = "all"


@dataclass(frozen=True)
class Comparison:
    """Patients labelled by the group they are compared in.

    Attributes
    ----------
    frame : DataFrame
        Cohort rows with an added ``group`` column. With saved cohorts a patient
        may appear once per cohort that contains it.
    order : tuple of str
        Group labels in display order.
    label : str
        What the groups are (legend title), e.g. ``"Lineage"``.
    by : str or None
        The covariate compared, ``"saved cohorts"``, or None for one group.
    overlapping : bool
        True when one patient is in more than one group; between-group tests
        assume independent groups and are then not valid.
    n_missing : int
        Patients left out because their value of ``by`` is unknown.
    """

    frame: pd.DataFrame
    order: tuple[str, ...]
    label: str
    by: str | None
    overlapping: bool = False
    n_missing: int = 0

    @property
    def n_groups(self) -> int:
        return len(self.order)

    def positions(self) -> list[tuple[str, np.ndarray]]:
        """(label, positions of its rows in ``frame``) for each group, in display order."""
        codes, labels = pd.factorize(self.frame[GROUP])  # hashing the labels once, not comparing text per group
        index = {str(label): i for i, label in enumerate(labels)}
        return [(g, np.flatnonzero(codes == index[g]) if g in index else np.zeros(0, dtype=np.intp))
                for g in self.order]

    def groups(self) -> list[tuple[str, pd.DataFrame]]:
        """(label, rows) for each group, in display order."""
        return [(g, self.frame if len(rows) == len(self.frame) else self.frame.take(rows))
                for g, rows in self.positions()]


def compare_by(cohort: pd.DataFrame, by: str | None) -> Comparison:
    """Split ``cohort`` by the levels of a categorical column (None: one group ``"all"``)."""
    if by is None:
        return Comparison(cohort.assign(**{GROUP: ALL}), (ALL,), "All patients", None)
    if by not in cohort:
        raise KeyError(f"cannot compare by {by!r}: no such column")
    known = cohort[by].notna()
    rows = cohort if known.all() else cohort.loc[known]
    frame = rows.assign(**{GROUP: _as_text(rows[by])})
    order = tuple(levels(rows, by)) if by != "age_group" else tuple(
        sorted(frame[GROUP].unique(), key=lambda g: (not g.startswith("<"), g))
    )
    return Comparison(frame, order, label(by), by, n_missing=int((~known).sum()))


def _as_text(values: pd.Series) -> pd.Series:
    """``values.astype(str)``; a categorical's labels are converted once per level, not once per patient."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        text = np.asarray(values.cat.categories.astype(str), dtype=object)
        return pd.Series(text[values.cat.codes.to_numpy()], index=values.index)
    return values.astype(str)


def compare_saved(full: pd.DataFrame, saved: Sequence[SavedCohort]) -> Comparison:
    """Stack the patients of each saved cohort (filters applied to the full cohort)."""
    parts = [apply_filter(full, s.filters).assign(**{GROUP: s.name}) for s in saved]
    if not parts:
        raise ValueError("no saved cohorts to compare: save a filter set in the sidebar first")
    frame = pd.concat(parts, ignore_index=True)
    overlapping = bool(frame["patient_id"].duplicated().any())
    return Comparison(frame, tuple(s.name for s in saved), "Saved cohorts", "saved cohorts", overlapping)
