"""Every screen shows its 画面番号 (T29) and names its controls for screen readers (T28). No server needed."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QLineEdit

from terminal_agent.core.app import TerminalCore
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.ui.app import build_main_window


def test_screen_numbers_and_accessible_names(qtbot, tmp_path):
    core = TerminalCore("http://127.0.0.1:9", data_dir=tmp_path, readers=InProcessReaderProvider(None), use_keyring=False)
    window = build_main_window(core)
    qtbot.addWidget(window)
    assert [window.stack.widget(i) for i in range(window.stack.count())] == [window.terms]  # only the start screen
    window.methods.set_methods(core.method_choices())
    screens = window.screens()
    assert window.stack.count() == len(screens)
    ids = [screen.screen_id for screen in screens]
    assert len(set(ids)) == len(ids) and "C-04-01-W" in ids and "D-10-W" in ids
    for screen in screens:
        assert screen.screen_id_label.text() == f"画面番号: {screen.screen_id}"
        for control in screen.findChildren(QAbstractButton) + screen.findChildren(QLineEdit):
            if control.objectName().startswith("qt_") or isinstance(control.parent(), QAbstractSpinBox):
                continue  # Qt's own parts (a date edit's line edit): named by their owner
            assert control.accessibleName(), f"{type(screen).__name__}: {control!r} has no accessible name"
    assert window.current_screen() is window.terms  # not registered: 利用規約 first (T01, T14)
    core.close()
