"""S08/T06: 利用規約, 個人情報の取り扱い and ライセンス — the latest published version of each is current."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contracts import signing
from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.devices.actions import do_retire_device
from server.devices.models import Device
from server.notices.actions import do_publish_document, seed_default_documents
from server.notices.models import Document
from tests.server.notices.helpers import ago, ahead, error, ok

pytestmark = pytest.mark.django_db


def publish(kind: str, version: str, **kwargs) -> Document:
    return do_publish_document(
        kind=kind, version=version, title=f"利用規約 {version}", body=f"第{version}版の本文", **kwargs,
        actor=Actor.cli("pytest"),
    )


def test_default_documents_are_seeded_once(terminal):
    created = seed_default_documents(actor=Actor.cli("pytest"))
    assert sorted(d.kind for d in created) == ["licenses", "privacy", "terms"]
    assert seed_default_documents(actor=Actor.cli("pytest")) == []
    assert Document.objects.count() == 3
    labels = {}
    for kind in Document.KINDS:
        body = ok(terminal.call("GET", f"/api/v1/documents/{kind}"))
        assert set(body) == {"kind", "kind_label", "version", "title", "body", "published_at", "server_time"}
        assert body["kind"] == kind and body["version"] == "1.0" and body["body"]
        labels[kind] = body["kind_label"]
    assert labels == {"terms": "利用規約", "privacy": "個人情報の取り扱い", "licenses": "ライセンス"}
    assert AuditEvent.objects.filter(action="document_published").count() == 3


def test_latest_published_version_is_current(terminal):
    publish("terms", "1.0", published_at=ago(days=30))
    publish("terms", "1.1", published_at=ago(days=1))
    publish("terms", "2.0", published_at=ahead(days=7))  # announced, not yet in force
    publish("privacy", "9.0", published_at=ago(days=1))  # another kind does not interfere
    body = ok(terminal.call("GET", "/api/v1/documents/terms"))
    assert (body["version"], body["title"], body["body"]) == ("1.1", "利用規約 1.1", "第1.1版の本文")
    assert body["published_at"].endswith("+09:00")


def test_unknown_kind_and_unpublished_kind_are_coded_404(terminal):
    err = error(terminal.call("GET", "/api/v1/documents/cookies"), 404)
    assert err["code"] == "unknown_document_kind" and err["message"]
    assert error(terminal.call("GET", "/api/v1/documents/licenses"), 404)["code"] == "document_not_published"


def test_documents_are_readable_before_registration(api_client, db):
    """The terminal shows 利用規約 before it is registered (manual P.5), so no signature is needed."""
    seed_default_documents(actor=Actor.cli("pytest"))
    assert ok(api_client.get("/api/v1/documents/terms"))["kind"] == "terms"


def test_a_signature_that_is_present_is_still_verified(terminal):
    seed_default_documents(actor=Actor.cli("pytest"))
    wrong_key = signing.generate_device_key()
    assert error(terminal.call("GET", "/api/v1/documents/terms", key=wrong_key), 401)["code"] == "bad_signature"
    do_retire_device(Device.objects.get(pk=terminal.device_id), "紛失", actor=Actor.cli("manager"))
    assert error(terminal.call("GET", "/api/v1/documents/terms"), 403)["code"] == "device_retired"


def test_publishing_validates_kind_version_and_text():
    publish("licenses", "1.0")
    with pytest.raises(ValidationError) as raised:
        publish("licenses", "1.0")
    assert "version" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        do_publish_document(kind="cookies", version="", title="", body=" ", actor=Actor.cli("pytest"))
    assert set(raised.value.message_dict) == {"kind", "version", "title", "body"}
