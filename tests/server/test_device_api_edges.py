"""Edges of the registration, heartbeat and account endpoints: odd bodies answer coded 4xx, never a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/devices/register"


def code_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_oversized_registration_body_is_413(api_client, settings, institution, account):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = b'{"institution_code": "' + b"1" * 20_000 + b'"}'
    response = api_client.generic("POST", REGISTER, body, content_type="application/json")
    assert code_of(response) == (413, "payload_too_large")


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"[1, 2]", "application/json", (400, "validation_error")),
        (b"{not json", "application/json", (400, "malformed_request")),
        (b"institution_code=1", "application/x-www-form-urlencoded", (415, "unsupported_media_type")),
        (b'"just a string"', "application/json", (400, "validation_error")),
    ],
)
def test_odd_registration_bodies(api_client, db, body, content_type, expected):
    assert code_of(api_client.generic("POST", REGISTER, body, content_type=content_type)) == expected


def test_registration_refuses_get(api_client, db):
    assert code_of(api_client.get(REGISTER)) == (405, "method_not_allowed")


@pytest.mark.parametrize("body", [[1], "x", {"app_version": None}, {"reader_name": "\x00"}, {"app_version": "x" * 41}])
def test_odd_heartbeat_bodies(terminal, body):
    response = terminal.call("POST", "/api/v1/devices/me/heartbeat", body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error", response.content


@pytest.mark.parametrize("path", ["/api/v1/accounts/login", "/api/v1/accounts/password"])
@pytest.mark.parametrize("body", [["x"], {"account_id": None}, {"account_id": "a" * 65, "password": "x"}])
def test_odd_account_bodies(terminal, account, path, body):
    response = terminal.call("POST", path, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error", response.content
    account.refresh_from_db()
    assert account.failed_attempts == 0  # a malformed call is not a password guess


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        (b"{not json", "application/json", (400, "malformed_request")),
        (b'{"app_version": NaN}', "application/json", (400, "malformed_request")),
        (b'\xff{"app_version": "1"}', "application/json", (400, "malformed_request")),
        (b"app_version=1", "application/x-www-form-urlencoded", (415, "unsupported_media_type")),
        (b'{"app_version": "0.3.0"}', "application/json; charset=utf-8", (200, None)),
        (b"", "application/json", (200, None)),
    ],
)
def test_raw_heartbeat_bodies_signed_as_sent(terminal, raw, content_type, expected):
    """The heartbeat's direct JSON decoding answers like DRF's parsers for every body it does not take itself."""
    from contracts import signing

    url = "http://testserver/api/v1/devices/me/heartbeat"
    headers = signing.sign_request("POST", url, {}, raw, terminal.key, terminal.device_id)
    response = terminal.client.generic(
        "POST", "/api/v1/devices/me/heartbeat", data=raw, content_type=content_type, headers=headers
    )
    if expected[1] is None:
        assert response.status_code == 200, response.content
    else:
        assert code_of(response) == expected
