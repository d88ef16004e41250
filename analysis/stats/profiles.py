"""A covariate profile ("a 12-year-old with T-ALL and a MUD donor") as a row of a model's design.

Predictions of a fitted model are made for design rows; :func:`design_row`
builds one from values in the data's own terms, using the model's terms (its
factor levels, cuts and numeric columns), so a profile need not be a patient.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from analysis.stats.cox.design import Design, DesignError, level_label


def design_row(design: Design, profile: Mapping[str, object]) -> np.ndarray:
    """The design-matrix row of ``profile`` (covariate -> value) for the terms of ``design``.

    A factor's value selects its level's indicator (the reference level gives
    zeros); a numeric covariate enters as its number, or as 1/0 for a cut.
    Raises :class:`DesignError` naming a covariate the profile lacks or a
    level the model does not know.
    """
    row = np.zeros(len(design.terms))
    for spec in design.specs:
        cols = design.columns_of(spec.column)
        if not cols:
            continue
        if spec.column not in profile or profile[spec.column] is None:
            raise DesignError(f"the profile has no value for {spec.name}")
        value = profile[spec.column]
        if spec.categorical:
            known = set(design.levels.loc[design.levels["covariate"] == spec.column, "level"])
            text = level_label(value) if isinstance(value, (int, float, np.number)) else str(value)
            if text not in known:
                raise DesignError(f"{spec.name} = {text!r} is not a level of the model ({', '.join(sorted(known))})")
            for j in cols:
                row[j] = float(design.terms["level"].iloc[j] == text)
        else:
            number = float(value)  # type: ignore[arg-type]
            row[cols[0]] = float(number >= spec.cut) if spec.cut is not None else number
    return row
