"""The manual's screens of issue 11, driven through the real widgets against a live server and the virtual cards:
お知らせ (T04), カードリーダー選択 (T05), documents from ⚙ (T06), paging (T08), アカウントパスワード設定 / ログイン
パスコード設定 / ログアウト → システムログイン (T09, T10, T13), バージョン更新 (T14), 保険証未登録 and 健康保険証利用登録
(T20, T27), offline (T30), and the screen numbers of the dialogs (T29)."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QApplication

from server.common.actor import Actor
from server.institutions.models import AppAccount
from server.notices.actions import do_publish_app_release, do_publish_notice
from server.notices.models import NoticeRead
from server.results.models import CheckResult
from terminal_agent.core.account import MSG_PASSWORD_CHANGED, MSG_WRONG_LOGIN
from terminal_agent.core.app import TerminalCore
from terminal_agent.core.check_flow import MSG_OFFLINE_CHECK, CheckFailure, CheckFlow, Method
from terminal_agent.core.insurance import MSG_COMPLETED, MSG_FAILED, MSG_PROCESSING
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.search import MSG_OFFLINE_ALL, MSG_OFFLINE_LOCAL
from terminal_agent.ui.app import build_main_window
from terminal_agent.ui.reader_select import MSG_NONE as MSG_NO_READER

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSCODE = "2580"
IT = Actor.cli("pytest")  # who publishes (the console's IT staff, here the test)
STORE = "https://apps.microsoft.com/detail/9NN2X23F7BN3"


class UrlCatcher(QObject):
    """Stands in for the system browser: QDesktopServices hands it every http(s) URL the app opens."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def browser():
    catcher = UrlCatcher()
    for scheme in ("http", "https"):
        QDesktopServices.setUrlHandler(scheme, catcher, "open")
    yield catcher
    for scheme in ("http", "https"):
        QDesktopServices.unsetUrlHandler(scheme)


def open_window(qtbot, core):
    window = build_main_window(core)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()  # keys go to the focused widget of the active window (Esc is a shortcut)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def back_to_the_window(qtbot, window) -> None:
    """The offscreen platform does not hand the activation back to the window once a dialog or a menu has closed
    (a desktop's window system does): give it back, as the window system would."""
    if QApplication.activePopupWidget() or QApplication.activeModalWidget():
        return
    active = QApplication.activeWindow()
    if active is not window and (active is None or not active.isVisible()):  # the menu or dialog that just closed
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def key(qtbot, code, window=None) -> None:
    """One key on whatever has the keyboard focus (the open dialog, a menu, or the focused control)."""
    if window is not None:
        back_to_the_window(qtbot, window)
    target = QApplication.activePopupWidget() or QApplication.activeModalWidget() or QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClick(target, code)


def logged_in(qtbot, ui, core, *, set_passcode: bool = True):
    """The window at ログイン, the passcode typed: the start-up steps (T14) follow."""
    if set_passcode:  # what 利用規約 (T01) and パスコードの登録 (T03) left after 初期登録
        core.accept_terms(core.document("terms").version)
        core.set_passcode(PASSCODE, PASSCODE)
    window = open_window(qtbot, core)
    assert window.current_screen() is window.login
    ui.press(window.login.keypad, PASSCODE)
    return window


def dialog_open(window) -> bool:
    box = window.active_dialog
    return box is not None and shiboken6.isValid(box) and box.isVisible()


def dialog(qtbot, window, timeout: int = 30000):
    qtbot.waitUntil(lambda: dialog_open(window), timeout=timeout)
    return window.active_dialog


def menu(window, key: str) -> None:
    window.methods.menu.findChild(QAction, f"menu_{key}").trigger()


def open_security(qtbot, ui, window) -> None:
    menu(window, "security")
    ui.wait_screen(window, window.passcode_verify)
    ui.press(window.passcode_verify.keypad, PASSCODE)
    ui.wait_screen(window, window.security)


