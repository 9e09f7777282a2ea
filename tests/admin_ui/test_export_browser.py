"""A03 in the browser: a manager exports the result search as Shift_JIS; the progress page reloads itself until the
file is built (here by the export action itself, as the Celery worker would); the downloaded file opens as cp932 with
every documented column."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from server.results.exports import EXPORT_HEADER, do_build_export
from server.results.models import ResultExport
from tests.admin_ui.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread


@pytest.mark.browser
def test_manager_downloads_the_shift_jis_csv_with_every_column(
    live_server, transactional_db, clinic, manager, make_device, make_result
):
    device = make_device(clinic, "受付1")
    make_result(device, "髙橋 一郎", "タカハシ イチロウ")
    make_result(device, "𠮷野 家", "ヨシノ イエ", validity="2")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="ja-JP", accept_downloads=True)
            page.set_default_timeout(10_000)
            page.goto(f"{live_server.url}/console/login/")
            page.get_by_label("ログインID").fill("manager")
            page.get_by_label("パスワード").fill(PASSWORD)
            page.get_by_role("button", name="ログイン").click()
            page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="資格確認結果").click()
            page.get_by_role("link", name="CSV出力").click()
            page.get_by_label("Shift_JIS").check()
            page.get_by_role("button", name="CSVを作成").click()
            expect(page.get_by_test_id("export-status")).to_have_text("待機中")

            do_build_export(str(ResultExport.objects.get().pk))  # the worker's part
            expect(page.get_by_test_id("export-download")).to_be_visible()  # after the page's own reload
            expect(page.get_by_test_id("unencodable")).to_contain_text("𠮷（U+20BB7）")
            with page.expect_download() as download_info:
                page.get_by_test_id("export-download").click()
            content = Path(download_info.value.path()).read_bytes()
        finally:
            browser.close()
            # With Playwright's event loop running, Django keeps the ORM's connection in a context variable that the
            # block's end discards: close it here, or it outlives the test database.
            connections.close_all()
    rows = list(csv.reader(io.StringIO(content.decode("cp932"))))
    assert rows[0] == EXPORT_HEADER and all(len(row) == len(EXPORT_HEADER) for row in rows)
    names = [row[EXPORT_HEADER.index("氏名")] for row in rows[1:]]
    assert sorted(names) == sorted(["髙橋 一郎", "〓野 家"])
    assert {row[EXPORT_HEADER.index("保険者名")] for row in rows[1:]} == {"限定資格保険組合"}
