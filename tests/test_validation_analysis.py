"""The Model validation analysis: endpoints, horizon, tables and calibration groups."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.analyses.models import covariate_spec
from analysis.analyses.validation import ValidationError, horizon, metric_label, validate_models
from analysis.cohort.model import age_group
from analysis.stats.kaplan_meier import fit_kaplan_meier
from analysis.stats.prediction_metrics import calibration_groups


@pytest.fixture(scope="module")
def cohort(demo_cohort):
    return demo_cohort.assign(age_group=age_group(demo_cohort["age_years"], 10))


@pytest.fixture(scope="module")
def validation(cohort):
    specs = [covariate_spec(cohort, c, standard_reference=True) for c in ("age_group", "lineage")]
    return validate_models(cohort, "rfs", specs, folds=3, repeats=2, seed=5)


def test_horizon_is_five_years_or_where_a_fifth_is_still_followed():
    assert horizon(np.arange(1.0, 201.0)) == 60.0
    t = np.arange(1.0, 51.0)  # 20 % still followed from time 41 on
    assert horizon(t) == 40.0
    assert horizon(np.array([])) == 60.0


def test_tables_and_labels(validation):
    assert validation.design.seed == 5 and validation.n == 75 and validation.events == 43
    table = validation.table()
    assert list(table.columns) == ["Model", "Metric", "Apparent", "Optimism", "Optimism-corrected",
                                   "Cross-validated", "Folds"]
    assert len(table) == 3 * 6 and set(table["Folds"]) <= {f"{k} of 6" for k in range(7)}
    side = validation.side_by_side()
    assert list(side.columns) == ["Metric", "Cox: apparent", "Cox: corrected", "Forest: apparent",
                                  "Forest: corrected", "No covariates: apparent", "No covariates: corrected"]
    assert side["Metric"].iloc[0] == "Harrell's C"
    np.testing.assert_allclose(side["Cox: corrected"], table[table["Model"] == "Cox model"]["Optimism-corrected"])
    assert metric_label("auc_60", 30.0) == "Time-dependent AUC at 5 years"
    assert metric_label("ibs", 30.0) == "Integrated Brier score (0–2.5 years)"


def test_calibration_groups(validation):
    cal = validation.calibration
    assert set(cal["kind"]) == {"apparent", "cross-validated"}
    null = cal[cal["model"] == "null"]
    assert list(null["n"]) == [75, 75]  # one risk for everyone: one group
    cox = cal[(cal["model"] == "cox") & (cal["kind"] == "cross-validated")]
    assert cox["n"].sum() == 75 and len(cox) >= 2
    assert (np.diff(cox["predicted"].to_numpy()) > 0).all()


def test_calibration_groups_against_kaplan_meier():
    rng = np.random.default_rng(3)
    time = rng.exponential(20, 300)
    event = (rng.random(300) < 0.7).astype(int)
    risk = rng.random(300)
    table = calibration_groups(time, event, risk, 12.0, 3)
    assert list(table["n"]) == [100, 100, 100]
    lowest = risk <= np.quantile(risk, 1 / 3)
    km = fit_kaplan_meier(time[lowest], event[lowest]).survival_at([12.0]).iloc[0]
    assert table["observed"].iloc[0] == pytest.approx(1 - km["survival"])
    assert table["lower"].iloc[0] == pytest.approx(1 - km["upper"])
    assert table["predicted"].iloc[0] == pytest.approx(risk[lowest].mean())


@pytest.mark.parametrize(("endpoint", "message"), [("relapse", "model validation covers Overall survival and "
                                                                "Relapse-free survival, not Relapse")])
def test_competing_endpoints_are_refused(cohort, endpoint, message):
    with pytest.raises(ValidationError, match=message):
        validate_models(cohort, endpoint, [covariate_spec(cohort, "lineage")])


def test_too_few_patients_or_no_events(cohort):
    small = cohort.iloc[:7]
    with pytest.raises(ValidationError, match="7 patients are too few for 5-fold cross-validation"):
        validate_models(small, "os", [covariate_spec(small, "age_years")])
    alive = cohort.assign(death=0)
    with pytest.raises(ValidationError, match="there are no events"):
        validate_models(alive, "os", [covariate_spec(alive, "age_years")])
