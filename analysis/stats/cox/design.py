"""Design matrices for Cox models: a cohort plus a model spec in, named columns out.

A model spec is a tuple of :class:`CovariateSpec`. Each covariate becomes one or
more columns of the design matrix, named the way the dashboard shows them:

* a categorical covariate gives one indicator per non-reference level,
  ``"lineage=T-ALL"`` (treatment coding, as R's default contrasts);
* a numeric covariate is used as it is, per unit, under its column name
  (``"age_years"``);
* a numeric covariate cut at a value gives one indicator ``"age_years≥10"``
  (1 when the value is at or above the cut); :func:`default_cut` proposes the value.

Rows with a missing value in any model covariate are left out (R's
``na.omit``); the design records which rows it kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


class DesignError(ValueError):
    """A model spec that cannot be turned into a design matrix for this cohort."""


@dataclass(frozen=True)
class CovariateSpec:
    """How one covariate enters the model.

    ``reference`` applies to categorical covariates (``None``: the first level
    in sorted order); ``cut`` to numeric ones (``None``: per unit). ``label``
    is how messages name the covariate (default: the column name) and ``unit``
    the unit of a numeric one (e.g. ``"years"``), shown beside its per-unit term.
    """

    column: str
    categorical: bool
    reference: str | None = None
    cut: float | None = None
    label: str | None = None
    unit: str | None = None

    @property
    def name(self) -> str:
        """The covariate as messages name it."""
        return self.label or self.column


@dataclass(frozen=True)
class Design:
    """The design matrix of one model and what each of its columns means.

    ``terms`` has one row per column of ``matrix``: term, covariate, level
    (``None`` for a numeric term), kind (``"level"``, ``"numeric"``, ``"cut"``)
    and unit. ``levels`` has one row per level of each categorical or cut
    covariate (covariate, level, term, is_reference, n), including the
    reference levels, so a forest plot can show them. ``kept`` is a boolean
    mask over the cohort rows that entered the model. ``notes`` are
    plain-language messages about covariates that were dropped or changed.
    """

    matrix: np.ndarray
    terms: pd.DataFrame
    levels: pd.DataFrame
    kept: np.ndarray
    specs: tuple[CovariateSpec, ...]
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return list(self.terms["term"])

    def columns_of(self, covariate: str) -> list[int]:
        """Column indices of one covariate (several for a multi-level factor)."""
        return [i for i, c in enumerate(self.terms["covariate"]) if c == covariate]

    def label_of(self, covariate: str) -> str:
        """How messages name a covariate of the model (its spec's label, else the column)."""
        return next((s.name for s in self.specs if s.column == covariate), covariate)


def level_label(value: object) -> str:
    """A value as a level name: ``1.0`` -> ``"1"``, ``0.5`` -> ``"0.5"`` (as R's ``as.character``)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def cut_label(column: str, cut: float) -> str:
    return f"{column}≥{level_label(float(cut))}"


def sorted_levels(values: pd.Series) -> list[str]:
    """Observed levels in sorted order: numerically for numbers, by code point for text."""
    present = pd.unique(values.dropna())
    if pd.api.types.is_numeric_dtype(values):
        return [level_label(v) for v in sorted(float(v) for v in present)]
    return sorted(str(v) for v in present)


def default_cut(values: pd.Series) -> float:
    """The cut offered first for a numeric covariate ("≥ cut vs below"): the median, rounded.

    The median of the recorded values (pass the filtered cohort's column:
    the cut then splits the patients being modelled about in half), rounded
    to two significant digits so it reads as a choice a reader would make
    (9.37 years -> 9.4). Fallbacks, in order, when the cut would put every
    patient on one side: the unrounded median; the smallest recorded value
    above the median (e.g. a 0/1 column mostly 0); with a single distinct
    value, that value (no cut splits). With no recorded value: 0.
    """
    x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return 0.0
    median = float(np.median(x))
    for cut in (float(f"{median:.2g}"), median, *np.unique(x[x > median])[:1]):
        if (x >= cut).any() and (x < cut).any():
            return float(cut)
    return median


def build_design(cohort: pd.DataFrame, specs: Sequence[CovariateSpec]) -> Design:
    """Turn covariate specs into a design matrix over the complete cases.

    A covariate with a single observed level (or a constant numeric one) in
    the complete cases carries no information about the hazard: it is left
    out and a note says so. A reference level that is not present falls back
    to the first present level, with a note.
    """
    specs = tuple(specs)
    names = [s.column for s in specs]
    if len(set(names)) != len(names):
        raise DesignError("a covariate is listed twice in the model")
    for s in specs:
        if s.column not in cohort.columns:
            raise DesignError(f"there is no column {s.column!r} in the cohort")
    # Categorical covariates are coded once over all rows (missing: code -1), then restricted to the kept rows.
    coded = {s.column: _factor_codes(cohort[s.column]) for s in specs if s.categorical}
    kept = np.ones(len(cohort), dtype=bool)
    for s in specs:
        kept &= coded[s.column][0] >= 0 if s.categorical else cohort[s.column].notna().to_numpy()
    data = cohort if kept.all() else cohort.loc[kept]
    columns: list[np.ndarray] = []
    term_rows: list[dict] = []
    level_rows: list[dict] = []
    notes: list[str] = []
    for s in specs:
        x = data[s.column]
        if s.categorical:
            codes, uniques = coded[s.column]
            cols, terms, lvls = _categorical_columns(s, x, codes[kept], uniques, notes)
        elif s.cut is not None:
            cols, terms, lvls = _cut_columns(s, x, notes)
        else:
            cols, terms, lvls = _numeric_columns(s, x, notes)
        columns.extend(cols)
        term_rows.extend(terms)
        level_rows.extend(lvls)
    matrix = np.empty((int(kept.sum()), len(columns)), order="F")  # column by column: contiguous writes and reads
    for j, column in enumerate(columns):
        matrix[:, j] = column
    terms = pd.DataFrame(term_rows, columns=["term", "covariate", "level", "kind", "unit"])
    levels = pd.DataFrame(level_rows, columns=["covariate", "level", "term", "is_reference", "n"])
    return Design(matrix, terms, levels, kept, specs, tuple(notes))


def _factor_codes(values: pd.Series) -> tuple[np.ndarray, object]:
    """Sorted factor codes (missing: -1) and the levels, as ``pd.factorize(values, sort=True)``.

    A pandas categorical already holds them (its categories in their order):
    a million patients are then not hashed again for every model.
    """
    if isinstance(values.dtype, pd.CategoricalDtype) and not values.cat.ordered \
            and values.cat.categories.is_monotonic_increasing:
        return values.cat.codes.to_numpy(dtype=np.int64), values.cat.categories
    return pd.factorize(values, sort=True)


def _categorical_columns(s: CovariateSpec, x: pd.Series, codes: np.ndarray, uniques, notes: list[str]):
    """Indicators of the levels present among the kept rows (``codes``: sorted factor codes of ``x``)."""
    present = np.bincount(codes, minlength=len(uniques)) > 0
    if not present.all():  # levels only in rows left out: drop them, renumber the others
        codes = (np.cumsum(present) - 1)[codes]
        uniques = uniques[present]
    lvls = [level_label(v) for v in uniques] if pd.api.types.is_numeric_dtype(x) else [str(v) for v in uniques]
    if len(lvls) < 2:
        only = f" ({lvls[0]})" if lvls else ""
        notes.append(f"{s.name} has a single level{only} in these patients and was left out.")
        return [], [], []
    reference = s.reference if s.reference is not None else lvls[0]
    if reference not in lvls:
        notes.append(f"Reference level {reference!r} of {s.name} is not present; "
                     f"{lvls[0]!r} is used instead.")
        reference = lvls[0]
    code_of = {name: i for i, name in enumerate(lvls)}
    counts = np.bincount(codes, minlength=len(lvls))
    cols, terms, levels = [], [], []
    levels.append({"covariate": s.column, "level": reference, "term": None, "is_reference": True,
                   "n": int(counts[code_of[reference]])})
    for lvl in lvls:
        if lvl == reference:
            continue
        term = f"{s.column}={lvl}"
        cols.append((codes == code_of[lvl]).astype(float))
        terms.append({"term": term, "covariate": s.column, "level": lvl, "kind": "level", "unit": None})
        levels.append({"covariate": s.column, "level": lvl, "term": term, "is_reference": False,
                       "n": int(counts[code_of[lvl]])})
    return cols, terms, levels


def _cut_columns(s: CovariateSpec, x: pd.Series, notes: list[str]):
    assert s.cut is not None, "only numeric covariates with a cut are split"
    values = pd.to_numeric(x).to_numpy(dtype=float)
    above = values >= float(s.cut)
    term = cut_label(s.column, s.cut)
    below_label = f"<{level_label(float(s.cut))}"
    above_label = f"≥{level_label(float(s.cut))}"
    if above.all() or not above.any():
        notes.append(f"Every patient is on one side of {s.name} = {s.cut:g}; it was left out.")
        return [], [], []
    terms = [{"term": term, "covariate": s.column, "level": above_label, "kind": "cut", "unit": s.unit}]
    levels = [
        {"covariate": s.column, "level": below_label, "term": None, "is_reference": True,
         "n": int((~above).sum())},
        {"covariate": s.column, "level": above_label, "term": term, "is_reference": False,
         "n": int(above.sum())},
    ]
    return [above.astype(float)], terms, levels


def _numeric_columns(s: CovariateSpec, x: pd.Series, notes: list[str]):
    try:
        values = pd.to_numeric(x).to_numpy(dtype=float)
    except (ValueError, TypeError) as err:
        raise DesignError(f"{s.name} is not numeric; treat it as categorical") from err
    if len(values) and np.ptp(values) == 0:
        notes.append(f"{s.name} has the same value for every patient and was left out.")
        return [], [], []
    terms = [{"term": s.column, "covariate": s.column, "level": None, "kind": "numeric", "unit": s.unit}]
    return [values], terms, []


#: Builds one spec: (column, categorical or None to decide from the data, reference, cut) -> spec.
SpecMaker = Callable[[str, "bool | None", "str | None", "float | None"], CovariateSpec]


def column_spec(frame: pd.DataFrame, column: str, categorical: bool | None = None, reference: str | None = None,
                cut: float | None = None) -> CovariateSpec:
    """A spec for a column of any data frame: categorical when its values are not numbers (or when told)."""
    if column not in frame.columns:
        raise DesignError(f"there is no column {column!r} in the data")
    values = frame[column]
    is_cat = (not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)) \
        if categorical is None else categorical
    return CovariateSpec(column, is_cat, reference=reference if is_cat else None, cut=None if is_cat else cut)


def specs_for(
    frame: pd.DataFrame,
    covariates: Sequence[str | CovariateSpec],
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    cuts: Mapping[str, float] | None = None,
    make: SpecMaker | None = None,
) -> tuple[CovariateSpec, ...]:
    """Specs from column names and the command-line style options (``--categorical``, ``--reference``).

    A column listed in ``categorical`` (or given a reference level) is treated
    as categorical even when its values are numbers; other columns are
    categorical when their values are text. A :class:`CovariateSpec` in
    ``covariates`` is used as it is. ``make`` builds each spec (default
    :func:`column_spec`; the cohort layer passes one that knows the standard fields).
    """
    reference = dict(reference or {})
    cuts = dict(cuts or {})
    names = [c.column if isinstance(c, CovariateSpec) else c for c in covariates]
    unknown = [c for c in (*categorical, *reference, *cuts) if c not in names]
    if unknown:
        raise DesignError(f"{', '.join(unknown)} is not among the model covariates")

    def default(column: str, is_cat: bool | None, ref: str | None, cut: float | None) -> CovariateSpec:
        return column_spec(frame, column, is_cat, ref, cut)

    build = make or default
    return tuple(
        c if isinstance(c, CovariateSpec) else
        build(c, True if c in categorical or c in reference else None, reference.get(c), cuts.get(c))
        for c in covariates
    )
