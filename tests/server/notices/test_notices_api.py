"""S08/T04: お知らせ through the signed API — window, per-device read state, isolation between institutions (S11)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from server.common.actor import Actor
from server.devices.actions import do_retire_device
from server.devices.models import Device
from server.notices.actions import do_end_notice, do_mark_notice_read, do_publish_notice
from server.notices.filtersets import MAX_NOTICES, NoticeFilterSet
from server.notices.models import Notice, NoticeRead
from tests.server.notices.helpers import ago, ahead, error, ok

pytestmark = pytest.mark.django_db


def publish(title: str, institution=None, **kwargs) -> Notice:
    return do_publish_notice(title=title, body=f"{title}の本文です。", institution=institution, **kwargs, actor=Actor.cli("pytest"))


@pytest.fixture
def notices(institution, other_institution):
    """Visible: own (1 h ago) and global (2 h ago). Hidden: future, expired, another institution's."""
    return {
        "global": publish("システムメンテナンスのお知らせ", publish_from=ago(hours=2), url="https://example.jp/m"),
        "own": publish("受付端末の入替について", institution, publish_from=ago(hours=1)),
        "future": publish("来月のお知らせ", institution, publish_from=ahead(hours=1)),
        "expired": publish("終了したお知らせ", institution, publish_from=ago(days=3), publish_until=ago(minutes=1)),
        "foreign": publish("ほかの診療所へのお知らせ", other_institution, publish_from=ago(minutes=5)),
    }


def listing(terminal, **params) -> dict:
    return ok(terminal.call("GET", "/api/v1/notices", params=params or None))


def test_list_shows_own_and_global_notices_inside_their_window_newest_first(terminal, notices):
    body = listing(terminal)
    assert [n["title"] for n in body["notices"]] == ["受付端末の入替について", "システムメンテナンスのお知らせ"]
    assert body["unread_count"] == 2 and "server_time" in body
    own, general = body["notices"]
    assert set(own) == {"id", "title", "body", "url", "publish_from", "publish_until", "scope", "read", "read_at"}
    assert (own["scope"], own["read"], own["read_at"], own["url"]) == ("institution", False, None, "")
    assert (general["scope"], general["url"], general["publish_until"]) == ("all", "https://example.jp/m", None)
    assert own["publish_from"].endswith("+09:00")  # JST, like every time of the API


def test_a_notice_with_an_end_is_shown_until_that_end(terminal, institution):
    ending = publish("本日まで", institution, publish_from=ago(hours=1), publish_until=ahead(minutes=5))
    assert [n["id"] for n in listing(terminal)["notices"]] == [ending.pk]
    do_end_notice(ending, actor=Actor.cli("manager"))
    assert listing(terminal)["notices"] == []


def test_ending_an_ended_notice_keeps_its_end(institution):
    ended = publish("終了済み", institution, publish_from=ago(days=2), publish_until=ago(days=1))
    until = ended.publish_until
    do_end_notice(ended, actor=Actor.cli("pytest"))
    ended.refresh_from_db()
    assert ended.publish_until == until


def test_a_device_cannot_be_marked_as_reading_another_institutions_notice(foreign_terminal, notices):
    device = Device.objects.get(pk=foreign_terminal.device_id)
    with pytest.raises(ValueError):
        do_mark_notice_read(notices["own"], device)
    assert do_mark_notice_read(notices["global"], device).device == device


def test_ending_a_scheduled_notice_means_it_never_shows(terminal, institution):
    scheduled = publish("予定", institution, publish_from=ahead(minutes=1))
    do_end_notice(scheduled, actor=Actor.cli("pytest"))
    assert scheduled.state() == Notice.STATE_ENDED
    assert listing(terminal)["notices"] == []


def test_read_state_is_per_device(terminal, second_terminal, notices):
    own = notices["own"]
    read = ok(terminal.call("POST", f"/api/v1/notices/{own.pk}/read"))
    assert read["id"] == own.pk and read["read"] is True and read["read_at"].endswith("+09:00")

    mine = listing(terminal)
    assert [(n["id"], n["read"]) for n in mine["notices"]] == [(own.pk, True), (notices["global"].pk, False)]
    assert mine["notices"][0]["read_at"] == read["read_at"]
    assert mine["unread_count"] == 1
    assert [n["id"] for n in listing(terminal, unread=1)["notices"]] == [notices["global"].pk]

    theirs = listing(second_terminal, unread=1)
    assert [n["id"] for n in theirs["notices"]] == [own.pk, notices["global"].pk]
    assert theirs["unread_count"] == 2


def test_marking_read_is_idempotent_and_keeps_the_first_time(terminal, notices):
    path = f"/api/v1/notices/{notices['global'].pk}/read"
    first = ok(terminal.call("POST", path))
    again = ok(terminal.call("POST", path))
    assert again["read_at"] == first["read_at"]
    assert NoticeRead.objects.filter(notice=notices["global"]).count() == 1


