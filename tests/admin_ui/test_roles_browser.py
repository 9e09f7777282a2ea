"""Issue 14's points as each kind of user does them on a normal day, in Debian's Chromium (Playwright):

- the institution administrator (利用者管理): a new console user (field errors first), roles, password reset, a lost
  phone's two-factor reset, deactivation — after which that user cannot sign in (A01);
- IT (IT担当): a code issued with a name, a tablet registering with it (the name wins), a rename onto a taken name, a
  bulk revoke and a bulk retirement with one confirmation each, the device page's history (A02);
- the clinic manager (管理者): the dashboard's period and a terminal's bar leading to the filtered list, the
  kana-tolerant name search, a result page worded as C-04-01-W and its print view, the audit trail by object and by
  actor prefix (A03, A06, A07).

Never ``playwright install``: the tests use the system's /usr/bin/chromium.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect
from rest_framework.test import APIClient

from contracts import signing
from server.common.actor import Actor
from tests.admin_ui.conftest import PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

TIMEOUT_MS = 10_000
pytestmark = pytest.mark.browser


def sign_in(browser, live_server, username: str, password: str = PASSWORD):
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{live_server.url}/console/login/")
    page.get_by_label("ログインID").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    return page


def confirm_dialogs(page) -> list[str]:
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.accept()))
    return seen


def test_the_institution_administrator_manages_console_users(
    browser, live_server, transactional_db, closing_connections, admin
):
    from server.audit.models import AuditEvent

    page = sign_in(browser, live_server, "admin")
    dialogs = confirm_dialogs(page)
    try:
        expect(page.get_by_role("heading", name="コンソール利用者", exact=True)).to_be_visible()  # their start page
        page.get_by_role("link", name="利用者を作成").click()
        page.get_by_label("ログインID").fill("受付 花子")
        page.get_by_role("button", name="作成する").click()
        expect(page.get_by_text("ログインIDは半角英数字と記号")).to_be_visible()
        expect(page.get_by_text("役割を1つ以上選んでください。")).to_be_visible()

        page.get_by_label("ログインID").fill("uketsuke")
        page.get_by_label("管理者").check()
        page.get_by_label("パスワード", exact=True).fill("Uketsuke#2026")
        page.get_by_label("パスワード（確認）").fill("Uketsuke#2026")
        page.get_by_role("button", name="作成する").click()
        expect(page.get_by_role("status")).to_contain_text("コンソール利用者「uketsuke」を作成しました。")

        page.get_by_role("link", name="「uketsuke」の設定").click()
        page.get_by_label("IT担当").check()
        page.get_by_role("button", name="役割を保存").click()
        expect(page.get_by_role("status")).to_contain_text("「uketsuke」の役割を「管理者・IT担当」にしました。")

        page.get_by_role("link", name="「uketsuke」の設定").click()
        page.get_by_role("link", name="パスワードを再設定").click()
        page.get_by_label("パスワード", exact=True).fill("Uketsuke#2027")
        page.get_by_label("パスワード（確認）").fill("Uketsuke#2027")
        page.get_by_role("button", name="再設定する").click()
        expect(page.get_by_role("status")).to_contain_text("「uketsuke」のパスワードを再設定しました。")

        # A lost phone: the administrator resets the user's two-factor sign-in.
        TOTPDevice.objects.create(user=get_user_model().objects.get(username="uketsuke"), name="console", confirmed=True)
        page.get_by_role("link", name="「uketsuke」の設定").click()
        page.get_by_role("button", name="2段階認証をリセット").click()
        expect(page.get_by_role("status")).to_contain_text("「uketsuke」の2段階認証をリセットしました。")

        page.get_by_role("link", name="「uketsuke」の設定").click()
        page.get_by_role("button", name="無効にする").click()
        expect(page.get_by_role("status")).to_contain_text("「uketsuke」を無効にしました。")
        expect(page.locator('tr[data-username="uketsuke"]')).to_contain_text("無効")
        assert dialogs == ["「uketsuke」の2段階認証をリセットします。よろしいですか？", "「uketsuke」を無効にします。よろしいですか？"]
    finally:
        page.close()

    refused = sign_in(browser, live_server, "uketsuke", "Uketsuke#2027")
    try:
        expect(refused.get_by_role("alert")).to_have_text("ログインIDまたはパスワードが正しくありません。")
    finally:
        refused.close()
    actions = set(AuditEvent.objects.filter(actor_id="admin").values_list("action", flat=True))
    assert actions >= {
        "staff_user_created",
        "staff_user_roles_changed",
        "staff_user_password_reset",
        "staff_totp_removed",
        "staff_user_deactivated",
    }


def test_it_names_a_tablet_renames_and_retires_in_bulk(
    browser, live_server, transactional_db, closing_connections, clinic, it_staff, make_device
):
    from server.audit.models import AuditEvent
    from server.devices.models import ActivationCode, Device
    from server.institutions.actions import do_create_app_account
    from tests.server.conftest import PASSWORD as ACCOUNT_PASSWORD
    from tests.server.conftest import Terminal, registration_body

    do_create_app_account(clinic, "clinic-admin", ACCOUNT_PASSWORD, actor=Actor.cli("pytest"))
    old = make_device(clinic, "受付1", last_seen_at=timezone.now() - dt.timedelta(hours=2))
    page = sign_in(browser, live_server, "it")
    dialogs = confirm_dialogs(page)
    try:
        page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="端末").click()
        expect(page.locator(f'tr[data-device-id="{old.pk}"]')).to_contain_text("応答なし")  # silent for two hours
        page.get_by_role("link", name="アクティベーションコードを発行").click()
        page.get_by_label("端末名（任意）").fill("受付1")
        page.get_by_role("button", name="発行する").click()
        expect(page.get_by_text("この端末名は既に使われています。")).to_be_visible()
        page.get_by_label("端末名（任意）").fill("受付2")
        page.get_by_role("button", name="発行する").click()
        code = page.get_by_test_id("activation-code").inner_text().replace(" ", "")

        # The tablet registers with the code, proposing its host name: the name IT gave wins.
        key = signing.generate_device_key()
        client = APIClient()
        body = registration_body(clinic, code, key, device_name="vm")
        response = client.post("/api/v1/devices/register", body, format="json")
        assert response.status_code == 201, response.content
        tablet = Terminal(client, key, response.json()["device_id"])
        page.get_by_role("link", name="端末一覧へ戻る").click()
        page.get_by_role("link", name="受付2", exact=True).click()
        expect(page.get_by_role("heading", name="端末「受付2」")).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text("正常")

        page.get_by_role("link", name="名前を変更").click()
        page.get_by_label("端末名").fill("受付1")
        page.get_by_role("button", name="変更する").click()
        expect(page.get_by_text("この端末名は既に使われています。")).to_be_visible()
        page.get_by_label("端末名").fill("受付2（2階）")
        page.get_by_role("button", name="変更する").click()
        expect(page.get_by_role("status")).to_contain_text("端末名を「受付2」から「受付2（2階）」に変更しました。")
        history = page.get_by_role("main")
        expect(history).to_contain_text("端末名の変更")
        expect(history).to_contain_text("端末の登録")

        # Two spare codes revoked at once, after one question.
        for name in ("予備1", "予備2"):
            page.goto(f"{live_server.url}/console/devices/activation-codes/new/")
            page.get_by_label("端末名（任意）").fill(name)
            page.get_by_role("button", name="発行する").click()
        page.goto(f"{live_server.url}/console/devices/activation-codes/")
        for name in ("予備1", "予備2"):
            page.locator("table.table--codes tbody tr", has_text=name).get_by_role("checkbox").check()
        page.get_by_role("button", name="選択したコードを無効化").click()
        expect(page.get_by_role("status")).to_contain_text("2件のアクティベーションコードを無効化しました。")

        # Both tablets retired with one confirmation page and one reason.
        page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="端末").click()
        page.get_by_role("checkbox", name="「受付1」を選択").check()
        page.get_by_role("checkbox", name="「受付2（2階）」を選択").check()
        page.get_by_role("button", name="選択した端末を廃止").click()
        expect(page.get_by_role("heading", name="端末の廃止")).to_be_visible()
        page.get_by_label("廃止の理由").fill("入れ替えのため")
        page.get_by_role("checkbox").check()
        page.get_by_role("button", name="2台を廃止する").click()
        expect(page.get_by_role("status")).to_contain_text("2台の端末（「受付1」「受付2（2階）」）を廃止しました。")
        assert dialogs == ["選択したアクティベーションコードをまとめて無効化します。よろしいですか？"]
    finally:
        page.close()

    device = Device.objects.get(pk=tablet.device_id)
    seen = device.last_seen_at
    refused = tablet.call("POST", "/api/v1/devices/me/heartbeat", {})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "device_retired"
    device.refresh_from_db()
    assert device.last_seen_at == seen and device.retired_reason == "入れ替えのため"
    assert ActivationCode.objects.filter(device_name__startswith="予備", revoked_at__isnull=False).count() == 2
    assert AuditEvent.objects.filter(action="device_retired", actor_id="it").count() == 2


def test_the_manager_follows_the_dashboard_to_a_result_and_its_trail(
    browser, live_server, transactional_db, closing_connections, clinic, manager, make_device, make_result
):
    import json
    from pathlib import Path

    roster = json.loads(Path(__file__).parents[1].joinpath("terminal", "gallery_roster.json").read_text("utf-8"))
    front, back = make_device(clinic, "受付1"), make_device(clinic, "受付2")
    child = make_result(front, "", "", document=roster["資格 未来"]["document"])
    make_result(front, "", "", document=roster["資格 太郎"]["document"], checked_at=timezone.now() - dt.timedelta(days=3))
    make_result(back, "", "", document=roster["鈴木 次郎"]["document"])

    page = sign_in(browser, live_server, "manager")
    try:
        page.get_by_role("link", name="7日間").click()
        expect(page.get_by_test_id("share-valid")).to_have_text("3件")
        # A terminal's bar leads to that terminal's results over the period.
        page.locator("svg.chart-terminals a[aria-label^='受付1']").first.click()
        expect(page).to_have_url(re.compile(rf"/console/results/\?device={front.pk}&date_from="))
        expect(page.locator("table.table--results tbody tr")).to_have_count(2)

        # 氏名・カナ in any kana: しかく finds シカク.
        page.get_by_label("端末").select_option("")
        page.get_by_label("氏名・カナ").fill("しかく　みらい")
        page.get_by_role("button", name="検索").click()
        rows = page.locator("table.table--results tbody tr")
        expect(rows).to_have_count(1)
        rows.first.get_by_role("link", name="資格 未来").click()
        main = page.get_by_role("main")
        expect(main).to_contain_text("義務教育就学前")
        expect(main).to_contain_text("令和03年06月15日")  # 生年月日 in 和暦, as C-04-01-W shows it
        with page.expect_popup() as popup:
            page.get_by_role("link", name="印刷用の表示").click()
        sheet = popup.value
        expect(sheet.get_by_role("heading", name="資格確認結果")).to_be_visible()
        expect(sheet.locator("main")).to_contain_text("令和03年06月15日")
        sheet.close()

        page.reload()
        viewers = page.get_by_test_id("result-viewers")
        expect(viewers).to_contain_text("印刷用に表示")
        viewers.get_by_role("link", name="監査ログで見る").click()
        rows = page.locator("table.table--audit tbody tr")
        expect(rows.first).to_contain_text("資格確認結果の詳細表示")
        assert all(str(child.pk) in text for text in rows.all_inner_texts())  # only events naming this result

        page.get_by_label("対象の種類").select_option("")
        page.get_by_label("対象のID").fill("")
        page.get_by_label("操作者ID（前方一致）").fill("mana")
        page.get_by_role("button", name="検索").click()
        actors = page.locator("table.table--audit tbody tr td.cell-actor").all_inner_texts()
        assert actors and all(text.startswith("manager") for text in actors)
    finally:
        page.close()
