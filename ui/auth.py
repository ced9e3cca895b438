"""Sign-in in the app: who is this session, the sidebar form, the gates, the admin page.

Three ways to establish an identity, one model (:class:`store.access.Identity`):

1. local accounts in the store (``python -m store users ...``): the sidebar form;
2. Streamlit's OpenID Connect sign-in (``st.login``), when ``.streamlit/secrets.toml``
   has an ``[auth]`` section; roles from ``BORDER_BRIEF_ROLE_MAP``;
3. a trusted header set by an authenticating reverse proxy
   (``BORDER_BRIEF_TRUSTED_HEADER``), honoured only on a connection from
   ``BORDER_BRIEF_TRUSTED_PROXIES`` that carries ``BORDER_BRIEF_PROXY_SECRET``.

A local sign-in survives a reload through a random token kept in a cookie
(``bb_session``: Path=/, SameSite=Strict, Secure on https, Max-Age of
``BORDER_BRIEF_SESSION_HOURS``); the store keeps only the token's SHA-256 and its
expiry, so signing out, a new password or a disabled account ends it at once. Streamlit
cannot set an HttpOnly cookie from a script, so the cookie is written by a script in
the page (see the README's "Sign-in and roles" for what that means). The token never
appears in a URL.

Hiding buttons here is a convenience: the store's write functions check the role again.
"""

from __future__ import annotations

import hmac
import ipaddress
import json

import streamlit as st

from layers.config import AuthSettings, ConfigurationError, load_auth_settings
from store import users
from store.access import Identity, mapped_role
from ui import data
from ui.text import md_escape

COOKIE = "bb_session"
_IDENTITY = "bb_identity"  # the session's Identity (local sign-in), or absent
_TOKEN = "bb_session_token"  # its token (for sign-out and the cookie)
_SIGNED_OUT = "bb_signed_out"  # signed out in this session: ignore the old cookie
_MESSAGE = "bb_sign_in_message"
_LOGGED = "bb_sign_in_logged"  # an OIDC/proxy identity already written to the sign-ins log
_CURRENT = "bb_current_identity"  # what refresh() found this run (None: anonymous)
NAME_KEY = "bb_sign_in_name"
PASSWORD_KEY = "bb_sign_in_password"
FORM_KEY = "bb_sign_in_form"


@st.cache_resource(show_spinner=False)
def _settings() -> AuthSettings:
    return load_auth_settings()


def settings() -> AuthSettings:
    try:
        return _settings()
    except ConfigurationError as exc:
        st.error(f"Configuration problem: {md_escape(exc)}")
        st.stop()
    raise AssertionError("unreachable")


def client() -> str:
    """The client's address as the server saw the connection ("local" for loopback or unknown)."""
    try:
        address = st.context.ip_address
    except Exception:  # no client context (a bare script run)
        return "local"
    return address if isinstance(address, str) and address else "local"


# --- who is this? ---------------------------------------------------------------------------

def _oidc_configured() -> bool:
    try:
        return bool(st.secrets.load_if_toml_exists()) and "auth" in st.secrets
    except Exception:
        return False


def _oidc_identity(config: AuthSettings) -> Identity | None:
    if not _oidc_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        email = st.user.get("email")
        name = email or st.user.get("name") or st.user.get("sub")
        groups = st.user.get("groups") or ()
    except Exception:
        return None
    if not name:
        return None
    if isinstance(groups, str):
        groups = [groups]
    return Identity(str(name)[:120], mapped_role(config.role_map, email, groups, config.default_role), via="oidc")


