"""Issue 14 in a real browser (Debian's Chromium through Playwright): every console page at 1366×768 and at 390 px
wide without a clipped column or a name wrapped one character per line (element bounds, not only text), IT
publishing what the terminal API then serves, the roles' refusals, and an idle session sent to the sign-in page.

Never ``playwright install``: the tests use the system's /usr/bin/chromium.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from server.common.actor import DEVICE, Actor
from tests.admin_ui.conftest import PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

WIDE = {"width": 1366, "height": 768}
NARROW = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000


def sign_in(browser, live_server, username: str, viewport=WIDE):
    page = browser.new_page(viewport=viewport, locale="ja-JP")
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{live_server.url}/console/login/")
    page.get_by_label("ログインID").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


LAYOUT_CHECK = """
() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width + 1) problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth);
  // Every table: it fits its box (no column cut off), or it scrolls inside its own box with the first column sticky.
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    const table = wrap.querySelector('table');
    if (!table || wrap.offsetParent === null) continue;
    const box = wrap.getBoundingClientRect();
    if (box.right > width + 1) problems.push('table box beyond the page: ' + table.className);
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      const first = table.querySelector('tbody tr > :first-child');
      if (!first || getComputedStyle(first).position !== 'sticky') problems.push('table scrolls without a sticky first column: ' + table.className);
      if (width >= 1366) problems.push('table does not fit at 1366: ' + table.className + ' ' + wrap.scrollWidth + '>' + wrap.clientWidth);
    }
  }
  // Names and other row headers: never one character per line.
  for (const cell of document.querySelectorAll('tbody th, .cell-name, h1')) {
    if (cell.offsetParent === null) continue;
    const text = cell.innerText.trim().split('\\n')[0];
    if (text.length < 3) continue;
    const range = document.createRange();
    const node = [...cell.querySelectorAll('*'), cell].map(e => [...e.childNodes].find(n => n.nodeType === 3 && n.textContent.trim().length >= 3)).find(Boolean);
    if (!node) continue;
    range.selectNodeContents(node);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    const chars = node.textContent.trim().length;
    if (lines > 1 && chars / lines < 3) problems.push('wrapped one character per line: ' + node.textContent.trim());
  }
  // Every visible control is inside the page, and so is every entry of the main menu and of the tabs (a menu that
  // scrolls sideways hides its last entries on a phone with nothing to show they are there).
  for (const el of document.querySelectorAll('a.button, button, input, select, textarea, .site-nav a, .tabs a')) {
    if (el.offsetParent === null || el.closest('.table-wrap')) continue;
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 || r.left < -1) problems.push('control outside the page: ' + (el.innerText || el.name));
    const holder = el.matches('.site-nav a, .tabs a') ? el.parentElement.closest('ul, .tabs') : null;
    const box = holder && holder.getBoundingClientRect();
    if (box && (r.right > box.right + 1 || r.left < box.left - 1)) problems.push('clipped in its box: ' + el.innerText);
  }
  // Dates, states and legends may wrap, but never leave one or two characters on a line of their own (「分」).
  for (const el of document.querySelectorAll('.nowrap, .legend li, .badge')) {
    if (el.offsetParent === null) continue;
    // Characters in reading order; one that sits wholly below the previous one starts a new line.
    const counts = [];
    let previous = null;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.textContent.length; i++) {
        if (!node.textContent[i].trim()) continue;
        const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (!rect) continue;
        if (previous === null || rect.top >= previous.bottom - 1) counts.push(0);
        counts[counts.length - 1] += 1;
        previous = rect;
      }
    }
    if (counts.length > 1 && Math.min(...counts) < 3) problems.push('a line of ' + Math.min(...counts) + ' characters: ' + el.innerText.trim());
  }
  // The charts' words stay readable: an SVG scales its text with its box.
  for (const text of document.querySelectorAll('svg.chart text')) {
    if (text.closest('svg').getClientRects().length === 0 || !text.textContent.trim()) continue;
    const size = parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a;
    if (size < 10) problems.push('chart text of ' + size.toFixed(1) + ' px: ' + text.textContent);
  }
  return problems;
}
"""


@pytest.mark.browser
def test_every_page_fits_at_1366_and_390(
    browser, live_server, transactional_db, closing_connections, clinic, make_staff, make_device, make_result,
    make_account,
):
    from server.audit.actions import record_event
    from server.devices.actions import do_issue_activation_code, do_retire_device
    from server.notices.actions import do_publish_app_release, do_publish_document, do_publish_notice

    make_staff("all", clinic, ("manager", "it", "admin"))
    long_name = "2階東側リハビリテーション室の受付カウンター横タブレット"
    devices = [
        make_device(clinic, long_name, reader_name="Sony RC-S300/P FeliCa Port/PaSoRi 4.0 0"),
        make_device(clinic, "受付1", last_seen_at=timezone.now() - dt.timedelta(hours=5)),
        make_device(clinic, "診"),
    ]
    do_retire_device(devices[2], "故障のため交換（画面割れ）", actor=Actor.cli("pytest"))
    result = make_result(devices[0], "長谷川 ひとみ", "ハセガワ ヒトミ")
    make_result(devices[1], "資格 太郎", "シカク タロウ", validity="2")
    do_issue_activation_code(clinic, device_name="受付3", actor=Actor.cli("pytest"))
    make_account(clinic, "clinic-admin")
    do_publish_notice(title="年末年始の受付について", body="12月29日から1月3日まで休診します。" * 3, institution=clinic, actor=Actor.cli("pytest"))
    do_publish_document(kind="terms", version="1.0", title="利用規約", body="本文", actor=Actor.cli("pytest"))
    do_publish_app_release(version="1.2.0", store_url="https://apps.example.invalid/myna/store/page", minimum_supported=True, actor=Actor.cli("pytest"))
    record_event(
        "device_updated",
        Actor(DEVICE, str(devices[0].pk)),
        institution=clinic,
        device=devices[0],
        detail={"app_version": {"from": "1.0.2", "to": "1.0.3"}, "reader_name": {"from": "", "to": "Sony RC-S300"}},
    )
    paths = [
        "/console/",
        "/console/results/",
        f"/console/results/{result.pk}/",
        "/console/devices/",
        f"/console/devices/{devices[0].pk}/",
        "/console/devices/activation-codes/",
        "/console/accounts/",
        "/console/audit/",
        "/console/publishing/notices/",
        "/console/publishing/documents/",
        "/console/publishing/releases/",
        "/console/staff/",
        "/console/staff/new/",
        "/console/account/security/",
    ]
    for viewport in (WIDE, NARROW):
        page = sign_in(browser, live_server, "all", viewport)
        try:
            for path in paths:
                page.goto(live_server.url + path)
                expect(page.locator("h1").first).to_be_visible()
                problems = page.evaluate(LAYOUT_CHECK)
                assert problems == [], (viewport["width"], path, problems)
            # Sortable columns look sortable before one is chosen (↕), the chosen one shows its direction.
            page.goto(live_server.url + "/console/results/")
            arrows = page.locator("table th.sortable .sortable__arrow").evaluate_all(
                "spans => spans.map(s => s.textContent || getComputedStyle(s, '::after').content)"
            )
            assert arrows == ["▼", '"↕"', '"↕"'], arrows
            # At 390 px the tables have become cards: each cell labelled, inside the screen.
            if viewport is NARROW:
                page.goto(live_server.url + "/console/devices/")
                cell = page.locator("table.table--devices tbody tr").first.locator('td[data-label="最終接続日時"]')
                box = cell.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"]
                label = cell.evaluate("e => getComputedStyle(e, '::before').content")
                assert label == '"最終接続日時"'
            else:
                page.goto(live_server.url + "/console/devices/")
                header = page.locator("table.table--devices thead th").last.bounding_box()
                assert header["x"] + header["width"] <= WIDE["width"]  # the last column is on screen
        finally:
            page.close()


@pytest.mark.browser
def test_it_publishes_a_notice_and_a_minimum_version_the_terminal_api_serves(
    browser, live_server, transactional_db, closing_connections, clinic, it_staff, manager, make_device, make_result
):
    from server.institutions.actions import do_create_app_account
    from tests.server.conftest import PASSWORD as ACCOUNT_PASSWORD
    from tests.server.conftest import register

    do_create_app_account(clinic, "clinic-admin", ACCOUNT_PASSWORD, actor=Actor.cli("pytest"))
    terminal = register(APIClient(), clinic)
    result = make_result(make_device(clinic, "受付2"), "資格 太郎", "シカク タロウ")

    page = sign_in(browser, live_server, "it")
    try:
        page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="お知らせ・公開").click()
        page.get_by_role("link", name="お知らせを登録").click()
        page.get_by_label("タイトル").fill("システムメンテナンスのお知らせ")
        page.get_by_label("本文").fill("12月1日 20時から22時まで、資格確認を利用できません。")
        page.get_by_role("button", name="登録する").click()
        expect(page.get_by_role("status")).to_contain_text("お知らせ「システムメンテナンスのお知らせ」を登録しました。")

        page.get_by_role("link", name="アプリのバージョン").click()
        page.get_by_role("link", name="新しいバージョンを公開").click()
        page.get_by_label("バージョン", exact=True).fill("2.0.0")
        page.get_by_label("ストアページURL").fill("https://apps.example.invalid/myna")
        page.get_by_label("これより古いバージョンの端末には更新を必須にする").check()
        page.get_by_role("button", name="公開する").click()
        expect(page.get_by_test_id("minimum-version")).to_have_text("2.0.0")

        # IT sees no patient data: a result's page is refused, and the menu has no result list.
        expect(page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="資格確認結果")).to_have_count(0)
        response = page.goto(f"{live_server.url}/console/results/{result.pk}/")
        assert response.status == 403
        expect(page.get_by_role("heading", name="権限がありません")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("資格 太郎")
    finally:
        page.close()

    notices = terminal.call("GET", "/api/v1/notices", params={"unread": "1"}).json()["notices"]
    assert [n["title"] for n in notices] == ["システムメンテナンスのお知らせ"]
    release = terminal.call("GET", "/api/v1/app-release/latest", params={"current": "1.9.0"}).json()
    assert (release["latest_version"], release["update_required"]) == ("2.0.0", True)

    page = sign_in(browser, live_server, "manager")
    try:
        expect(page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="お知らせ・公開")).to_have_count(0)
        response = page.goto(f"{live_server.url}/console/publishing/notices/new/")
        assert response.status == 403
        expect(page.get_by_role("heading", name="権限がありません")).to_be_visible()
    finally:
        page.close()


@pytest.mark.browser
def test_an_idle_session_is_sent_to_the_sign_in_page(
    browser, live_server, transactional_db, closing_connections, manager, settings
):
    settings.SESSION_COOKIE_AGE = 2  # the idle limit (CONSOLE_IDLE_TIMEOUT_MINUTES), made short
    page = sign_in(browser, live_server, "manager")
    try:
        expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
        session = {c["name"]: c for c in page.context.cookies()}["sessionid"]
        assert session["expires"] == -1 and session["httpOnly"]  # gone when the browser closes; no script reads it
        time.sleep(2.5)
        page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="資格確認結果").click()
        expect(page).to_have_url(f"{live_server.url}/console/login/?next=/console/results/")
        expect(page.get_by_role("status")).to_contain_text("一定時間操作がなかったため、ログアウトしました。")
    finally:
        page.close()
