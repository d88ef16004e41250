"""Cox models of a cohort's endpoints, with covariates specified as the dashboard does.

:func:`covariate_spec` and :func:`specs_from_options` turn column names into
:class:`~analysis.stats.cox.design.CovariateSpec` with the cohort's own
knowledge: which columns are categorical (text and the standard factors),
how to name them in messages ("Age at HSCT2 (years)"), their units, and,
on request, the field's usual reference levels. :func:`cox_model` fits one
endpoint: OS, RFS, or relapse / NRM as cause-specific hazards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.cohort.model import STANDARD_LEVELS, STANDARD_NUMERIC, endpoint, is_categorical, label
from analysis.stats.cox.design import CovariateSpec, DesignError, sorted_levels, specs_for
from analysis.stats.cox.fit import CoxModel, fit_cox


def covariate_spec(
    cohort: pd.DataFrame,
    column: str,
    *,
    categorical: bool | None = None,
    reference: str | None = None,
    cut: float | None = None,
    standard_reference: bool = False,
) -> CovariateSpec:
    """A :class:`CovariateSpec` with defaults taken from the cohort.

    ``categorical=None`` decides from the data (text columns and the standard
    categorical covariates are categorical). ``standard_reference=True`` picks
    the field's usual reference (the first level of the standard order: female,
    B-ALL, no ATG, ``< 10 y``) instead of the first level in sorted order.
    The spec carries the column's display label and unit for messages and figures.
    """
    if column not in cohort.columns:
        raise DesignError(f"there is no column {column!r} in the cohort")
    is_cat = is_categorical(cohort, column) if categorical is None else categorical
    if is_cat and reference is None and standard_reference:
        order = STANDARD_LEVELS.get(column, ())
        present = set(sorted_levels(cohort[column]))
        reference = next((lvl for lvl in order if lvl in present), None)
    unit = STANDARD_NUMERIC[column][0] if column in STANDARD_NUMERIC else None
    return CovariateSpec(column, is_cat, reference=reference if is_cat else None,
                         cut=None if is_cat else cut, label=label(column), unit=unit)


def specs_from_options(
    cohort: pd.DataFrame,
    covariates: Sequence[str],
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    cuts: Mapping[str, float] | None = None,
    standard_reference: bool = False,
) -> tuple[CovariateSpec, ...]:
    """Specs from the command-line style options (``--categorical``, ``--reference``).

    A column listed in ``categorical`` (or given a reference level) is treated
    as categorical even when its values are numbers; other columns as
    :func:`covariate_spec` decides.
    """
    def make(column: str, is_cat: bool | None, ref: str | None, cut: float | None) -> CovariateSpec:
        return covariate_spec(cohort, column, categorical=is_cat, reference=ref, cut=cut,
                              standard_reference=standard_reference)

    return specs_for(cohort, covariates, categorical, reference, cuts, make=make)


def cox_model(
    cohort: pd.DataFrame,
    endpoint_name: str,
    specs: Sequence[CovariateSpec],
    *,
    penalty: str | None = None,
) -> CoxModel:
    """A Cox model of one endpoint of a cohort (``os``, ``rfs``; ``relapse``/``nrm`` cause-specific).

    For relapse and NRM the competing event censors (cause-specific hazards),
    as :func:`analysis.cohort.model.endpoint` derives them.
    """
    ep = endpoint(cohort, endpoint_name)
    columns = [c for c in dict.fromkeys(s.column for s in specs) if c in cohort.columns]
    frame = cohort[columns].assign(_time=ep.time, _event=ep.event)
    return fit_cox(frame, "_time", "_event", specs, penalty=penalty)
