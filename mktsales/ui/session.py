"""Who is using this browser tab: sign-in form, session cookie, single sign-on, sign-out.

The browser holds only a random token (cookie ``mktsales_session``); every script run resolves
it against the database (mktsales.accounts.resolve), so the role and regions always come from
the server. Streamlit cannot set cookies from Python; a tiny script in the page does, and
Streamlit hands the cookie back on the next connection (st.context.cookies), which is what keeps
a user signed in across reloads until the session expires.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json

import streamlit as st

from mktsales import accounts, config
from mktsales.access import User
from mktsales.db import Database
from mktsales.i18n import t
from mktsales.ui.text import md

COOKIE = "mktsales_session"
_TOKEN = "_mktsales_token"
_PENDING_COOKIE = "_mktsales_set_cookie"  # token to write into the cookie on the next run
_WROTE_COOKIE = "_mktsales_wrote_cookie"  # this run holds the script that sets the cookie
_DEAD = "_mktsales_dead_token"  # a token this tab signed out or found expired: ignore the cookie
_NOTICE = "_mktsales_signin_notice"
USER_KEY = "user"  # the resolved User for this run, for the pages (rewritten every run)


def _sso_configured() -> bool:
    """True when the deployment configured OpenID Connect ([auth] in .streamlit/secrets.toml)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sso_identity() -> tuple[str, bool] | None:
    """The signed-in OIDC identity's e-mail and whether the provider verified it, or None."""
    try:
        if st.user.is_logged_in:
            email = str(st.user.get("email") or "") or None
            verified = st.user.get("email_verified")
            # Only a real true counts (some providers send the claim as the string "true").
            return (email, verified is True or str(verified).lower() == "true") if email else None
    except Exception:
        return None
    return None


def _sso_email() -> str | None:
    identity = _sso_identity()
    return identity[0] if identity else None


def client_address() -> str | None:
    """The client's address as this app sees it, for the audit trail and the sign-in limits.

    The connection's own address (None for a local connection, as Streamlit reports it), or,
    when config.client_ip_header() names a header a reverse proxy sets, that header's last entry
    (the address the proxy itself saw; earlier entries of X-Forwarded-For are the client's word).
    Anything that is not an IP address counts as unknown.
    """
    try:
        header = config.client_ip_header()
        if header:
            raw = st.context.headers.get(header)
            raw = str(raw).split(",")[-1].strip() if isinstance(raw, str) else None
        else:
            raw = st.context.ip_address
        return str(ipaddress.ip_address(raw)) if isinstance(raw, str) else None
    except Exception:  # no script run context (bare mode), or not an address
        return None


def current_user(db: Database, lang: str) -> User | None:
    """The signed-in user of this tab, or None; also writes a pending session cookie."""
    state = st.session_state
    state[_WROTE_COOKIE] = False
    cookie = st.context.cookies.get(COOKIE)
    cookie = cookie if isinstance(cookie, str) else None
    token = state.get(_TOKEN) or (cookie if cookie != state.get(_DEAD) else None)
    user = accounts.resolve(db, token)
    if user is None and token:
        state[_DEAD] = token  # expired, revoked or deactivated
        state.pop(_TOKEN, None)
        state[_NOTICE] = "signin.expired"
        _write_cookie(None)
    if user is None and _sso_configured():
        user = _sso_user(db)
    if user is not None:
        state[_TOKEN] = state.get(_TOKEN) or token
        user = dataclasses.replace(user, client_ip=client_address())  # carried into the audit trail
    if _PENDING_COOKIE in state:
        _write_cookie(state.pop(_PENDING_COOKIE) or None)
    state[USER_KEY] = user
    return user


def _sso_user(db: Database) -> User | None:
    identity = _sso_identity()
    if identity is None:
        return None
    email, verified = identity
    st.session_state["_mktsales_sso_email"] = email
    try:
        opened = accounts.sign_in_sso(db, email, verified=verified, client=client_address())
    except accounts.AccountError as refused:  # an address the provider has not verified
        st.session_state[_NOTICE] = refused.key
        return None
    if opened is None:
        st.session_state[_NOTICE] = "signin.sso_unknown"
        return None
    user, token = opened
    _start(token)
    return user


def _start(token: str) -> None:
    st.session_state[_TOKEN] = token
    st.session_state[_PENDING_COOKIE] = token
    st.session_state.pop(_NOTICE, None)


