"""How a figure is shown on a page: its own slide styling, and a high-resolution PNG from the camera button."""

from __future__ import annotations

from typing import Any

import streamlit as st

#: The camera button of every figure saves a slide-ready PNG (3× the screen resolution).
FIGURE_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 3},
}


def show_figure(fig, key: str) -> None:
    """Render a Plotly figure with its own slide styling and a high-resolution PNG export."""
    config = {**FIGURE_CONFIG, "toImageButtonOptions": {**FIGURE_CONFIG["toImageButtonOptions"],
                                                         "filename": f"hsct2-{key}"}}
    # theme=None: the figure keeps its own fonts and colours instead of Streamlit's theme.
    st.plotly_chart(fig, width="stretch", theme=None, key=key, config=config)
