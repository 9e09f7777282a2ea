"""The console in a real browser: Debian's Chromium driven by Playwright against pytest-django's live server (A01-A03).

Never ``playwright install``: the test uses the system's /usr/bin/chromium.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from tests.admin_ui.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, result_document

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread



@pytest.mark.browser
def test_manager_signs_in_and_sees_valid_and_invalid_results(
    live_server, transactional_db, clinic, manager, make_device
):
    from server.common.actor import Actor
    from server.results.actions import do_store_results

    # The results arrive the way a terminal's sync stores them.
    device = make_device(clinic, "受付1")
    valid_at = timezone.now() - dt.timedelta(minutes=5)
    invalid_at = timezone.now()
    items = [
        {
            "id": str(uuid.uuid4()),
            "checked_at": valid_at.isoformat(),
            "result": result_document(clinic.code, valid_at, "資格 太郎", "シカク タロウ", "1"),
        },
        {
            "id": str(uuid.uuid4()),
            "checked_at": invalid_at.isoformat(),
            "result": result_document(clinic.code, invalid_at, "無効 花子", "ムコウ ハナコ", "2"),
        },
    ]
    assert [o.status for o in do_store_results(device, items, actor=Actor.cli("pytest"))] == ["stored", "stored"]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
            stylesheet = []
            page.on("response", lambda r: stylesheet.append(r.status) if r.url.endswith("console.css") else None)

            page.goto(f"{live_server.url}/console/")
            expect(page).to_have_url(f"{live_server.url}/console/login/?next=/console/")
            page.get_by_label("ログインID").fill("manager")
            page.get_by_label("パスワード").fill("wrong-password")
            page.get_by_role("button", name="ログイン").click()
            expect(page.get_by_role("alert")).to_have_text("ログインIDまたはパスワードが正しくありません。")

            page.get_by_label("ログインID").fill("manager")
            page.get_by_label("パスワード").fill(PASSWORD)
            page.get_by_role("button", name="ログイン").click()
            expect(page.get_by_test_id("institution-name")).to_have_text("しかく整骨院")

            page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="資格確認結果").click()
            rows = page.locator("table.table--results tbody tr")
            expect(rows).to_have_count(2)
            expect(rows.nth(0)).to_contain_text("無効 花子")
            expect(rows.nth(0)).to_contain_text("資格無効")
            expect(rows.nth(1)).to_contain_text("資格 太郎")
            expect(rows.nth(1)).to_contain_text("資格有効")
            expect(rows.nth(1)).to_contain_text(timezone.localtime(valid_at).strftime("%Y年%m月%d日 %H時%M分"))
            assert stylesheet and all(status in (200, 304) for status in stylesheet)

            rows.nth(1).get_by_role("link", name="資格 太郎").click()
            expect(page.get_by_role("heading", name="資格確認結果の詳細")).to_be_visible()
            expect(page.get_by_role("main")).to_contain_text("限定資格保険組合")
        finally:
            browser.close()


@pytest.mark.browser
def test_it_issues_an_activation_code_and_retires_a_device(
    live_server, transactional_db, clinic, it_staff, make_device
):
    from server.audit.models import AuditEvent
    from server.devices.actions import hash_activation_code
    from server.devices.models import ActivationCode, Device

    device = make_device(clinic, "受付1")
    make_device(clinic, "受付2")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
            page.goto(f"{live_server.url}/console/login/")
            page.get_by_label("ログインID").fill("it")
            page.get_by_label("パスワード").fill(PASSWORD)
            page.get_by_role("button", name="ログイン").click()
            expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()

            # Issue a code from the device page; it is shown once, in groups of four, with its expiry.
            page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="端末").click()
            page.get_by_role("link", name="アクティベーションコードを発行").click()
            page.get_by_label("端末名（任意）").fill("受付3")
            page.get_by_role("button", name="発行する").click()
            expect(page.get_by_role("heading", name="アクティベーションコードを発行しました")).to_be_visible()
            shown = page.get_by_test_id("activation-code").inner_text()
            assert re.fullmatch(r"\d{4} \d{4} \d{4}", shown), shown
            code = ActivationCode.objects.get(institution=clinic)
            assert code.code_hash == hash_activation_code(shown.replace(" ", ""))
            expect(page.get_by_test_id("activation-code-expiry")).to_have_text(
                timezone.localtime(code.expires_at).strftime("%Y年%m月%d日 %H時%M分") + "まで"
            )

            # The list shows the code's state, never the code.
            page.get_by_role("link", name="アクティベーションコード一覧へ").click()
            row = page.locator("table.table--codes tbody tr")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("受付3")
            expect(row).to_contain_text("有効")
            assert shown.replace(" ", "") not in page.content() and shown not in page.content()

            # Retire a device: reason, confirmation box and the browser's confirm dialog.
            page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="端末").click()
            page.get_by_role("link", name="受付1", exact=True).click()
            page.get_by_role("link", name="廃止", exact=True).click()
            page.get_by_label("廃止の理由").fill("紛失のため")
            page.get_by_label("この端末を廃止すると").check()
            dialogs = []
            page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
            page.get_by_role("button", name="廃止する").click()
            expect(page.get_by_role("status")).to_contain_text("端末「受付1」を廃止しました。")
            assert dialogs == ["端末「受付1」を廃止します。よろしいですか？"]
            retired_row = page.locator(f'tr[data-device-id="{device.pk}"]')
            expect(retired_row).to_contain_text("廃止")
            expect(retired_row.locator('input[type="checkbox"]')).to_have_count(0)  # no longer selectable
        finally:
            browser.close()
            # With Playwright's event loop running, Django keeps the ORM's connection of this block in a context
            # variable that the block's end discards: close it here, or it outlives the test database.
            connections.close_all()

    device.refresh_from_db()
    assert (device.status, device.retired_by, device.retired_reason) == (Device.STATUS_RETIRED, "it", "紛失のため")
    assert set(AuditEvent.objects.filter(actor_id="it").values_list("action", flat=True)) >= {
        "console_login",
        "activation_code_issued",
        "device_retired",
    }