def test_t04_a_published_notice_appears_once_and_not_after_it_was_read(qtbot, ui, clinic, terminal, browser, tmp_path):
    notice = do_publish_notice(
        title="システムメンテナンスのお知らせ", body="12月1日 2時〜4時はご利用いただけません。",
        url="https://example.org/maintenance", actor=IT,
    )
    core, _ = terminal()
    window = logged_in(qtbot, ui, core)
    ui.wait_screen(window, window.notice_list)  # after login, before 認証方法選択
    screen = window.notice_list
    assert screen.screen_id_label.text() == "画面番号: F-01-W" and not screen.back_button.isVisible()
    [row] = screen.rows
    assert row.text().startswith("【未読】システムメンテナンスのお知らせ")
    ui.click(row)  # a title opens its page
    ui.wait_screen(window, window.notice)
    assert window.notice.heading.text() == "システムメンテナンスのお知らせ"
    assert window.notice.text.toPlainText() == "12月1日 2時〜4時はご利用いただけません。"
    ui.click(window.notice.open_button)
    assert browser.urls == ["https://example.org/maintenance"]  # in the system browser
    qtbot.waitUntil(lambda: NoticeRead.objects.filter(notice=notice).count() == 1)  # read, on this device
    ui.click(window.notice.close_button)
    ui.wait_screen(window, screen)
    assert not screen.rows[0].text().startswith("【未読】")
    ui.click(screen.close_button)  # 閉じる continues
    ui.wait_screen(window, window.methods)

    menu(window, "notices")  # ⚙ → お知らせ lists all, read ones included
    ui.wait_screen(window, screen)
    qtbot.waitUntil(lambda: len(screen.rows) == 1)
    assert screen.back_button.isVisible() and screen.rows[0].text().startswith("システムメンテナンスのお知らせ")
    key(qtbot, Qt.Key.Key_Escape, window)  # Esc = ←
    ui.wait_screen(window, window.methods)
    window.close()

    again = TerminalCore(clinic.url, data_dir=tmp_path / "terminal", readers=InProcessReaderProvider(None),
                         use_keyring=False)
    second = logged_in(qtbot, ui, again, set_passcode=False)
    ui.wait_screen(second, second.methods)
    assert "notice_list" not in second.__dict__  # none unread: the list was skipped, never even made
    second.close()
    again.close()


def test_t14_a_newer_version_offers_the_store_and_a_minimum_version_blocks_checks(qtbot, ui, terminal, browser):
    core, _ = terminal()
    do_publish_app_release(version="0.2.0", store_url=STORE, notes="不具合を修正しました。", actor=IT)
    window = logged_in(qtbot, ui, core)
    ui.wait_screen(window, window.version_update)
    screen = window.version_update
    assert screen.screen_id_label.text() == "画面番号: B-04-W" and screen.available.isVisible()
    assert "最新バージョン: 0.2.0" in screen.versions.text() and screen.store_button.text() == "ストアページへ移動する"
    ui.click(screen.store_button)
    assert browser.urls == [STORE]
    ui.click(screen.close_button)  # staff may continue
    ui.wait_screen(window, window.methods)
    window.close()

    do_publish_app_release(version="0.3.0", store_url=STORE, minimum_supported=True, actor=IT)
    blocked = logged_in(qtbot, ui, core, set_passcode=False)
    ui.wait_screen(blocked, blocked.version_update)
    screen = blocked.version_update
    assert screen.required.isVisible() and not screen.close_button.isVisible()
    key(qtbot, Qt.Key.Key_Escape, blocked)  # no way on, not even Esc
    qtbot.wait(100)
    assert blocked.current_screen() is screen and "methods" not in blocked.__dict__
    with pytest.raises(CheckFailure) as info:  # blocked in the core too
        core.start_check(Method.VISUAL)
    assert info.value.kind == "update_required"
    blocked.close()


