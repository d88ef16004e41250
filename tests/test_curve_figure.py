"""The generic step-curve figure: risk table aligned with the ticks, fading, marks, units."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.figures.curves import (
    PALETTE,
    Curve,
    ReferenceMarker,
    curve_figure,
    kaplan_meier_curve,
    nice_ticks,
)
from analysis.stats.kaplan_meier import fit_kaplan_meier


@pytest.fixture
def two_curves():
    rng = np.random.default_rng(7)
    a = fit_kaplan_meier(np.round(rng.exponential(30, 60), 1), rng.integers(0, 2, 60), label="B-ALL")
    b = fit_kaplan_meier(np.round(rng.exponential(12, 20), 1), rng.integers(0, 2, 20), label="T-ALL")
    return a, b


def risk_traces(fig):
    return [t for t in fig.data if t.mode == "text" and t.yaxis == "y2"]


def main_traces(fig):
    return [t for t in fig.data if t.showlegend is not False and t.mode == "lines"]


def test_risk_table_sits_exactly_on_the_ticks(two_curves):
    fig = curve_figure([kaplan_meier_curve(k) for k in two_curves], y_title="Overall survival")
    ticks = np.array(fig.layout.xaxis.tickvals)
    rows = risk_traces(fig)
    assert len(rows) == 2
    for trace, km in zip(rows, two_curves, strict=True):
        np.testing.assert_array_equal(trace.x, ticks)
        assert [int(v) for v in trace.text] == km.risk_table(ticks)["n_at_risk"].tolist()
    # The table's x-axis is the curves' x-axis (same range and ticks), and it sits under the curves.
    assert fig.layout.xaxis2.matches == "x"
    np.testing.assert_array_equal(fig.layout.xaxis2.tickvals, ticks)
    assert fig.layout.yaxis2.domain[1] < fig.layout.yaxis.domain[0]


def test_each_risk_row_has_its_curve_colour(two_curves):
    fig = curve_figure([kaplan_meier_curve(k) for k in two_curves], y_title="Overall survival")
    for i, trace in enumerate(risk_traces(fig)):
        assert trace.textfont.color == PALETTE[i]
        assert PALETTE[i] in trace.y[0] and two_curves[i].label in trace.y[0]
    assert [t.line.color for t in main_traces(fig)] == list(PALETTE[:2])


def test_cumulative_events_in_brackets(two_curves):
    fig = curve_figure([kaplan_meier_curve(two_curves[0])], y_title="OS", cumulative_events=True)
    ticks = np.array(fig.layout.xaxis.tickvals)
    expected = two_curves[0].risk_table(ticks)
    assert list(risk_traces(fig)[0].text) == [f"{n} ({e})" for n, e in
                                             zip(expected["n_at_risk"], expected["cumulative_events"], strict=True)]
    assert "cumulative events" in fig.layout.annotations[0].text


def test_without_risk_table_there_is_one_row(two_curves):
    fig = curve_figure([kaplan_meier_curve(two_curves[0])], y_title="OS", risk_table=False)
    assert not risk_traces(fig) and "xaxis2" not in fig.layout.to_plotly_json()


def test_years_divide_the_axis_not_the_numbers(two_curves):
    km = two_curves[0]
    months = curve_figure([kaplan_meier_curve(km)], y_title="OS", time_unit="months")
    years = curve_figure([kaplan_meier_curve(km)], y_title="OS", time_unit="years")
    assert main_traces(years)[0].x[-1] == pytest.approx(main_traces(months)[0].x[-1] / 12)
    assert "(years)" in years.layout.xaxis.title.text and "(months)" in months.layout.xaxis.title.text
    ticks = np.array(years.layout.xaxis.tickvals)
    assert [int(v) for v in risk_traces(years)[0].text] == km.risk_table(ticks * 12)["n_at_risk"].tolist()


def test_tail_is_faded_where_few_remain_at_risk():
    km = fit_kaplan_meier(np.arange(1, 21, dtype=float), np.ones(20))
    fig = curve_figure([kaplan_meier_curve(km)], y_title="OS", fade_below=5)
    solid, faded = [t for t in fig.data if t.mode == "lines" and t.line.width == 3]
    # After t = 16 four patients (17..20) remain: the faded part starts at 16 and joins the solid part.
    assert solid.x[-1] == 16 and faded.x[0] == 16 and faded.opacity < 1
    assert np.all(km.risk_table(np.array(faded.x[1:]))["n_at_risk"] < 5)
    none = curve_figure([kaplan_meier_curve(km)], y_title="OS", fade_below=None)
    assert len([t for t in none.data if t.mode == "lines" and t.line.width == 3]) == 1


def test_fading_starts_on_a_flat_stretch_not_at_the_last_event():
    # Deaths at 1..4, then ten censorings at 10..19: fewer than 5 remain after t = 15.
    km = fit_kaplan_meier([1, 2, 3, 4, *range(10, 20)], [1, 1, 1, 1, *[0] * 10])
    fig = curve_figure([kaplan_meier_curve(km)], y_title="OS", fade_below=5)
    solid, faded = [t for t in fig.data if t.mode == "lines" and t.line.width == 3]
    assert solid.x[-1] == 15 and faded.x[0] == 15 and faded.x[-1] == 19
    assert solid.y[-1] == faded.y[0] == km.survival_at([15])["survival"].iloc[0]


def test_censor_marks_sit_on_the_curve_and_are_thinned():
    rng = np.random.default_rng(3)
    km = fit_kaplan_meier(np.round(rng.uniform(0, 100, 5000), 2), rng.integers(0, 2, 5000))
    fig = curve_figure([kaplan_meier_curve(km)], y_title="OS", max_censor_marks=100)
    marks = next(t for t in fig.data if t.mode == "markers")
    assert len(marks.x) <= 100 < len(km.censor_times)
    at = km.survival_at(np.array(marks.x))
    np.testing.assert_allclose(marks.y, at["survival"])


def test_increasing_curve_starts_at_zero():
    t = np.array([2.0, 5.0, 9.0])
    cif = Curve(label="Relapse", time=t, estimate=np.array([0.1, 0.25, 0.4]), lower=np.array([0.02, 0.1, 0.2]),
                upper=np.array([0.3, 0.45, 0.6]), at_risk=lambda x: np.searchsorted(-t[::-1], -x, side="right"),
                censor_times=np.array([6.0]), start=0.0)
    fig = curve_figure([cif], y_title="Cumulative incidence of relapse", y_range=(0, 0.6))
    line = main_traces(fig)[0]
    assert line.x[0] == 0 and line.y[0] == 0
    mark = next(tr for tr in fig.data if tr.mode == "markers")
    assert mark.y[0] == 0.25


def test_ci_band_has_no_holes_where_R_has_NA():
    km = fit_kaplan_meier([1, 2, 3], [0, 1, 1])  # S = 1 then 0.5 then 0: log-log CI NA at both ends
    fig = curve_figure([kaplan_meier_curve(km)], y_title="OS")
    band = [t for t in fig.data if t.fill == "tonexty"]
    assert len(band) == 1 and not np.isnan(np.array(band[0].y, dtype=float)).any()
    no_band = curve_figure([kaplan_meier_curve(km)], y_title="OS", ci_band=False)
    assert not [t for t in no_band.data if t.fill == "tonexty"]


def test_reference_markers_are_drawn():
    km = fit_kaplan_meier([1, 20, 30, 70], [1, 1, 0, 0])
    refs = [ReferenceMarker(12, 0.577, "1 year"), ReferenceMarker(24, 0.48, "2 years")]
    fig = curve_figure([kaplan_meier_curve(km)], y_title="OS", reference_markers=refs, time_unit="years")
    ref = next(t for t in fig.data if t.name == "Published")
    assert list(ref.x) == [1.0, 2.0] and list(ref.y) == [0.577, 0.48]
    labels = [a for a in fig.layout.annotations if a.xref == "x"]
    assert [a.text for a in labels] == ["57.7%", "48.0%"] and [a.x for a in labels] == [1.0, 2.0]


def test_title_subtitle_and_axis_titles_for_a_slide(two_curves):
    fig = curve_figure([kaplan_meier_curve(k) for k in two_curves], y_title="Overall survival",
                       title="OS by lineage", subtitle="Log-rank p = 0.01", legend_title="Lineage")
    assert "OS by lineage" in fig.layout.title.text and fig.layout.title.subtitle.text == "Log-rank p = 0.01"
    assert fig.layout.yaxis.title.text == "Overall survival" and fig.layout.yaxis.tickformat == ".0%"
    assert fig.layout.font.size >= 14
    assert "n = " in main_traces(fig)[0].name


@pytest.mark.parametrize("options", [
    {}, {"time_unit": "years", "cumulative_events": True}, {"risk_table": False, "ci_band": False},
    {"title": "T", "subtitle": "S", "reference_markers": [ReferenceMarker(12, 0.5, "1 year")], "fade_below": None},
])
def test_figure_is_valid_plotly(two_curves, options):
    """The builder skips Plotly's validation for speed: every property must still be valid."""
    import plotly.graph_objects as go

    fig = curve_figure([kaplan_meier_curve(k) for k in two_curves], y_title="OS", **options)
    go.Figure(fig.to_dict())  # raises ValueError on any invalid property


