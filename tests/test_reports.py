"""The report pack: the PowerPoint deck and the offline HTML opened and read back, the CLI, the methods."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from analysis.cohort.filters import CohortFilter, SavedCohort
from analysis.reports.html import report_html
from analysis.reports.methods import MethodsUsed, km_method, methods_paragraph
from analysis.reports.pack import SAVED, ReportRequest, build_report
from analysis.reports.pptx import report_pptx
from analysis.reports.tables import table_csv, table_xlsx

ROOT = Path(__file__).resolve().parent.parent
FIGURE_KEYS = ["km-os", "km-rfs", "cif-relapse", "cif-nrm", "forest"]
T_ALL = CohortFilter().with_levels("lineage", ["T-ALL"])


@pytest.fixture(scope="module")
def report(demo_cohort):
    return build_report(demo_cohort, ReportRequest(filters=CohortFilter(age_range=(5.0, 19.0)), compare="lineage"),
                        source="Demo cohort (synthetic)", synthetic=True)


@pytest.fixture(scope="module")
def deck(report):
    return Presentation(io.BytesIO(report_pptx(report)))


@pytest.fixture(scope="module")
def page(report):
    return report_html(report)


def _slide_texts(slide) -> str:
    parts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
    for shape in slide.shapes:
        if shape.has_table:
            parts += [cell.text for row in shape.table.rows for cell in row.cells]
    return "\n".join(parts)


def test_the_report_holds_every_figure_and_the_tables(report, demo_cohort):
    assert [i.key for i in report.figures] == FIGURE_KEYS
    keys = [i.key for i in report.tables]
    assert {"km-os-medians", "km-os-landmarks", "km-rfs-landmarks", "cif-landmarks", "cif-gray"} <= set(keys)
    assert report.problems == ()
    n = int(demo_cohort["age_years"].between(5.0, 19.0).sum())
    assert (report.caption.n, report.caption.n_total) == (n, len(demo_cohort)) == (61, 75)
    assert report.title_lines()[1:4] == ["Data: Demo cohort (synthetic)", "Filters: age 5–19 y", "Patients: 61 of 75"]


def test_the_deck_has_a_slide_per_figure_and_table_with_editable_titles(deck, report):
    slides = list(deck.slides)
    assert len(slides) == 1 + len(report.items) + 1  # title, one per item, methods
    titles = [s.shapes.title.text for s in slides]
    assert titles[1:-1] == [i.title for i in report.items] and titles[-1] == "Methods"
    pictures = [s for s in slides if any(sh.shape_type == MSO_SHAPE_TYPE.PICTURE for sh in s.shapes)]
    assert len(pictures) == len(report.figures)
    tables = [s for s in slides if any(sh.has_table for sh in s.shapes)]
    assert len(tables) == len(report.tables)
    first = _slide_texts(slides[0])
    assert "Filters: age 5–19 y" in first and "Patients: 61 of 75" in first and "not real patients" in first
    assert "Kaplan-Meier method with Greenwood's variance" in _slide_texts(slides[-1])
    for slide in pictures:  # every figure slide carries its caption, also in the speaker notes
        assert "Filters: age 5–19 y" in _slide_texts(slide)
        assert "Patients: 61 of 75" in slide.notes_slide.notes_text_frame.text
    assert deck.slide_width > deck.slide_height  # 16:9


def test_the_deck_pictures_are_at_least_twice_the_export_width(deck):
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.shape_type == MSO_SHAPE_TYPE.PICTURE:
                assert shape.image.size[0] >= 2 * 1200


def test_slide_figures_fill_the_slide_and_their_type_reads_at_the_back_of_a_room(deck):
    """Body text of a figure (16 px × the slide scale) lands at ≥ 10.5 pt, and the picture spans the slide."""
    from analysis.figures.style import FONT_SIZE
    from analysis.reports.pptx import PNG_SCALE, SLIDE_FONT_SCALE, SLIDE_WIDTH

    pictures = [shape for slide in deck.slides for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) >= 5
    for shape in pictures:
        inches_per_px = shape.height / 914400 / (shape.image.size[1] / PNG_SCALE)
        assert FONT_SIZE * SLIDE_FONT_SCALE * inches_per_px * 72 >= 10.5
        assert shape.width >= 0.8 * SLIDE_WIDTH


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.scripts = 0
        self.headings: list[str] = []
        self._in_h2 = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for name in ("href", "src", "action", "data"):
            if name in attrs and tag != "img":
                self.links.append(attrs[name])
        if tag in ("script", "link", "iframe", "object", "embed"):
            self.scripts += 1
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag):
        self._in_h2 = False if tag == "h2" else self._in_h2

    def handle_data(self, data):
        if self._in_h2:
            self.headings.append(data)
        self.text.append(data)


def test_the_html_report_is_self_contained_and_complete(page, report):
    parsed = _Collector()
    parsed.feed(page)
    assert len(parsed.images) == len(report.figures)
    assert all(src.startswith("data:image/svg+xml;base64,") for src in parsed.images)
    assert parsed.links == [] and parsed.scripts == 0
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.IGNORECASE)  # no external URL at all
    assert parsed.headings == [i.title for i in report.items] + ["Methods"]
    text = " ".join(parsed.text)
    assert "Filters: age 5–19 y" in text and "Patients: 61 of 75" in text
    assert "Aalen-Johansen estimator" in text and "not real patients" in text
    assert text.count("Number at risk") == 0  # the at-risk tables are inside the figures' drawings


def test_text_from_data_is_escaped_in_the_html(demo_cohort):
    saved = (SavedCohort("<script>alert(1)</script>", T_ALL), SavedCohort("B & friends", CohortFilter()))
    report = build_report(demo_cohort, ReportRequest(saved=saved, compare=SAVED), source="<b>x</b>.csv",
                          synthetic=False)
    page = report_html(report, images=[b"<svg/>"] * len(report.figures))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;.csv" in page and "B &amp; friends" in page


def test_disclosure_control_reaches_the_report_tables(demo_cohort):
    report = build_report(demo_cohort.head(30), ReportRequest(compare="lineage", min_count=5), source="x.csv",
                          synthetic=False)
    cells = [str(v) for item in report.tables for v in item.table.to_numpy().ravel()]
    assert any(c == "<5" or "<5 at risk" in c for c in cells)
    assert not any(re.search(r"(?<![\d.])[1-4] at risk", c) for c in cells)
    assert "Disclosure control" in " ".join(report.caption.lines())
    assert report.notice is None  # uploaded data: no synthetic-data notice


def test_methods_follow_what_was_computed():
    grouped = methods_paragraph(MethodsUsed(grouped=True, gray=True, test="Log-rank", trend=True,
                                            cox_covariates=("Age group", "Lineage")))
    assert "compared with the log-rank test and a log-rank test for trend" in grouped
    assert "Gray's test" in grouped and "Efron's method for ties" in grouped and "reverse Kaplan-Meier" in grouped
    alone = methods_paragraph(MethodsUsed(grouped=False, conf_type="plain", cox_endpoint=None))
    assert "Gray" not in alone and "log-rank" not in alone and "Cox" not in alone and "linear (plain) scale" in alone
    assert re.search(r"HSCT2 Explorer \d+\.\d+\.\d+ \(Python 3\.\d+", alone)
    assert km_method("log", "Peto-Peto (Fleming-Harrington G(1, 0))").endswith("Peto-Peto (Fleming-Harrington "
                                                                               "G(1, 0)) test")


def test_table_files_are_formula_safe(demo_cohort):
    table = pd.DataFrame({"Group": ["=HYPERLINK(\"x\")", "B"], "n": [3, 40]})
    csv = table_csv(table).decode("utf-8-sig")
    assert csv.splitlines()[1].lstrip('"').startswith("'=HYPERLINK")
    book = openpyxl.load_workbook(io.BytesIO(table_xlsx(table, ["@SUM(1)", "Made today"])))
    assert book["Table"]["A2"].value.startswith("'=") and book["Table"]["B3"].value == 40
    assert [c.value for c in book["About"]["A"]] == ["About this table", "'@SUM(1)", "Made today"]


def test_cli_report_and_figure(tmp_path):
    deck, page, image = tmp_path / "r.pptx", tmp_path / "r.html", tmp_path / "km.svg"
    run = [sys.executable, "-m", "analysis"]
    out = subprocess.run([*run, "report", "--format", "pptx", "--out", str(deck), "--filters", "lineage=T-ALL",
                          "--group", "sex"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "figures: 5" in out.stdout
    texts = _slide_texts(Presentation(str(deck)).slides[0])
    assert "Filters: lineage: T-ALL" in texts and "Patients: 17 of 75" in texts
    out = subprocess.run([*run, "report", "--format", "html", "--out", str(page)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0 and "<h2>Overall survival</h2>" in page.read_text(encoding="utf-8")
    out = subprocess.run([*run, "figure", "km-rfs", "--format", "svg", "--out", str(image), "--group", "lineage"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    svg = image.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "Relapse-free survival by lineage" in svg and "Patients: 75 of 75" in svg
    bad = subprocess.run([*run, "report", "--format", "pptx", "--out", str(deck), "--group", "saved cohorts"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "needs saved cohorts in --filters" in bad.stderr and "Traceback" not in bad.stderr
