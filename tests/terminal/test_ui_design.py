"""The screens on the design system (issue 12 points 1–5), driven offscreen without a server: the result at a glance
(banner and notices per variant, every row of T21–T23 in the manual's order, コピー and 閉じる in view at 1280×800 and
800×1280), touch targets, no English text, dialog icons, the patient-facing PIN screen."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QLabel, QMessageBox, QTableWidget

from terminal_agent.core.app import TerminalCore
from terminal_agent.core.check_flow import SWITCH_TO_VISUAL_TEXT, Method
from terminal_agent.core.formatting import MSG_CERT_GRACE, MSG_INVALID, MSG_MEDICAL_AID, build_result_view
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.ui import theme
from terminal_agent.ui.app import build_main_window
from tests.terminal.sample_documents import BASIC, variant

SIZES = [(1280, 800), (800, 1280)]
LATIN_ALLOWED = {"OK", "ID", "iPhone", "Android", "NFC"}  # the manual's own words

FULL = variant(
    certificate_status="grace_period",
    qualification={
        "name_of_other": "他資格 太郎",
        "name_of_other_kana": "シカク タロウ",
        "sex2": "1",
        "elderly_recipient_certificate_info": {
            "elderly_recipient_valid_start_date": "2023-04-01",
            "elderly_recipient_valid_end_date": "2027-03-31",
            "elderly_recipient_contribution_ratio": "020",
        },
        "limit_application_certificate_related_info": {
            "limit_application_certificate_classification": "01",
            "limit_application_certificate_classification_flag": "A01",
            "limit_application_certificate_valid_start_date": "2023-04-01",
            "limit_application_certificate_valid_end_date": "2027-03-31",
            "limit_application_certificate_long_term_date": "2023-11-01",
        },
        "specific_diseases_certificate_list": [
            {
                "specific_diseases_disease_category": "01",
                "specific_diseases_valid_start_date": "2023-04-01",
                "specific_diseases_valid_end_date": "2027-03-31",
                "specific_diseases_self_pay": 10000,
            }
        ],
    },
)


@pytest.fixture
def window(qtbot, tmp_path):
    core = TerminalCore("http://127.0.0.1:9", data_dir=tmp_path, readers=InProcessReaderProvider(None), use_keyring=False)
    window = build_main_window(core)
    qtbot.addWidget(window)
    window.methods.set_methods(core.method_choices())
    assert len(window.screens()) == window.stack.count() >= 11  # every screen built, so every one is checked
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()
    core.close()


def settle(qtbot, window, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.wait(30)
    assert (window.width(), window.height()) == (width, height)  # no screen forces a bigger window


def in_view(widget, window) -> bool:
    """Visible and wholly inside the window (not scrolled away, not clipped by a scroll area)."""
    if not widget.isVisible():
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    rect = QRect(top_left, widget.size())
    if not window.rect().contains(rect):
        return False
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if parent.objectName() == "pageScroll":
            return False  # inside the scrolling part: it could scroll away
        parent = parent.parentWidget()
    return True


@pytest.mark.parametrize(
    ("document", "banner", "tone"),
    [(BASIC, "資格有効", "success"), (variant(qualification_validity="2"), MSG_INVALID, "error")],
)
def test_result_banner_states_validity_first(window, document, banner, tone):
    window.result.show_document(document, from_check=True)
    window.go(window.result)
    assert window.result.banner.text() == banner
    assert window.result.banner_tone == tone
    layout = window.result.body
    assert layout.itemAt(0).widget() is window.result.banner  # first thing in the body
    if tone == "error":
        assert [label.text() for label in window.result.message_labels] == [MSG_INVALID]


@pytest.mark.parametrize(
    ("document", "text", "tone"),
    [
        (variant(qualification={"insured_card_classification": "A1"}), MSG_MEDICAL_AID, "warning"),
        (variant(certificate_status="grace_period"), MSG_CERT_GRACE, "caution"),
        (variant(certificate_status="expiring"), None, "caution"),
        (variant(qualification={"preschool_classification": "1"}), "義務教育就学前", "info"),
    ],
)
def test_result_notices_are_coloured_by_meaning(window, document, text, tone):
    window.result.show_document(document)
    [notice] = window.result.notice_widgets
    assert notice.tone == tone and notice.property("tone") == tone
    if text:
        assert notice.text() == text
    assert window.result.banner_tone == "success"


def test_result_shows_every_row_of_the_presenter_in_order_and_folds_the_optional_blocks(window):
    window.result.show_document(FULL)
    window.go(window.result)
    view = build_result_view(FULL)
    shown = window.result.section_views
    assert [v.section.title for v in shown] == [s.title for s in view.sections if s.rows]
    for section_view, section in zip(shown, [s for s in view.sections if s.rows], strict=True):
        labels = [name.text() for name, _value in section_view.pairs]
        values = [value.text() for _name, value in section_view.pairs]
        assert list(zip(labels, values, strict=True)) == section.rows
    assert [v.toggle.text() for v in shown[1:]] == [
        "要配慮情報 (備考) ▼",
        "高齢受給者証 ▼",
        "限度額適用認定証 ▼",
        "特定疾病療養受療証 ▼",
    ]
    assert not shown[1].rows_widget.isVisible()
    shown[1].toggle.click()
    assert shown[1].rows_widget.isVisible() and shown[1].toggle.text().endswith("▲")
    assert window.result.name_label.text() == "資格 太郎" and window.result.kana_label.text() == "シカク タロウ"
    assert window.result.name_label.font().pixelSize() > theme.TYPE.body  # large: read at a glance


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_copy_and_close_stay_in_view_without_scrolling(qtbot, window, width, height):
    window.result.show_document(FULL, from_check=True)
    window.go(window.result)
    for section_view in window.result.section_views[1:]:
        section_view.toggle.click()  # everything open: the longest result
    settle(qtbot, window, width, height)
    result = window.result
    assert result.scroll_area.verticalScrollBar().maximum() > 0  # the content does scroll...
    result.scroll_area.verticalScrollBar().setValue(result.scroll_area.verticalScrollBar().maximum())
    qtbot.wait(10)
    assert in_view(result.copy_button, window) and in_view(result.close_button, window)  # ...these do not
    assert in_view(result.banner, window) or result.scroll_area.verticalScrollBar().value() > 0
    qtbot.mouseClick(result.copy_button, Qt.MouseButton.LeftButton)
    assert result.copied_label.isVisible() and in_view(result.copied_label, window)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_screen_fits_the_tablet_with_touch_sized_controls(qtbot, window, width, height):
    window.result.show_document(FULL, from_check=True)
    for screen in window.screens():
        window.stack.setCurrentWidget(screen)
        settle(qtbot, window, width, height)
        assert screen.header.isVisible() and screen.screen_id_label.isVisible()
        for control in screen.findChildren(QAbstractButton):
            if not control.isVisible() or control.objectName().startswith("qt_"):
                continue
            if isinstance(control, QCheckBox):
                assert control.height() >= 48, control.text()
                continue
            if control.parent().objectName().startswith("qt_") or isinstance(control.parent(), QTableWidget):
                continue  # Qt's own parts
            assert control.height() >= 48 and control.width() >= 48, f"{type(screen).__name__}: {control.text()}"


def visible_texts(widget) -> list[str]:
    texts = []
    for label in widget.findChildren(QLabel):
        if label.isVisibleTo(widget):
            texts.append(re.sub(r"<[^>]+>", " ", label.text()))
    for control in widget.findChildren(QAbstractButton):
        icon_only = getattr(control, "toolButtonStyle", None) and (
            control.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
        )
        if control.isVisibleTo(widget) and not icon_only:
            texts.append(control.text())
    for table in widget.findChildren(QTableWidget):
        texts.extend(table.horizontalHeaderItem(i).text() for i in range(table.columnCount()))
    return texts


def test_no_english_text_on_any_screen_or_menu(qtbot, window):
    window.result.show_document(FULL, from_check=True)
    words = set()
    for screen in window.screens():
        window.stack.setCurrentWidget(screen)
        for text in visible_texts(screen):
            words |= set(re.findall(r"[A-Za-z]{2,}", text))
    words |= {w for action in window.methods.menu.actions() for w in re.findall(r"[A-Za-z]{2,}", action.text())}
    assert words <= LATIN_ALLOWED, words - LATIN_ALLOWED


def test_an_error_dialog_carries_the_error_icon_and_japanese_buttons(qtbot, window):
    window.go(window.methods)
    # Not registered: choosing a method ends in the error dialog (T01: no check without registration).
    qtbot.mouseClick(window.methods.method_buttons[Method.IPHONE], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.active_dialog is not None and window.active_dialog.isVisible())
    box = window.active_dialog
    assert box.windowTitle() == "エラー"
    assert box.icon() == QMessageBox.Icon.Critical and box.property("kind") == "error"
    assert all(not re.search(r"[A-Za-z]{2,}", b.text()) or b.text() in LATIN_ALLOWED for b in box.buttons())
    window.active_dialog = None
    box.buttons()[0].click()


def test_pin_screen_is_for_the_patient(qtbot, window):
    window.go(window.pin_entry)
    window.pin_entry.prepare(Method.PIN)
    settle(qtbot, window, 1280, 800)
    screen = window.pin_entry
    texts = " ".join(visible_texts(screen))
    assert SWITCH_TO_VISUAL_TEXT not in texts and "セキュリティ設定" not in texts  # nothing staff-only
    window.status.set_online(False)
    window.status.set_pending(2)
    texts = " ".join(visible_texts(screen))
    assert "オフライン" not in texts and "送信待ち" not in texts  # the status strip is the staff's
    assert screen.screen_id_label.isVisibleTo(screen)
    assert screen.prompt.font().pixelSize() >= theme.TYPE.patient
    assert all(key.height() >= 72 and key.width() >= 72 for key in screen.keypad.digit_buttons.values())
    assert [label.text() for label in screen.step_indicator.labels] == ["1 本人確認", "2 読み取り", "3 結果"]
    assert screen.step_indicator.current == 0
    assert QFontInfo(screen.prompt.font()).family() == theme.FONT_FAMILY


@pytest.mark.parametrize(
    ("method", "picture"),
    [
        (Method.VISUAL, "card-on-reader"),
        (Method.PIN, "card-on-reader"),
        (Method.IPHONE, "iphone-over-reader"),
        (Method.ANDROID, "android-nfc"),
    ],
)
def test_card_read_shows_where_to_hold_and_progress_while_reading(qtbot, window, method, picture):
    screen = window.card_read
    window.go(screen)
    screen.prepare(method)
    assert screen.illustration.name == picture
    assert screen.visual_notice.isVisible() == (method is Method.VISUAL)
    # the patient holds a phone and reads the instruction: no staff-only status strip then
    assert screen.status_strip.isVisible() == (method not in (Method.IPHONE, Method.ANDROID))
    assert screen.step_indicator.current == 1 and screen.step_indicator.isVisible()
    assert not screen.indicator.running
    received = []
    screen.start_requested.connect(lambda: received.append(True))
    qtbot.mouseClick(screen.start_button, Qt.MouseButton.LeftButton)
    assert received and screen.indicator.running and screen.indicator.isVisible()
    assert not screen.back_button.isEnabled()
    screen.read_done()
    assert not screen.indicator.running and screen.done_icon.isVisible()
    assert not screen.instruction.isVisible()  # the card is read: only 次へ is asked for now
    assert screen.title_label.text() == "読み取り完了" and screen.next_button.isVisible()


def test_method_buttons_are_large_tiles_with_pictures(qtbot, window):
    window.go(window.methods)
    settle(qtbot, window, 1280, 800)
    for widget in window.methods.method_buttons.values():
        assert widget.height() >= 80 and not widget.icon().isNull()
    assert SWITCH_TO_VISUAL_TEXT not in window.methods.help.accessibleName()  # 目視 is on: nothing to switch
    window.core.set_visual_check(False)
    window.methods.set_methods(window.core.method_choices())
    assert SWITCH_TO_VISUAL_TEXT in window.methods.help.accessibleName()  # staff read how to switch here


def test_registration_errors_show_inline_and_mark_the_field(qtbot, window):
    screen = window.registration
    window.go(screen)
    screen.show_errors({"institution_code": ["機関コードを入力してください。"]}, "登録できませんでした。")
    field = screen.fields["institution_code"]
    assert field.error.isVisible() and field.error.text() == "機関コードを入力してください。"
    assert screen.institution_code.property("invalid") == "true"
    assert screen.general_error.isVisible() and screen.general_error.tone == "error"
    assert [m.text() for m in screen.findChildren(QLabel, "requiredMark")] == ["必須"] * 4
    screen.show_errors({})
    assert not field.error.isVisible() and screen.institution_code.property("invalid") == "false"
    assert in_view(screen.submit_button, window)  # 登録する stays in the action bar


def test_search_list_marks_invalid_rows_and_says_when_empty(qtbot, window):
    from types import SimpleNamespace

    from terminal_agent.core.search import SearchPage

    screen = window.search
    screen.reset()
    window.go(screen)
    rows = [SimpleNamespace(id="1", checked_at="2025年03月24日 12時00分", name="佐藤 一子", validity="資格無効")]
    screen.show_page(SearchPage(rows))
    assert screen.table.item(0, 2).foreground().color().name() == theme.COLORS.error
    assert not screen.empty.isVisible()
    screen.show_page(SearchPage([]))
    assert screen.empty.isVisible() and screen.table.rowCount() == 0
    qtbot.mouseClick(screen.details_button, Qt.MouseButton.LeftButton)
    assert screen.details.isVisible()


def test_security_settings_lists_the_manual_items_in_order_with_a_switch(qtbot, window):
    screen = window.security
    window.go(screen)
    texts = [b.text() for b in screen.items.values()]
    assert texts == ["資格確認結果検索", "アカウントパスワード設定", "ログインパスコード設定", "デバイス登録解除", "ログアウト"]
    assert screen.items["deregister"].property("variant") == "rowDanger"
    toggled = []
    screen.visual_toggled.connect(toggled.append)
    qtbot.mouseClick(screen.visual_toggle, Qt.MouseButton.LeftButton, pos=QPoint(8, 8))
    assert toggled == [True]


def test_status_strip_of_every_screen_follows_the_window_status(qtbot, window):
    screens = window.screens()
    window.gateway.wait_idle()  # the start screen's calls are answered (the server here is out of reach) ...
    qtbot.wait(50)
    window.status.set_online(None)  # ... and then nothing is known again
    window.status.set_pending(None)
    assert all(not s.status_strip.online_label.isVisibleTo(s) for s in screens)  # nothing said yet: nothing shown
    window.status.set_online(False)
    window.status.set_pending(3)
    for screen in screens:
        strip = screen.status_strip
        if screen is window.pin_entry:  # patient-facing: the strip follows, hidden
            assert not strip.isVisibleTo(screen)
        assert strip.online_label.isVisibleTo(strip) and "オフライン" in strip.online_label.text()
        assert strip.online_label.property("online") == "false"
        assert strip.pending_label.text() == "送信待ちの資格確認結果: 3件"
    window.status.set_online(True)
    window.status.set_pending(0)
    assert window.result.status_strip.online_label.text() == "● オンライン"
    assert window.result.status_strip.pending_label.property("waiting") == "false"


def test_every_character_on_screen_is_drawn_by_the_bundled_font(qtbot, window):
    """No fallback font is needed, so every machine draws the same glyphs (reference renderings rely on it)."""
    from PySide6.QtGui import QFont, QRawFont

    window.result.show_document(FULL, from_check=True)
    window.status.set_online(False)
    window.status.set_pending(1)
    characters = set()
    for screen in window.screens():
        for text in visible_texts(screen):
            characters |= set(re.sub(r"&[a-z]+;", " ", text))
    for action in window.methods.menu.actions():
        characters |= set(action.text())
    for bold in (False, True):
        font = QFont(theme.FONT_FAMILY)
        font.setBold(bold)
        raw = QRawFont.fromFont(font)
        assert raw.familyName() == theme.FONT_FAMILY
        missing = {c for c in characters if c.strip() and not raw.supportsCharacter(ord(c))}
        assert not missing, "".join(sorted(missing))


def test_escape_means_back_where_the_screen_has_one(qtbot, window):
    went_back = []
    window.go(window.pin_entry)
    window.pin_entry.prepare(Method.PIN)
    window.pin_entry.back_requested.connect(lambda: went_back.append(True))
    qtbot.keyClick(window.pin_entry.keypad, Qt.Key.Key_Escape)
    assert went_back == [True]
    window.go(window.login)  # no ← on the login screen: Esc does nothing there
    qtbot.keyClick(window.login.keypad, Qt.Key.Key_Escape)
    assert window.current_screen() is window.login
