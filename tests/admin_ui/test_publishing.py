"""A05 publishing from the console (IT): what IT publishes is what the terminal API serves; managers cannot publish."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from server.audit.models import AuditEvent
from server.common.actor import Actor
from server.institutions.actions import do_create_app_account
from server.notices.models import AppRelease, Document, Notice
from tests.server.conftest import PASSWORD as ACCOUNT_PASSWORD
from tests.server.conftest import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def terminal(clinic):
    do_create_app_account(clinic, "clinic-admin", ACCOUNT_PASSWORD, actor=Actor.cli("pytest"))
    return register(APIClient(), clinic)


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_it_publishes_a_notice_the_terminal_shows(client, it_staff, clinic, other_clinic, terminal):
    client.force_login(it_staff)
    now = timezone.now()
    form = {
        "title": "年末年始の受付について",
        "body": "12月29日から1月3日まで休診します。",
        "url": "",
        "publish_from": _local(now - dt.timedelta(minutes=1)),
        "publish_until": _local(now + dt.timedelta(days=7)),
    }
    response = client.post(reverse("console:notice-create"), form)
    assert response.status_code == 302 and response["Location"] == reverse("console:notices")
    notice = Notice.objects.get()
    assert (notice.institution, notice.created_by) == (clinic, "it")  # this institution only

    served = terminal.call("GET", "/api/v1/notices", params={"unread": "1"}).json()
    assert [n["title"] for n in served["notices"]] == ["年末年始の受付について"]
    assert served["notices"][0]["scope"] == "institution"

    event = AuditEvent.objects.get(action="notice_published")
    assert (event.actor_type, event.actor_id, event.institution) == ("staff", "it", clinic)

    listing = client.get(reverse("console:notices")).content.decode()
    assert "年末年始の受付について" in listing and "公開中" in listing

    # 掲載を終了: the terminal no longer gets it.
    response = client.post(reverse("console:notice-end", args=[notice.pk]))
    assert response.status_code == 302
    assert terminal.call("GET", "/api/v1/notices").json()["notices"] == []
    assert AuditEvent.objects.filter(action="notice_ended", actor_id="it").exists()


def test_notice_form_reports_field_errors(client, it_staff):
    client.force_login(it_staff)
    now = timezone.now()
    response = client.post(
        reverse("console:notice-create"),
        {
            "title": "",
            "body": "本文",
            "url": "ftp://example.invalid/x",
            "publish_from": _local(now),
            "publish_until": _local(now - dt.timedelta(days=1)),
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["title"] == ["タイトルを入力してください。"]
    assert not Notice.objects.exists()
    response = client.post(
        reverse("console:notice-create"),
        {"title": "t", "body": "b", "url": "ftp://x.invalid", "publish_from": _local(now), "publish_until": _local(now)},
    )
    errors = response.context["form"].errors
    assert "URLは http:// または https:// で始まる形式で入力してください。" in errors["url"]
    assert "公開終了は公開開始より後の日時を指定してください。" in errors["publish_until"]


def test_another_institutions_notice_cannot_be_ended(client, it_staff, other_clinic):
    from server.notices.actions import do_publish_notice

    foreign = do_publish_notice(title="よそ", body="よその医院のお知らせ", institution=other_clinic, actor=Actor.cli("pytest"))
    client.force_login(it_staff)
    assert client.post(reverse("console:notice-end", args=[foreign.pk])).status_code == 404
    assert "よそ" not in client.get(reverse("console:notices")).content.decode()


def test_it_publishes_a_minimum_app_version_the_terminal_must_install(client, it_staff, terminal):
    client.force_login(it_staff)
    store = "https://apps.example.invalid/myna"
    assert client.post(reverse("console:release-create"), {"version": "1.1.0", "store_url": store}).status_code == 302
    response = client.post(
        reverse("console:release-create"),
        {"version": "1.2.0", "store_url": store, "notes": "セキュリティ修正", "minimum_supported": "on"},
    )
    assert response.status_code == 302
    answer = terminal.call("GET", "/api/v1/app-release/latest", params={"current": "1.1.0"}).json()
    assert answer["latest_version"] == "1.2.0" and answer["update_required"] is True
    assert answer["store_url"] == store and answer["notes"] == "セキュリティ修正"
    assert terminal.call("GET", "/api/v1/app-release/latest", params={"current": "1.2.0"}).json()["update_required"] is False

    page = client.get(reverse("console:releases")).content.decode()
    assert 'data-testid="minimum-version">1.2.0<' in page and 'data-testid="latest-version">1.2.0<' in page
    event = AuditEvent.objects.filter(action="app_release_published").latest("id")
    assert (event.actor_id, event.detail["minimum_supported"]) == ("it", True)

    # The same version twice, or not a version: a field error, nothing published.
    response = client.post(reverse("console:release-create"), {"version": "1.2", "store_url": store})
    assert response.context["form"].errors["version"] == ["バージョン 1.2 は既に公開されています。"]
    response = client.post(reverse("console:release-create"), {"version": "新しい版", "store_url": "not a url"})
    errors = response.context["form"].errors
    assert errors["version"] and errors["store_url"]
    assert AppRelease.objects.count() == 2


def test_a_document_is_previewed_before_it_is_published(client, it_staff, terminal):
    client.force_login(it_staff)
    form = {"kind": "terms", "version": "2.0", "title": "利用規約（改定版）", "body": "第1条 改定しました。\n\n第2条 以上。"}
    preview = client.post(reverse("console:document-create"), {**form, "step": "preview"})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "プレビュー" in body and "<p>第1条 改定しました。</p>" in body
    assert not Document.objects.exists()  # previewing publishes nothing
    assert terminal.call("GET", "/api/v1/documents/terms").status_code == 404

    edit = client.post(reverse("console:document-create"), {**form, "step": "edit"})
    assert edit.status_code == 200 and edit.context.get("preview") is None  # back to the filled-in form
    assert 'value="利用規約（改定版）"' in edit.content.decode()

    published = client.post(reverse("console:document-create"), {**form, "step": "publish"})
    assert published.status_code == 302
    served = terminal.call("GET", "/api/v1/documents/terms").json()
    assert (served["version"], served["title"]) == ("2.0", "利用規約（改定版）")
    assert AuditEvent.objects.filter(action="document_published", actor_id="it").exists()

    again = client.post(reverse("console:document-create"), {**form, "step": "preview"})
    assert again.context["form"].errors["version"] == ["版 2.0 は既に公開されています。"]
    listing = client.get(reverse("console:documents")).content.decode()
    assert "利用規約（改定版）" in listing and "公開中" in listing


@pytest.mark.parametrize(
    "url",
    ["console:notices", "console:notice-create", "console:documents", "console:document-create", "console:releases"],
)
def test_managers_cannot_publish(client, manager, url):
    client.force_login(manager)
    assert client.get(reverse(url)).status_code == 403


def test_a_manager_post_publishes_nothing(client, manager):
    client.force_login(manager)
    now = timezone.now()
    response = client.post(
        reverse("console:notice-create"), {"title": "t", "body": "b", "publish_from": _local(now)}
    )
    assert response.status_code == 403
    response = client.post(reverse("console:release-create"), {"version": "9.0.0", "store_url": "https://x.invalid"})
    assert response.status_code == 403
    assert not Notice.objects.exists() and not AppRelease.objects.exists()
