"""One look for every figure: palette, fonts sized for a projected slide, background and axes.

Every figure of the dashboard, of its exports and of the command line takes
its colours, type sizes and axis style from here, so a Kaplan-Meier curve, a
forest plot and a histogram put side by side on a slide read alike.

Sizes are in CSS pixels at the figure's own size; exports scale them with
the image. 16 px body text stays legible on a projected slide at the back
of a room; nothing a reader needs is smaller than :data:`SMALL_FONT_SIZE`.
"""

from __future__ import annotations

import re

import plotly.graph_objects as go

#: Okabe & Ito (2008) colour-blind-safe palette, yellow left out (unreadable on white).
PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

FONT_FAMILY = "Arial, Helvetica, sans-serif"
#: Tick labels, legends, numbers at risk, forest-plot columns.
FONT_SIZE = 16
#: Secondary text (footnotes, subtitles, labels beside markers); the smallest size a reader must read.
SMALL_FONT_SIZE = 14
TITLE_FONT_SIZE = 20
TEXT_COLOUR = "#222"
MUTED_COLOUR = "#555"
GRID_COLOUR = "#e5e5e5"
AXIS_LINE_COLOUR = "#444"

#: The published figures (Momm et al.) wherever they are drawn: open black diamonds.
REFERENCE_MARKER = {"symbol": "diamond-open", "size": 13, "color": TEXT_COLOUR, "line": {"width": 2}}

#: Axes of every Cartesian figure.
AXIS_STYLE: dict = {"gridcolor": GRID_COLOUR, "linecolor": AXIS_LINE_COLOUR, "showline": True, "zeroline": False,
                    "ticks": "outside", "tickfont": {"size": FONT_SIZE}, "title": {"font": {"size": FONT_SIZE}}}

#: A white background and the project's font. A plain dict, not a named Plotly
#: template: copying a named template costs a quarter of a second per figure.
LAYOUT_STYLE: dict = {"paper_bgcolor": "white", "plot_bgcolor": "white",
                      "font": {"family": FONT_FAMILY, "size": FONT_SIZE, "color": TEXT_COLOUR}}
TEMPLATE: dict = {"layout": LAYOUT_STYLE}


def axis(**overrides) -> dict:
    """The shared axis style with figure-specific settings on top (a new dict each call)."""
    out = {**AXIS_STYLE, **overrides}
    if "title" in overrides and isinstance(overrides["title"], dict):
        out["title"] = {"font": {"size": FONT_SIZE}, **overrides["title"]}
    return out


def rgba(hex_colour: str, alpha: float) -> str:
    """``"#0072B2"`` at opacity ``alpha`` as an ``rgba()`` colour."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def colour(i: int) -> str:
    """The ``i``-th colour of :data:`PALETTE` (cycling)."""
    return PALETTE[i % len(PALETTE)]


# ------------------------------------------------------------------ text widths

#: Advance widths of Helvetica (= Arial, Liberation Sans) in 1/1000 em, from its AFM metrics, for ASCII 32-126.
_HELVETICA_WIDTHS = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  # space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  # 0-9 : ; < = > ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  # @ A-O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  # P-Z [ \ ] ^ _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  # ` a-o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,  # p-z { | } ~
)
#: Bold Helvetica is about 6 % wider on average; other characters (≥, –, accented letters) count as an "n".
_BOLD_FACTOR = 1.06
_OTHER_WIDTH = 556


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in CSS pixels of one line of ``text`` at ``size`` px in the figures' font (Arial/Helvetica).

    Used to reserve room for labels (number-at-risk row names, legends) so that
    a long label such as a saved cohort's name is never cut at the figure's edge.
    HTML tags (``<b>``, ``<span ...>``) are not counted.
    """
    plain = _TAGS.sub("", text)
    units = sum(_HELVETICA_WIDTHS[ord(c) - 32] if 32 <= ord(c) <= 126 else _OTHER_WIDTH for c in plain)
    return units / 1000 * size * (_BOLD_FACTOR if bold else 1.0)


_TAGS = re.compile(r"<[^>]*>")


# ------------------------------------------------------------------ presentation mode

#: Presentation mode (a projector at the back of a room): type and lines this much larger.
PRESENTATION_FONT_SCALE = 1.3
PRESENTATION_LINE_SCALE = 1.6


def for_presentation(fig: go.Figure, font_scale: float = PRESENTATION_FONT_SCALE,
                     line_scale: float = PRESENTATION_LINE_SCALE) -> go.Figure:
    """A copy of ``fig`` for a projector: every font ``font_scale`` larger, lines and markers ``line_scale``
    thicker, and the figure's height and margins grown with the type, so nothing that fitted is cut."""
    spec = fig.to_plotly_json()
    layout = spec.get("layout", {})
    done: set[int] = set()  # a figure built from plain dicts may share one dict between traces or axes
    _scale_fonts(layout, font_scale, done)
    for trace in spec.get("data", []):
        _scale_fonts(trace, font_scale, done)
        _scale_once(trace.get("line"), "width", line_scale, done)
        _scale_once(trace.get("marker"), "size", font_scale, done)
    margin = layout.get("margin")
    if isinstance(margin, dict):
        layout["margin"] = {k: v * font_scale if isinstance(v, int | float) else v for k, v in margin.items()}
    if isinstance(layout.get("height"), int | float):
        layout["height"] = layout["height"] * font_scale
    return go.Figure(spec, _validate=False)


def _scale_once(node: object, key: str, factor: float, done: set[int]) -> None:
    if isinstance(node, dict) and isinstance(node.get(key), int | float) and id(node) not in done:
        done.add(id(node))
        node[key] = node[key] * factor


def _scale_fonts(node: object, factor: float, done: set[int]) -> None:
    """Multiply every ``size`` inside a ``font``-like dict (``font``, ``tickfont``, ``textfont`` ...), once each."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("font"):
                _scale_once(value, "size", factor, done)
            _scale_fonts(value, factor, done)
    elif isinstance(node, list | tuple):
        for item in node:
            _scale_fonts(item, factor, done)


# ------------------------------------------------------------------ slides

#: Vertical room a figure's own title takes (the title line; a subtitle under it takes about 24 px more).
_TITLE_ROOM, _SUBTITLE_ROOM = 40, 24


def without_title(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` for a slide whose own title says what the figure is: the figure's bold title is
    dropped, its subtitle (e.g. the test line) takes its place, and the figure is that much shorter."""
    spec = fig.to_plotly_json()
    layout = spec.get("layout", {})
    title = layout.get("title")
    if not isinstance(title, dict) or not title.get("text"):
        return go.Figure(spec, _validate=False)
    subtitle = (title.get("subtitle") or {}).get("text")
    saved = _TITLE_ROOM if subtitle else _TITLE_ROOM + _SUBTITLE_ROOM
    if subtitle is None and "<br>" in str(title["text"]):  # a subtitle written into the title, under a <br>
        subtitle = str(title["text"]).split("<br>", 1)[1]
        saved = _SUBTITLE_ROOM
    if subtitle:
        layout["title"] = {**{k: v for k, v in title.items() if k != "subtitle"}, "text": subtitle,
                           "font": {"size": FONT_SIZE, "color": TEXT_COLOUR}}
    else:
        layout.pop("title")
    margin = layout.get("margin")
    if isinstance(margin, dict) and isinstance(margin.get("t"), int | float):
        margin["t"] = max(10, margin["t"] - saved)
    if isinstance(layout.get("height"), int | float):
        layout["height"] = layout["height"] - saved
    return go.Figure(spec, _validate=False)
