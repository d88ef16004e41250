"""The share link: page controls kept in the URL, and notices about what a link asked for.

Page controls that belong in the share link use keys ``<page>.<control>``
(e.g. ``survival.endpoint``) and call :func:`persist` before creating the widget
(without passing ``value``/``index``: the state set here is the value). The
frame's filters and saved cohorts are read and written by :mod:`ui.sidebar`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from ui.state import _KEEP

_NOTICES = "_notices"


def add_notice(text: str) -> None:
    """A one-time message shown above the next page (e.g. an ignored link value)."""
    st.session_state.setdefault(_NOTICES, []).append(text)


def pop_notices() -> list[str]:
    return st.session_state.pop(_NOTICES, [])


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
    raw = st.query_params.get(key)
    if raw is None:
        return default
    try:
        value = _decode(raw, default)
    except ValueError:
        value = None
    if value is None or (options is not None and not _valid(value, options)):
        st.warning(f"Share link: ignored {key}={raw!r}, not one of the choices; the default is used.")
        return default
    return value
