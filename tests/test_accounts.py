"""Staff accounts: lockout, password change, disable, reset, and two-factor sign-in."""

import re
import time

import pyotp
import pytest
from helpers import login
from helpers import staff_user
from sqlalchemy import select

from feedback import demo
from feedback.extensions import db
from feedback.extensions import limiter
from feedback.models import AuditAction
from feedback.models import Event
from feedback.models import Role

LEAD = {"email": "lead@meijiang-edu.example", "password": "demo-lead-pass"}


def _sign_in(client, **overrides):
    return client.post("/auth/login", data={**LEAD, **overrides})


def test_a_full_sign_in_resets_the_count(app, client, demo_loaded):
    for _ in range(4):
        _sign_in(client, password="wrong password")
    assert _sign_in(client).status_code == 302
    with app.app_context():
        assert staff_user(Role.LEAD).failed_logins == 0


def test_login_attempts_are_rate_limited_per_client(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        limiter.reset()
        demo.load(db.session)
        db.session.commit()
    client = app.test_client()
    statuses = [
        _sign_in(client, email=f"x{n}@example.com").status_code for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_changing_the_password_ends_other_sessions(app, demo_loaded):
    here, elsewhere = app.test_client(), app.test_client()
    _sign_in(here)
    _sign_in(elsewhere)
    response = here.post(
        "/auth/password",
        data={
            "current": LEAD["password"],
            "new": "a brand new passphrase",
            "again": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert here.get("/staff/").status_code == 200  # this session stays
    assert elsewhere.get("/staff/").status_code == 302  # the other one ended
    assert (
        _sign_in(app.test_client(), password="a brand new passphrase").status_code
        == 302
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current": "wrong", "new": "0123456789ab", "again": "0123456789ab"},
            "当前密码不正确",
        ),
        (
            {"current": LEAD["password"], "new": "short", "again": "short"},
            "至少10个字符",
        ),
        (
            {
                "current": LEAD["password"],
                "new": "0123456789ab",
                "again": "0123456789ac",
            },
            "不一样",
        ),
    ],
)
def test_password_change_refusals(app, client, demo_loaded, data, message):
    _sign_in(client)
    response = client.post("/auth/password", data=data)
    assert message in response.get_data(as_text=True)


def test_disable_and_reset_password_from_the_command_line(app, demo_loaded):
    runner = app.test_cli_runner()
    browser = app.test_client()
    _sign_in(browser)
    result = runner.invoke(args=["staff", "disable", LEAD["email"]])
    assert result.exit_code == 0, result.output
    assert browser.get("/staff/").status_code == 302  # signed out at once
    assert _sign_in(app.test_client()).status_code == 200  # and cannot come back
    with app.app_context():
        user = staff_user(Role.LEAD)
        user.active = True
        db.session.commit()
    result = runner.invoke(
        args=[
            "staff",
            "reset-password",
            LEAD["email"],
            "--password",
            "reset passphrase 1",
        ]
    )
    assert result.exit_code == 0, result.output
    assert _sign_in(app.test_client(), password="reset passphrase 1").status_code == 302
    assert (
        "No account"
        in runner.invoke(args=["staff", "disable", "nobody@x.example"]).output
    )


def _secret_on_page(html: str) -> str:
    found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html)
    assert found is not None, "no secret on the set-up page"
    return found.group(1)


def test_two_factor_set_up_sign_in_and_replay(app, client, demo_loaded):
    assert _sign_in(client).status_code == 302
    page = client.get("/auth/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code, no third party
    secret = _secret_on_page(page)
    wrong = client.post("/auth/two-factor", data={"action": "enable", "code": "000000"})
    assert "验证码不对，请核对手机上的时间是否准确。" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret).now()
    client.post("/auth/two-factor", data={"action": "enable", "code": code})
    with app.app_context():
        assert staff_user(Role.LEAD).totp_secret == secret

    fresh = app.test_client()
    step_one = _sign_in(fresh)
    assert step_one.headers["Location"].startswith("/auth/totp")
    assert fresh.get("/staff/").status_code == 302  # not signed in yet
    form = fresh.get("/auth/totp").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in form
    assert "<label" in form
    # The code used to turn it on cannot be used again.
    replay = fresh.post("/auth/totp", data={"code": code})
    assert "已用过" in replay.get_data(as_text=True)
    later = pyotp.TOTP(secret).at(time.time() + 30)
    assert fresh.post("/auth/totp", data={"code": later}).status_code == 302
    assert fresh.get("/staff/").status_code == 200


def test_wrong_codes_lock_the_account_and_cli_resets_it(app, demo_loaded):
    with app.app_context():
        user = staff_user(Role.LEAD)
        user.totp_secret = pyotp.random_base32()
        db.session.commit()
    client = app.test_client()
    _sign_in(client)
    for _ in range(5):
        client.post("/auth/totp", data={"code": "123456"})
    locked = client.post("/auth/totp", data={"code": "123456"})
    assert locked.status_code == 429
    result = app.test_cli_runner().invoke(args=["staff", "reset-totp", LEAD["email"]])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = staff_user(Role.LEAD)
        assert user.totp_secret is None
        assert db.session.scalar(
            select(Event).where(Event.action == AuditAction.TOTP_CHANGED)
        )


def test_section_staff_have_no_two_factor_page(app, demo_loaded):
    client = app.test_client()
    with app.app_context():
        login(client, staff_user(Role.SECTION, "办公室"))
    assert client.get("/auth/two-factor").status_code == 404
