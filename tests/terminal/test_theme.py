"""The design system (issue 12 point 1): contrast of every colour pair in use, the bundled font, the type scale,
touch targets, dialog icons and buttons. No server needed."""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QFontDatabase, QFontInfo
from PySide6.QtWidgets import QAbstractButton, QLabel, QMessageBox, QWidget

from terminal_agent.ui import theme
from terminal_agent.ui.widgets import OK_CANCEL, Screen, button, message_box


def test_wcag_contrast_formula_matches_known_values():
    assert theme.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert theme.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # DADS solid-gray-536
    assert theme.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize(("foreground", "background", "minimum"), theme.CONTRAST_PAIRS)
def test_every_colour_pair_in_use_meets_wcag_aa(foreground, background, minimum):
    ratio = theme.contrast_ratio(getattr(theme.COLORS, foreground), getattr(theme.COLORS, background))
    assert ratio >= minimum, f"{foreground} on {background}: {ratio:.2f} < {minimum}"


def test_stylesheet_uses_only_token_colours():
    tokens = {value.lower() for value in vars(theme.COLORS).values()}
    used = {match.lower() for match in re.findall(r"#[0-9a-fA-F]{6}\b", theme.stylesheet())}
    assert used <= tokens, used - tokens


def test_type_scale_body_is_at_least_14pt_and_targets_at_least_48px():
    assert theme.TYPE.body * 72 / 96 >= 14  # px at 96 dpi → pt
    assert min(vars(theme.TYPE).values()) * 72 / 96 >= 12  # nothing smaller than the caption
    assert theme.SIZE.button >= theme.SIZE.touch >= 48 and theme.SIZE.field >= 48 and theme.SIZE.key >= 48


def test_bundled_font_is_loaded_and_used(qapp):
    theme.apply_theme(qapp)
    assert theme.FONT_FAMILY in theme.load_fonts()
    assert theme.FONT_FAMILY in QFontDatabase.families()
    assert QFontInfo(qapp.font()).family() == theme.FONT_FAMILY
    assert (theme.ASSETS / "fonts" / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE Version 1.1") >= 1


def test_buttons_and_header_controls_are_touch_sized(qtbot, qapp):
    theme.apply_theme(qapp)

    class Probe(Screen):
        title = "確認"
        screen_id = "X-00-W"

    screen = Probe(show_back=True)
    qtbot.addWidget(screen)
    for variant in ("primary", "secondary", "danger"):
        screen.add_action(button(variant, variant=variant))
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    for control in screen.findChildren(QAbstractButton):
        if control.isVisible():
            assert control.height() >= 48 and control.width() >= 48, control.text()


@pytest.mark.parametrize(
    ("kind", "standard"),
    [("error", QMessageBox.Icon.Critical), ("warning", QMessageBox.Icon.Warning), ("info", QMessageBox.Icon.Information)],
)
def test_dialog_icon_follows_its_kind_and_buttons_are_japanese(qtbot, qapp, kind, standard):
    theme.apply_theme(qapp)
    parent = QWidget()
    qtbot.addWidget(parent)
    answers = []
    box = message_box(parent, "エラー", "読み取りに失敗しました。", buttons=OK_CANCEL, kind=kind, on_finished=answers.append)
    assert box.property("kind") == kind
    assert box.icon() == standard  # never Information on an error
    assert not box.findChild(QLabel, "qt_msgboxex_icon_label").pixmap().isNull()
    assert [b.text() for b in box.buttons()] == ["OK", "キャンセル"]
    assert box.buttons()[0].property("variant") == "primary"
    assert box.escapeButton() is box.buttons()[1]
    box.buttons()[1].click()
    assert answers == ["キャンセル"]
