"""Figure code never allocates from data values: an absurd time gives a normal-sized figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.analyses.relapse_timing import MAX_BINNED_MONTHS, timing_histogram
from analysis.figures.curves import curve_figure, kaplan_meier_curve, nice_ticks
from analysis.figures.timing import timing_figure
from analysis.stats.kaplan_meier import fit_kaplan_meier


@pytest.mark.parametrize("x_max", [0.0, 5.0, 60.0, 1300.0, 1e17, 1e300, float("nan"), float("inf"), -3.0])
def test_ticks_are_few_whatever_the_longest_time(x_max):
    ticks = nice_ticks(x_max, "months")
    assert 1 <= len(ticks) <= 11 and ticks[0] == 0
    if np.isfinite(x_max) and x_max > 0:
        assert ticks[-1] >= x_max * (1 - 1e-12)


def test_a_curve_with_a_time_of_1e17_months_draws_with_ten_ticks():
    km = fit_kaplan_meier(np.array([1.0, 5.0, 1e17]), np.array([1, 0, 1]))
    fig = curve_figure([kaplan_meier_curve(km, "all")], y_title="OS")
    ticks = fig.layout.xaxis.tickvals
    assert 2 <= len(ticks) <= 11


def test_the_timing_histogram_has_at_most_a_human_life_of_bins():
    frame = pd.DataFrame({"relapse": [1, 1, 1], "relapse_months": [2.0, 7.5, 1e17]})
    hist = timing_histogram(frame, bin_width=1)
    assert len(hist.table) == MAX_BINNED_MONTHS + 1
    assert hist.table["count"].sum() == 3  # the absurd time is counted in the last bin, not lost
    assert len(timing_figure(hist).data) >= 1
