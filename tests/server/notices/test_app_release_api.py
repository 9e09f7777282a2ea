"""S08/T14: the latest app release and whether a terminal should or must update (PEP 440 order)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.notices.actions import do_publish_app_release
from tests.server.notices.helpers import ago, ahead, error, ok

pytestmark = pytest.mark.django_db

STORE = "https://apps.microsoft.com/detail/9demo0000000"


def latest(terminal, current: str | None) -> dict:
    return terminal.call("GET", "/api/v1/app-release/latest", params=None if current is None else {"current": current})


@pytest.fixture
def releases(db):
    # Published out of version order on purpose: 1.10.0 before 1.2.0, and 1.2.0 < 1.10.0 in version order.
    do_publish_app_release(version="1.0.0", store_url=STORE, minimum_supported=True, published_at=ago(days=90), actor=Actor.cli("pytest"))
    do_publish_app_release(
        version="1.10.0", store_url=STORE + "?v=1.10", notes="不具合の修正", published_at=ago(days=2),
        actor=Actor.cli("pytest"),
    )
    do_publish_app_release(version="1.2.0", store_url=STORE, published_at=ago(days=1), actor=Actor.cli("pytest"))
    do_publish_app_release(version="3.0.0", store_url=STORE, minimum_supported=True, published_at=ahead(days=1), actor=Actor.cli("pytest"))


@pytest.mark.parametrize(
    ("current", "available", "required"),
    [
        ("0.9.1", True, True),  # older than the minimum supported 1.0.0
        ("1.0.0", True, False),
        ("1.2.0", True, False),
        ("1.10.0", False, False),
        ("2.0.0.dev1", False, False),  # a development build newer than any release
        ("1.10.0-beta.1", True, False),  # semver pre-release reads as PEP 440 1.10.0b1
    ],
)
def test_update_flags_follow_version_order(terminal, releases, current, available, required):
    body = ok(latest(terminal, current))
    assert body["latest_version"] == "1.10.0"
    assert body["store_url"] == STORE + "?v=1.10" and body["notes"] == "不具合の修正"
    assert (body["update_available"], body["update_required"]) == (available, required)
    assert "server_time" in body


def test_a_newer_minimum_makes_the_update_required(terminal, releases):
    do_publish_app_release(version="1.11.0", store_url=STORE, minimum_supported=True, actor=Actor.cli("pytest"))
    body = ok(latest(terminal, "1.10.0"))
    assert (body["latest_version"], body["update_available"], body["update_required"]) == ("1.11.0", True, True)


def test_no_release_published(terminal):
    body = ok(latest(terminal, "1.0.0"))
    assert body["latest_version"] is None and body["store_url"] is None
    assert body["update_available"] is False and body["update_required"] is False


@pytest.mark.parametrize("current", [None, "", "abc", "1.0 beta"])
def test_bad_or_missing_version_is_a_field_error(terminal, releases, current):
    err = error(latest(terminal, current), 400)
    assert err["code"] == "validation_error" and list(err["fields"]) == ["current"]


def test_unsigned_call_is_refused(api_client, releases):
    assert error(api_client.get("/api/v1/app-release/latest?current=1.0.0"), 401)["code"] == "signature_required"


def test_publishing_validates_and_audits(db):
    release = do_publish_app_release(version="1.2", store_url=STORE, actor=Actor.cli("manage.py publish_app_release"))
    event = AuditEvent.objects.get(action="app_release_published")
    assert event.object_ids == [str(release.pk)] and event.detail["version"] == "1.2"
    assert event.actor_id == "manage.py publish_app_release"
    with pytest.raises(ValidationError) as raised:
        do_publish_app_release(version="1.2.0", store_url=STORE, actor=Actor.cli("pytest"))  # the same version as 1.2
    assert "version" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        do_publish_app_release(version="latest", store_url="javascript:alert(1)", actor=Actor.cli("pytest"))
    assert set(raised.value.message_dict) == {"version", "store_url"}