def writes_cookie() -> bool:
    """Whether this run sets or clears the cookie: it must then be drawn to the end, not switched
    away from, or the browser never runs the script."""
    return bool(st.session_state.get(_WROTE_COOKIE))


def _write_cookie(token: str | None) -> None:
    """Set (or clear) the session cookie in the browser."""
    st.session_state[_WROTE_COOKIE] = True
    max_age = int(config.session_hours() * 3600) if token else 0
    value = json.dumps(token or "")
    st.html(
        "<script>document.cookie = "
        f"'{COOKIE}=' + {value} + '; Path=/; Max-Age={max_age}; SameSite=Strict'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
        width="content",
    )


def sign_in_form(db: Database, lang: str) -> None:
    """The sign-in page: username and password, single sign-on when configured, demo accounts."""
    st.title(t("signin.title", lang))
    notice = st.session_state.get(_NOTICE)
    if notice:
        st.info(t(notice, lang, email=st.session_state.get("_mktsales_sso_email", "")))
    with st.form("signin", border=True, enter_to_submit=True):
        username = st.text_input(t("signin.username", lang), key="signin_username", autocomplete="username")
        password = st.text_input(
            t("signin.password", lang),
            type="password",
            key="signin_password",
            autocomplete="current-password",
        )
        submitted = st.form_submit_button(t("signin.submit", lang), type="primary", width="stretch")
    if submitted:
        try:
            _user, token = accounts.sign_in(db, username, password, client=client_address())
        except accounts.AccountError as refused:
            if refused.key == "signin.too_many":  # about this client, not the account: says nothing of it
                st.error(t("signin.too_many", lang))
            else:  # one message for unknown name, wrong password and locked account
                st.error(
                    t(
                        "signin.failed",
                        lang,
                        n=config.lockout_attempts(),
                        minutes=t("unit.minutes", lang, n=int(config.lockout_minutes())),
                    )
                )
        else:
            _start(token)
            st.rerun()
    if _sso_configured():
        st.divider()
        if st.button(t("signin.sso", lang), icon=":material/badge:", width="stretch"):
            st.login()
    if not accounts.has_accounts(db):
        st.warning(t("signin.no_accounts", lang))
    elif db.scalar("SELECT count(*) FROM users WHERE demo AND active"):
        _demo_hint(db, lang)


def _demo_hint(db: Database, lang: str) -> None:
    rows = db.rows("SELECT username, role FROM users WHERE demo AND active ORDER BY user_id")
    with st.expander(t("signin.demo_title", lang), icon=":material/science:"):
        st.caption(t("signin.demo_note", lang, password=accounts.DEMO_PASSWORD))
        st.table(
            {
                t("signin.username", lang): [r[0] for r in rows],
                t("account.role", lang): [t(f"role.{r[1]}", lang) for r in rows],
            },
            hide_index=True,
        )


def sign_out(db: Database) -> None:
    """End this tab's session (server side), clear the cookie, and forget the filters' user data."""
    state = st.session_state
    token = state.pop(_TOKEN, None)
    accounts.sign_out(db, token)
    state[_DEAD] = token
    state[_PENDING_COOKIE] = ""
    state.pop(_NOTICE, None)
    for key in [k for k in state if str(k).split(".")[0] in ("region", "category")]:
        del state[key]  # the next user may have other regions
    if _sso_email():
        st.logout()


def regions_label(user: User, region_names: dict[int, str], lang: str) -> str:
    """'All regions' or the user's region names."""
    if user.allowed_regions is None:
        return t("filter.regions_all", lang)
    return ("、" if lang == "zh" else ", ").join(region_names.get(r, str(r)) for r in user.regions)


def sidebar_account(db: Database, user: User, region_names: dict[int, str], lang: str) -> None:
    """Who is signed in, and the sign-out button, at the bottom of the sidebar."""
    st.sidebar.divider()
    st.sidebar.markdown(f"**{md(user.display_name)}** · {t(f'role.{user.role}', lang)}")
    st.sidebar.caption(t("account.sidebar_regions", lang, regions=regions_label(user, region_names, lang)))
    if st.sidebar.button(t("signin.sign_out", lang), icon=":material/logout:", key="sign_out"):
        sign_out(db)
        st.rerun()


def token() -> str | None:
    """This tab's session token (to keep it open when the user changes their password)."""
    return st.session_state.get(_TOKEN)
