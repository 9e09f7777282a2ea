"""A01 sessions, two-factor sign-in, console users managed by the 利用者管理; headers and error pages (issue 14)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from server.audit.models import AuditEvent
from server.institutions.models import StaffMembership
from tests.admin_ui.conftest import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "admin_ui" / "templates"


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post(reverse("console:login"), {"username": username, "password": password})


def code_of(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


# --- sessions ---


def test_session_cookie_ends_with_the_browser_and_is_http_only(client, manager, settings):
    assert settings.SESSION_COOKIE_AGE == 15 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    response = sign_in(client, "manager")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and not cookie["expires"] and not cookie["max-age"]


def test_an_idle_session_is_sent_to_the_sign_in_page(client, manager):
    sign_in(client, "manager")
    assert client.get(reverse("console:dashboard")).status_code == 200
    # Every request renews the session; one left alone past the idle limit is gone.
    session = Session.objects.get()
    assert session.expire_date > timezone.now() + dt.timedelta(minutes=14)
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(reverse("console:results"), follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("console:login"))
    assert "一定時間操作がなかったため、ログアウトしました。" in response.content.decode()


# --- two-factor sign-in ---


def test_a_user_enrols_totp_and_then_needs_a_code(client, manager):
    sign_in(client, "manager")
    page = client.get(reverse("console:otp-setup"))
    assert page.status_code == 200 and "<svg" in page.content.decode()  # the QR code, made on the server
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    wrong = client.post(reverse("console:otp-setup"), {"token": "000000" if code_of(device) != "000000" else "111111"})
    assert "確認コードが正しくありません" in wrong.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # guessing is slowed down (django-otp's throttling)
    device.throttle_reset()  # instead of waiting out the one-second delay
    assert client.post(reverse("console:otp-setup"), {"token": code_of(device)}).status_code == 302
    assert TOTPDevice.objects.get(user=manager).confirmed
    assert AuditEvent.objects.filter(action="staff_totp_enabled", actor_id="manager").exists()

    client.post(reverse("console:logout"))
    response = sign_in(client, "manager")
    assert client.get(reverse("console:results")).url == reverse("console:otp-verify")  # password alone is not enough
    device.refresh_from_db()
    assert client.post(reverse("console:otp-verify"), {"token": "12"}).status_code == 200
    # The code of the enrolment cannot be played again (django-otp keeps the last step used): the next one.
    response = client.post(reverse("console:otp-verify"), {"token": code_of(device, offset=1)})
    assert response.status_code == 302 and response.url == reverse("console:dashboard")
    assert client.get(reverse("console:results")).status_code == 200


def test_the_code_steps_show_no_menu_and_say_when_to_wait(client, manager):
    """Between the password and the code the console's menu is not shown (each entry would only lead back here);
    a right code refused by django-otp's slowdown after a wrong one says to wait, not that it is wrong."""
    sign_in(client, "manager")
    client.get(reverse("console:otp-setup"))
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    page = client.get(reverse("console:otp-setup")).content.decode()
    assert 'aria-label="メインメニュー"' in page  # enrolling of one's own accord, already signed in: the menu stays
    client.post(reverse("console:otp-setup"), {"token": "000000" if code_of(device) != "000000" else "111111"})
    refused = client.post(reverse("console:otp-setup"), {"token": code_of(device)}).content.decode()
    assert "しばらく待ってから入力してください" in refused and "確認コードが正しくありません" not in refused
    device.throttle_reset()
    assert client.post(reverse("console:otp-setup"), {"token": code_of(device)}).status_code == 302
    enabled = AuditEvent.objects.get(action="staff_totp_enabled")
    assert (enabled.actor_id, enabled.object_ids) == ("manager", ["manager"])

    client.post(reverse("console:logout"))
    sign_in(client, "manager")
    pending = client.get(reverse("console:otp-verify")).content.decode()
    assert "確認コードの入力" in pending and 'aria-label="メインメニュー"' not in pending
    assert reverse("console:account-security") not in pending and "ログアウト" in pending
    client.post(reverse("console:otp-verify"), {"token": code_of(device, offset=1)})
    assert 'aria-label="メインメニュー"' in client.get(reverse("console:dashboard")).content.decode()


def test_required_totp_sends_every_user_to_enrolment(client, it_staff, settings):
    settings.CONSOLE_REQUIRE_TOTP = True
    sign_in(client, "it")
    assert client.get(reverse("console:devices")).url == reverse("console:otp-setup")
    page = client.get(reverse("console:otp-setup")).content.decode()
    assert "2段階認証が必要です" in page
    # Required: it cannot be turned off by the user.
    device = TOTPDevice.objects.get(user=it_staff)
    client.post(reverse("console:otp-setup"), {"token": code_of(device)})
    client.post(reverse("console:account-security"))
    assert TOTPDevice.objects.filter(user=it_staff, confirmed=True).exists()


# --- console users (利用者管理) ---


