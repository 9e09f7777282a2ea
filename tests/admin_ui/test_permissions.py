"""A01: every console URL and action, tried with every role, both roles at once, no membership and anonymously.

The expected outcome of each is read from the permission matrix of docs/console.md, so the documentation and the
behaviour cannot drift apart; a console URL missing from the matrix fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from admin_ui import urls as console_urls
from server.audit.models import AuditEvent
from server.common.actor import STAFF, Actor

pytestmark = pytest.mark.django_db

MATRIX = Path(__file__).resolve().parents[2] / "docs" / "console.md"
ROLE_COLUMNS = ("manager", "it", "admin")
_ROW = re.compile(r"^\| `console:([\w-]+)` \| `[^`]+` \| ([A-Z, ]+) \| (\S+) \| (\S+) \| (\S+) \|$")


def documented_matrix() -> dict[str, tuple[set[str], dict[str, str]]]:
    """``{url name: (methods, {role: "✓" | "—" | "↪"})}`` from the table in docs/console.md."""
    rows = {}
    for line in MATRIX.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line.strip())
        if match:
            name, methods, *cells = match.groups()
            rows[name] = ({m.strip() for m in methods.split(",")}, dict(zip(ROLE_COLUMNS, cells, strict=True)))
    return rows


MATRIX_ROWS = documented_matrix()
OPEN_TO_ANONYMOUS = {"login"}


def test_every_console_url_is_in_the_matrix():
    names = {p.name for p in console_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == set(MATRIX_ROWS), (names - set(MATRIX_ROWS), set(MATRIX_ROWS) - names)


@pytest.fixture
def objects(clinic, make_device, make_result, make_account, make_staff):
    """One object of every kind a console URL names, all of the signed-in users' institution."""
    from server.devices.actions import do_issue_activation_code
    from server.institutions.models import StaffMembership
    from server.notices.actions import do_publish_notice
    from server.results.exports import do_build_export, do_request_export
    from server.results.queries import ResultQuery

    device = make_device(clinic, "受付1")
    _, code = do_issue_activation_code(clinic, actor=Actor.cli("pytest"))
    colleague = make_staff("colleague", clinic, "manager")
    today = timezone.localdate()
    export = do_request_export(
        clinic, ResultQuery("institution", today, today, 8), actor=Actor(STAFF, "colleague")
    )
    do_build_export(str(export.pk))
    return {
        "export_id": export.pk,
        "device_id": device.pk,
        "code_id": code.pk,
        "account_pk": make_account(clinic, "clinic-admin").pk,
        "result_id": make_result(device, "資格 太郎", "シカク タロウ").pk,
        "notice_id": do_publish_notice(title="お知らせ", body="本文", institution=clinic, actor=Actor.cli("pytest")).pk,
        "membership_id": StaffMembership.objects.get(user=colleague).pk,
    }


def _url(name: str, objects: dict) -> str:
    pattern = next(p for p in console_urls.urlpatterns if isinstance(p, URLPattern) and p.name == name)
    kwargs = {key: objects[key] for key in pattern.pattern.converters}
    return reverse(f"console:{name}", kwargs=kwargs)


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


USERS = {
    "manager": ("manager",),
    "it": ("it",),
    "admin": ("admin",),
    "it+manager": ("it", "manager"),
}


def expected(name: str, user: str) -> str:
    """✓, — or ↪ for a user holding the roles of USERS[user] (the best of its roles' cells)."""
    cells = [MATRIX_ROWS[name][1][role] for role in USERS[user]]
    for outcome in ("✓", "↪", "—"):
        if outcome in cells:
            return outcome
    raise AssertionError(f"unknown cell in {name}: {cells}")


@pytest.mark.parametrize("user", sorted(USERS))
@pytest.mark.parametrize("name", sorted(MATRIX_ROWS))
def test_each_role_gets_what_the_matrix_says(client, make_staff, clinic, objects, name, user):
    client.force_login(make_staff(f"user-{user.replace('+', '-')}", clinic, USERS[user]))
    url = _url(name, objects)
    methods, _ = MATRIX_ROWS[name]
    outcome = expected(name, user)
    for method in ("GET", "POST"):
        if name in ("logout",) and method == "POST":
            continue  # signing out is everyone's; tried last in its own test
        before = AuditEvent.objects.count()
        response = client.get(url) if method == "GET" else client.post(url, {})
        status = response.status_code
        if method not in methods:
            assert status in (405, 403), (name, user, method, status)
            continue
        if outcome == "—":
            assert status == 403, (name, user, method, status)
            body = _body(response)
            assert "権限がありません" in body and "資格 太郎" not in body
            assert AuditEvent.objects.count() == before, list(AuditEvent.objects.values_list("action", flat=True))
        elif outcome == "↪":
            assert status == 302 and response["Location"] != reverse("console:login"), (name, user, status)
        else:
            assert status in (200, 302), (name, user, method, status)
            if status == 302:
                assert not response["Location"].startswith(reverse("console:login")), (name, user, method)
            else:
                assert "権限がありません" not in _body(response)


@pytest.mark.parametrize("name", sorted(MATRIX_ROWS))
def test_anonymous_visitors_are_sent_to_sign_in(client, objects, name):
    url = _url(name, objects)
    for method in ("GET", "POST"):
        response = client.get(url) if method == "GET" else client.post(url, {})
        if name in OPEN_TO_ANONYMOUS:
            assert response.status_code == 200
            continue
        if method not in MATRIX_ROWS[name][0]:
            assert response.status_code in (405, 302)
            continue
        assert response.status_code == 302, (name, method)
        assert response["Location"].startswith(reverse("console:login")), (name, method, response["Location"])


@pytest.mark.parametrize("name", sorted(set(MATRIX_ROWS) - {"login", "logout"}))
def test_a_user_without_a_membership_gets_403(client, make_staff, clinic, objects, name):
    client.force_login(make_staff("nobody", clinic, None))
    assert client.get(_url(name, objects)).status_code in (403, 405)


def test_objects_of_another_institution_are_not_found(client, make_staff, other_clinic, objects):
    """Every URL naming an object, for an all-roles user of another institution: 404, never the object."""
    client.force_login(make_staff("stranger", other_clinic, ("manager", "it", "admin")))
    for name, (methods, _) in MATRIX_ROWS.items():
        pattern = next(p for p in console_urls.urlpatterns if isinstance(p, URLPattern) and p.name == name)
        if not pattern.pattern.converters:
            continue
        url = _url(name, objects)
        for method in sorted(methods):
            response = client.get(url) if method == "GET" else client.post(url, {})
            assert response.status_code == 404, (name, method, response.status_code)
            assert "資格 太郎" not in _body(response)
