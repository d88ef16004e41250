"""Static export: PNG at ≥ 2× and SVG from one warm Chromium, captions, presentation scaling, label room."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import kaleido
import numpy as np
import pytest
from PIL import Image

from analysis.analyses.survival import compare_survival
from analysis.cohort.grouping import compare_by
from analysis.figures import export
from analysis.figures.curves import curve_figure, kaplan_meier_curve
from analysis.figures.export import EXPORT_WIDTH, figure_image
from analysis.figures.style import FONT_SIZE, PRESENTATION_FONT_SCALE, for_presentation, text_width
from analysis.reports.caption import FigureCaption, with_caption
from analysis.stats.kaplan_meier import fit_kaplan_meier


@pytest.fixture(scope="module")
def figure(demo_cohort):
    result = compare_survival(compare_by(demo_cohort, "lineage"), "os")
    return curve_figure([kaplan_meier_curve(km) for km in result.curves], y_title="Overall survival", title="OS")


CAPTION = FigureCaption(source="Demo cohort (synthetic)", synthetic=True, filters="all patients", n=75, n_total=75,
                        saved=(("Older T-ALL", "age 10–19 y; lineage: T-ALL"),), method="Kaplan-Meier; log-rank test",
                        min_count=5)


def test_png_is_at_least_twice_the_figure_size_and_svg_is_a_drawing(figure):
    png = Image.open(io.BytesIO(figure_image(figure, "png", scale=2)))
    assert png.size == (2 * EXPORT_WIDTH, 2 * int(figure.layout.height))
    svg = ET.fromstring(figure_image(figure, "svg"))
    assert svg.tag.endswith("svg") and float(svg.get("width")) == EXPORT_WIDTH
    with pytest.raises(ValueError, match="format must be one of png, svg"):
        figure_image(figure, "jpg")


def test_one_warm_browser_serves_every_export(figure, monkeypatch):
    figure_image(figure, "svg")
    assert export.server_running()
    thread = kaleido._global_server._thread
    opened = []
    monkeypatch.setattr(kaleido, "start_sync_server", lambda *a, **k: opened.append(k))
    for fmt in ("png", "svg", "png"):
        figure_image(figure, fmt, scale=1)
    assert opened == [] and kaleido._global_server._thread is thread  # no new browser


def test_the_export_browser_is_the_system_chromium(monkeypatch):
    monkeypatch.delenv("HSCT2_CHROMIUM", raising=False)
    assert export.chromium_path() == "/usr/bin/chromium"
    monkeypatch.setenv("HSCT2_CHROMIUM", "/opt/chrome")
    assert export.chromium_path() == "/opt/chrome"


def test_caption_lines_say_what_the_figure_shows():
    lines = CAPTION.lines()
    assert lines[0] == "Data: Demo cohort (synthetic), not real patients. Patients: 75 of 75. Filters: all patients."
    assert lines[1] == "Saved cohort “Older T-ALL”: age 10–19 y; lineage: T-ALL."
    assert lines[2] == "Method: Kaplan-Meier; log-rank test."
    assert lines[3].startswith("Disclosure control: counts from 1 to 4")
    assert lines[-1].startswith(f"Made {CAPTION.date.isoformat()} with HSCT2 Explorer ")


def test_caption_is_printed_under_the_figure_and_the_figure_grows(figure):
    captioned = with_caption(figure, CAPTION)
    note = captioned.layout.annotations[-1]
    assert "Saved cohort “Older T-ALL”" in note.text and note.yanchor == "top"
    grown = captioned.layout.height - figure.layout.height
    assert grown == captioned.layout.margin.b - figure.layout.margin.b > 0
    widest = max(text_width(line, note.font.size) for line in note.text.split("<br>"))
    assert widest <= EXPORT_WIDTH - 24  # wrapped to the export width: never cut at the right edge
    svg = figure_image(captioned, "svg").decode()
    assert "Older T-ALL" in svg and "not real patients" in svg
    assert figure.layout.height < captioned.layout.height  # the original is left alone


def test_presentation_scales_type_lines_and_room_once(figure):
    big = for_presentation(figure)
    assert big.layout.xaxis.tickfont.size == pytest.approx(FONT_SIZE * PRESENTATION_FONT_SCALE)
    assert big.layout.yaxis.tickfont.size == pytest.approx(FONT_SIZE * PRESENTATION_FONT_SCALE)  # shared dict once
    assert big.layout.height == pytest.approx(figure.layout.height * PRESENTATION_FONT_SCALE)
    solid = [t for t in big.data if t.mode == "lines" and t.showlegend is not False]
    assert solid[0].line.width > 3
    assert figure.layout.xaxis.tickfont.size == FONT_SIZE  # the original is unchanged


def test_text_width_matches_arial_metrics():
    assert text_width("All patients", 15, bold=False) == pytest.approx(12 * 15 * 0.47, rel=0.15)
    assert text_width("<b>MMUD</b>", 10) == pytest.approx(text_width("MMUD", 10))
    assert text_width("W", 10) > text_width("i", 10) * 3


@pytest.mark.parametrize("name", ["All patients", "L with ATG", "Older T-ALL with ATG and a long name"])
def test_left_margin_holds_any_risk_table_label(name):
    rng = np.random.default_rng(1)
    km = fit_kaplan_meier(rng.exponential(20, 40), rng.integers(0, 2, 40), label=name)
    fig = curve_figure([kaplan_meier_curve(km)], y_title="OS")
    standoff = fig.layout.yaxis2.ticklabelstandoff
    assert fig.layout.margin.l >= text_width(name, fig.layout.yaxis2.tickfont.size, bold=True) + standoff


def test_legend_stands_beside_the_plot_never_over_the_title(figure):
    legend = figure.layout.legend
    assert legend.orientation == "v" and legend.x > 1 and legend.xanchor == "left"
    names = [t.name for t in figure.data if t.name and t.showlegend is not False]
    assert figure.layout.margin.r >= max(text_width(n, legend.font.size) for n in names) + 40


def test_without_title_keeps_the_test_line_and_shortens_the_figure():
    """On a slide the slide's title names the figure; the figure keeps its subtitle (the test) as its title."""
    import plotly.graph_objects as go

    from analysis.figures.style import without_title

    fig = go.Figure(layout={"height": 600, "margin": {"t": 114}, "title": {"text": "<b>OS by donor</b>",
                                                                        "subtitle": {"text": "Log-rank: p = 0.379"}}})
    slide = without_title(fig)
    assert slide.layout.title.text == "Log-rank: p = 0.379" and slide.layout.height == 560
    inline = go.Figure(layout={"height": 500, "margin": {"t": 100},
                               "title": {"text": "<b>Cox model</b><br><span>n = 75 patients, 35 events</span>"}})
    assert without_title(inline).layout.title.text == "<span>n = 75 patients, 35 events</span>"
    assert without_title(go.Figure(layout={"height": 400})).layout.height == 400