def test_an_administrator_manages_the_institutions_console_users(client, admin, clinic, other_clinic, make_staff):
    client.force_login(admin)
    form = {"username": "reception", "roles": ["manager", "it"], "password": "Strong#Pass42", "password_confirm": "Strong#Pass42"}
    assert client.post(reverse("console:staff-create"), form).status_code == 302
    membership = StaffMembership.objects.get(user__username="reception")
    assert membership.institution == clinic and membership.roles == ("manager", "it")
    created = AuditEvent.objects.get(action="staff_user_created")
    assert (created.actor_id, created.detail["roles"]) == ("admin", ["manager", "it"])

    # Field errors: a taken ID, a weak password, no role.
    response = client.post(reverse("console:staff-create"), {**form, "password": "12345678", "password_confirm": "12345678"})
    errors = response.context["form"].errors
    assert errors["username"] == ["このログインIDは既に使われています。"]
    assert "よく使われるパスワードのため使えません。" in errors["password"]
    response = client.post(reverse("console:staff-create"), {**form, "username": "x", "roles": []})
    assert response.context["form"].errors["roles"] == ["役割を1つ以上選んでください。"]

    # The new user signs in; roles change; deactivation ends their session at the next request.
    other = client.__class__()
    sign_in(other, "reception", "Strong#Pass42")
    assert other.get(reverse("console:results")).status_code == 200
    client.post(reverse("console:staff-edit", args=[membership.pk]), {"roles": ["it"]})
    assert other.get(reverse("console:results")).status_code == 403
    assert AuditEvent.objects.get(action="staff_user_roles_changed").detail == {"from": ["manager", "it"], "to": ["it"]}
    client.post(reverse("console:staff-active", args=[membership.pk]), {"active": "0"})
    assert other.get(reverse("console:devices")).url.startswith(reverse("console:login"))
    assert sign_in(other, "reception", "Strong#Pass42").status_code == 200  # refused: the form again

    client.post(reverse("console:staff-active", args=[membership.pk]), {"active": "1"})
    client.post(
        reverse("console:staff-password", args=[membership.pk]),
        {"password": "Another#Pass7", "password_confirm": "Another#Pass7"},
    )
    assert sign_in(other, "reception", "Another#Pass7").status_code == 302
    actions = set(AuditEvent.objects.filter(actor_id="admin").values_list("action", flat=True))
    assert {"staff_user_deactivated", "staff_user_activated", "staff_user_password_reset"} <= actions

    # Only this institution's users are listed or reachable.
    stranger = make_staff("stranger", other_clinic, "manager")
    listing = client.get(reverse("console:staff")).content.decode()
    assert "reception" in listing and "stranger" not in listing
    stranger_membership = StaffMembership.objects.get(user=stranger)
    assert client.get(reverse("console:staff-edit", args=[stranger_membership.pk])).status_code == 404


def test_an_administrator_cannot_lock_themselves_out(client, admin):
    client.force_login(admin)
    own = StaffMembership.objects.get(user=admin)
    page = client.get(reverse("console:staff-edit", args=[own.pk])).content.decode()
    assert page.count(">役割<") == 1  # one heading over the role choices, not a heading and a legend alike
    response = client.post(reverse("console:staff-edit", args=[own.pk]), {"roles": ["manager"]})
    assert response.context["form"].errors["roles"] == ["自分自身の「利用者管理」の役割は外せません。"]
    client.post(reverse("console:staff-active", args=[own.pk]), {"active": "0"})
    admin.refresh_from_db()
    own.refresh_from_db()
    assert admin.is_active and own.roles == ("admin",)


def test_an_administrator_resets_a_lost_second_factor(client, admin, manager):
    device = TOTPDevice.objects.create(user=manager, name="console", confirmed=True)
    client.force_login(admin)
    membership = StaffMembership.objects.get(user=manager)
    assert "設定済み" in client.get(reverse("console:staff-edit", args=[membership.pk])).content.decode()
    client.post(reverse("console:staff-totp-reset", args=[membership.pk]))
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.filter(action="staff_totp_removed", actor_id="admin").exists()


# --- headers and error pages ---


def test_every_console_page_has_a_content_security_policy_without_inline_script(client, manager):
    client.force_login(manager)
    response = client.get(reverse("console:dashboard"))
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy


def test_no_template_has_inline_script_style_or_handlers():
    """The policy forbids them; a template that had one would break in the browser."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\sstyle=", text), template
        assert not re.search(r"\son[a-z]+=", text), template


def test_not_found_is_a_japanese_console_page_and_json_under_the_api(client, manager):
    response = client.get("/console/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "ページが見つかりません" in body and "console.css" in body and "Not Found" not in body
    client.force_login(manager)
    body = client.get("/console/results/00000000-0000-0000-0000-000000000000/").content.decode()
    assert "ページが見つかりません" in body and "メインメニュー" in body  # inside the layout when signed in
    api = client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_server_error_is_a_japanese_page(client, manager, monkeypatch):
    from admin_ui import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "dashboard_context", broken)
    client.raise_request_exception = False
    client.force_login(manager)
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "エラーが発生しました" in body and "boom" not in body and "Traceback" not in body


def test_csrf_failure_is_a_japanese_page(manager):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(reverse("console:logout"))
    assert response.status_code == 403
    assert "画面の有効期限が切れたか" in response.content.decode()


def test_production_cookies_are_secure_and_http_only():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, "
        "s.CSRF_COOKIE_HTTPONLY, s.SESSION_EXPIRE_AT_BROWSER_CLOSE, s.SESSION_COOKIE_AGE]))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "server.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "RESULT_ENCRYPTION_KEYS": "k1:" + "A" * 43 + "=",
        "CONSOLE_IDLE_TIMEOUT_MINUTES": "10",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, True, True, True, True, 600]
