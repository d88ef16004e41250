"""analysis/published.py: the one reader of data/published_targets.json and its accessors."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

from analysis.cohort.published import (
    HAZARD_RATIO_COLUMNS,
    TARGETS_PATH,
    TargetsFileError,
    load_targets,
    published_hazard_ratios,
    published_km_labels,
    published_median_relapse_months,
    published_n,
    published_survival,
)

RAW = json.loads(TARGETS_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def targets() -> dict:
    return load_targets()


def test_default_targets_are_the_committed_file(targets):
    assert targets == RAW


def test_survival_by_endpoint_and_month_matches_the_json(targets):
    survival = published_survival(targets)
    assert set(survival) == set(RAW["km"])
    for ep, points in RAW["km"].items():
        assert survival[ep] == {float(p["months"]): p["survival"] for p in points}
        assert all(isinstance(t, float) and isinstance(v, float) for t, v in survival[ep].items())


def test_km_labels_are_the_json_labels_at_the_same_months(targets):
    labels = published_km_labels(targets)
    survival = published_survival(targets)
    for ep, points in RAW["km"].items():
        assert labels[ep] == {float(p["months"]): p["label"] for p in points}
        assert labels[ep].keys() == survival[ep].keys()


@pytest.mark.parametrize("endpoint", ["os", "rfs"])
def test_hazard_ratios_match_the_json(targets, endpoint):
    table = published_hazard_ratios(targets, endpoint)
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == HAZARD_RATIO_COLUMNS
    expected = pd.DataFrame(RAW["cox"][endpoint])[HAZARD_RATIO_COLUMNS]
    pd.testing.assert_frame_equal(table, expected)


@pytest.mark.parametrize("endpoint", ["relapse", "nrm"])
def test_endpoints_the_paper_does_not_model_have_no_hazard_ratios(targets, endpoint):
    table = published_hazard_ratios(targets, endpoint)
    assert table.empty and list(table.columns) == HAZARD_RATIO_COLUMNS


def test_median_relapse_interval_and_n_match_the_json(targets):
    assert published_median_relapse_months(targets) == RAW["median_relapse_interval"]["value"]
    assert published_n(targets) == RAW["n_patients"]["value"]
    assert isinstance(published_n(targets), int)


def test_accessors_read_the_dict_they_are_given(targets):
    changed = copy.deepcopy(targets)
    changed["n_patients"]["value"] = 80
    changed["median_relapse_interval"]["value"] = 9.5
    changed["km"]["os"][0].update(survival=0.6, label="one year")
    assert published_n(changed) == 80
    assert published_median_relapse_months(changed) == 9.5
    assert published_survival(changed)["os"][12.0] == 0.6
    assert published_km_labels(changed)["os"][12.0] == "one year"


def test_missing_file_raises_a_clear_error(tmp_path):
    with pytest.raises(TargetsFileError, match=r"cannot read the published targets .* the file is missing"):
        load_targets(tmp_path / "missing.json")


def test_unreadable_file_raises_a_clear_error(tmp_path):
    bad = tmp_path / "targets.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(TargetsFileError, match="cannot read the published targets"):
        load_targets(bad)


def test_missing_entry_is_named(targets):
    broken = {k: v for k, v in targets.items() if k != "cox"}
    with pytest.raises(TargetsFileError, match="no entry 'cox'"):
        published_hazard_ratios(broken, "os")
    assert issubclass(TargetsFileError, ValueError)
