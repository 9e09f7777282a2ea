"""Console views: sign-in, login required, institution isolation (S11), roles (A01), lists and detail (A02, A03)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.admin_ui.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = ["console:dashboard", "console:devices", "console:results"]


def sign_in(client, user) -> None:
    response = client.post(reverse("console:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()


# --- sign-in and sign-out (A01) ---


def test_login_page_is_japanese_and_has_csrf(client):
    response = client.get(reverse("console:login"))
    body = response.content.decode()
    assert response.status_code == 200
    for label in ("ログインID", "パスワード", "ログイン", "csrfmiddlewaretoken"):
        assert label in body
    assert 'lang="ja"' in body


def test_login_enforces_csrf(manager):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("console:login"), {"username": "manager", "password": PASSWORD})
    assert response.status_code == 403


def test_manager_signs_in_and_sees_institution_and_user(client, manager, clinic):
    response = client.post(reverse("console:login"), {"username": "manager", "password": PASSWORD}, follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("console:dashboard")
    assert clinic.name in body
    assert "manager" in body
    for nav in ("ダッシュボード", "資格確認結果", "端末"):
        assert nav in body


def test_wrong_password_shows_a_clear_message(client, manager):
    response = client.post(reverse("console:login"), {"username": "manager", "password": "wrong"})
    assert response.status_code == 200
    assert "ログインIDまたはパスワードが正しくありません。" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_sign_in_for_that_id(client, manager):
    from server.audit.models import AuditEvent

    url = reverse("console:login")
    for _ in range(5):
        client.post(url, {"username": "manager", "password": "wrong"})
    response = client.post(url, {"username": "manager", "password": PASSWORD})
    assert "ログインの試行回数が多すぎます。" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failures = AuditEvent.objects.filter(action="console_login_failed", actor_id="manager")
    assert failures.count() == 6
    assert "wrong" not in str(list(failures.values_list("detail", flat=True)))


def test_successful_sign_in_is_audited_and_pages_are_not_cached(client, manager, clinic):
    from server.audit.models import AuditEvent

    sign_in(client, manager)
    event = AuditEvent.objects.get(action="console_login")
    assert (event.actor_type, event.actor_id, event.institution_id) == ("staff", "manager", clinic.pk)
    response = client.get(reverse("console:results"))
    assert "no-store" in response["Cache-Control"]


def test_user_without_membership_cannot_sign_in(client, make_staff, clinic):
    make_staff("outsider", clinic, role=None)
    response = client.post(reverse("console:login"), {"username": "outsider", "password": PASSWORD})
    assert response.status_code == 200
    assert "ログインIDまたはパスワードが正しくありません。" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signed_in_user_without_membership_is_refused(client, make_staff, clinic):
    user = make_staff("outsider", clinic, role=None)
    client.force_login(user)
    for page in PAGES:
        response = client.get(reverse(page))
        assert response.status_code == 403
        assert "権限がありません" in response.content.decode()


def test_logout_is_post_only_and_ends_the_session(client, manager):
    sign_in(client, manager)
    assert client.get(reverse("console:logout")).status_code == 405
    response = client.post(reverse("console:logout"), follow=True)
    assert "ログアウトしました。" in response.content.decode()
    assert client.get(reverse("console:dashboard")).status_code == 302


@pytest.mark.parametrize("page", PAGES)
def test_pages_require_login(client, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login") + "?next=")


def test_login_redirects_to_next(client, manager):
    target = reverse("console:devices")
    response = client.post(
        reverse("console:login") + f"?next={target}", {"username": "manager", "password": PASSWORD, "next": target}
    )
    assert response["Location"] == target


# --- devices (A02) ---


def test_device_list_shows_only_own_institution(client, manager, clinic, other_clinic, make_device):
    make_device(clinic, "受付1")
    make_device(clinic, "受付2", status="retired", retired_at=timezone.now(), retired_by="it", retired_reason="故障")
    make_device(other_clinic, "よその端末")
    client.force_login(manager)
    body = client.get(reverse("console:devices")).content.decode()
    assert "受付1" in body and "受付2" in body
    assert "よその端末" not in body
    assert "正常" in body and "廃止" in body  # device health (A02)
    for column in ("端末名", "状態", "登録日時", "最終接続日時", "アプリバージョン", "OS", "カードリーダー"):
        assert column in body
    assert "Windows 11" in body


def test_manager_sees_no_retire_button_and_cannot_retire(client, manager, clinic, make_device):
    device = make_device(clinic, "受付1")
    client.force_login(manager)
    assert "device-retire" not in client.get(reverse("console:devices")).content.decode()
    url = reverse("console:device-retire", args=[device.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "故障", "confirm": "on"}).status_code == 403
    device.refresh_from_db()
    assert device.status == "active"


def test_it_cannot_open_retire_page_of_another_institution(client, it_staff, other_clinic, make_device):
    device = make_device(other_clinic, "よその端末")
    client.force_login(it_staff)
    assert client.get(reverse("console:device-retire", args=[device.pk])).status_code == 404
    assert (
        client.post(reverse("console:device-retire", args=[device.pk]), {"reason": "x", "confirm": "on"}).status_code
        == 404
    )
    device.refresh_from_db()
    assert device.status == "active"


def test_retire_requires_reason_and_confirmation(client, it_staff, clinic, make_device):
    device = make_device(clinic, "受付1")
    client.force_login(it_staff)
    url = reverse("console:device-retire", args=[device.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "廃止の理由" in page.content.decode()
    response = client.post(url, {"reason": "", "confirm": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "廃止の理由を入力してください。" in body
    assert "確認のチェックを入れてください。" in body
    device.refresh_from_db()
    assert device.status == "active"


def test_it_retires_a_device_with_reason(client, it_staff, clinic, make_device):
    from server.audit.models import AuditEvent

    device = make_device(clinic, "受付1")
    client.force_login(it_staff)
    listing = client.get(reverse("console:device-detail", args=[device.pk])).content.decode()
    retire_url = reverse("console:device-retire", args=[device.pk])
    assert retire_url in listing
    response = client.post(retire_url, {"reason": "故障のため交換", "confirm": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("console:devices")
    assert "端末「受付1」を廃止しました。" in response.content.decode()
    device.refresh_from_db()
    assert (device.status, device.retired_by, device.retired_reason) == ("retired", "it", "故障のため交換")
    assert device.retired_at is not None
    event = AuditEvent.objects.get(action="device_retired")
    assert (event.actor_type, event.actor_id, event.device_id) == ("staff", "it", device.pk)
    # A retired device has no retire button any more, and a second POST changes nothing.
    assert retire_url not in client.get(reverse("console:devices")).content.decode()
    again = client.post(retire_url, {"reason": "再度", "confirm": "on"}, follow=True)
    assert "すでに利用中ではありません" in again.content.decode()
    device.refresh_from_db()
    assert device.retired_reason == "故障のため交換"


# --- results (A03) ---


def test_results_list_newest_first_with_jst_time_and_validity(
    client, manager, clinic, other_clinic, make_device, make_result
):
    device = make_device(clinic, "受付1")
    older = make_result(
        device, "資格 太郎", "シカク タロウ", validity="1", checked_at=timezone.now() - dt.timedelta(hours=2)
    )
    newer = make_result(device, "無効 花子", "ムコウ ハナコ", validity="2")
    make_result(make_device(other_clinic, "よその端末"), "他院 患者", "タイン カンジャ")
    client.force_login(manager)
    response = client.get(reverse("console:results"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("無効 花子") < body.index("資格 太郎")
    assert "他院 患者" not in body
    assert "資格有効" in body and "資格無効" in body
    expected = timezone.localtime(older.checked_at).strftime("%Y年%m月%d日 %H時%M分")
    assert expected in body
    assert list(response.context["results"]) == [newer, older]


def test_results_time_is_shown_in_jst(client, manager, clinic, make_device, make_result):
    device = make_device(clinic, "受付1")
    make_result(
        device, "資格 太郎", "シカク タロウ", checked_at=timezone.now().replace(hour=3, minute=5) - dt.timedelta(days=1)
    )
    client.force_login(manager)
    result = client.get(reverse("console:results")).context["results"][0]
    jst = result.checked_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert f"{jst:%Y年%m月%d日 %H時%M分}" in client.get(reverse("console:results")).content.decode()


def test_results_filters(client, manager, clinic, make_device, make_result):
    front = make_device(clinic, "受付1")
    back = make_device(clinic, "受付2")
    make_result(front, "資格 太郎", "シカク タロウ", validity="1")
    make_result(back, "無効 花子", "ムコウ ハナコ", validity="2")
    make_result(front, "古い 記録", "フルイ キロク", checked_at=timezone.now() - dt.timedelta(days=60))
    client.force_login(manager)
    url = reverse("console:results")

    def names(**params):
        return [r.name for r in client.get(url, params).context["results"]]

    assert sorted(names()) == ["無効 花子", "資格 太郎"]  # default period: the last 30 days
    assert names(validity="invalid") == ["無効 花子"]
    assert names(validity="valid") == ["資格 太郎"]
    assert names(device=str(back.pk)) == ["無効 花子"]
    assert names(q="シカク") == ["資格 太郎"]
    assert names(q="花子") == ["無効 花子"]
    assert names(q="資格太郎") == ["資格 太郎"]  # the space between family and given name does not matter
    assert names(q="しかく　たろう") == ["資格 太郎"]  # hiragana and a full-width space
    assert names(q="ｼｶｸ") == ["資格 太郎"]  # half-width kana
    old_day = (timezone.localdate() - dt.timedelta(days=60)).isoformat()
    assert names(date_from=old_day, date_to=old_day) == ["古い 記録"]


def test_results_filter_errors_are_shown(client, manager, clinic, make_device, other_clinic):
    foreign = make_device(other_clinic, "よその端末")
    client.force_login(manager)
    url = reverse("console:results")
    body = client.get(url, {"date_from": "2026-02-10", "date_to": "2026-02-01"}).content.decode()
    assert "終了日は開始日以降の日付を指定してください。" in body
    # Another institution's device is not a valid choice (S11).
    response = client.get(url, {"device": str(foreign.pk)})
    assert response.context["form"].errors["device"]
    assert list(response.context["results"]) == []


def test_results_paging(client, manager, clinic, make_device, make_result):
    device = make_device(clinic, "受付1")
    start = timezone.now() - dt.timedelta(hours=1)
    for i in range(25):
        make_result(device, f"患者{i:02d}", "カンジャ", checked_at=start + dt.timedelta(minutes=i))
    client.force_login(manager)
    url = reverse("console:results")
    first = client.get(url)
    assert [r.name for r in first.context["results"]][:2] == ["患者24", "患者23"]
    assert len(first.context["results"]) == 20
    assert "次のページ" in first.content.decode()
    second = client.get(url, {"validity": "", "page": 2})
    assert [r.name for r in second.context["results"]] == [f"患者{i:02d}" for i in range(4, -1, -1)]
    assert "前のページ" in second.content.decode()


def test_results_list_and_detail_are_audited(client, manager, clinic, make_device, make_result):
    from server.audit.models import AuditEvent

    device = make_device(clinic, "受付1")
    first = make_result(device, "資格 太郎", "シカク タロウ")
    second = make_result(device, "無効 花子", "ムコウ ハナコ", validity="2")
    client.force_login(manager)
    client.get(reverse("console:results"), {"q": "シカク"})
    listed = AuditEvent.objects.get(action="console_results_listed")
    assert (listed.actor_type, listed.actor_id, listed.institution_id) == ("staff", "manager", clinic.pk)
    assert listed.object_ids == [str(first.pk)]
    assert listed.detail["name_searched"] is True
    assert "シカク" not in str(listed.detail)  # the search term is patient data

    client.get(reverse("console:result-detail", args=[second.pk]))
    shown = AuditEvent.objects.get(action="console_result_viewed")
    assert (shown.actor_id, shown.object_ids) == ("manager", [str(second.pk)])


def test_result_detail_shows_fields_with_display_labels(client, manager, clinic, make_device, make_result):
    device = make_device(clinic, "受付1")
    result = make_result(device, "資格 太郎", "シカク タロウ", validity="2")
    client.force_login(manager)
    body = client.get(reverse("console:result-detail", args=[result.pk])).content.decode()
    for text in (
        "資格無効",
        "この資格は無効です",
        "照会番号",
        "1234567890000001",
        "保険者番号",
        "12345678",
        "限定資格保険組合",
        "フリガナ",
        "シカク タロウ",
        "資格 太郎",
        "区分",
        "一般",
        "負担割合",
        "1割",
        "本人・家族の別",
        "本人",
        "資格有効性",
        "無効",
        "有効終了日",
        "2027年03月31日",
        "生年月日",
        "昭和55年04月01日",  # as the terminal's C-04-01-W shows it (contracts.result_view)
        "マイナンバーカード (暗証番号)",
        "受付1",
    ):
        assert text in body, text


def test_result_detail_of_another_institution_is_not_found(client, manager, other_clinic, make_device, make_result):
    foreign = make_result(make_device(other_clinic, "よその端末"), "他院 患者", "タイン カンジャ")
    client.force_login(manager)
    assert client.get(reverse("console:result-detail", args=[foreign.pk])).status_code == 404


def test_it_staff_see_results_only_when_also_managers(client, make_staff, clinic, make_device, make_result):
    result = make_result(make_device(clinic, "受付1"), "資格 太郎", "シカク タロウ")
    client.force_login(make_staff("it", clinic, "it"))
    for url in (reverse("console:results"), reverse("console:result-detail", args=[result.pk])):
        response = client.get(url)
        assert response.status_code == 403 and "資格 太郎" not in response.content.decode()
    client.force_login(make_staff("it-manager", clinic, ("it", "manager")))
    assert "資格 太郎" in client.get(reverse("console:results")).content.decode()


def test_static_assets_are_local(client, manager):
    client.force_login(manager)
    body = client.get(reverse("console:dashboard")).content.decode()
    assert "/static/admin_ui/console.css" in body
    assert "http://" not in body and "https://" not in body


def _shown(html: str) -> dict[str, list]:
    """What a result page shows from the presenter: the messages, then each section's kicker, title and rows."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[str] = []
            self.sections: list[list[str]] = []
            self.into: list[str] | None = None
            self.in_section = False

        def handle_starttag(self, tag: str, attrs: list) -> None:
            attributes = dict(attrs)
            if attributes.get("data-testid") == "result-message":
                self.messages.append("")
                self.into = self.messages
            elif attributes.get("data-testid") == "result-section":
                self.sections.append([])
                self.in_section = True
            elif self.in_section and tag in ("p", "h2", "dt", "dd"):
                self.sections[-1].append("")
                self.into = self.sections[-1]

        def handle_endtag(self, tag: str) -> None:
            if tag in ("p", "h2", "dt", "dd"):
                self.into = None
            if tag == "section":
                self.in_section = False

        def handle_data(self, data: str) -> None:
            if self.into is not None:
                self.into[-1] += data

    reader = Reader()
    reader.feed(html)
    return {"messages": reader.messages, "sections": reader.sections}


