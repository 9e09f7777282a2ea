"""The screen gallery (issue 12 point 7): every screen and dialog of the terminal, each flow's steps, each result
variant of the sandbox demo roster, errors, empty and full lists, rendered offscreen at 1280×800 over the stub core
(``tests/terminal/stub_core.py``) with fixed data.

    python -m tests.terminal.gallery                   # docs/screens/<key>.png and docs/screens/index.md (numbered)
    python -m tests.terminal.gallery --references      # tests/terminal/references/<key>.png (REFERENCES only)
    python -m tests.terminal.gallery --only result-valid --out /tmp/screens

``make screenshots`` runs the first, ``make references`` the second (after an intended change of a screen's look;
``tests/terminal/test_screen_references.py`` compares the REFERENCES states with those files). A new screen is one
``@state`` function below: it gets a fresh window over a ``StubCore`` and drives it the way a person would (button
``click()``, keypad ``press()``; no mouse, so no hover), then returns; a dialog left open is drawn over the window.

Deterministic on every machine: the bundled BIZ UDGothic (``theme.apply_theme``), device pixel ratio 1 (rendered into
a QImage, not grabbed from a screen), a fixed window size, fixed documents and dates (the roster documents were
captured once from the sandbox into ``gallery_roster.json``; the search dates are pinned), the text cursor not
blinking, and the reading ring's animation paused at a fixed angle.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QDate, QEventLoop, QPoint, QTimer, QVariantAnimation  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget  # noqa: E402

from terminal_agent.core.check_flow import (  # noqa: E402
    MSG_PIN_LOCKED,
    MSG_PIN_WRONG,
    CheckFailure,
    FailureKind,
    Method,
)
from terminal_agent.core.notices import Notice  # noqa: E402
from terminal_agent.core.release import ReleaseInfo  # noqa: E402
from terminal_agent.core.search import SearchPage  # noqa: E402
from terminal_agent.ui.app import build_main_window, ensure_application  # noqa: E402
from terminal_agent.ui.main_window import MainWindow  # noqa: E402
from tests.terminal.stub_core import PASSCODE, StubCore, search_row  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SIZE = (1280, 800)
DOCS = REPO / "docs" / "screens"
REFERENCE_DIR = Path(__file__).resolve().parent / "references"
ROSTER: dict[str, dict[str, Any]] = json.loads((Path(__file__).with_name("gallery_roster.json")).read_text("utf-8"))
# The states compared with committed renderings by test_screen_references.py: one per kind of layout.
REFERENCES = (
    "login",
    "methods-pin",
    "pin-entry",
    "card-read-reading",
    "result-valid",
    "result-invalid",
    "search-full",
    "dialog-insurance-unregistered",
)


def document(name: str) -> dict[str, Any]:
    return ROSTER[name]["document"]


def failure(name: str) -> CheckFailure:
    data = ROSTER[name]["failure"]
    return CheckFailure(data["kind"], data["message"], data["code"], data["title"])


# --- driving a window -------------------------------------------------------------------------------------------------


def run_events(msecs: int = 30) -> None:
    """Let queued events, layouts and the gateway's answers run (an event loop: the GIL is released while idle)."""
    loop = QEventLoop()
    QTimer.singleShot(msecs, loop.quit)
    loop.exec()