def visual_check_to_registration_terms(ui, window) -> None:
    """A 目視 check of an unregistered plastic card, through 健康保険証利用登録する to its 利用規約 (T27)."""
    ui.click(window.methods.method_buttons[Method.VISUAL])
    ui.wait_screen(window, window.card_read)
    ui.click(window.card_read.start_button)
    ui.wait_screen(window, window.insurance_choice)
    ui.click(window.insurance_choice.register_button)
    ui.wait_screen(window, window.insurance_terms)


def test_t20_t27_a_phone_gets_6002_and_a_plastic_card_is_registered_then_checked(
    qtbot, ui, clinic, terminal, settings, celery_worker_process
):
    settings.SANDBOX_REGISTRATION_DELAY_SECONDS = 1  # the sandbox's asynchronous registration, on a real worker
    core, readers = terminal("携帯 未登子")
    window = logged_in(qtbot, ui, core)
    ui.wait_screen(window, window.methods)

    ui.click(window.methods.method_buttons[Method.ANDROID])  # T20: a phone not registered for insurance use
    ui.answer(window, "OK")
    ui.wait_screen(window, window.pin_entry)
    ui.press(window.pin_entry.keypad, "1234")
    ui.click(window.pin_entry.next_button)
    ui.wait_screen(window, window.card_read)
    ui.click(window.card_read.start_button)
    box = dialog(qtbot, window)
    assert box.windowTitle() == "保険証未登録" and box.property("screen_id") == "C-04-02-A"
    assert "患者ご自身のスマートフォンでマイナポータル" in box.text() and "エラーコード:\nE-C-04-02-A-6002" in box.text()
    assert ui.answer(window, "閉じる")
    ui.wait_screen(window, window.methods)

    readers.card = clinic.virtual_card("未登録 花子")
    ui.click(window.methods.method_buttons[Method.VISUAL])  # T27: a plastic card (目視) not registered
    ui.wait_screen(window, window.card_read)
    ui.click(window.card_read.start_button)
    ui.wait_screen(window, window.insurance_choice)
    choice = window.insurance_choice
    assert choice.screen_id_label.text() == "画面番号: C-05-01-W"
    ui.click(choice.register_button)  # 健康保険証利用登録する
    ui.wait_screen(window, window.insurance_terms)
    assert window.insurance_terms.heading.text() == "健康保険証利用登録 利用規約"
    ui.click(window.insurance_terms.agree_button)  # 同意する
    ui.wait_screen(window, window.card_read)
    ui.click(window.card_read.start_button)  # the card is read again, for the registration
    box = dialog(qtbot, window)
    assert box.text() == MSG_COMPLETED and box.property("screen_id") == "C-05-01-A"
    ui.answer(window, "資格確認する")  # the check runs again
    ui.wait_screen(window, window.card_read)
    ui.click(window.card_read.start_button)
    qtbot.waitUntil(lambda: window.card_read.next_button.isVisible(), timeout=30000)
    ui.click(window.card_read.next_button)
    ui.wait_screen(window, window.result)
    assert window.result.field_value("氏名") == "未登録 花子"
    ui.click(window.result.close_button)
    ui.wait_screen(window, window.methods)

    readers.card = clinic.virtual_card("登録 不可子")  # 失敗: register again with the same card
    visual_check_to_registration_terms(ui, window)
    ui.click(window.insurance_terms.agree_button)
    ui.wait_screen(window, window.card_read)
    ui.click(window.card_read.start_button)
    box = dialog(qtbot, window)
    assert box.text() == MSG_FAILED and box.property("screen_id") == "C-05-03-A"
    ui.answer(window, "健康保険証利用登録する")
    ui.wait_screen(window, window.insurance_choice)
    ui.click(window.insurance_choice.skip_button)  # 登録しない
    ui.wait_screen(window, window.methods)
    window.close()