def test_invalid_property_would_be_caught():
    import plotly.graph_objects as go

    with pytest.raises(ValueError, match="Invalid property"):
        go.Figure({"data": [{"type": "scatter", "colour": "red"}]})


def test_nice_ticks():
    assert nice_ticks(60, "months").tolist() == [0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60]
    assert nice_ticks(100, "months").tolist() == list(range(0, 109, 12))
    assert nice_ticks(5.7, "years").tolist() == [0, 1, 2, 3, 4, 5, 6]


def test_bad_arguments_are_named(two_curves):
    with pytest.raises(ValueError, match="time_unit must be"):
        curve_figure([kaplan_meier_curve(two_curves[0])], y_title="OS", time_unit="days")
    with pytest.raises(ValueError, match="no curves to draw"):
        curve_figure([], y_title="OS")


def test_large_cohort_figure_is_small():
    rng = np.random.default_rng(5)
    n = 100_000
    curves = [kaplan_meier_curve(fit_kaplan_meier(np.round(rng.exponential(40, n // 4), 2),
                                                  rng.integers(0, 2, n // 4), label=str(i))) for i in range(4)]
    fig = curve_figure(curves, y_title="OS")
    points = sum(len(t.x) for t in fig.data)
    assert points < 200_000  # one point per distinct time at most, not per patient pair of traces


def test_many_steps_are_thinned_to_the_step_values():
    rng = np.random.default_rng(9)
    km = fit_kaplan_meier(rng.uniform(0, 100, 30_000), np.ones(30_000))
    line = main_traces(curve_figure([kaplan_meier_curve(km)], y_title="OS", fade_below=None))[0]
    assert len(line.x) <= 2001
    at = km.survival_at(np.array(line.x[1:]))
    np.testing.assert_allclose(line.y[1:], at["survival"])


def test_thinned_curve_differs_from_the_full_one_only_within_a_bin():
    """Each true step is drawn at the next kept point, less than 1/2000 of the axis later, at its true value."""
    rng = np.random.default_rng(11)
    km = fit_kaplan_meier(np.round(rng.exponential(30, 8000), 3), rng.integers(0, 2, 8000))
    fig = curve_figure([kaplan_meier_curve(km)], y_title="OS", fade_below=None, ci_band=True)
    line = main_traces(fig)[0]
    x, y = np.asarray(line.x), np.asarray(line.y)
    steps = km.table.loc[km.table["n_event"] > 0, "time"].to_numpy()
    assert len(x) <= 2001 < len(steps)
    drawn_at = np.searchsorted(x, steps, side="left")  # the kept point that carries each true step
    assert (x[drawn_at] - steps).max() < x[-1] / 1999
    np.testing.assert_allclose(y[1:], km.survival_at(x[1:])["survival"])
    band = next(t for t in fig.data if t.fill == "tonexty")
    assert len(band.x) == len(x) and len(line.customdata) == len(x)


def test_states_figure_keeps_true_points_and_at_most_2000_per_state():
    from analysis.figures.cif import states_figure
    from analysis.stats.patient_states import state_probabilities

    rng = np.random.default_rng(12)
    n = 6000
    t = np.round(rng.exponential(30, n), 3)
    cause = rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2])
    states = state_probabilities(t, cause, label="all")
    fig = states_figure([states])
    first = fig.data[0]
    assert len(states.table) > 2000 >= len(first.x) - 1
    full = states.table.set_index("time")
    np.testing.assert_allclose(np.asarray(first.y) / 100, full.loc[np.asarray(first.x), states.states[0]])