def wait_for(condition: Callable[[], Any], what: str, timeout_ms: int = 5000) -> None:
    for _ in range(timeout_ms // 10):
        if condition():
            return
        run_events(10)
    raise RuntimeError(f"gallery: timed out waiting for {what}")


@dataclass
class Stage:
    """A fresh main window over a stub core, shown at 1280×800, and the steps a person takes on it."""

    window: MainWindow
    core: StubCore

    def answer(self, label: str = "OK") -> None:
        wait_for(lambda: self.window.active_dialog is not None and self.window.active_dialog.isVisible(), "a dialog")
        box = self.window.active_dialog
        [target] = [b for b in box.buttons() if b.text() == label]
        self.window.active_dialog = None
        target.click()
        run_events()

    def login(self) -> None:
        for digit in PASSCODE:
            self.window.login.keypad.press(digit)
        wait_for(lambda: self.window.current_screen() is self.window.methods, "認証方法選択")

    def choose(self, method: Method) -> None:
        """A method tile, and OK on its confirmation where the manual has one."""
        self.window.methods.method_buttons[method].click()
        run_events()
        if method is not Method.VISUAL:
            self.answer("OK")

    def pin(self, digits: str = "1234") -> None:
        wait_for(lambda: self.window.current_screen() is self.window.pin_entry, "暗証番号の入力")
        for digit in digits:
            self.window.pin_entry.keypad.press(digit)
        self.window.pin_entry.next_button.click()
        wait_for(lambda: self.window.current_screen() is self.window.card_read, "読み取り")

    def read(self) -> None:
        """読み取り開始, until the outcome: 読み取り完了 or a dialog."""
        self.window.card_read.start_button.click()
        wait_for(
            lambda: self.window.card_read.next_button.isVisible()
            or (self.window.active_dialog is not None and self.window.active_dialog.isVisible()),
            "the read's outcome",
        )
        run_events()

    def check(self, method: Method = Method.PIN) -> None:
        """From 認証方法選択 to the result screen."""
        self.choose(method)
        if method in (Method.PIN, Method.ANDROID):
            self.pin()
        self.read()
        self.window.card_read.next_button.click()
        wait_for(lambda: self.window.current_screen() is self.window.result, "資格確認結果")


def stage(**core_options: Any) -> Stage:
    core = StubCore(**core_options)
    window = build_main_window(core)
    window.resize(*SIZE)
    window.show()
    run_events()
    return Stage(window, core)


# --- the registry -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    key: str  # file name stem
    name: str  # what it shows, in the manual's words
    show: Callable[[], Stage]


STATES: list[State] = []


def state(key: str, name: str) -> Callable[[Callable[[], Stage]], Callable[[], Stage]]:
    def register(show: Callable[[], Stage]) -> Callable[[], Stage]:
        STATES.append(State(key, name, show))
        return show

    return register


# T01–T03, T14
@state("terms", "利用規約 (未登録の端末の最初の画面)")
def _terms() -> Stage:
    return stage(start="terms")


@state("registration", "初期登録")
def _registration() -> Stage:
    s = stage(start="terms")
    s.window.go(s.window.registration)
    return s


@state("registration-errors", "初期登録 — 入力エラー")
def _registration_errors() -> Stage:
    s = stage(start="terms")
    s.window.go(s.window.registration)
    run_events()
    s.window.registration.submit_button.click()
    return s


@state("dialog-registered", "初期登録が完了しました")
def _registered() -> Stage:
    s = stage(start="terms")
    s.window.go(s.window.registration)
    screen = s.window.registration
    screen.institution_code.setText("1311000010")
    screen.account_id.setText("clinic-admin")
    screen.password.edit.setText("Demo#Pass1")
    screen.activation_code.setText("123456789012")
    screen.submit_button.click()
    wait_for(lambda: s.window.active_dialog is not None and s.window.active_dialog.isVisible(), "登録完了")
    return s


@state("passcode-setup", "パスコードの登録")
def _passcode_setup() -> Stage:
    return stage(start="passcode_setup")


@state("dialog-passcode-set", "パスコードを登録しました")
def _passcode_set() -> Stage:
    s = stage(start="passcode_setup")
    for digit in PASSCODE * 2:
        s.window.passcode_setup.keypad.press(digit)
    wait_for(lambda: s.window.active_dialog is not None and s.window.active_dialog.isVisible(), "登録完了")
    return s


@state("login", "ログイン (パスコード)")
def _login() -> Stage:
    return stage(start="login")


@state("login-wrong", "ログイン — パスコードが正しくありません")
def _login_wrong() -> Stage:
    s = stage(start="login")
    for digit in "0000":
        s.window.login.keypad.press(digit)
    wait_for(lambda: s.window.login.error.isVisible(), "the passcode error")
    return s


# T15–T19
@state("methods-visual", "認証方法選択 — 目視確認がオン")
def _methods_visual() -> Stage:
    s = stage(start="login", visual_check=True)
    s.login()
    return s


@state("methods-pin", "認証方法選択 — 暗証番号")
def _methods_pin() -> Stage:
    s = stage(start="login")
    s.login()
    return s


@state("dialog-confirm-pin", "暗証番号による本人確認の確認ダイアログ")
def _confirm_pin() -> Stage:
    s = stage(start="login")
    s.login()
    s.window.methods.method_buttons[Method.PIN].click()
    run_events()
    return s


@state("dialog-consent", "特定疾病療養受療証情報の表示 — 患者の同意の確認")
def _consent() -> Stage:
    s = stage(start="login")
    s.login()
    s.window.methods.consent.click()
    run_events()
    return s


@state("pin-entry", "暗証番号の入力 (患者向け)")
def _pin_entry() -> Stage:
    s = stage(start="login")
    s.login()
    s.choose(Method.PIN)
    wait_for(lambda: s.window.current_screen() is s.window.pin_entry, "暗証番号の入力")
    for digit in "12":
        s.window.pin_entry.keypad.press(digit)
    return s


@state("pin-entry-android", "暗証番号の入力 — Android (スマホ用電子証明書)")
def _pin_entry_android() -> Stage:
    s = stage(start="login")
    s.login()
    s.choose(Method.ANDROID)
    wait_for(lambda: s.window.current_screen() is s.window.pin_entry, "暗証番号の入力")
    return s


def _card_read(method: Method) -> Stage:
    s = stage(start="login", visual_check=method is Method.VISUAL)
    s.login()
    s.choose(method)
    if method in (Method.PIN, Method.ANDROID):
        s.pin()
    wait_for(lambda: s.window.current_screen() is s.window.card_read, "読み取り")
    return s


@state("card-read-card", "マイナンバーカードの読み取り — カードをカードリーダーに")
def _card_read_card() -> Stage:
    return _card_read(Method.PIN)


@state("card-read-visual", "マイナンバーカードの読み取り — 目視確認")
def _card_read_visual() -> Stage:
    return _card_read(Method.VISUAL)


@state("card-read-iphone", "マイナンバーカードの読み取り — iPhone")
def _card_read_iphone() -> Stage:
    return _card_read(Method.IPHONE)


@state("card-read-android", "マイナンバーカードの読み取り — Android")
def _card_read_android() -> Stage:
    return _card_read(Method.ANDROID)


@state("card-read-reading", "読み取り中 (進行表示)")
def _card_read_reading() -> Stage:
    s = _card_read(Method.PIN)
    screen = s.window.card_read
    screen.start_button.setEnabled(False)
    screen.back_button.setEnabled(False)
    screen.indicator.start()
    animation = screen.indicator.findChild(QVariantAnimation)
    animation.pause()
    animation.setCurrentTime(300)  # a fixed angle: the picture must not depend on when it was taken
    screen.status.setText("読み取り中です。カードを動かさないでください。")
    return s


@state("card-read-done", "読み取り完了")
def _card_read_done() -> Stage:
    s = _card_read(Method.PIN)
    s.read()
    return s


# T20–T24: every result variant of the sandbox demo roster
RESULTS = [
    ("result-valid", "資格 太郎", "資格確認結果 — 資格有効 (一般, 本人)", Method.PIN),
    ("result-invalid", "資格 無効子", "資格確認結果 — この資格は無効です", Method.PIN),
    ("result-preschool", "資格 未来", "資格確認結果 — 義務教育就学前 (家族)", Method.PIN),
    ("result-late-elderly", "資格 長寿", "資格確認結果 — 後期高齢者", Method.PIN),
    ("result-elderly", "資格 高齢", "資格確認結果 — 高齢受給者証", Method.PIN),
    ("result-limit", "資格 限度", "資格確認結果 — 限度額適用認定証と特定疾病療養受療証 2件", Method.PIN),
    ("result-diseases", "資格 三疾", "資格確認結果 — 特定疾病療養受療証 3件", Method.PIN),
    ("result-medical-aid", "保護 太郎", "資格確認結果 — 医療扶助", Method.PIN),
    ("result-considerate", "配慮 花子", "資格確認結果 — 要配慮情報", Method.PIN),
    ("result-no-reference", "無番 花子", "資格確認結果 — 照会番号なし", Method.PIN),
    ("result-cert-expiring", "期限 近子", "資格確認結果 — 電子証明書の有効期限まで3カ月未満", Method.PIN),
    ("result-cert-grace", "猶予 期子", "資格確認結果 — 電子証明書の猶予期間", Method.PIN),
    ("result-iphone", "携帯 愛子", "資格確認結果 — iPhone", Method.IPHONE),
    ("result-android", "携帯 安男", "資格確認結果 — Android", Method.ANDROID),
]


def _result(person: str, method: Method) -> Callable[[], Stage]:
    def show() -> Stage:
        s = stage(start="login", outcomes=[document(person)])
        s.login()
        s.check(method)
        return s

    return show


for _key, _person, _name, _method in RESULTS:
    state(_key, _name)(_result(_person, _method))


# errors of a check (T17, T20, N05)
def _failed_check(outcome: CheckFailure, method: Method = Method.PIN) -> Stage:
    s = stage(start="login", outcomes=[outcome])
    s.login()
    s.choose(method)
    if method in (Method.PIN, Method.ANDROID):
        s.pin()
    s.read()
    return s


@state("dialog-pin-wrong", "暗証番号が正しくありません (残り回数)")
def _pin_wrong() -> Stage:
    return _failed_check(CheckFailure(FailureKind.PIN_WRONG, MSG_PIN_WRONG.format(tries=2), "wrong_pin", tries_left=2))


@state("pin-entry-retry", "暗証番号の入力 — 誤った暗証番号のあと")
def _pin_retry() -> Stage:
    s = _pin_wrong()
    s.answer("OK")
    wait_for(lambda: s.window.current_screen() is s.window.pin_entry, "暗証番号の入力")
    return s


@state("dialog-pin-locked", "暗証番号ロック")
def _pin_locked() -> Stage:
    return _failed_check(CheckFailure(FailureKind.PIN_LOCKED, MSG_PIN_LOCKED, "pin_locked", tries_left=0))


@state("dialog-insurance-unregistered", "保険証未登録 (Android, E-C-04-02-A-6002)")
def _insurance_unregistered() -> Stage:
    return _failed_check(failure("携帯 未登子"), Method.ANDROID)


@state("dialog-cert-expired", "電子証明書の猶予期間経過 (E-C-04-02-A-6101)")
def _cert_expired() -> Stage:
    return _failed_check(failure("期限 切男"))


@state("dialog-cert-revoked", "電子証明書の失効 (E-C-04-02-A-6103)")
def _cert_revoked() -> Stage:
    return _failed_check(failure("失効 証男"))


@state("dialog-network", "サーバーに接続できません")
def _network() -> Stage:
    from terminal_agent.core.api_client import MSG_NETWORK_DOWN

    return _failed_check(CheckFailure(FailureKind.NETWORK, MSG_NETWORK_DOWN, "network_unavailable"))


# ⚙ セキュリティ設定 (T06–T12) and D-10-W (T08)
def _security() -> Stage:
    s = stage(start="login")
    s.login()
    s.window.go(s.window.passcode_verify)
    for digit in PASSCODE:
        s.window.passcode_verify.keypad.press(digit)
    wait_for(lambda: s.window.current_screen() is s.window.security, "セキュリティ設定")
    return s


@state("passcode-verify", "パスコードの入力 (セキュリティ設定の前)")
def _passcode_verify() -> Stage:
    s = stage(start="login")
    s.login()
    s.window.go(s.window.passcode_verify)
    return s


@state("security", "セキュリティ設定")
def _security_settings() -> Stage:
    return _security()


@state("dialog-deregister", "デバイス登録解除の確認")
def _deregister() -> Stage:
    s = _security()
    s.window.security.items["deregister"].click()
    run_events()
    return s


SEARCH_PEOPLE = ["佐藤 一子", "鈴木 次郎", "高橋 三子", "田中 四子", "伊藤 五郎", "渡辺 六子", "山本 七郎", "中村 八郎"]


def _search(pages: list[SearchPage]) -> Stage:
    s = _security()
    s.core.pages = pages
    s.window.security.items["search"].click()
    wait_for(lambda: s.window.current_screen() is s.window.search, "資格確認結果検索")
    run_events()
    screen = s.window.search
    for edit, day in ((screen.date_from, QDate(2026, 10, 28)), (screen.date_to, QDate(2026, 11, 27))):
        edit.setDateRange(QDate(2026, 10, 1), QDate(2026, 11, 27))
        edit.setDate(day)
    return s


@state("search-empty", "資格確認結果検索 — 該当なし")
def _search_empty() -> Stage:
    return _search([SearchPage([])])


@state("search-full", "資格確認結果検索 — 一覧 (8件、次のページあり)")
def _search_full() -> Stage:
    rows = [
        search_row(index, document(name), valid=ROSTER[name]["document"]["qualification_validity"] == "1")
        for index, name in enumerate(SEARCH_PEOPLE)
    ]
    cursors = {"first": "c1", "next": "c2", "last": "c3"}
    return _search([SearchPage(rows, cursors)])


@state("search-details", "資格確認結果検索 — 詳細設定")
def _search_details() -> Stage:
    s = _search_empty()
    s.window.search.details_button.click()
    run_events()
    return s


# issue 11: start checks, お知らせ, ⚙ menu pages, account and passcode settings, T27, the offline strip
NOTICES = [
    Notice(3, "年末年始の資格確認について", "12月29日から1月3日までは、オンライン資格確認等システムの保守のため、夜間の資格確認ができない時間帯があります。", "", "2026年11月27日 09時00分", False),
    Notice(2, "マイナ資格確認アプリの更新のお知らせ", "新しいバージョンを公開しました。", "", "2026年11月20日 10時00分", False),
    Notice(1, "マイナ資格確認アプリのデモ環境について", "この環境のデータはすべて架空のものです。", "", "2026年11月01日 09時00分", True),
]


def _after_login(**core_options: Any) -> Stage:
    s = stage(start="login", **core_options)
    for digit in PASSCODE:
        s.window.login.keypad.press(digit)
    run_events(60)
    return s


@state("system-login", "システムログイン (ログアウトのあと)")
def _system_login() -> Stage:
    return stage(start="system_login")


@state("version-available", "バージョン更新 — 新しいバージョンがあります")
def _version_available() -> Stage:
    return _after_login(release=ReleaseInfo("0.1.0", "0.2.0", "https://example.invalid/store", "不具合を修正しました。", True, False))


@state("version-required", "バージョン更新 — 更新が必要です")
def _version_required() -> Stage:
    return _after_login(release=ReleaseInfo("0.1.0", "0.3.0", "https://example.invalid/store", "", True, True))


@state("notices-unread", "お知らせ — 未読 (ログインのあと)")
def _notices_unread() -> Stage:
    return _after_login(notices=NOTICES)


@state("notice-page", "お知らせ — 本文")
def _notice_page() -> Stage:
    s = _after_login(notices=NOTICES)
    s.window.notice_list.notice_opened.emit(NOTICES[0])
    run_events()
    return s


def _menu(key: str, **core_options: Any) -> Stage:
    s = stage(start="login", **core_options)
    s.login()
    s.window.methods.menu_requested.emit(key)
    run_events(60)
    return s


@state("notices-all", "お知らせ — すべて (⚙ メニュー)")
def _notices_all() -> Stage:
    from dataclasses import replace

    return _menu("notices", notices=[replace(notice, read=True) for notice in NOTICES])  # none unread: no list at login


@state("document-terms", "利用規約 (⚙ メニュー)")
def _document_terms() -> Stage:
    return _menu("terms")


@state("document-privacy", "個人情報の取り扱い (⚙ メニュー)")
def _document_privacy() -> Stage:
    return _menu("privacy")


@state("document-licenses", "ライセンス (⚙ メニュー)")
def _document_licenses() -> Stage:
    return _menu("license")


@state("reader-select", "カードリーダー選択")
def _reader_select() -> Stage:
    return _menu("reader", readers=("ACS ACR1252 1S CL Reader PICC 0", "SONY FeliCa Port/PaSoRi 4.0 0"))


@state("reader-select-none", "カードリーダー選択 — 見つかりません")
def _reader_select_none() -> Stage:
    return _menu("reader", readers=())


def _security_item(key: str) -> Stage:
    s = _security()
    s.window.security.items[key].click()
    run_events(60)
    return s


@state("account-password", "アカウントパスワード設定")
def _account_password() -> Stage:
    return _security_item("account_password")


@state("passcode-change", "ログインパスコード設定")
def _passcode_change() -> Stage:
    return _security_item("passcode")


@state("dialog-logout", "ログアウトの確認")
def _logout() -> Stage:
    return _security_item("logout")


@state("insurance-choice", "健康保険証利用登録 — 登録するか選ぶ (T27)")
def _insurance_choice() -> Stage:
    s = stage(start="login", outcomes=[failure("未登録 花子")])
    s.login()
    s.choose(Method.PIN)
    s.pin()
    s.window.card_read.start_button.click()
    wait_for(lambda: s.window.current_screen() is s.window.insurance_choice, "健康保険証利用登録")
    return s


@state("insurance-terms", "健康保険証利用登録 — 同意事項")
def _insurance_terms() -> Stage:
    s = _insurance_choice()
    s.window.insurance_choice.register_button.click()
    wait_for(lambda: s.window.current_screen() is s.window.insurance_terms, "同意事項")
    return s


@state("dialog-registration-processing", "健康保険証利用登録 — 処理中 (E-C-04-02-A-6003)")
def _registration_processing() -> Stage:
    return _failed_check(failure("登録 待子"))


@state("methods-offline", "認証方法選択 — オフライン (送信待ち 2件)")
def _methods_offline() -> Stage:
    s = stage(start="login", online=False, pending=2)
    s.login()
    return s


# --- rendering --------------------------------------------------------------------------------------------------------


def _paint(target: QImage, widget: QWidget, at: QPoint) -> None:
    painter = QPainter(target)
    widget.render(painter, at)
    painter.end()


@dataclass(frozen=True)
class Rendering:
    image: QImage
    screen_id: str  # 画面番号 of what is in front: the open dialog's, else the screen's


def render(entry: State) -> Rendering:
    """The window at 1280×800 (device pixel ratio 1), with its open dialog drawn over it, centred, as on screen."""
    ensure_application()
    QApplication.setCursorFlashTime(0)  # no blinking caret: the same pixels whenever the picture is taken
    # Python's collector runs in whichever thread allocates: left on, it could free a finished window's Qt objects on
    # a gateway thread (a segfault, seen once in 60 renders). Off while rendering, collected below on this thread.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _render(entry)
    finally:
        gc.collect()
        if collecting:
            gc.enable()


def _render(entry: State) -> Rendering:
    s = entry.show()
    run_events(60)
    image = QImage(*SIZE, QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(1.0)
    image.fill(QColor("#ffffff"))
    _paint(image, s.window, QPoint(0, 0))
    screen_id = s.window.current_screen().screen_id
    box: QMessageBox | None = s.window.active_dialog
    if box is not None and box.isVisible():
        screen_id = box.property("screen_id") or screen_id
        shade = QPainter(image)
        shade.fillRect(image.rect(), QColor(0, 0, 0, 60))  # the window behind a window-modal dialog
        shade.end()
        box.adjustSize()
        _paint(image, box, QPoint((SIZE[0] - box.width()) // 2, (SIZE[1] - box.height()) // 2))
        box.done(0)
    s.window.gateway.wait_idle(5000)
    s.window.close()
    s.window.deleteLater()
    run_events(0)
    return Rendering(image, screen_id)


def write_gallery(out: Path, only: list[str] | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written, lines = [], [
        "# Screen gallery",
        "",
        "Every screen and dialog of the terminal at 1280×800, rendered offscreen over the stub core with fixed data",
        "(`make screenshots`, from `tests/terminal/gallery.py`). The results are the sandbox demo roster's variants.",
        "",
        "| # | 画面番号 | screen | image |",
        "|---|---|---|---|",
    ]
    for number, entry in enumerate(STATES, 1):
        if only and entry.key not in only:
            continue
        name = f"{entry.key}.png"  # by key: links stay valid when states are added
        rendering = render(entry)
        if not rendering.image.save(str(out / name)):
            raise RuntimeError(f"could not write {out / name}")
        written.append(out / name)
        lines.append(f"| {number} | {rendering.screen_id} | {entry.name} | [![{entry.key}]({name})]({name}) |")
    if not only:
        (out / "index.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def write_references(out: Path = REFERENCE_DIR) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    by_key = {entry.key: entry for entry in STATES}
    written = []
    for key in REFERENCES:
        path = out / f"{key}.png"
        if not render(by_key[key]).image.save(str(path)):
            raise RuntimeError(f"could not write {path}")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    gc.disable()  # for the whole run: render() collects on this thread after each state (see there)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where the PNGs go (default: docs/screens)")
    parser.add_argument("--only", nargs="*", help="render only these state keys")
    parser.add_argument("--references", action="store_true", help="re-render the reference images of the tests")
    args = parser.parse_args(argv)
    if args.references:
        for path in write_references(args.out or REFERENCE_DIR):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
        return 0
    written = write_gallery(args.out or DOCS, args.only)
    print(f"{len(written)} screens in {args.out or DOCS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
