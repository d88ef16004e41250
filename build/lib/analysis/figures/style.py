"""One look for every figure: palette, fonts sized for a projected slide, background and axes.

Every figure of the dashboard, of its exports and of the command line takes
its colours, type sizes and axis style from here, so a Kaplan-Meier curve, a
forest plot and a histogram put side by side on a slide read alike.

Sizes are in CSS pixels at the figure's own size; exports scale them with
the image. 16 px body text stays legible on a projected slide at the back
of a room; nothing a reader needs is smaller than :data:`SMALL_FONT_SIZE`.
"""

from __future__ import annotations

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
