"""The report pack as one self-contained HTML file: no scripts, no fonts, no request to any server.

Figures are SVG drawings embedded as ``data:`` images, tables are HTML
tables, the style sheet is inline; the file opens offline, prints, and can be
sent by e-mail. Every text that came from data or a link (file names,
cohort names, levels) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from analysis.figures.export import figure_image
from analysis.reports.pack import Report, ReportItem

_STYLE = """
body { font-family: Arial, Helvetica, sans-serif; color: #222; max-width: 1240px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 2em; margin-bottom: 0.2em; } h2 { font-size: 1.4em; margin-top: 2em; }
.meta { color: #444; line-height: 1.5; } .notice { background: #fff4e5; border-left: 4px solid #a04000;
padding: 0.6em 1em; } figure { margin: 1em 0; } figure img { width: 100%; height: auto; }
figcaption, .caption { color: #555; font-size: 0.9em; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { border-bottom: 1px solid #ddd; padding: 4px 10px;
text-align: left; } th { background: #f3f5f8; } .methods { line-height: 1.5; }
@media print { h2 { page-break-before: always; } }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _caption(report: Report, item: ReportItem) -> str:
    lines = report.caption.with_method(item.method).lines()
    return "<br>".join(_e(line) for line in ([item.note, *lines] if item.note else lines))


def _figure(report: Report, item: ReportItem, svg: bytes) -> str:
    data = base64.b64encode(svg).decode("ascii")
    return (f"<section><h2>{_e(item.title)}</h2><figure><img alt=\"{_e(item.title)}\" "
            f"src=\"data:image/svg+xml;base64,{data}\"><figcaption>{_caption(report, item)}</figcaption>"
            "</figure></section>")


def _table(report: Report, item: ReportItem) -> str:
    assert item.table is not None
    table = item.table.to_html(index=False, escape=True, border=0, na_rep="–")
    return f"<section><h2>{_e(item.title)}</h2>{table}<p class=\"caption\">{_caption(report, item)}</p></section>"


def report_html(report: Report, images: Sequence[bytes] | None = None) -> str:
    """The report as an HTML document. ``images``: SVGs of ``report.figures`` in order (rendered when not given)."""
    figures = report.figures
    if images is None:
        images = [figure_image(item.figure, "svg") for item in figures if item.figure is not None]
    svg_of = {id(item): image for item, image in zip(figures, images, strict=True)}
    parts = [f"<h1>{_e(report.title)}</h1>",
             "<p class=\"meta\">" + "<br>".join(_e(line) for line in report.title_lines()) + "</p>"]
    if report.notice:
        parts.append(f"<p class=\"notice\">{_e(report.notice)}</p>")
    for item in report.items:
        parts.append(_figure(report, item, svg_of[id(item)]) if item.figure is not None else _table(report, item))
    parts.append(f"<section><h2>Methods</h2><p class=\"methods\">{_e(report.methods)}</p></section>")
    if report.problems:
        parts.append("<section><h2>Not computed for this view</h2><ul>"
                     + "".join(f"<li>{_e(p)}</li>" for p in report.problems) + "</ul></section>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            f"<title>{_e(report.title)}</title><style>{_STYLE}</style></head><body>"
            + "\n".join(parts) + "</body></html>")
