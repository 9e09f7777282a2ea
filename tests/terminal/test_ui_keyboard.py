"""T28 without a server: Qt's own texts in Japanese, and no screen that pops up a stray window of its own (which
would take the keyboard focus from the terminal's window)."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QApplication


def test_making_any_screen_keeps_the_keyboard_in_the_window(qtbot, stub_window):
    window, _core = stub_window(start="login")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}  # (other tests' windows may linger)
    for screen in window.screens():  # each made now, as the flows make them
        window.go(screen)
        qtbot.wait(5)
        stray = [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]
        assert stray == [], f"{type(screen).__name__} showed {stray}"
        assert QApplication.activeWindow() is window, type(screen).__name__


def test_t28_qt_own_texts_are_japanese(qtbot, stub_window):
    """Qt's standard parts speak Japanese too: a field's context menu and the calendar of D-10-W."""

    from PySide6.QtWidgets import QCalendarWidget, QToolButton

    window, _core = stub_window(start="login")
    edit = window.system_login.account_id
    menu_ = edit.createStandardContextMenu()
    # the words, without the key hints (元に戻す(&U)\tCtrl+Z: the mnemonic and the shortcut are keys, not words)
    texts = [re.sub(r"\(&.\)", "", a.text().split("\t")[0]) for a in menu_.actions() if a.text()]
    assert texts and not any(re.search(r"[A-Za-z]{2,}", t) for t in texts), texts
    assert any("コピー" in t for t in texts)
    window.search.reset()
    calendar = window.search.date_from.calendarWidget()
    assert isinstance(calendar, QCalendarWidget)
    names = [calendar.locale().monthName(m) for m in range(1, 13)] + [calendar.locale().dayName(d) for d in range(1, 8)]
    assert all(not re.search(r"[A-Za-z]", n) for n in names), names
    buttons = {b.objectName(): b.accessibleName() for b in calendar.findChildren(QToolButton)}
    assert buttons["qt_calendar_prevmonth"] == "前の月" and buttons["qt_calendar_nextmonth"] == "次の月"
    assert all(buttons.values()), buttons


def test_every_screen_and_dialog_number_is_in_the_readme_table(qtbot, stub_window):
    """T29: one table in terminal_agent/README.md lists every number of ``ui/screen_ids.py``, and every screen of the
    window shows one of them."""
    from pathlib import Path

    from terminal_agent.ui import screen_ids

    readme = (Path(screen_ids.__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| ([A-Z](?:-\d\d)+-[WA]) \|", readme, flags=re.MULTILINE))
    numbers = {v for k, v in vars(screen_ids).items() if k.isupper() and isinstance(v, str)}
    numbers |= set(screen_ids.DOCUMENTS.values())
    assert numbers == listed, (numbers - listed, listed - numbers)
    assert {"C-04-01-W", "D-10-W", "C-04-02-A"} <= numbers  # the manual's own
    window, _core = stub_window(start="login")
    assert {screen.screen_id for screen in window.screens()} <= numbers
