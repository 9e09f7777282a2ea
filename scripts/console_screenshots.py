"""The README's console screenshots, taken from a running server (e.g. `make demo`) with Debian's Chromium.

    .venv/bin/python scripts/console_screenshots.py http://127.0.0.1:8000 docs/screenshots

Signs in as the demo's `manager` and `it` (password Demo#Pass1) and writes console-*.png at 1366×768 (and two pages
at 390 px). The result page is 資格 太郎's, the manual's example person: run the demo's scripted check first. Nothing is changed on the server except a document preview, which publishes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PASSWORD = "Demo#Pass1"


def sign_in(browser, base: str, user: str, width: int = 1366, height: int = 768) -> Page:
    page = browser.new_page(viewport={"width": width, "height": height}, locale="ja-JP")
    page.goto(f"{base}/console/login/")
    page.get_by_label("ログインID").fill(user)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def main(base: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        manager = sign_in(browser, base, "manager")
        manager.goto(f"{base}/console/?days=30")
        manager.screenshot(path=out / "console-dashboard.png", full_page=True)
        manager.goto(f"{base}/console/results/")
        manager.screenshot(path=out / "console-results.png")
        manager.get_by_role("link", name="資格 太郎").first.click()
        manager.screenshot(path=out / "console-result.png", full_page=True)
        manager.goto(f"{base}/console/staff/")
        manager.screenshot(path=out / "console-staff.png")
        manager.goto(f"{base}/console/audit/")
        manager.screenshot(path=out / "console-audit.png")

        it = sign_in(browser, base, "it")
        it.goto(f"{base}/console/devices/")
        it.screenshot(path=out / "console-devices.png")
        it.locator("table.table--devices tbody tr th a").first.click()
        it.screenshot(path=out / "console-device.png", full_page=True)
        it.goto(f"{base}/console/publishing/documents/new/?kind=terms")
        it.get_by_label("版").fill("1.1")
        it.get_by_label("タイトル").fill("利用規約")
        it.get_by_label("本文").fill(
            "この利用規約は、マイナ資格確認アプリの利用条件を定めるものです。\n\n"
            "1. 本アプリは、医療機関等が患者の医療保険の資格確認を行うために利用します。\n"
            "2. 利用者は、アプリアカウントのIDとパスワードを適切に管理してください。"
        )
        it.get_by_role("button", name="プレビュー").click()
        it.screenshot(path=out / "console-publishing.png", full_page=True)

        phone = sign_in(browser, base, "it", width=390, height=844)
        phone.goto(f"{base}/console/devices/")
        phone.screenshot(path=out / "console-devices-390.png")
        phone = sign_in(browser, base, "manager", width=390, height=844)
        phone.goto(f"{base}/console/?days=7")
        phone.screenshot(path=out / "console-dashboard-390.png", full_page=True)
        browser.close()
    for name in sorted(out.glob("console-*.png")):
        print(name)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), Path(sys.argv[2]))
