"""Relapse-timing histograms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.relapse_timing import HSCT1_TO_RELAPSE, TimingError, timing_histogram
from analysis.cohort.grouping import compare_by
from analysis.figures.timing import timing_figure


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "relapse": [1, 1, 1, 0, 1, 1, 0, 1],
        "relapse_months": [0.5, 2.5, 2.9, np.nan, 7.0, 4.0, np.nan, 1.2],
        "months_hsct1_to_relapse": [3.0, 14.0, np.nan, 5.5, 20.0, 7.0, 2.0, 9.0],
        "group": ["a", "a", "a", "a", "b", "b", "c", "d"],
    })


def test_counts_per_bin_and_group(frame):
    hist = timing_histogram(frame, order=["a", "b", "c", "d"], bin_width=2)
    a = hist.table[hist.table["group"] == "a"]
    assert a["bin_start"].tolist() == [0, 2, 4, 6]
    assert a["count"].tolist() == [1, 2, 0, 0]
    assert hist.table.groupby("group")["percent"].sum().tolist() == pytest.approx([100, 100, 100])
    summary = hist.summary.set_index("group")
    assert summary.loc["a", "median"] == pytest.approx(2.5)
    assert summary.loc["b", "median"] == pytest.approx(5.5)
    assert summary.loc["a", ["n", "n_with_time"]].tolist() == [4, 3]
    assert np.isnan(summary.loc["c", "median"])


@pytest.mark.parametrize("width", [1, 2, 3])
def test_bins_cover_every_time(frame, width):
    hist = timing_histogram(frame, bin_width=width)
    assert hist.table["count"].sum() == (frame["relapse"] == 1).sum()
    assert np.allclose(hist.table["bin_end"] - hist.table["bin_start"], width)
    assert hist.table["bin_end"].max() > frame["relapse_months"].max()


def test_groups_without_relapse_or_with_one_are_named(frame):
    hist = timing_histogram(frame, order=["a", "b", "c", "d"])
    assert "c" not in set(hist.table["group"])
    assert any("Group c (1 patient): no relapse after HSCT2" in n for n in hist.notes)
    assert any("Group d: a single time" in n for n in hist.notes)


def test_hsct1_interval_uses_all_patients_with_a_time(frame):
    hist = timing_histogram(frame.drop(columns="group"), interval=HSCT1_TO_RELAPSE, bin_width=3)
    assert hist.summary["n_with_time"].item() == 7
    assert hist.summary["median"].item() == pytest.approx(7.0)


def test_bad_options_are_named(frame):
    with pytest.raises(TimingError, match="bin width must be 1, 2 or 3"):
        timing_histogram(frame, bin_width=5)
    with pytest.raises(TimingError, match="unknown interval"):
        timing_histogram(frame, interval="x")
    with pytest.raises(TimingError, match="no column months_hsct1_to_relapse"):
        timing_histogram(frame.drop(columns="months_hsct1_to_relapse"), interval=HSCT1_TO_RELAPSE)
    with pytest.raises(TimingError, match="no patient with a relapse after HSCT2"):
        timing_histogram(frame.assign(relapse=0))
    hist = timing_histogram(frame)
    with pytest.raises(TimingError, match="mode"):
        timing_figure(hist, mode="side")
    with pytest.raises(TimingError, match="scale"):
        timing_figure(hist, scale="share")


def test_figure_follows_mode_scale_and_reference(demo_cohort):
    comparison = compare_by(demo_cohort, "lineage")
    hist = timing_histogram(comparison.frame, order=comparison.order)
    overlay = timing_figure(hist, mode="overlay", scale="count", reference=8.2)
    stacked = timing_figure(hist, mode="stack", scale="percent")
    assert overlay.layout.barmode == "overlay" and stacked.layout.barmode == "stack"
    assert [t.name.split(":")[0] for t in overlay.data] == list(comparison.order)
    assert "median" in overlay.data[0].name
    assert list(stacked.data[0].y) == pytest.approx(hist.table.loc[hist.table["group"] == "B-ALL", "percent"])
    dotted = [s for s in overlay.layout.shapes if s.line.dash == "dot"]
    assert len(dotted) == 1 and dotted[0].x0 == 8.2
    medians = [s for s in overlay.layout.shapes if s.line.dash == "dash"]
    assert sorted(s.x0 for s in medians) == pytest.approx(sorted(hist.summary["median"]))
    assert not [s for s in stacked.layout.shapes if s.line.dash == "dot"]


def test_hsct1_figure_marks_early_relapse(demo_cohort):
    fig = timing_figure(timing_histogram(demo_cohort, interval=HSCT1_TO_RELAPSE))
    shaded = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(shaded) == 1 and (shaded[0].x0, shaded[0].x1) == (0, 6)


@pytest.mark.parametrize("width", [1, 2, 3])
def test_month_ticks_are_whole_bins(demo_cohort, width):
    fig = timing_figure(timing_histogram(demo_cohort, interval=HSCT1_TO_RELAPSE, bin_width=width))
    assert fig.layout.xaxis.dtick % width == 0
    assert fig.layout.xaxis.range[1] / fig.layout.xaxis.dtick <= 14
