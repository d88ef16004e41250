"""Optional sign-in with Streamlit's OpenID Connect login (``st.login``).

With an ``[auth]`` section in ``.streamlit/secrets.toml`` (see the README's
Deploy section) every page asks for sign-in first and the sidebar names the
user with a "Sign out" button. Without one the app is open, and the sidebar
says so: anyone who has the address can use it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from analysis.text import escape_markdown

OPEN_NOTICE = ("Open access: no sign-in is configured, so anyone with this address can use the app. "
               "Use uploaded data only where your institution allows it.")


def auth_configured() -> bool:
    """Whether ``[auth]`` is in the app's secrets (no secrets file at all means no)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml: Streamlit raises its own not-found error
        return False


def _user() -> dict[str, Any]:
    """The signed-in user's claims (``st.user``); empty when nobody is signed in."""
    info = st.user.to_dict()
    return info if info.get("is_logged_in") else {}


def _user_name(user: dict[str, Any]) -> str:
    return str(user.get("name") or user.get("email") or "signed-in user")


def signed_in_or_open() -> bool:
    """True when the page may run: sign-in is not configured, or the user is signed in.

    Otherwise shows the sign-in screen and returns False. The sidebar states which case applies.
    """
    if not auth_configured():
        st.sidebar.caption(OPEN_NOTICE)
        return True
    user = _user()
    if not user:
        st.title("HSCT2 Explorer")
        st.info("This installation asks you to sign in first (OpenID Connect).", icon=":material/lock:")
        st.button("Sign in", key="auth_login", type="primary", on_click=st.login)
        return False
    st.sidebar.caption(f"Signed in as {escape_markdown(_user_name(user))}")
    st.sidebar.button("Sign out", key="auth_logout", on_click=st.logout)
    return True
