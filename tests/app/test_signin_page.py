"""The sign-in page: the too-many message, single sign-on's verified address, the client's address."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mktsales import accounts
from mktsales.ui import session
from tests.app.conftest import ENTRY, app_db, page_path
from tests.conftest import TESTER


def submit(at: AppTest, username: str, password: str) -> str:
    """Fill the form, press the button, return the one error shown."""
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    at.button[0].click().run()
    assert not at.exception and len(at.error) == 1
    return at.error[0].value


def test_a_flood_of_failed_sign_ins_is_told_to_wait_a_minute(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MKTSALES_SIGNIN_PER_NAME", "2")
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    first = submit(at, "rep", "not-the-password")
    assert first.startswith("登录失败") and submit(at, "rep", "still-not-it") == first
    # the third in the minute is refused before any password check, with the right one too
    assert submit(at, "rep", "tiny-fixture-pw") == "登录尝试过多，请一分钟后再试。"
    assert submit(at, "nobody", "not-the-password") == first  # another name is not limited by it


SSO_SECRETS = {"auth": {"redirect_uri": "http://localhost/oauth2callback", "cookie_secret": "x" * 32}}


def sso_app(email: str, verified: object) -> AppTest:
    """The app after the identity provider signed someone in (st.user), single sign-on configured."""
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    at.secrets = SSO_SECRETS
    at.user = {"is_logged_in": True, "email": email, "email_verified": verified}
    return at.run()


def test_single_sign_on_refuses_an_unverified_e_mail_address(app_env: Path) -> None:
    accounts.update_user(app_db(), TESTER, "boss", email="boss@example.cn")
    for verified in (False, None, "false"):  # no claim at all is not a yes
        at = sso_app("boss@example.cn", verified)
        assert not at.exception
        assert [t.value for t in at.title] == ["登录"] and not at.metric
        assert [i.value for i in at.info] == [
            "公司账号 boss@example.cn 的邮箱地址未经身份提供方验证，不能用于登录。"
            "请先在公司账号中验证该邮箱，或联系管理员。"
        ]
        assert app_db().scalar("SELECT count(*) FROM sessions WHERE method = 'sso'") == 0
    at = sso_app("boss@example.cn", True)
    assert not at.exception and at.metric  # verified: the executive's overview
    assert app_db().scalar("SELECT count(*) FROM sessions WHERE method = 'sso'") == 1


def test_the_client_address_reaches_the_audit_trail_and_its_page(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "client_address", lambda: "203.0.113.7")
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    assert submit(at, "admin", "not-the-password").startswith("登录失败")
    at.text_input(key="signin_password").input("tiny-fixture-pw")
    at.button[0].click().run()
    assert not at.exception and at.session_state[session.USER_KEY].client_ip == "203.0.113.7"
    rows = app_db().rows(
        "SELECT actor, action, client_ip FROM audit_log WHERE action LIKE 'sign_in%' ORDER BY audit_id"
    )
    assert rows == [
        ("anonymous", "sign_in_attempt", "203.0.113.7"),
        ("anonymous", "sign_in_failed", "203.0.113.7"),
        ("anonymous", "sign_in_attempt", "203.0.113.7"),
        ("admin", "sign_in", "203.0.113.7"),
    ]
    at.switch_page(page_path("app_pages/audit.py")).run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert list(shown.columns)[:4] == ["编号", "时间", "操作人", "来源地址"]
    assert set(shown["来源地址"]) >= {"203.0.113.7"}


class FakeContext:
    def __init__(self, ip: object, headers: dict[str, str]) -> None:
        self.ip_address, self.headers = ip, headers


@pytest.mark.parametrize(
    ("header", "ip", "headers", "expected"),
    [
        (None, "203.0.113.7", {}, "203.0.113.7"),
        (None, None, {}, None),  # a local connection
        (None, "2001:DB8::5", {}, "2001:db8::5"),
        (None, "203.0.113.7", {"X-Forwarded-For": "198.51.100.1"}, "203.0.113.7"),  # not configured: ignored
        ("X-Forwarded-For", "10.0.0.2", {"X-Forwarded-For": "1.2.3.4, 198.51.100.1"}, "198.51.100.1"),
        ("X-Forwarded-For", "10.0.0.2", {}, None),
        ("X-Real-IP", "10.0.0.2", {"X-Real-IP": "<script>"}, None),  # not an address
    ],
)
def test_the_client_address_comes_from_the_connection_or_the_configured_proxy_header(
    monkeypatch: pytest.MonkeyPatch, header: str | None, ip: object, headers: dict, expected: str | None
) -> None:
    if header:
        monkeypatch.setenv("MKTSALES_CLIENT_IP_HEADER", header)
    else:
        monkeypatch.delenv("MKTSALES_CLIENT_IP_HEADER", raising=False)
    monkeypatch.setattr(session.st, "context", FakeContext(ip, headers))
    assert session.client_address() == expected
