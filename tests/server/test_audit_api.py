"""S09: the audit trail's query API for the console (actor, device, patient name, action, period), its CSV, and
that nothing can alter the trail (no write method, model refuses)."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from rest_framework.test import APIClient

from server.audit.models import AppendOnlyError, AuditEvent
from server.audit.queries import AUDIT_CSV_HEADER
from server.common.actor import Actor
from server.common.jst import today_jst
from server.institutions.actions import do_create_staff_user
from tests.server import factories

pytestmark = pytest.mark.django_db
PASSWORD = "Demo#Pass1"


def console_for(institution, username: str = "auditor", role: str = "manager") -> APIClient:
    do_create_staff_user(institution, username, PASSWORD, role, actor=Actor.cli("pytest"))
    client = APIClient()
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def console(institution) -> APIClient:
    return console_for(institution)


@pytest.fixture
def trail(terminal, second_terminal):
    """Patient 検索 一郎 synced and viewed by the terminal; another patient synced by the second terminal."""
    ichiro = terminal.push([factories.batch_item(name="検索 一郎", name_kana="ケンサク イチロウ")])[0]
    other = second_terminal.push([factories.batch_item(name="別人 花子", name_kana="ベツジン ハナコ")])[0]
    assert terminal.call("GET", f"/api/v1/results/{ichiro['id']}").status_code == 200
    assert terminal.call("GET", "/api/v1/results", params={"scope": "institution"}).status_code == 200
    return ichiro, other


def query(console: APIClient, **params) -> dict:
    response = console.get("/api/v1/audit/events", params)
    assert response.status_code == 200, response.content
    return response.json()


def actions_of(body: dict) -> list[str]:
    return [e["action"] for e in body["events"]]


def test_patient_name_finds_every_event_that_touched_their_results(console, trail):
    ichiro, other = trail
    body = query(console, patient="検索")
    assert set(actions_of(body)) == {"results_synced", "result_viewed", "results_searched"}
    assert all(ichiro["id"] in e["object_ids"] for e in body["events"])
    # By kana too, with or without the space; and never a patient name in the response itself.
    assert set(actions_of(query(console, patient="ケンサクイチロウ"))) == set(actions_of(body))
    assert "検索 一郎" not in str(body)
    other_body = query(console, patient="別人")
    assert {e["action"] for e in other_body["events"]} == {"results_synced", "results_searched"}
    assert query(console, patient="だれもいない")["events"] == []


def test_filters_by_actor_device_action_and_period(console, terminal, second_terminal, trail):
    mine = query(console, actor_type="device", actor=terminal.device_id)
    assert mine["events"] and all(e["actor_id"] == terminal.device_id for e in mine["events"])
    assert all(e["device_name"] == "受付1" for e in mine["events"])
    by_device = query(console, device=second_terminal.device_id)
    assert by_device["events"] and all(e["device_id"] == second_terminal.device_id for e in by_device["events"])
    assert actions_of(query(console, action="result_viewed")) == ["result_viewed"]
    # Period in JST days: move the view ten days back.
    AuditEvent.objects.filter(action="result_viewed").update(
        occurred_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=10)
    )
    today = today_jst()
    assert "result_viewed" not in actions_of(query(console, date_from=today.isoformat()))
    ten_days_ago = (today - datetime.timedelta(days=10)).isoformat()
    assert actions_of(query(console, date_from=ten_days_ago, date_to=ten_days_ago)) == ["result_viewed"]
    bad = console.get("/api/v1/audit/events", {"date_from": "2026/01/01"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["date_from"]
    assert console.get("/api/v1/audit/events", {"actor_type": "robot"}).status_code == 400
    assert console.get("/api/v1/audit/events", {"device": "not-a-uuid"}).status_code == 400


def test_pages_newest_first_with_a_cursor(console, terminal, trail):
    everything = query(console, page_size=200)["events"]
    seen, cursor = [], None
    while True:
        body = query(console, page_size=2, **({"cursor": cursor} if cursor else {}))
        seen += [e["id"] for e in body["events"]]
        cursor = body["next"]
        if not cursor:
            break
    # The queries themselves are audited as they go, after the snapshot of `everything`.
    assert seen[: len(everything)] != [] and set(e["id"] for e in everything) <= set(seen)
    times = [e["occurred_at"] for e in everything]
    assert times == sorted(times, reverse=True)
    assert console.get("/api/v1/audit/events", {"cursor": "garbage!"}).status_code == 400


def test_queries_are_audited_without_the_patient_name(console, trail):
    query(console, patient="検索")
    event = AuditEvent.objects.filter(action="audit_searched").latest("id")
    assert event.actor_type == "staff" and event.actor_id == "auditor"
    assert event.detail["patient_searched"] is True and "検索" not in str(event.detail)


def test_csv_export(console, terminal, trail):
    ichiro, _ = trail
    response = console.get("/api/v1/audit/events.csv", {"patient": "検索"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == AUDIT_CSV_HEADER  # the one audit CSV: the console's 監査ログ writes the same columns
    assert rows[0][:5] == ["日時", "操作", "操作コード", "操作者の種類", "操作者ID"]
    assert {r[2] for r in rows[1:]} == {"results_synced", "result_viewed", "results_searched"}
    assert all(ichiro["id"] in r[7] for r in rows[1:])
    exported = AuditEvent.objects.filter(action="audit_exported").latest("id")
    assert exported.detail["rows"] == len(rows) - 1 and exported.detail["patient_searched"] is True


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/audit/events", "/api/v1/audit/events.csv"])
def test_no_api_can_alter_the_trail(console, trail, method, path):
    before = list(AuditEvent.objects.order_by("id").values_list("id", "action", "occurred_at"))
    response = getattr(console, method)(path, {"action": "tampered"}, format="json")
    assert response.status_code == 405, response.content
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert list(AuditEvent.objects.order_by("id").values_list("id", "action", "occurred_at")) == before


def test_the_model_refuses_changes_and_deletes(trail):
    event = AuditEvent.objects.latest("id")
    event.action = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action != "tampered"


def test_only_staff_of_the_institution(api_client, terminal, trail, other_institution, institution):
    anonymous = api_client.get("/api/v1/audit/events")
    assert anonymous.status_code in (401, 403) and anonymous.json()["error"]["code"] == "not_authenticated"
    # A signed terminal is not a console user.
    assert terminal.call("GET", "/api/v1/audit/events").status_code in (401, 403)
    stranger = console_for(other_institution, "stranger", "manager")
    seen = query(stranger, page_size=200)["events"]
    assert {e["action"] for e in seen} <= {"institution_created", "staff_user_created", "audit_searched"}
    assert query(stranger, patient="検索")["events"] == []
    manager = console_for(institution, "manager", "manager")
    assert query(manager)["events"]
    # The trail is the managers' (A01): IT staff are refused.
    it = console_for(institution, "it", "it")
    refused = it.get("/api/v1/audit/events")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"


def test_object_id_lookups_can_use_the_gin_index(trail, terminal):
    from django.db import connection

    ichiro, _ = trail
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'audit_event_object_ids_gin'")
        assert "USING gin (object_ids)" in cursor.fetchone()[0]
        cursor.execute("SET enable_seqscan = off")
    try:
        by_patient = AuditEvent.objects.filter(object_ids__has_any_keys=[ichiro["id"]]).explain()
        by_device = AuditEvent.objects.filter(object_ids__contains=[terminal.device_id]).explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = on")
    assert "audit_event_object_ids_gin" in by_patient and "audit_event_object_ids_gin" in by_device
