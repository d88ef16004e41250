"""Static images of the figures (PNG, SVG), rendered by Plotly's static export (kaleido) in one warm browser.

Kaleido 1.x draws a figure with plotly.js in a headless Chromium. Starting
that browser takes seconds, drawing in a running one a fraction of a second,
so this module starts **one** browser per process, on first use
(``kaleido.start_sync_server``), and sends every image to it
(``kaleido.calc_fig_sync`` uses the running server). A lock makes the
requests of concurrent sessions take turns: the server answers one request at
a time through a single queue.

The browser is the system Chromium: ``HSCT2_CHROMIUM`` if set, else
``/usr/bin/chromium`` when it exists, else whatever kaleido's own search
finds (``BROWSER_PATH``, then ``PATH``). MathJax is switched off and
plotly.js is the copy inside the plotly package, so rendering makes no
network request.

Figures are drawn at :data:`EXPORT_WIDTH` CSS pixels (a 16:9 slide's width)
and their own height; PNGs at ``scale`` 3 by default (3600 pixels across).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import kaleido
import plotly.graph_objects as go

#: Width of an exported figure in CSS pixels: a slide's width, so the fonts keep their size on the slide.
EXPORT_WIDTH = 1200
DEFAULT_SCALE = 3
FORMATS = ("png", "svg")
SYSTEM_CHROMIUM = "/usr/bin/chromium"
#: Seconds to wait for one image before giving up.
TIMEOUT = 60

_lock = threading.Lock()
_started = False


class ExportError(RuntimeError):
    """A figure could not be rendered to an image (no browser, or the browser failed)."""


def chromium_path() -> str | None:
    """The browser kaleido drives: ``$HSCT2_CHROMIUM``, else the system Chromium, else None (kaleido's search)."""
    chosen = os.environ.get("HSCT2_CHROMIUM")
    if chosen:
        return chosen
    return SYSTEM_CHROMIUM if Path(SYSTEM_CHROMIUM).exists() else None


def _ensure_server() -> None:
    global _started
    if _started and kaleido._global_server.is_running():
        return
    options: dict = {"n": 1, "timeout": TIMEOUT, "mathjax": False}
    path = chromium_path()
    if path is not None:
        options["path"] = path
    kaleido.start_sync_server(silence_warnings=True, **options)
    _started = True


def server_running() -> bool:
    """Whether this process's export browser is running (it starts on the first export)."""
    return bool(_started and kaleido._global_server.is_running())


def stop_export_server() -> None:
    """Close the export browser (it restarts on the next export); also done at interpreter exit."""
    global _started
    with _lock:
        kaleido.stop_sync_server(silence_warnings=True)
        _started = False


def figure_image(fig: go.Figure, fmt: str = "png", *, scale: float = DEFAULT_SCALE,
                 width: int = EXPORT_WIDTH) -> bytes:
    """The figure as PNG or SVG bytes, drawn by plotly.js in the warm export browser.

    Parameters
    ----------
    fig : plotly Figure
    fmt : {"png", "svg"}
    scale : float
        Pixel density of a PNG (3: three image pixels per CSS pixel); an SVG is scale-free.
    width : int
        Width in CSS pixels; the height is the figure's own (``layout.height``, else 600).

    Raises
    ------
    ExportError
        No browser could be started, or the rendering failed.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    spec = fig.to_plotly_json()
    height = spec.get("layout", {}).get("height") or 600
    opts = {"format": fmt, "width": int(width), "height": int(height), "scale": scale if fmt == "png" else 1}
    with _lock:
        try:
            _ensure_server()
            image = kaleido.calc_fig_sync(spec, opts=opts)
        except Exception as err:  # the browser's failures come as many types; name the cause for the reader
            raise ExportError(f"the figure could not be rendered to {fmt.upper()}: {err}") from err
    return image if isinstance(image, bytes) else str(image).encode("utf-8")