def test_t27_processing_wait_then_check_again_says_still_processing(qtbot, ui, clinic, terminal, settings):
    """T27 処理中 (P.35): the sandbox takes longer than the tablet waits, so the registration ends in 処理中; a check
    with the same card meanwhile is answered 6003 with the same words. No worker runs: the registration stays
    pending."""
    settings.SANDBOX_REGISTRATION_DELAY_SECONDS = 600
    core, readers = terminal("未登録 花子")
    window = logged_in(qtbot, ui, core)
    ui.wait_screen(window, window.methods)

    visual_check_to_registration_terms(ui, window)
    window.insurance.wait = 1.0  # how long the tablet polls before it says 処理中 (15 s in the product)
    ui.click(window.insurance_terms.agree_button)
    ui.wait_screen(window, window.card_read)
    ui.click(window.card_read.start_button)
    box = dialog(qtbot, window)
    assert box.text() == MSG_PROCESSING and box.property("screen_id") == "C-05-02-A"
    assert box.property("kind") == "warning"  # a wait, not a failure
    assert ui.answer(window, "閉じる")
    ui.wait_screen(window, window.methods)

    ui.click(window.methods.method_buttons[Method.VISUAL])  # 資格確認 again, too soon
    ui.wait_screen(window, window.card_read)
    ui.click(window.card_read.start_button)
    box = dialog(qtbot, window)
    assert box.property("screen_id") == "C-04-02-A" and box.property("kind") == "warning"
    assert MSG_PROCESSING in box.text() and "E-C-04-02-A-6003" in box.text()
    assert ui.answer(window, "閉じる")
    ui.wait_screen(window, window.methods)
    window.close()


def test_t09_t13_password_change_then_logout_then_five_wrong_passwords_lock(qtbot, ui, clinic, terminal, tmp_path):
    core, _ = terminal()
    window = logged_in(qtbot, ui, core)
    ui.wait_screen(window, window.methods)
    open_security(qtbot, ui, window)

    ui.click(window.security.items["account_password"])  # T09
    ui.wait_screen(window, window.account_password)
    screen = window.account_password
    assert screen.screen_id_label.text() == "画面番号: E-02-W"
    assert screen.fields["account_id"].isHidden()  # the ID of 初期登録
    qtbot.keyClicks(screen.current.edit, clinic.password)
    assert screen.current.edit.displayText() != clinic.password  # masked …
    ui.click(screen.current.reveal)
    assert screen.current.edit.displayText() == clinic.password  # … 👁 shows it
    qtbot.keyClicks(screen.new.edit, "nextpass")
    qtbot.keyClicks(screen.again.edit, "nextpass")
    ui.click(screen.submit_button)  # the rule, field by field, before anything is sent
    qtbot.waitUntil(lambda: screen.fields["new_password"].error.isVisible())
    errors = screen.fields["new_password"].error.text()
    assert "英字の大文字(A〜Z)を1文字以上含めてください。" in errors and "記号を1文字以上含めてください。" in errors
    assert "数字(0〜9)を1文字以上含めてください。" in errors and "英字の小文字" not in errors
    for edit in (screen.new.edit, screen.again.edit):
        edit.clear()
    qtbot.keyClicks(screen.new.edit, "Next#Pass22")
    qtbot.keyClicks(screen.again.edit, "Next#Pass22")
    ui.click(screen.submit_button)
    box = dialog(qtbot, window)
    assert box.text() == MSG_PASSWORD_CHANGED and box.property("screen_id") == "E-02-01-A"
    ui.answer(window, "OK")
    ui.wait_screen(window, window.security)
    assert AppAccount.objects.get(account_id=clinic.account_id).check_password("Next#Pass22")

    ui.click(window.security.items["logout"])  # T13
    box = dialog(qtbot, window)
    assert box.property("screen_id") == "E-01-04-A" and [b.text() for b in box.buttons()] == ["ログアウトする", "キャンセル"]
    ui.answer(window, "ログアウトする")
    ui.wait_screen(window, window.system_login)  # at once …
    window.close()

    again = TerminalCore(clinic.url, data_dir=tmp_path / "terminal", readers=InProcessReaderProvider(None),
                         use_keyring=False)
    second = open_window(qtbot, again)
    screen = second.system_login  # … and at the next start, until a sign-in succeeds
    assert second.current_screen() is screen and screen.screen_id_label.text() == "画面番号: B-03-W"
    assert screen.account_id.text() == clinic.account_id
    for attempt in range(5):
        screen.password.edit.clear()
        qtbot.keyClicks(screen.password.edit, "Wrong#Pass1")
        qtbot.keyClick(screen.password.edit, Qt.Key.Key_Return)
        if attempt < 4:
            qtbot.waitUntil(lambda: screen.fields["password"].error.text() == MSG_WRONG_LOGIN)
            screen.fields["password"].set_error(None)
    box = dialog(qtbot, second)  # the fifth: locked for 30 minutes, until when
    assert box.property("screen_id") == "B-03-01-A"
    assert "ロックされています" in box.text() and "以降に再度お試しください" in box.text()
    assert "オンライン資格確認等コールセンター" in box.text()
    ui.answer(second, "OK")
    assert second.current_screen() is screen
    AppAccount.objects.filter(account_id=clinic.account_id).update(failed_attempts=0, locked_until=None)  # IT unlocks
    screen.password.edit.clear()
    qtbot.keyClicks(screen.password.edit, "Next#Pass22")
    ui.click(screen.submit_button)
    ui.wait_screen(second, second.methods)
    assert again.start_screen() == "login"
    second.close()
    again.close()


