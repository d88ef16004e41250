"""Log-rank family against R survival 3.5-3 (fixtures made by tests/r/kaplan_meier.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.stats.logrank import (
    LogRankError,
    holm_adjust,
    logrank_test,
    logrank_trend_test,
    pairwise_logrank,
)

FIXTURES = Path(__file__).parent / "fixtures" / "kaplan_meier"
GROUPED = sorted(p.stem for p in FIXTURES.glob("*.json")
                 if json.loads(p.read_text(encoding="utf-8"))["data"]["group"] is not None)
REL_TOL = 1e-4  # the tolerance on test statistics


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def data_of(case: dict):
    d = case["data"]
    return np.array(d["time"], float), np.array(d["event"], int), np.array(d["group"], object)


def test_grouped_fixtures_exist():
    assert {"lung_sex", "lung_ecog", "veteran_celltype", "aml", "waltons", "edge_group_no_events"} <= set(GROUPED)


@pytest.mark.parametrize("rho_index", [0, 1])
@pytest.mark.parametrize("name", GROUPED)
def test_logrank_against_R(name, rho_index):
    """survdiff(Surv(time, event) ~ group, rho = 0) and rho = 1: chisq, df, p, O, E, Var."""
    case = load(name)
    ref = case["tests"]["survdiff"][rho_index]
    t, e, g = data_of(case)
    test = logrank_test(t, e, g, rho=ref["rho"], order=case["groups"])
    assert test.statistic == pytest.approx(ref["chisq"], rel=REL_TOL)
    assert test.df == ref["df"]
    assert test.p == pytest.approx(ref["pvalue"], rel=REL_TOL)
    np.testing.assert_allclose(test.table["observed"], ref["observed"], rtol=REL_TOL)
    np.testing.assert_allclose(test.table["expected"], ref["expected"], rtol=REL_TOL)
    np.testing.assert_allclose(test.variance, np.array(ref["var"]), rtol=REL_TOL, atol=1e-12)
    assert test.table["n"].tolist() == ref["n"]


@pytest.mark.parametrize("fh_index", [0, 1, 2, 3])
@pytest.mark.parametrize("name", GROUPED)
def test_fleming_harrington_against_R(name, fh_index):
    """G(p, q) with weights S(t-)^p (1 - S(t-))^q, computed in R by an explicit loop over event times."""
    case = load(name)
    ref = case["tests"]["fh"][fh_index]
    t, e, g = data_of(case)
    test = logrank_test(t, e, g, rho=ref["p"], gamma=ref["q"], order=case["groups"])
    assert test.statistic == pytest.approx(ref["chisq"], rel=REL_TOL)
    assert test.df == ref["df"]
    assert test.p == pytest.approx(ref["pvalue"], rel=REL_TOL)
    np.testing.assert_allclose(test.table["o_minus_e"], ref["o_minus_e"], rtol=REL_TOL, atol=1e-12)


def test_fleming_harrington_against_lifelines():
    """Cross-check with lifelines' multivariate_logrank_test(weightings="fleming-harrington")."""
    from lifelines.statistics import multivariate_logrank_test

    t, e, g = data_of(load("veteran_celltype"))
    ours = logrank_test(t, e, g, rho=1, gamma=1)
    theirs = multivariate_logrank_test(t, g, e, weightings="fleming-harrington", p=1, q=1)
    assert ours.statistic == pytest.approx(theirs.test_statistic, rel=REL_TOL)


@pytest.mark.parametrize("name", GROUPED)
def test_trend_against_R(name):
    """U = sum(score * (obs - exp)), V = score' var score from survdiff; scores 1..k."""
    case = load(name)
    ref = case["tests"]["trend"]
    t, e, g = data_of(case)
    test = logrank_trend_test(t, e, g, ref["scores"], order=case["groups"])
    assert test.statistic == pytest.approx(ref["statistic"], rel=REL_TOL)
    assert test.df == 1
    assert test.p == pytest.approx(ref["pvalue"], rel=REL_TOL)


def test_trend_ignores_a_shift_of_scores():
    t, e, g = data_of(load("lung_ecog"))
    a = logrank_trend_test(t, e, g, [0, 1, 2, 3])
    b = logrank_trend_test(t, e, g, [10, 11, 12, 13])
    assert a.statistic == pytest.approx(b.statistic)


@pytest.mark.parametrize("name", GROUPED)
def test_pairwise_against_R(name):
    """survdiff on each pair, then p.adjust(p, method = "holm")."""
    case = load(name)
    ref = case["tests"]["pairwise"]
    t, e, g = data_of(case)
    got = pairwise_logrank(t, e, g, order=case["groups"])
    assert list(zip(got["group1"], got["group2"], strict=True)) == [(r["group1"], r["group2"]) for r in ref]
    np.testing.assert_allclose(got["statistic"], [r["chisq"] for r in ref], rtol=REL_TOL)
    np.testing.assert_allclose(got["p"], [r["pvalue"] for r in ref], rtol=REL_TOL)
    np.testing.assert_allclose(got["p_holm"], [r["p_holm"] for r in ref], rtol=REL_TOL)