def test_unread_zero_lists_everything_and_a_bad_flag_is_a_field_error(terminal, notices):
    ok(terminal.call("POST", f"/api/v1/notices/{notices['own'].pk}/read"))
    assert len(listing(terminal, unread=0)["notices"]) == 2
    err = error(terminal.call("GET", "/api/v1/notices", params={"unread": "maybe"}), 400)
    assert err["code"] == "validation_error" and "unread" in err["fields"]


def test_other_institutions_notice_is_invisible_everywhere(terminal, foreign_terminal, notices):
    foreign = notices["foreign"]
    assert foreign.pk not in [n["id"] for n in listing(terminal)["notices"]]
    assert error(terminal.call("GET", f"/api/v1/notices/{foreign.pk}"), 404)["code"] == "not_found"
    assert error(terminal.call("POST", f"/api/v1/notices/{foreign.pk}/read"), 404)["code"] == "not_found"
    assert not NoticeRead.objects.filter(notice=foreign).exists()
    # And the other way round: the foreign terminal sees its own and the global notice, never ours.
    titles = [n["title"] for n in listing(foreign_terminal)["notices"]]
    assert titles == ["ほかの診療所へのお知らせ", "システムメンテナンスのお知らせ"]


@pytest.mark.parametrize("which", ["future", "expired"])
def test_notices_outside_their_window_cannot_be_opened_or_read(terminal, notices, which):
    notice = notices[which]
    assert error(terminal.call("GET", f"/api/v1/notices/{notice.pk}"), 404)["code"] == "not_found"
    assert error(terminal.call("POST", f"/api/v1/notices/{notice.pk}/read"), 404)["code"] == "not_found"


def test_unknown_notice_is_not_found(terminal):
    assert error(terminal.call("POST", "/api/v1/notices/999999/read"), 404)["code"] == "not_found"


def test_detail_does_not_mark_read(terminal, notices):
    detail = ok(terminal.call("GET", f"/api/v1/notices/{notices['own'].pk}"))
    assert detail["title"] == "受付端末の入替について" and detail["read"] is False and "server_time" in detail
    assert listing(terminal)["unread_count"] == 2
    ok(terminal.call("POST", f"/api/v1/notices/{notices['own'].pk}/read"))
    assert ok(terminal.call("GET", f"/api/v1/notices/{notices['own'].pk}"))["read"] is True


def test_list_is_capped(terminal, institution):
    for i in range(MAX_NOTICES + 3):
        publish(f"お知らせ {i:03d}", institution, publish_from=ago(minutes=i + 1))
    body = listing(terminal)
    assert len(body["notices"]) == MAX_NOTICES
    assert body["notices"][0]["title"] == "お知らせ 000"
    assert body["unread_count"] == MAX_NOTICES + 3


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/notices"), ("GET", "/api/v1/notices/1"), ("POST", "/api/v1/notices/1/read")],
)
def test_unsigned_calls_are_refused(api_client, method, path):
    response = api_client.generic(method, path)
    assert error(response, 401)["code"] == "signature_required"


def test_bad_signature_and_retired_device_are_refused(terminal, notices):
    from contracts import signing

    assert error(terminal.call("GET", "/api/v1/notices", key=signing.generate_device_key()), 401)["code"] == (
        "bad_signature"
    )
    do_retire_device(Device.objects.get(pk=terminal.device_id), "紛失", actor=Actor.cli("manager"))
    assert error(terminal.call("POST", f"/api/v1/notices/{notices['own'].pk}/read"), 403)["code"] == "device_retired"


def test_publication_is_audited_and_validated(institution):
    from django.core.exceptions import ValidationError

    from server.audit.models import AuditEvent

    notice = publish("監査されるお知らせ", institution)
    event = AuditEvent.objects.get(action="notice_published")
    assert event.object_ids == [str(notice.pk)] and event.institution_id == institution.pk
    assert event.detail["scope"] == institution.code
    with pytest.raises(ValidationError) as raised:
        do_publish_notice(title=" ", body="", url="ftp://x", publish_from=ahead(hours=1), publish_until=ago(hours=1), actor=Actor.cli("pytest"))
    assert set(raised.value.message_dict) == {"title", "body", "url", "publish_until"}


def test_console_filterset_by_state_and_institution(institution, notices):
    def titles(**data) -> set[str]:
        return {n.title for n in NoticeFilterSet(data, Notice.objects.all()).qs}

    assert titles(state="scheduled") == {"来月のお知らせ"}
    assert titles(state="ended") == {"終了したお知らせ"}
    assert titles(state="published", institution="all") == {"システムメンテナンスのお知らせ"}
    assert titles(institution=institution.code, q="入替") == {"受付端末の入替について"}
    counts = {n.title: n.read_count for n in Notice.objects.with_read_count()}
    assert counts["受付端末の入替について"] == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_reads_of_one_device_store_one_row(terminal, institution):
    notice = publish("同時に既読", institution, publish_from=ago(minutes=1))
    device = Device.objects.get(pk=terminal.device_id)
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def read() -> None:
        try:
            barrier.wait()
            do_mark_notice_read(notice, device)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert NoticeRead.objects.filter(notice=notice, device=device).count() == 1
