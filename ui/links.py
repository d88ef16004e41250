"""The share link: page controls kept in the URL, and notices about what a link asked for.

Page controls that belong in the share link use keys ``<page>.<control>``
(e.g. ``survival.endpoint``) and call :func:`persist` before creating the widget
(without passing ``value``/``index``: the state set here is the value). The
frame's filters and saved cohorts are read and written by :mod:`ui.sidebar`.

Notices about a link are sentences for a person, shown above the page (the
frame makes the place, :func:`notice_area`), never inside a collapsed
expander where the control happens to be, and always as plain text: a link's
values are escaped (:func:`analysis.text.escape_markdown`). What a link asks
for that can be used is kept: the valid items of a list, the last valid value
of a repeated key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analysis.text import escape_markdown
from ui.state import _KEEP

_NOTICES = "_notices"
_AREA = "_notice_area"
#: What a page control is called in a notice (the part of its key after the page).
CONTROL_NAMES: dict[str, str] = {
    "endpoint": "endpoint", "compare": "comparison", "times": "landmarks", "unit": "time unit",
    "ci": "confidence interval scale", "band": "confidence bands", "events": "cumulative events",
    "fade": "fading of the curve tail", "test": "test weights", "trend": "trend test", "split": "split of Table 1",
    "covariates": "covariates", "ref": "reference level", "numeric": "numeric covariate", "cut": "cut",
    "firth": "Firth fit", "univariable": "univariable estimates", "subgroup": "subgroup factor",
    "subgroup_by": "subgroups", "bin": "bin width", "mode": "group display", "scale": "bar scale",
}


def add_notice(text: str) -> None:
    """A one-time message shown above the next page (e.g. an ignored link value)."""
    st.session_state.setdefault(_NOTICES, []).append(text)


def pop_notices() -> list[str]:
    return st.session_state.pop(_NOTICES, [])


def notice_area() -> DeltaGenerator:
    """The place above the page where this run's link notices go (the frame calls it once per run)."""
    area = st.container()
    st.session_state[_AREA] = area
    return area


def _notify(text: str) -> None:
    area = st.session_state.get(_AREA)
    (area if isinstance(area, DeltaGenerator) else st).warning(escape_markdown(text), icon=":material/link:")


def control_name(key: str) -> str:
    """``survival.endpoint`` → "endpoint"; ``risk_factors.ref.donor`` → "reference level of donor"."""
    parts = key.split(".")
    name = CONTROL_NAMES.get(parts[1], parts[1].replace("_", " ")) if len(parts) > 1 else key
    return f"{name} of {parts[2]}" if len(parts) > 2 and parts[1] in ("ref", "numeric", "cut") else name


def _encode(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _decode(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.lower() in {"true", "1", "yes"}:
            return True
        if raw.lower() in {"false", "0", "no"}:
            return False
        raise ValueError(raw)
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list | tuple):
        return [v for v in raw.split(",") if v]
    return raw


def persist(key: str, default: Any, options: Sequence[Any] | None = None) -> Any:
    """Keep a page control in the share link and across page switches.

    The control's value comes, in this order, from its live widget state,
    from the last value it had in this session, from the link, or from
    ``default``. A link value that is not one of ``options`` is ignored
    with a notice. Call before creating the widget with ``key=key``.
    """
    kept: dict[str, Any] = st.session_state.setdefault(_KEEP, {})
    if key not in st.session_state:
        if key in kept:
            st.session_state[key] = kept[key]
        else:
            st.session_state[key] = _from_link(key, default, options)
    value = st.session_state[key]
    if options is not None and not _valid(value, options):
        value = st.session_state[key] = default
    kept[key] = value
    if value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = _encode(value)
    return value


def _valid(value: Any, options: Sequence[Any]) -> bool:
    if isinstance(value, list | tuple):
        return all(v in options for v in value)
    return value in options


def _from_link(key: str, default: Any, options: Sequence[Any] | None) -> Any:
    """The control's value from the link: a list keeps its valid items, a repeated key its last valid value."""
    raws = st.query_params.get_all(key)
    if not raws:
        return default
    if isinstance(default, list | tuple):
        items = [v for raw in raws for v in _decode(raw, default)]
        kept = [v for v in dict.fromkeys(items) if options is None or v in options]
        bad = [v for v in items if v not in kept]
        if bad:
            _notify(f"The link asks for {', '.join(f'“{v}”' for v in bad)} as {control_name(key)} on this page, "
                    f"which {'is not a choice' if len(bad) == 1 else 'are not choices'} here; "
                    + ("left out." if kept else "the default is shown."))
        return kept or default
    for raw in reversed(raws):
        try:
            value = _decode(raw, default)
        except ValueError:
            continue
        if options is None or _valid(value, options):
            return value
    shown = ", ".join(f"“{r}”" for r in raws)
    _notify(f"The link asks for {shown} as the {control_name(key)} on this page, which is not one of the choices; "
            f"the default ({_encode(default)}) is shown.")
    return default
