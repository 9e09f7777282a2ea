"""S07/S09: result search (scope, period rule, keyset paging), detail, isolation between institutions, audit."""

from __future__ import annotations

import datetime

import pytest

from server.audit.models import AuditEvent
from server.common.jst import JST, today_jst
from server.results.queries import first_of_previous_month
from tests.server import factories

pytestmark = pytest.mark.django_db


def error(terminal, status, **params):
    response = terminal.call("GET", "/api/v1/results", params=params)
    assert response.status_code == status, response.content
    return response.json()["error"]


def hours_ago(hours: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=hours)


@pytest.fixture
def history(terminal, second_terminal):
    """20 results of the terminal and 3 of the second terminal, one per hour, newest first by index."""
    mine = terminal.push(
        [factories.batch_item(checked_at=hours_ago(i + 0.5), name=f"患者 {i:02d}") for i in range(20)]
    )
    theirs = second_terminal.push([factories.batch_item(checked_at=hours_ago(i + 0.25)) for i in range(3)])
    return mine, theirs


def test_device_scope_is_the_default_and_newest_first(terminal, history):
    mine, _ = history
    body = terminal.search()
    assert len(body["results"]) == 8
    assert [r["id"] for r in body["results"]] == [i["id"] for i in mine[:8]]
    row = body["results"][0]
    assert set(row) == {
        "id",
        "checked_at",
        "device_id",
        "device_name",
        "name",
        "name_kana",
        "is_valid",
        "qualification_validity",
    }
    assert row["device_id"] == terminal.device_id and row["device_name"] == "受付1"
    assert row["name"] == "患者 00" and row["is_valid"] is True
    assert row["checked_at"].endswith("+09:00")
    assert "server_time" in body


def test_institution_scope_includes_every_terminal(terminal, history):
    body = terminal.search(scope="institution", page_size=100)
    assert len(body["results"]) == 23
    assert {r["device_name"] for r in body["results"]} == {"受付1", "診察室"}
    times = [r["checked_at"] for r in body["results"]]
    assert times == sorted(times, reverse=True)


def test_pagination_first_next_previous_last(terminal, history):
    mine, _ = history
    expected = [i["id"] for i in mine]
    page1 = terminal.search(page_size=8)
    assert page1["previous"] is None and page1["next"] and page1["first"] and page1["last"]
    page2 = terminal.search(cursor=page1["next"])
    assert [r["id"] for r in page2["results"]] == expected[8:16]
    page3 = terminal.search(cursor=page2["next"])
    assert [r["id"] for r in page3["results"]] == expected[16:20]
    assert page3["next"] is None and page3["previous"]
    back = terminal.search(cursor=page3["previous"])
    assert [r["id"] for r in back["results"]] == expected[8:16]
    last = terminal.search(cursor=page1["last"])
    assert [r["id"] for r in last["results"]] == expected[16:20]  # the walk's last page: no row on two pages (T08)
    assert last["next"] is None and last["previous"]
    assert [r["id"] for r in terminal.search(cursor=last["previous"])["results"]] == expected[8:16]
    first = terminal.search(cursor=last["first"])
    assert [r["id"] for r in first["results"]] == expected[:8]


def test_cursor_walk_visits_every_row_once_with_equal_timestamps(terminal):
    same_time = hours_ago(1)
    items = terminal.push([factories.batch_item(checked_at=same_time) for _ in range(7)])
    seen, cursor = [], None
    while True:
        body = terminal.search(page_size=3, **({"cursor": cursor} if cursor else {}))
        seen += [r["id"] for r in body["results"]]
        cursor = body["next"]
        if not cursor:
            break
    assert sorted(seen) == sorted(i["id"] for i in items) and len(seen) == 7


def test_period_rule(terminal, history):
    today = today_jst()
    earliest = first_of_previous_month(today)
    assert terminal.search(date_from=earliest.isoformat(), date_to=today.isoformat())["results"]
    too_early = earliest - datetime.timedelta(days=1)
    assert error(terminal, 400, date_from=too_early.isoformat())["code"] == "period_out_of_range"
    tomorrow = today + datetime.timedelta(days=1)
    assert error(terminal, 400, date_to=tomorrow.isoformat())["code"] == "period_out_of_range"
    assert error(terminal, 400, date_from="2026/01/01")["code"] == "validation_error"
    assert error(terminal, 400, date_from=today.isoformat(), date_to=earliest.isoformat())["code"] in {
        "validation_error",
        "period_out_of_range",
    }
    assert error(terminal, 400, scope="everyone")["code"] == "validation_error"
    assert error(terminal, 400, page_size=101)["code"] == "validation_error"
    assert error(terminal, 400, cursor="bogus!")["code"] == "validation_error"


def test_period_filters_by_jst_day(terminal):
    today = today_jst()
    start_of_today = datetime.datetime.combine(today, datetime.time.min, tzinfo=JST)
    before_midnight = start_of_today - datetime.timedelta(minutes=1)
    after_midnight = start_of_today + datetime.timedelta(minutes=1)
    old, new = terminal.push(
        [factories.batch_item(checked_at=before_midnight), factories.batch_item(checked_at=after_midnight)]
    )
    ids = [r["id"] for r in terminal.search(date_from=today.isoformat(), date_to=today.isoformat())["results"]]
    assert ids == [new["id"]]


def test_default_period_is_the_last_30_days(terminal):
    terminal.push([factories.batch_item(checked_at=hours_ago(24 * 31))])
    recent = terminal.push([factories.batch_item(checked_at=hours_ago(1))])
    ids = [r["id"] for r in terminal.search()["results"]]
    assert ids == [recent[0]["id"]]


def test_detail_returns_the_document_and_is_audited(terminal, second_terminal, history):
    _, theirs = history
    response = terminal.call("GET", f"/api/v1/results/{theirs[0]['id']}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["result"] == theirs[0]["result"]
    assert body["device_id"] == second_terminal.device_id and "server_time" in body
    event = AuditEvent.objects.filter(action="result_viewed").latest("id")
    assert event.object_ids == [theirs[0]["id"]] and str(event.device_id) == terminal.device_id


def test_search_is_audited_with_the_ids_shown(terminal, history):
    body = terminal.search(page_size=5)
    event = AuditEvent.objects.filter(action="results_searched").latest("id")
    assert event.object_ids == [r["id"] for r in body["results"]]
    assert str(event.device_id) == terminal.device_id and event.actor_type == "device"
    assert event.detail["scope"] == "device"
    assert event.request_id is not None and event.ip_address == "127.0.0.1"


def test_another_institution_never_sees_these_results(terminal, foreign_terminal, history):
    mine, _ = history
    assert foreign_terminal.search(scope="institution")["results"] == []
    response = foreign_terminal.call("GET", f"/api/v1/results/{mine[0]['id']}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    unknown = foreign_terminal.call("GET", "/api/v1/results/00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