def test_holm_by_hand():
    # sorted p: 0.01*3 = 0.03, 0.02*2 = 0.04, 0.04*1 -> max(0.04, 0.04); order restored.
    assert holm_adjust([0.04, 0.01, 0.02]).tolist() == pytest.approx([0.04, 0.03, 0.04])
    assert holm_adjust([0.5, 0.6]).tolist() == [1.0, 1.0]


def test_two_groups_hand_computed():
    # Times 1 (A dies, 4 at risk: 2 A, 2 B), 2 (B dies, 2 at risk: 1 A, 1 B).
    test = logrank_test([1, 2, 3, 2], [1, 1, 0, 0], ["A", "A", "B", "B"])
    # At t=1: E_A = 1 * 2/4; V = 1*3/3 * 2/4 * 2/4 = 0.25. At t=2: 3 at risk (A:1, B:2), A dies:
    # E_A += 1/3; V += 1 * 2/2 * 1/3 * 2/3 = 2/9.
    o_minus_e = 2 - (0.5 + 1 / 3)
    v = 0.25 + 2 / 9
    assert test.statistic == pytest.approx(o_minus_e**2 / v)


def test_missing_groups_are_left_out():
    full = logrank_test([1, 2, 3, 4, 5], [1, 1, 0, 1, 1], ["A", "B", "A", "B", None])
    dropped = logrank_test([1, 2, 3, 4], [1, 1, 0, 1], ["A", "B", "A", "B"])
    assert full.statistic == pytest.approx(dropped.statistic)
    assert full.table["n"].tolist() == [2, 2]


def test_one_group_is_named():
    with pytest.raises(LogRankError, match="at least two groups"):
        logrank_test([1, 2, 3], [1, 0, 1], ["A", "A", "A"])


def test_no_events_is_named():
    with pytest.raises(LogRankError, match="no events in any group"):
        logrank_test([1, 2, 3], [0, 0, 0], ["A", "B", "A"])


def test_singular_variance_is_named_as_R_refuses_it():
    """R: ``survdiff(Surv(c(5, 5), c(1, 1)) ~ c("a", "b"))`` stops with "system is exactly singular"
    (and so with three groups); every patient at risk dies at the one event time, so O - E has no variance."""
    with pytest.raises(LogRankError, match="no information to tell the groups apart"):
        logrank_test([5, 5], [1, 1], ["a", "b"])
    with pytest.raises(LogRankError, match="no information to tell the groups apart"):
        logrank_test([5, 5, 5], [1, 1, 1], ["a", "b", "c"], rho=1.0)


def test_pairwise_leaves_a_pair_with_singular_variance_untested():
    t, e, g = [5, 5, 5, 5, 1, 2], [1, 1, 1, 1, 1, 1], ["a", "b", "a", "b", "c", "c"]
    got = pairwise_logrank(t, e, g).set_index(["group1", "group2"])
    assert np.isnan(got.loc[("a", "b"), "p"]) and np.isnan(got.loc[("a", "b"), "p_holm"])
    assert np.isfinite(got.loc[[("a", "c"), ("b", "c")], "p_holm"]).all()


def test_wrong_number_of_scores_is_named():
    with pytest.raises(LogRankError, match="2 scores for 3 groups"):
        logrank_trend_test([1, 2, 3], [1, 1, 1], ["A", "B", "C"], [1, 2])


def test_pairwise_keeps_untestable_pairs_out_of_holm():
    # B and C have no events: their pair cannot be tested and does not count in Holm's m.
    t, e, g = [1, 2, 3, 4, 5, 6], [1, 1, 0, 0, 0, 0], ["A", "A", "B", "B", "C", "C"]
    got = pairwise_logrank(t, e, g).set_index(["group1", "group2"])
    assert np.isnan(got.loc[("B", "C"), "p"]) and np.isnan(got.loc[("B", "C"), "p_holm"])
    raw = got.loc[[("A", "B"), ("A", "C")], "p"].to_numpy()
    np.testing.assert_allclose(got.loc[[("A", "B"), ("A", "C")], "p_holm"], holm_adjust(raw))
    assert holm_adjust(raw).max() == pytest.approx(min(1.0, 2 * raw.min())) or raw.min() != raw.max()


def test_large_cohort_gives_every_test():
    """100,000 tied times in four groups (speed is measured in benchmarks/bench_stats.py, not here)."""
    rng = np.random.default_rng(2)
    t = np.round(rng.exponential(30, 100_000), 2)
    e = rng.integers(0, 2, 100_000)
    g = rng.choice(["a", "b", "c", "d"], 100_000)
    test = logrank_test(t, e, g)
    pairs = pairwise_logrank(t, e, g)
    assert test.df == 3 and np.isfinite(test.statistic)
    assert len(pairs) == 6 and pairs["p_holm"].between(0, 1).all()


def test_caption_and_p_format():
    from analysis.analyses.survival import logrank_caption
    from analysis.text import p_value as format_p

    assert format_p(0.0004) == "p < 0.001" and format_p(0.0123) == "p = 0.012"
    test = logrank_test([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 0, 1], ["A", "A", "A", "B", "B", "B"], rho=1)
    text = logrank_caption(test)
    assert text.startswith("Peto-Peto") and f"χ² = {test.statistic:.2f}" in text and "df = 1" in text
