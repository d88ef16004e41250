"""analysis.stats.cox.design: named design columns, reference levels, cuts, missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.models import covariate_spec, specs_from_options
from analysis.stats.cox.design import CovariateSpec, DesignError, build_design, default_cut, level_label


@pytest.fixture
def cohort():
    return pd.DataFrame({
        "age_years": [3.0, 12.5, 10.0, 7.2, np.nan, 16.0],
        "lineage": ["B-ALL", "T-ALL", "B-ALL", "T-ALL", "B-ALL", "B-ALL"],
        "sex": ["male", "female", "female", "male", "male", "female"],
        "edema": [0.0, 0.5, 1.0, 0.5, 0.0, 0.0],
        "atg": ["no", "no", "no", "no", "no", "no"],
    })


def test_categorical_default_reference_is_first_sorted_level(cohort):
    design = build_design(cohort, specs_from_options(cohort, ["lineage", "sex"]))
    assert design.names == ["lineage=T-ALL", "sex=male"]
    np.testing.assert_array_equal(design.matrix[:, 0], (cohort["lineage"] == "T-ALL").astype(float))


def test_reference_level_can_be_chosen(cohort):
    design = build_design(cohort, specs_from_options(cohort, ["sex"], reference={"sex": "male"}))
    assert design.names == ["sex=female"]
    ref = design.levels.set_index("level")
    assert ref.loc["male", "is_reference"] and ref.loc["male", "n"] == 3


def test_numeric_column_as_levels_uses_R_level_names(cohort):
    design = build_design(cohort, specs_from_options(cohort, ["edema"], categorical=["edema"],
                                                     reference={"edema": "0.5"}))
    assert design.names == ["edema=0", "edema=1"]
    assert level_label(1.0) == "1" and level_label(0.5) == "0.5" and level_label("x") == "x"


def test_numeric_per_unit_and_cut(cohort):
    per_unit = build_design(cohort, specs_from_options(cohort, ["age_years"]))
    assert per_unit.names == ["age_years"]
    assert per_unit.terms["unit"].iloc[0] == "years"
    cut = build_design(cohort, specs_from_options(cohort, ["age_years"], cuts={"age_years": 10}))
    assert cut.names == ["age_years≥10"]
    # 10.0 is at the cut: it belongs to the ≥ 10 group
    np.testing.assert_array_equal(cut.matrix[:, 0], [0, 1, 1, 0, 1])
    assert list(cut.levels["level"]) == ["<10", "≥10"]


def test_missing_values_drop_the_row(cohort):
    design = build_design(cohort, specs_from_options(cohort, ["age_years", "sex"]))
    assert design.kept.tolist() == [True, True, True, True, False, True]
    assert design.matrix.shape == (5, 2)


def test_single_level_covariate_left_out_with_note(cohort):
    design = build_design(cohort, specs_from_options(cohort, ["atg", "sex"]))
    assert design.names == ["sex=male"]
    assert any("ATG has a single level (no)" in n for n in design.notes)


def test_missing_reference_level_falls_back_with_note(cohort):
    design = build_design(cohort, [CovariateSpec("lineage", categorical=True, reference="MPAL")])
    assert design.names == ["lineage=T-ALL"]
    assert any("'MPAL'" in n for n in design.notes)


def test_standard_reference_is_the_fields_usual_one():
    cohort = pd.DataFrame({"sex": ["male", "female"], "donor": ["MUD", "haplo"]})
    spec = covariate_spec(cohort, "donor", standard_reference=True)
    assert spec.reference == "MUD"  # standard order MSD, MUD, MMUD, haplo; MSD absent
    assert covariate_spec(cohort, "donor").reference is None


def test_errors_name_the_problem(cohort):
    with pytest.raises(DesignError, match="no column 'weight'"):
        covariate_spec(cohort, "weight")
    with pytest.raises(DesignError, match="listed twice"):
        build_design(cohort, [CovariateSpec("sex", True), CovariateSpec("sex", True)])
    with pytest.raises(DesignError, match="is not numeric"):
        build_design(cohort, [CovariateSpec("sex", categorical=False)])
    with pytest.raises(DesignError, match="atg is not among the model covariates"):
        specs_from_options(cohort, ["sex"], categorical=["atg"])


def test_default_cut_is_the_median_to_two_significant_digits():
    assert default_cut(pd.Series([1.0, 9.3, 9.44, 20.0, np.nan])) == 9.4  # median 9.37
    assert default_cut(pd.Series([3.0, 14.0, 14.5, 60.0])) == 14.0  # median 14.25
    assert default_cut(pd.Series([0.012, 0.0234, 0.0236, 0.05])) == 0.024  # median 0.0235


@pytest.mark.parametrize("values, cut", [
    ([1000.0, 1001.0, 1002.0, 1003.0, 1004.0], 1002.0),  # rounding to 1000 would put everyone above: the median
    ([0.0, 0.0, 0.0, 1.0, 1.0], 1.0),  # the median is the smallest value: the next larger one
    ([5.0, 5.0, np.nan], 5.0),  # one value: no cut splits, the value itself
    ([np.nan, np.nan], 0.0),  # nothing recorded
    ([], 0.0),
])
def test_default_cut_fallbacks(values, cut):
    assert default_cut(pd.Series(values, dtype=float)) == cut