def test_t30_offline_strip_refusal_before_the_card_and_delivery_exactly_once(qtbot, ui, clinic, server_switch, tmp_path):
    readers = InProcessReaderProvider(clinic.virtual_card("資格 太郎"))
    core = TerminalCore(server_switch.url, data_dir=tmp_path / "t", readers=readers, use_keyring=False,
                        online_interval=0.5, offline_interval=0.2)
    core.register(clinic.registration_form())
    core.accept_terms(core.document("terms").version)  # kept on the tablet with its version (T01)
    core.set_passcode(PASSCODE, PASSCODE)
    core.start_background(sync_interval=30)
    qtbot.waitUntil(lambda: core.status().online is True)
    service = core.check_service()  # a result is made; the server goes away before it is sent
    sync_after_store = service.after_store
    service.after_store = lambda: (server_switch.down(), sync_after_store())[1]
    outcome = CheckFlow(Method.VISUAL, service).read()
    assert not outcome.synced

    window = logged_in(qtbot, ui, core, set_passcode=False)
    ui.wait_screen(window, window.methods)  # offline: the start-up goes on with what the tablet keeps
    strip = window.methods.status_strip
    assert "オフライン" in strip.online_label.text() and strip.online_label.isVisible()
    assert strip.pending_label.text() == "送信待ちの資格確認結果: 1件"

    ui.click(window.methods.method_buttons[Method.VISUAL])  # refused before the card is read
    box = dialog(qtbot, window)
    assert box.text() == MSG_OFFLINE_CHECK and box.property("screen_id") == "C-01-03-A"
    ui.answer(window, "OK")
    assert window.current_screen() is window.methods and "card_read" not in window.__dict__

    open_security(qtbot, ui, window)  # D-10-W offline: this tablet's own results
    ui.click(window.security.items["search"])
    ui.wait_screen(window, window.search)
    search = window.search
    qtbot.waitUntil(lambda: search.table.rowCount() == 1)
    assert search.table.item(0, 1).text() == "資格 太郎" and search.local_notice.text() == MSG_OFFLINE_LOCAL
    assert search.status_strip.pending_label.text() == "送信待ちの資格確認結果: 1件"
    ui.click(search.details_button)
    box_ = search.this_device_only  # unchecked: every terminal, which only the server has
    qtbot.mouseClick(box_, Qt.MouseButton.LeftButton, pos=QPoint(12, box_.height() // 2))
    assert not box_.isChecked()
    ui.click(search.search_button)
    qtbot.waitUntil(lambda: search.error.isVisible())
    assert search.error.text() == MSG_OFFLINE_ALL

    server_switch.up()  # the server answers again: online, and what waited is sent within seconds, once
    qtbot.waitUntil(lambda: search.status_strip.online_label.text() == "● オンライン", timeout=10000)
    qtbot.waitUntil(lambda: search.status_strip.pending_label.text() == "送信待ちの資格確認結果: 0件", timeout=10000)
    assert CheckResult.objects.filter(id=outcome.result_id).count() == 1 and CheckResult.objects.count() == 1
    window.close()
    core.close()


def test_t08_paging_never_repeats_a_row_and_disables_what_would_do_nothing(qtbot, ui, terminal, check):
    core, _ = terminal()
    for _ in range(9):
        check(core, Method.VISUAL)
    window = logged_in(qtbot, ui, core)
    ui.wait_screen(window, window.methods)
    open_security(qtbot, ui, window)
    ui.click(window.security.items["search"])
    search = window.search
    qtbot.waitUntil(lambda: search.table.rowCount() == 8)
    buttons = search.paging_buttons

    def enabled() -> dict[str, bool]:
        return {k: b.isEnabled() for k, b in buttons.items()}

    assert enabled() == {"first": False, "previous": False, "next": True, "last": True}  # on the first page
    first_ids = list(search.row_ids)
    ui.click(buttons["last"])
    assert not any(enabled().values())  # while the page loads
    qtbot.waitUntil(lambda: search.table.rowCount() == 1)
    assert enabled() == {"first": True, "previous": True, "next": False, "last": False}  # on the last page
    assert not set(search.row_ids) & set(first_ids)  # the last page is the ninth row only
    ui.click(buttons["previous"])
    qtbot.waitUntil(lambda: search.table.rowCount() == 8)
    assert search.row_ids == first_ids
    window.close()


def test_t05_t06_t10_readers_live_documents_and_passcode_change(qtbot, ui, clinic, terminal):
    core, readers = terminal()
    window = logged_in(qtbot, ui, core)
    ui.wait_screen(window, window.methods)

    menu(window, "reader")  # T05
    ui.wait_screen(window, window.reader_select)
    screen = window.reader_select
    name = "Virtual In-Process Reader 00 00"
    qtbot.waitUntil(lambda: list(screen.rows) == [name])
    readers.backend.unplug()  # pulled out: the list follows, with the manual's message
    qtbot.waitUntil(lambda: screen.rows == {} and screen.none_notice.isVisible(), timeout=5000)
    assert screen.none_notice.text() == MSG_NO_READER
    readers.backend.plug()
    qtbot.waitUntil(lambda: list(screen.rows) == [name], timeout=5000)
    ui.click(screen.rows[name])
    box = dialog(qtbot, window)
    assert box.text() == "カードリーダーが選択されました。" and box.property("screen_id") == "H-01-01-A"
    ui.answer(window, "OK")
    assert core.selected_reader == name and screen.rows[name].text().endswith("（選択中）")
    ui.click(screen.back_button)
    ui.wait_screen(window, window.methods)
    assert window.reader_watch is None

    for key, title, number, needle in (  # T06: scrollable pages of the server's versions
        ("terms", "利用規約", "G-01-W", "利用規約"),
        ("privacy", "個人情報の取り扱い", "G-02-W", "マイナンバー(個人番号)は取得しません"),
        ("license", "ライセンス", "G-03-W", "PySide6"),
    ):
        menu(window, key)
        ui.wait_screen(window, window.document_view)
        page = window.document_view
        qtbot.waitUntil(lambda n=needle, p=page: n in p.text.toPlainText())
        assert page.title_label.text() == title and page.screen_id_label.text() == f"画面番号: {number}"
        assert page.version_label.text().endswith("（版: 1.0）") and not page.cached_notice.isVisible()
        ui.click(page.back_button)
        ui.wait_screen(window, window.methods)

    open_security(qtbot, ui, window)  # T10: the current passcode, then the new one twice
    ui.click(window.security.items["passcode"])
    ui.wait_screen(window, window.passcode_change)
    change = window.passcode_change
    ui.press(change.keypad, "0000")
    qtbot.waitUntil(lambda: change.error.isVisible())
    ui.press(change.keypad, PASSCODE)
    qtbot.waitUntil(lambda: change.prompt.text() == "新しいパスコード(数字4桁)を入力してください。")
    ui.press(change.keypad, "1357")
    assert change.title_label.text() == "ログインパスコード設定(確認用)"
    ui.press(change.keypad, "1357")
    box = dialog(qtbot, window)
    assert box.text() == "ログインパスコードの設定が完了しました。" and box.property("screen_id") == "E-03-01-A"
    ui.answer(window, "OK")
    ui.wait_screen(window, window.security)
    assert core.verify_passcode("1357") and not core.verify_passcode(PASSCODE)
    window.close()


def type_keys(qtbot, window, text: str) -> None:
    for char in text:
        key(qtbot, char, window)


def tab_to(qtbot, window, widget, limit: int = 60) -> None:
    """Tab until ``widget`` has the focus (T28: every control is on the Tab chain)."""
    for _ in range(limit):
        back_to_the_window(qtbot, window)
        if QApplication.focusWidget() is widget:
            return
        key(qtbot, Qt.Key.Key_Tab, window)
    raise AssertionError(f"Tab never reached {widget.accessibleName() or widget!r}")


def choose_from_menu(qtbot, window, text: str) -> None:
    """⚙ by keyboard: Tab to メニュー, Space opens it, Down to the item, Enter."""
    from PySide6.QtCore import QTimer

    chosen: list[str] = []

    def navigate() -> None:
        popup = QApplication.activePopupWidget()
        if chosen or popup is None:
            return
        for _ in range(len(popup.actions()) + 1):
            if popup.activeAction() is not None and popup.activeAction().text() == text:
                break
            qtbot.keyClick(popup, Qt.Key.Key_Down)
        chosen.append(popup.activeAction().text())
        qtbot.keyClick(popup, Qt.Key.Key_Return)

    tab_to(qtbot, window, window.methods.gear)
    # Depending on the Qt version the menu runs its own event loop inside the key press (then the timer walks it)
    # or opens and returns (then it is walked right after).
    QTimer.singleShot(100, navigate)
    key(qtbot, Qt.Key.Key_Space, window)
    navigate()
    qtbot.waitUntil(lambda: bool(chosen))
    assert chosen == [text]
    # The offscreen platform does not hand the activation back to the window once a popup has closed (a desktop
    # does): give it back, as the window system would.
    back_to_the_window(qtbot, window)


def test_t28_the_pin_check_and_the_security_settings_by_keyboard_alone(qtbot, ui, clinic, terminal):
    core, _ = terminal()
    core.accept_terms(core.document("terms").version)
    core.set_passcode(PASSCODE, PASSCODE)
    window = open_window(qtbot, core)
    assert window.current_screen() is window.login
    type_keys(qtbot, window, PASSCODE)
    ui.wait_screen(window, window.methods)

    choose_from_menu(qtbot, window, "セキュリティ設定")  # 目視 off: the 暗証番号 check
    ui.wait_screen(window, window.passcode_verify)
    type_keys(qtbot, window, PASSCODE)
    ui.wait_screen(window, window.security)
    tab_to(qtbot, window, window.security.visual_toggle)
    key(qtbot, Qt.Key.Key_Space, window)
    assert not core.visual_check_enabled
    key(qtbot, Qt.Key.Key_Escape, window)  # Esc = ←
    ui.wait_screen(window, window.methods)

    tab_to(qtbot, window, window.methods.method_buttons[Method.PIN])
    key(qtbot, Qt.Key.Key_Return, window)
    dialog(qtbot, window)
    key(qtbot, Qt.Key.Key_Return, window)  # OK is the default button
    ui.wait_screen(window, window.pin_entry)
    type_keys(qtbot, window, "1234")
    key(qtbot, Qt.Key.Key_Return, window)  # 次へ
    ui.wait_screen(window, window.card_read)
    key(qtbot, Qt.Key.Key_Return, window)  # 読み取り開始 has the focus
    qtbot.waitUntil(lambda: window.focusWidget() is window.card_read.next_button, timeout=30000)
    key(qtbot, Qt.Key.Key_Return, window)  # 次へ
    ui.wait_screen(window, window.result)
    assert window.result.field_value("氏名") == "資格 太郎"
    key(qtbot, Qt.Key.Key_Escape, window)  # Esc = 閉じる
    ui.wait_screen(window, window.methods)

    choose_from_menu(qtbot, window, "セキュリティ設定")
    ui.wait_screen(window, window.passcode_verify)
    type_keys(qtbot, window, PASSCODE)
    ui.wait_screen(window, window.security)
    key(qtbot, Qt.Key.Key_Return, window)  # 資格確認結果検索 has the focus
    ui.wait_screen(window, window.search)
    qtbot.waitUntil(lambda: window.search.table.rowCount() == 1)
    key(qtbot, Qt.Key.Key_Return, window)  # the focused row opens C-04-01-W
    ui.wait_screen(window, window.result)
    key(qtbot, Qt.Key.Key_Escape, window)
    ui.wait_screen(window, window.search)
    key(qtbot, Qt.Key.Key_Escape, window)
    ui.wait_screen(window, window.security)

    tab_to(qtbot, window, window.security.items["passcode"])  # T10 by keys
    key(qtbot, Qt.Key.Key_Return, window)
    ui.wait_screen(window, window.passcode_change)
    type_keys(qtbot, window, PASSCODE)
    qtbot.waitUntil(lambda: window.passcode_change.stage() == 1 and window.focusWidget() is window.passcode_change.keypad)
    type_keys(qtbot, window, "13571357")
    dialog(qtbot, window)
    key(qtbot, Qt.Key.Key_Return, window)
    ui.wait_screen(window, window.security)

    tab_to(qtbot, window, window.security.items["account_password"])  # T09 by keys
    key(qtbot, Qt.Key.Key_Return, window)
    ui.wait_screen(window, window.account_password)
    screen = window.account_password
    type_keys(qtbot, window, clinic.password)
    tab_to(qtbot, window, screen.new.edit)
    type_keys(qtbot, window, "Next#Pass22")
    tab_to(qtbot, window, screen.again.edit)
    type_keys(qtbot, window, "Next#Pass22")
    key(qtbot, Qt.Key.Key_Return, window)
    box = dialog(qtbot, window)
    assert box.property("screen_id") == "E-02-01-A"
    key(qtbot, Qt.Key.Key_Return, window)
    ui.wait_screen(window, window.security)

    tab_to(qtbot, window, window.security.items["logout"])  # T13 by keys
    key(qtbot, Qt.Key.Key_Return, window)
    dialog(qtbot, window)
    key(qtbot, Qt.Key.Key_Return, window)  # ログアウトする is the default
    ui.wait_screen(window, window.system_login)
    type_keys(qtbot, window, "Next#Pass22")  # the ID is there; the password has the focus
    key(qtbot, Qt.Key.Key_Return, window)
    ui.wait_screen(window, window.methods)
    window.close()
