"""S06: batch sync — stored, duplicate, conflict, schema violation, the 500-item limit, concurrent duplicates."""

from __future__ import annotations

import copy
import threading
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from server.audit.models import AuditEvent
from server.results.models import CheckResult
from tests.server import factories
from tests.server.conftest import Terminal

pytestmark = pytest.mark.django_db


def test_new_results_are_stored_with_their_metadata(terminal, institution):
    items = [factories.batch_item(name="資格 花子", name_kana="シカク ハナコ"), factories.batch_item(validity="2")]
    outcomes = terminal.sync(items)
    assert [o["status"] for o in outcomes] == ["stored", "stored"]
    assert [o["id"] for o in outcomes] == [i["id"] for i in items]
    first = CheckResult.objects.get(pk=items[0]["id"])
    assert (first.name, first.name_kana, first.is_valid, first.qualification_validity) == (
        "資格 花子",
        "シカク ハナコ",
        True,
        "1",
    )
    assert str(first.device_id) == terminal.device_id and first.institution_id == institution.pk
    assert first.document == items[0]["result"]
    assert first.identity_verification == "pin" and len(first.insurer_number) == 8
    assert CheckResult.objects.get(pk=items[1]["id"]).is_valid is False
    event = AuditEvent.objects.get(action="results_synced")
    assert sorted(event.object_ids) == sorted(i["id"] for i in items)


def test_retry_is_duplicate_and_changed_content_is_a_conflict(terminal):
    item = factories.batch_item()
    assert terminal.sync([item])[0]["status"] == "stored"
    assert terminal.sync([item])[0] == {"id": item["id"], "status": "duplicate"}
    changed = copy.deepcopy(item)
    changed["result"]["result_of_qualification_confirmation"]["name"] = "別人 次郎"
    outcome = terminal.sync([changed])[0]
    assert outcome["status"] == "rejected" and outcome["error"]["code"] == "conflict"
    assert CheckResult.objects.get(pk=item["id"]).name == "資格 太郎"  # never overwritten
    assert CheckResult.objects.count() == 1


def test_same_id_twice_in_one_batch(terminal):
    item = factories.batch_item()
    assert [o["status"] for o in terminal.sync([item, item])] == ["stored", "duplicate"]


def test_same_id_from_another_device_is_a_conflict(terminal, second_terminal):
    item = factories.batch_item()
    assert terminal.sync([item])[0]["status"] == "stored"
    outcome = second_terminal.sync([item])[0]
    assert outcome["status"] == "rejected" and outcome["error"]["code"] == "conflict"


def test_schema_violation_and_bad_items_are_rejected_one_by_one(terminal):
    good = factories.batch_item()
    bad_schema = factories.batch_item()
    bad_schema["result"]["qualification_validity"] = "9"
    del bad_schema["result"]["result_of_qualification_confirmation"]["name"]
    bad_id = factories.batch_item() | {"id": "not-a-uuid"}
    naive_time = factories.batch_item() | {"checked_at": "2026-11-24T10:00:00"}
    outcomes = terminal.sync([good, bad_schema, bad_id, naive_time, "garbage"])
    assert [o["status"] for o in outcomes] == ["stored", "rejected", "rejected", "rejected", "rejected"]
    assert [o.get("error", {}).get("code") for o in outcomes[1:]] == [
        "schema_violation",
        "invalid_id",
        "invalid_checked_at",
        "invalid_item",
    ]
    assert "qualification_validity" in outcomes[1]["error"]["message"]
    assert "資格 太郎" not in outcomes[1]["error"]["message"]  # no patient data in errors
    assert CheckResult.objects.count() == 1


def test_batch_limits(terminal):
    response = terminal.call("POST", "/api/v1/results/batch", {"results": []})
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
    template = factories.batch_item()
    too_many = [template | {"id": str(uuid.uuid4())} for _ in range(501)]
    response = terminal.call("POST", "/api/v1/results/batch", {"results": too_many})
    assert response.status_code == 400, response.content
    assert "results" in response.json()["error"]["fields"]
    assert CheckResult.objects.count() == 0
    outcomes = terminal.sync(too_many[:500])
    assert len(outcomes) == 500 and {o["status"] for o in outcomes} == {"stored"}
    assert CheckResult.objects.count() == 500


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_store_each_id_once(terminal):
    items = [factories.batch_item() for _ in range(20)]
    barrier = threading.Barrier(4)
    results: list[list[str]] = []

    def push():
        try:
            client = Terminal(APIClient(), terminal.key, terminal.device_id)
            barrier.wait()
            response = client.call("POST", "/api/v1/results/batch", {"results": items})
            results.append([o["status"] for o in response.json()["items"]])
        finally:
            connection.close()

    threads = [threading.Thread(target=push) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert CheckResult.objects.count() == 20
    for position in range(20):
        statuses = sorted(run[position] for run in results)
        assert statuses == ["duplicate", "duplicate", "duplicate", "stored"]
