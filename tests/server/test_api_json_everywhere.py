"""JSON everywhere under /api/ (issue 15 point 4): every unmatched path, every trailing-slash variant and every wrong
method answers the error envelope — 404 ``not_found`` or 405 ``method_not_allowed`` — never Django's HTML page nor an
APPEND_SLASH redirect."""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authentication import SessionAuthentication
from rest_framework.test import APIClient

from server.common.actor import Actor
from server.devices.authentication import DeviceSignatureAuthentication
from server.institutions.actions import do_create_staff_user

pytestmark = pytest.mark.django_db

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"] and body["server_time"]


UNMATCHED = [
    "/api/",
    "/api",
    "/api/v1",
    "/api/v1/",
    "/api/v2/ping",
    "/api/v1/nonexistent",
    "/api/v1/nonexistent/",
    "/api/v1/results/not-a-uuid",
    "/api/v1/results/12345",
    "/api/v1/results/exports/not-a-uuid",
    "/api/v1/results/exports/not-a-uuid/download",
    "/api/v1/notices/abc",
    "/api/v1/notices/-1/read",
    "/api/v1/audit/events.json",
    "/api/schema.json",
    "/api/%E3%81%82",
    "/sandbox/onshi/v1/nonexistent",
    "/sandbox/onshi/v1/registrations/not-a-uuid",
]
# Each endpoint with a slash appended, and the schema and docs pages without theirs.
TRAILING_SLASH = [
    "/api/v1/ping/",
    "/api/v1/devices/me/",
    "/api/v1/devices/register/",
    "/api/v1/devices/me/heartbeat/",
    "/api/v1/results/",
    "/api/v1/results/batch/",
    f"/api/v1/results/{uuid.uuid4()}/",
    "/api/v1/results/exports/",
    "/api/v1/notices/",
    "/api/v1/notices/1/",
    "/api/v1/documents/terms/",
    "/api/v1/app-release/latest/",
    "/api/v1/accounts/login/",
    "/api/v1/audit/events/",
    "/api/v1/console/results/exports/",
    "/api/schema",
    "/api/docs",
    "/sandbox/onshi/v1/challenges/",
]


@pytest.mark.parametrize("path", UNMATCHED + TRAILING_SLASH)
@pytest.mark.parametrize("method", METHODS)
def test_unmatched_paths_answer_404_not_found_as_json(api_client, path, method):
    response = api_client.generic(method, path, data=b"{}", content_type="application/json")
    assert_envelope(response, 404, "not_found")


def test_unmatched_paths_answer_json_with_a_session_and_a_signature_too(terminal, institution, api_client):
    do_create_staff_user(institution, "manager", "Demo#Pass1", "manager", actor=Actor.cli("pytest"))
    staff = APIClient()
    staff.login(username="manager", password="Demo#Pass1")
    assert_envelope(staff.get("/api/v1/console/results/exports/"), 404, "not_found")
    assert_envelope(terminal.call("GET", "/api/v1/results/not-a-uuid"), 404, "not_found")
    assert_envelope(terminal.call("POST", "/api/v1/results/batch/", {"results": []}), 404, "not_found")


def _api_endpoints() -> list[tuple[str, type]]:
    """(path with sample parameters, view class) of every endpoint under /api/v1/ and /sandbox/."""
    samples = {"uuid": str(uuid.uuid4()), "int": "1", "str": "terms"}
    found: list[tuple[str, type]] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            for converter, sample in samples.items():
                while f"<{converter}:" in route:
                    start = route.index(f"<{converter}:")
                    route = route[:start] + sample + route[route.index(">", start) + 1 :]
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "view_class"):
                path = "/" + prefix + route
                if path.startswith(("/api/v1/", "/sandbox/")):
                    found.append((path, pattern.callback.view_class))

    walk(get_resolver().url_patterns, "")
    return found


ENDPOINTS = _api_endpoints()


def test_the_endpoint_walk_finds_the_api():
    paths = {path for path, _ in ENDPOINTS}
    assert {"/api/v1/ping", "/api/v1/results/batch", "/api/v1/audit/events", "/sandbox/onshi/v1/challenges"} <= paths
    assert len(ENDPOINTS) >= 25


@pytest.mark.parametrize(("path", "view"), ENDPOINTS, ids=[p for p, _ in ENDPOINTS])
def test_every_wrong_method_answers_405_method_not_allowed_as_json(path, view, terminal, institution):
    """Each method an endpoint does not have, sent with the credentials it expects (a signature, a console session,
    or none), answers 405 with the envelope and an Allow header."""
    do_create_staff_user(institution, "manager", "Demo#Pass1", "manager", actor=Actor.cli("pytest"))
    staff = APIClient()
    staff.login(username="manager", password="Demo#Pass1")
    allowed = {m.upper() for m in view.http_method_names if hasattr(view, m)} - {"OPTIONS", "HEAD"}
    wrong = [m for m in METHODS if m not in allowed]
    assert wrong, path
    auth = set(view.authentication_classes)
    for method in wrong:
        if DeviceSignatureAuthentication in auth:
            response = terminal.call(method, path, {})
        elif SessionAuthentication in auth:
            response = staff.generic(method, path, data=b"{}", content_type="application/json")
        else:
            response = APIClient().generic(method, path, data=b"{}", content_type="application/json")
        assert_envelope(response, 405, "method_not_allowed")
        assert set(response["Allow"].replace(" ", "").split(",")) >= allowed, response["Allow"]


@pytest.mark.parametrize("path", ["/api/v1/ping", "/api/v1/devices/me", "/sandbox/onshi/v1/challenges"])
def test_a_host_not_allowed_answers_400_as_json(api_client, path):
    assert_envelope(api_client.get(path, SERVER_NAME="clinic.invalid"), 400, "bad_request")


def test_a_host_not_allowed_elsewhere_keeps_djangos_page(api_client):
    response = api_client.get("/console/login/", SERVER_NAME="clinic.invalid")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_docs_pages_refuse_other_methods_as_json(api_client, path, method):
    assert_envelope(api_client.generic(method, path), 405, "method_not_allowed")