def test_the_result_page_words_every_roster_variant_as_the_terminal_does(
    client, manager, clinic, make_device, make_result
):
    """A03: for every result of the sandbox's demo roster (the manual's variants: 未就学, 医療扶助, 要配慮情報, 高齢受給者,
    限度額, 特定疾病, 無効, certificates expiring…), the console's page shows C-04-01-W's messages, sections and rows in
    its order and words — the one presenter, contracts.result_view, as the terminal renders it."""
    import json
    from pathlib import Path

    from contracts.result_view import build_result_view

    roster = json.loads(Path(__file__).parents[1].joinpath("terminal", "gallery_roster.json").read_text("utf-8"))
    documents = {name: entry["document"] for name, entry in roster.items() if "document" in entry}
    assert len(documents) >= 14
    device = make_device(clinic, "受付1")
    client.force_login(manager)
    seen_preschool = False
    for name, document in documents.items():
        qualification = document["result_of_qualification_confirmation"]
        result = make_result(device, qualification["name"], qualification["name_kana"], document=document)
        view = build_result_view(document)
        expected_messages = [*view.messages, *([view.preschool_notice] if view.preschool else [])]
        expected_sections = [
            [*([section.subtitle] if section.subtitle else []), section.title, *(t for row in section.rows for t in row)]
            for section in view.sections
            if section.rows
        ]
        for url in ("console:result-detail", "console:result-print"):
            response = client.get(reverse(url, args=[result.pk]))
            assert response.status_code == 200, (name, url)
            shown = _shown(response.content.decode())
            assert shown == {"messages": expected_messages, "sections": expected_sections}, (name, url)
        seen_preschool |= view.preschool
    assert seen_preschool  # 資格 未来: 「義務教育就学前」 as C-04-01-W shows it
