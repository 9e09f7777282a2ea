"""S07 points checked beyond test_results_search.py: the period's first instant, institution-wide paging both ways
with an audit event per page, and deep pages that stay index range scans."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from server.audit.models import AuditEvent
from server.common.jst import JST, today_jst
from server.devices.models import Device
from server.results.queries import (
    ResultQuery,
    decode_cursor,
    first_of_previous_month,
    older_than,
    visible_results,
)
from tests.server import factories

pytestmark = pytest.mark.django_db


def test_the_first_instant_of_the_previous_month_is_searchable(terminal):
    earliest = first_of_previous_month(today_jst())
    first_instant = datetime.datetime.combine(earliest, datetime.time.min, tzinfo=JST)
    boundary = terminal.push([factories.batch_item(checked_at=first_instant)])[0]
    terminal.push([factories.batch_item(checked_at=first_instant - datetime.timedelta(seconds=1))])
    body = terminal.search(date_from=earliest.isoformat(), date_to=earliest.isoformat())
    assert [r["id"] for r in body["results"]] == [boundary["id"]]
    assert body["results"][0]["checked_at"].startswith(f"{earliest.isoformat()}T00:00:00")


def test_institution_paging_walks_forward_and_back_with_one_audit_event_per_page(terminal, second_terminal):
    now = datetime.datetime.now(datetime.UTC)
    items = terminal.push(
        [factories.batch_item(checked_at=now - datetime.timedelta(minutes=2 * i)) for i in range(10)]
    )
    items += second_terminal.push(
        [factories.batch_item(checked_at=now - datetime.timedelta(minutes=2 * i + 1)) for i in range(9)],
    )
    expected = [i["id"] for i in sorted(items, key=lambda i: i["checked_at"], reverse=True)]
    before = AuditEvent.objects.filter(action="results_searched").count()
    pages, body = [], terminal.search(scope="institution")
    assert len(body["results"]) == 8  # the default page size
    while True:
        pages.append([r["id"] for r in body["results"]])
        if not body["next"]:
            break
        body = terminal.search(cursor=body["next"])
    assert sum(pages, []) == expected and [len(p) for p in pages] == [8, 8, 3]
    back = []
    while body["previous"]:
        body = terminal.search(cursor=body["previous"])
        back.append([r["id"] for r in body["results"]])
    assert back == [pages[1], pages[0]] and body["previous"] is None
    events = list(AuditEvent.objects.filter(action="results_searched").order_by("id"))[before:]
    assert [e.object_ids for e in events] == pages + back
    assert all(e.detail["scope"] == "institution" for e in events)
    # A cursor carries the query: scope and period come back from it.
    assert decode_cursor(body["next"]).params["scope"] == "institution"


def test_deep_pages_are_index_range_scans(terminal):
    terminal.push([factories.batch_item() for _ in range(3)])
    device = Device.objects.get(pk=terminal.device_id)
    today = today_jst()
    query = ResultQuery("institution", first_of_previous_month(today), today, 8)
    qs = visible_results(device, query).order_by("-checked_at", "-id")
    row = qs.first()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        plan = older_than(qs, row.checked_at, row.id)[:9].explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = on")
    assert "result_institution_time" in plan
    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "checked_at <=" in index_cond  # the cursor bounds the scan; rows before it are never read


@pytest.mark.parametrize(
    "payload",
    [
        {"k": "first", "s": "device", "f": 5, "t": "2026-01-01", "n": 8},
        {"k": "first", "s": "device", "f": None, "t": None, "n": [8]},
        {"k": "after", "s": "device", "f": None, "t": None, "n": 8, "at": "2026-01-01T00:00:00", "id": 5},
        {"k": "after", "s": "device", "f": None, "t": None, "n": 8, "at": "2026-01-01T00:00:00+09:00", "id": 5},
        {"k": ["last"], "s": {}, "f": {}, "t": [], "n": {}},
        [1, 2, 3],
        "first",
    ],
)
def test_forged_cursors_are_a_400_never_a_500(terminal, payload):
    import base64
    import json

    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    response = terminal.call("GET", "/api/v1/results", params={"cursor": cursor})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in {"validation_error", "period_out_of_range"}


def test_detail_as_onshi_xml_and_fhir(terminal):
    import json

    from contracts.exports import parse_onshi_xml

    item = terminal.push([factories.batch_item(name="形式 三郎", name_kana="ケイシキ サブロウ")])[0]
    path = f"/api/v1/results/{item['id']}"
    xml = terminal.call("GET", path, params={"format": "xml"})
    assert xml.status_code == 200 and xml["Content-Type"].startswith("application/xml")
    parsed = parse_onshi_xml(xml.content)
    assert parsed["result_of_qualification_confirmation"]["name"] == "形式 三郎"
    fhir = terminal.call("GET", path, params={"format": "fhir"})
    assert fhir.status_code == 200 and fhir["Content-Type"].startswith("application/fhir+json")
    assert json.loads(fhir.content)["resourceType"] == "Coverage"
    plain = terminal.call("GET", path, params={"format": "json"})
    assert plain.status_code == 200 and plain.json()["result"] == item["result"]
    wrong = terminal.call("GET", path, params={"format": "pdf"})
    assert wrong.status_code == 400 and wrong.json()["error"]["fields"]["format"]
    events = AuditEvent.objects.filter(action="result_viewed", object_ids=[item["id"]]).order_by("id")
    assert [e.detail.get("format") for e in events] == ["xml", "fhir", None]


def test_last_page_meets_the_walk_from_the_first_and_is_a_full_page_beyond_the_count_limit(terminal, monkeypatch):
    """T08: first / previous / next / last never show a row twice: the last page is the remainder of the count."""
    from server.results import queries

    now = datetime.datetime.now(datetime.UTC)
    items = terminal.push([factories.batch_item(checked_at=now - datetime.timedelta(minutes=i)) for i in range(11)])
    expected = [i["id"] for i in sorted(items, key=lambda i: i["checked_at"], reverse=True)]
    first = terminal.search(page_size=4)
    last = terminal.search(cursor=first["last"])
    assert [r["id"] for r in last["results"]] == expected[8:]
    middle = terminal.search(cursor=last["previous"])
    assert [r["id"] for r in middle["results"]] == expected[4:8]
    assert terminal.search(cursor=middle["previous"])["previous"] is None
    monkeypatch.setattr(queries, "LAST_PAGE_ALIGN_LIMIT", 5)  # too many to count: the oldest full page
    assert [r["id"] for r in terminal.search(cursor=first["last"])["results"]] == expected[7:]
