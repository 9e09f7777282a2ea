"""S08/A05: publish_notice, publish_document, publish_app_release and seed_documents, checked through the API."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from server.audit.models import AuditEvent
from server.notices.models import AppRelease, Document, Notice
from tests.server.notices.helpers import ok

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_publish_notice_for_one_institution_with_a_window(terminal, institution):
    output = run(
        "publish_notice",
        "--title",
        "年末年始の休診",
        "--body",
        "12月29日から1月3日まで休診します。",
        "--institution",
        institution.code,
        "--from",
        "2020-01-01T09:00",
        "--until",
        "2099-12-31",
    )
    assert "お知らせを公開しました" in output and "2020年01月01日 09時00分" in output
    notice = Notice.objects.get()
    assert notice.institution == institution and notice.publish_from.isoformat() == "2020-01-01T00:00:00+00:00"
    assert [n["title"] for n in ok(terminal.call("GET", "/api/v1/notices"))["notices"]] == ["年末年始の休診"]
    assert AuditEvent.objects.filter(action="notice_published", object_ids=[str(notice.pk)]).exists()


def test_publish_notice_for_everyone_and_errors(terminal):
    assert "すべての医療機関" in run("publish_notice", "--title", "全体", "--body", "本文")
    assert Notice.objects.get().institution is None
    with pytest.raises(CommandError, match="登録されていません"):
        run("publish_notice", "--title", "x", "--body", "y", "--institution", "0000000000")
    with pytest.raises(CommandError, match="公開終了は公開開始より後"):
        run("publish_notice", "--title", "x", "--body", "y", "--from", "2030-01-02", "--until", "2030-01-01")
    with pytest.raises(CommandError, match="--until"):
        run("publish_notice", "--title", "x", "--body", "y", "--until", "来週")


def test_publish_document_from_a_file(terminal, tmp_path):
    text = tmp_path / "terms.md"
    text.write_text("第1条 本アプリは資格確認に利用します。\n", encoding="utf-8")
    assert "利用規約 版 2.0 を公開しました" in run(
        "publish_document", "--kind", "terms", "--version", "2.0", "--title", "利用規約", "--file", str(text)
    )
    body = ok(terminal.call("GET", "/api/v1/documents/terms"))
    assert (body["version"], body["body"]) == ("2.0", "第1条 本アプリは資格確認に利用します。")
    with pytest.raises(CommandError, match="既に公開"):
        run("publish_document", "--kind", "terms", "--version", "2.0", "--title", "利用規約", "--file", str(text))
    with pytest.raises(CommandError, match="読み込めません"):
        run("publish_document", "--kind", "terms", "--version", "3.0", "--title", "t", "--file", str(tmp_path / "no"))
    with pytest.raises(CommandError):
        run("publish_document", "--kind", "cookies", "--version", "1", "--title", "t", "--file", str(text))


def test_publish_app_release(terminal):
    url = "https://apps.microsoft.com/detail/9demo0000000"
    output = run("publish_app_release", "--version", "1.4.0", "--store-url", url, "--minimum-supported")
    assert "1.4.0" in output and "更新必須" in output
    assert AppRelease.objects.get().minimum_supported is True
    body = ok(terminal.call("GET", "/api/v1/app-release/latest", params={"current": "1.3.9"}))
    assert (body["latest_version"], body["store_url"], body["update_required"]) == ("1.4.0", url, True)
    with pytest.raises(CommandError, match="バージョン"):
        run("publish_app_release", "--version", "next", "--store-url", url)


def test_seed_documents_command_is_idempotent():
    assert run("seed_documents").count("を公開しました") == 3
    assert "すべて公開済み" in run("seed_documents")
    assert Document.objects.count() == 3


def test_openapi_documents_the_notices_api(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/notices": ("get", {"200", "400", "401", "403", "503"}),
        "/api/v1/notices/{notice_id}": ("get", {"200", "404", "401", "403", "503"}),
        "/api/v1/notices/{notice_id}/read": ("post", {"200", "404", "401", "403", "503"}),
        "/api/v1/documents/{kind}": ("get", {"200", "404", "401", "403", "503"}),
        "/api/v1/app-release/latest": ("get", {"200", "400", "401", "403", "503"}),
    }
    for path, (method, statuses) in expected.items():
        # Every signed call may also answer 405 (another method) and 413 (a body too large), issue 15 point 5.
        assert set(paths[path][method]["responses"]) == statuses | {"405", "413"}, path
    assert "unknown_document_kind" in paths["/api/v1/documents/{kind}"]["get"]["responses"]["404"]["description"]