def _peer_is_trusted(peer: str, proxies: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if address in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def proxy_identity(config: AuthSettings, headers, peer: str | None) -> Identity | None:
    """The identity a trusted proxy names, or None: the header counts only on a connection
    from a configured proxy address that also carries the shared secret."""
    if not config.trusted_header:
        return None
    peer = peer or "127.0.0.1"  # Streamlit reports a loopback peer as None
    if not _peer_is_trusted(peer, config.trusted_proxies):
        return None
    secret = headers.get(config.proxy_secret_header) or ""
    if not (config.proxy_secret and hmac.compare_digest(secret.encode(), config.proxy_secret.encode())):
        return None
    name = (headers.get(config.trusted_header) or "").strip()
    if not name or len(name) > 120 or any(ord(c) < 32 for c in name):
        return None
    groups = [g for g in (headers.get(config.groups_header) or "").split(",")] if config.groups_header else []
    email = name if "@" in name else None
    role = mapped_role(config.role_map, email or name, groups, config.default_role)
    return Identity(name, role, via="proxy")


def _store():
    """The store, or None when it cannot be opened (the shared sidebar then shows why)."""
    from geo.io import LayerValidationError
    from store import StoreError

    try:
        return data.store()
    except (StoreError, LayerValidationError, ConfigurationError):
        return None


def _external_identity(config: AuthSettings) -> Identity | None:
    found = _oidc_identity(config)
    if found is None and config.trusted_header:
        try:
            peer = st.context.ip_address
            found = proxy_identity(config, st.context.headers, peer if isinstance(peer, str) else None)
        except Exception:
            found = None
    if found is not None and st.session_state.get(_LOGGED) != found:
        users.log(data.store(), found.name, "signed-in", client(), found.via)
        st.session_state[_LOGGED] = found
    return found


def refresh() -> Identity | None:
    """Once per run (app.py): take up a sign-in from the cookie, re-check a local one, or ask
    the configured provider/proxy; returns the identity (None: anonymous)."""
    identity = _resolve()
    st.session_state[_CURRENT] = identity
    return identity


def _resolve() -> Identity | None:
    config = settings()
    token = st.session_state.get(_TOKEN)
    if token is None and not st.session_state.get(_SIGNED_OUT):
        try:
            cookie = st.context.cookies.get(COOKIE)
        except Exception:
            cookie = None
        if isinstance(cookie, str) and cookie:
            token = cookie
    store = _store()
    if token and store is not None:
        identity = users.resume_session(store, token)
        if identity is None:  # expired, signed out elsewhere, password changed or account disabled
            st.session_state.pop(_IDENTITY, None)
            st.session_state.pop(_TOKEN, None)
        else:
            if st.session_state.get(_TOKEN) != token:
                users.log(store, identity.name, "resumed", client())
            st.session_state[_IDENTITY] = identity
            st.session_state[_TOKEN] = token
            return identity
    st.session_state.pop(_IDENTITY, None)
    return _external_identity(config) if store is not None else None


def current() -> Identity | None:
    """The signed-in identity of this session (as :func:`refresh` found it this run), or None."""
    return st.session_state.get(_CURRENT)


def can_edit() -> bool:
    identity = current()
    return identity is not None and identity.can_write


def editor_name() -> str:
    """The name changes are recorded under, or "" when this session may not write."""
    identity = current()
    return identity.name if identity is not None and identity.can_write else ""


# --- signing in and out -------------------------------------------------------------------

def _cookie_script(value: str, max_age: int) -> str:
    # json.dumps makes both values JavaScript string literals; the token is URL-safe base64.
    return (
        "<script>(function(){var secure = location.protocol === 'https:' ? '; Secure' : '';"
        f"document.cookie = {json.dumps(COOKIE)} + '=' + {json.dumps(value)} + "
        f"'; Path=/; Max-Age={int(max_age)}; SameSite=Strict' + secure;}})();</script>"
    )


def _write_cookie() -> None:
    """Keep the browser's cookie in step with the session (idempotent; runs in the page)."""
    token = st.session_state.get(_TOKEN)
    if token and st.session_state.get(_IDENTITY) is not None:
        st.html(_cookie_script(token, int(settings().session_hours * 3600)), unsafe_allow_javascript=True)
    elif st.session_state.get(_SIGNED_OUT):
        st.html(_cookie_script("", 0), unsafe_allow_javascript=True)


def _submit() -> None:
    name = (st.session_state.get(NAME_KEY) or "").strip()
    password = st.session_state.get(PASSWORD_KEY) or ""
    store = data.store()
    try:
        identity = users.sign_in(store, name, password, client())
    except users.SignInRefused as exc:
        st.session_state[_MESSAGE] = str(exc)
        return
    st.session_state[_TOKEN] = users.start_session(store, identity, settings().session_hours)
    st.session_state[_IDENTITY] = identity
    st.session_state.pop(_SIGNED_OUT, None)
    st.session_state.pop(_MESSAGE, None)


def _sign_out() -> None:
    token = st.session_state.pop(_TOKEN, None)
    identity = st.session_state.pop(_IDENTITY, None)
    if token:
        users.end_session(data.store(), token)
    if identity is not None:
        users.log(data.store(), identity.name, "signed-out", client(), identity.via)
    st.session_state[_SIGNED_OUT] = True


def sign_in_form(where=None) -> None:
    """The name/password form (and the team sign-in button when OIDC is configured)."""
    where = where or st
    message = st.session_state.pop(_MESSAGE, None)
    with where.form(FORM_KEY, clear_on_submit=True, border=False):
        st.text_input("Name", key=NAME_KEY, max_chars=120, autocomplete="username")
        st.text_input("Password", key=PASSWORD_KEY, type="password", max_chars=1024, autocomplete="current-password")
        st.form_submit_button("Sign in", on_click=_submit)
    if message:
        where.error(md_escape(message))
    if _oidc_configured():
        where.button("Sign in with your team's account", key="bb_sign_in_oidc", on_click=st.login)


def sidebar_section() -> None:
    """The sidebar's "Signed in as ..." with Sign out, or the sign-in form."""
    with st.sidebar:
        st.markdown("#### Sign-in")
        identity = current()
        _write_cookie()
        if identity is None:
            st.caption("Reading needs no sign-in; analysts sign in to change the catalogue.")
            sign_in_form()
            return
        st.markdown(f"Signed in as **{md_escape(identity.name)}** · {identity.role}")
        if identity.via == "local":
            st.button("Sign out", key="bb_sign_out", on_click=_sign_out)
        elif identity.via == "oidc":
            st.button("Sign out", key="bb_sign_out", on_click=st.logout)
        else:
            st.caption("Signed in by the site's proxy.")


def must_sign_in() -> bool:
    """True when this deployment shows nothing to anonymous visitors and this one is anonymous."""
    return not settings().public_read and current() is None


def sign_in_only_page() -> None:
    """What an anonymous visitor sees with BORDER_BRIEF_PUBLIC_READ=false: the form, nothing else."""
    _write_cookie()
    st.title("Border Brief")
    st.markdown("This briefing map is open to signed-in members of the team only. Sign in to continue.")
    sign_in_form()


def require_editor() -> Identity:
    """Stop the page unless an analyst or admin is signed in (the Edit page)."""
    identity = current()
    if identity is None:
        st.title("Edit the catalogue")
        st.info("Sign in as an analyst to add, change or retire features: use the form in the sidebar.")
        st.stop()
    if not identity.can_write:
        st.title("Edit the catalogue")
        st.warning(f"{md_escape(identity.name)} is a {identity.role}: viewers read the catalogue but cannot change it. "
                   "Ask an admin for the analyst role.")
        st.stop()
    return identity


def require_admin() -> Identity:
    identity = current()
    if identity is None or not identity.is_admin:
        st.error("Only admins may see this page.")
        st.stop()
    return identity


# --- the admin page ---------------------------------------------------------------------------

def _account_action(action: str, name: str) -> None:
    store = data.store()
    try:
        if action == "disable":
            users.set_disabled(store, name, True, by=current())
        elif action == "enable":
            users.set_disabled(store, name, False, by=current())
        else:
            users.set_role(store, name, action, by=current())
    except users.StoreError as exc:
        st.session_state["bb_admin_message"] = str(exc)
        return
    st.session_state["bb_admin_message"] = f"{name}: {action} done."


def admin_page() -> None:
    """Recent sign-ins, recent batches and the local accounts (role, disable/enable)."""
    import pandas as pd

    store = data.store()
    me = current()
    st.title("Admin")
    message = st.session_state.pop("bb_admin_message", None)
    if message:
        st.info(md_escape(message))
    st.header("Recent sign-ins")
    log = users.recent_sign_ins(store, 200)
    st.dataframe(
        pd.DataFrame({"time (UTC)": [r["at"].strftime("%Y-%m-%d %H:%M:%S") for r in log], "name": [r["name"] for r in log],
                      "outcome": [r["outcome"] for r in log], "client": [r["client"] for r in log],
                      "via": [r["via"] for r in log]}),
        hide_index=True, width="stretch", key="bb_admin_sign_ins",
    )
    st.header("Recent batches")
    batches = store.batch_list(100)
    st.dataframe(
        pd.DataFrame({"batch": [b["id"] for b in batches], "time (UTC)": [b["created_at"][:19].replace("T", " ") for b in batches],
                      "author": [b["author"] for b in batches], "kind": [b["kind"] for b in batches],
                      "undoes": [b["undoes"] for b in batches], "source": [b["source"] or "" for b in batches],
                      "comment": [b["comment"] for b in batches]}),
        hide_index=True, width="stretch", key="bb_admin_batches",
    )
    st.header("Local accounts")
    st.caption("New accounts and passwords: `python -m store users add NAME --role analyst --password-stdin` "
               "and `python -m store users set-password NAME --password-stdin` on the server.")
    for account in users.list_accounts(store):
        cols = st.columns([3, 2, 2])
        cols[0].markdown(f"**{md_escape(account.name)}** · {account.role}" + (" · disabled" if account.disabled else ""))
        roles = [r for r in ("viewer", "analyst", "admin") if r != account.role]
        mine = me is not None and account.name == me.name
        choice = cols[1].selectbox("Role", roles, key=f"bb_admin_role_{account.name}", label_visibility="collapsed",
                                   index=None, placeholder="Change role…", disabled=mine)
        if choice:
            _account_action(choice, account.name)
            st.session_state.pop(f"bb_admin_role_{account.name}", None)
            st.rerun()
        cols[2].button("Enable" if account.disabled else "Disable", key=f"bb_admin_toggle_{account.name}",
                       on_click=_account_action, args=("enable" if account.disabled else "disable", account.name),
                       disabled=mine, help="You cannot disable or demote yourself here." if mine else None)
