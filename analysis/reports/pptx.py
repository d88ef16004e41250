"""The report pack as a PowerPoint deck (python-pptx): one figure or table per slide, titles editable.

Slides: the title slide (title, date, data source, filters, n of N, the
synthetic-data notice where it applies); one slide per figure (a PNG at 2×
the export width, its caption in an editable text box and in the speaker
notes) and per table (a native, editable PowerPoint table); the methods; and
what could not be computed, if anything.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Inches, Pt

from analysis.figures.export import EXPORT_WIDTH, figure_image
from analysis.figures.style import for_presentation, without_title
from analysis.reports.pack import Report, ReportItem

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)  # 16:9
_MARGIN = Inches(0.4)
_BODY_TOP = Inches(1.1)
_CAPTION_HEIGHT = Inches(0.5)
#: Narrowest width of a figure on a slide in CSS pixels; a figure is drawn as wide as the slide's room
#: for its height (:func:`slide_figure_width`), so the slide fills with the figure at its full type size.
SLIDE_FIGURE_WIDTH = EXPORT_WIDTH
_MAX_FIGURE_WIDTH = 1800
#: Type and lines of a slide figure, as presentation mode draws them but a little less (the slide is smaller).
SLIDE_FONT_SCALE, SLIDE_LINE_SCALE = 1.2, 1.4
_TITLE_ONLY, _TITLE_SLIDE = 5, 0
_MUTED = RGBColor(0x55, 0x55, 0x55)
PNG_SCALE = 2


def _title(slide, text: str, size: int = 28) -> None:
    shape = slide.shapes.title
    # The default template is 4:3: stretch the title over the 16:9 slide, one line high above the body.
    shape.left, shape.top, shape.width, shape.height = _MARGIN, Inches(0.2), SLIDE_WIDTH - 2 * _MARGIN, Inches(0.85)
    shape.text = text
    for paragraph in shape.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(size)
            run.font.bold = True


def _text_box(slide, lines: Sequence[str], top: int, height: int, size: int, colour: RGBColor | None = None) -> None:
    box = slide.shapes.add_textbox(_MARGIN, top, SLIDE_WIDTH - 2 * _MARGIN, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        for run in paragraph.runs:
            run.font.size = Pt(size)
            if colour is not None:
                run.font.color.rgb = colour


def _caption_lines(report: Report, item: ReportItem) -> list[str]:
    lines = report.caption.with_method(item.method).lines()
    return [item.note, *lines] if item.note else lines


_ROOM_W = SLIDE_WIDTH - 2 * _MARGIN
_ROOM_H = SLIDE_HEIGHT - _BODY_TOP - _CAPTION_HEIGHT - Inches(0.1)


def slide_figure_width(height_px: float) -> int:
    """The width (CSS px) at which a figure ``height_px`` tall fills the slide's figure room edge to edge.

    The room is wider than most figures are, and a figure's height decides its
    scale on the slide: drawing it wider uses the room without making its type smaller.
    """
    return int(min(max(SLIDE_FIGURE_WIDTH, height_px * _ROOM_W / _ROOM_H), _MAX_FIGURE_WIDTH))


def _figure_slide(prs, report: Report, item: ReportItem, image: bytes, size: tuple[int, int]) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[_TITLE_ONLY])
    _title(slide, item.title)
    room_w, room_h = _ROOM_W, _ROOM_H
    width_px, height_px = size
    scale = min(room_w / width_px, room_h / height_px)
    w, h = int(width_px * scale), int(height_px * scale)
    slide.shapes.add_picture(io.BytesIO(image), int((SLIDE_WIDTH - w) / 2), _BODY_TOP, w, h)
    lines = _caption_lines(report, item)
    _text_box(slide, [" ".join(lines)], SLIDE_HEIGHT - _CAPTION_HEIGHT, _CAPTION_HEIGHT, 9, _MUTED)
    slide.notes_slide.notes_text_frame.text = "\n".join(lines)


def _table_slide(prs, report: Report, item: ReportItem) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[_TITLE_ONLY])
    _title(slide, item.title)
    table = item.table
    assert table is not None
    rows, cols = len(table) + 1, len(table.columns)
    size = 14 if rows <= 10 else 12 if rows <= 16 else 10
    height = min(SLIDE_HEIGHT - _BODY_TOP - _CAPTION_HEIGHT - Inches(0.2), Inches(0.4) * rows)
    shape = slide.shapes.add_table(rows, cols, _MARGIN, _BODY_TOP, SLIDE_WIDTH - 2 * _MARGIN, height)
    cells = shape.table
    for j, column in enumerate(table.columns):
        cells.cell(0, j).text = str(column)
    for i, row in enumerate(table.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            cells.cell(i, j).text = "" if value is None else str(value)
    for i in range(rows):
        for j in range(cols):
            for paragraph in cells.cell(i, j).text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(size)
    lines = _caption_lines(report, item)
    _text_box(slide, [" ".join(lines)], SLIDE_HEIGHT - _CAPTION_HEIGHT, _CAPTION_HEIGHT, 9, _MUTED)
    slide.notes_slide.notes_text_frame.text = "\n".join(lines)


def _opening(prs, report: Report) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[_TITLE_SLIDE])
    _title(slide, report.title, 36)
    slide.shapes.title.top, slide.shapes.title.height = Inches(1.6), Inches(1.4)
    subtitle = slide.placeholders[1]
    subtitle.left, subtitle.top = _MARGIN, Inches(3.2)
    subtitle.width, subtitle.height = SLIDE_WIDTH - 2 * _MARGIN, Inches(2.4)
    subtitle.text = "\n".join(report.title_lines())
    for paragraph in subtitle.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(18)
    if report.notice:
        _text_box(slide, [report.notice], SLIDE_HEIGHT - Inches(1.1), Inches(0.8), 16, RGBColor(0xA0, 0x40, 0x00))


def _text_slide(prs, title: str, paragraphs: Sequence[str], size: int = 14) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[_TITLE_ONLY])
    _title(slide, title)
    _text_box(slide, paragraphs, _BODY_TOP, SLIDE_HEIGHT - _BODY_TOP - _MARGIN, size)


def report_pptx(report: Report, images: Sequence[bytes] | None = None) -> bytes:
    """The deck as bytes. ``images``: PNGs of ``report.figures`` in order (rendered here when not given)."""
    figures = report.figures
    slide_figures = {id(item): for_presentation(without_title(item.figure), SLIDE_FONT_SCALE, SLIDE_LINE_SCALE)
                     for item in figures if item.figure is not None}
    if images is None:
        images = [figure_image(fig, "png", scale=PNG_SCALE, width=slide_figure_width(fig.layout.height or 600))
                  for fig in (slide_figures[id(item)] for item in figures if item.figure is not None)]
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    _opening(prs, report)
    image_of = {id(item): image for item, image in zip(figures, images, strict=True)}
    for item in report.items:
        if item.figure is not None:
            height = int(slide_figures[id(item)].layout.height or 600)
            _figure_slide(prs, report, item, image_of[id(item)], (slide_figure_width(height), height))
        elif item.table is not None:
            _table_slide(prs, report, item)
    _text_slide(prs, "Methods", [report.methods] + ([report.notice] if report.notice else []))
    if report.problems:
        _text_slide(prs, "Not computed for this view", list(report.problems))
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()
