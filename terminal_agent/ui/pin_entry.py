"""暗証番号の入力 (T17, T19): the patient enters the 4-digit PIN on the keypad (or a wired numeric keypad), 次へ."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel

from terminal_agent.core.check_flow import PIN_TEXT, SWITCH_TO_VISUAL_TEXT, Method
from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import Keypad, Screen, button, error_label, show_error


class PinEntryScreen(Screen):
    title = "暗証番号の入力"
    screen_id = screen_ids.PIN_ENTRY
    pin_entered = Signal(str)

    def __init__(self) -> None:
        super().__init__(show_back=True)
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.body.addWidget(self.prompt)
        self.error = error_label()
        self.body.addWidget(self.error)
        self.keypad = Keypad(4)
        self.keypad.changed.connect(lambda digits: self.next_button.setEnabled(len(digits) == 4))
        self.keypad.submitted.connect(lambda digits: self._next() if len(digits) == 4 else None)
        self.body.addWidget(self.keypad)
        self.switch_hint = QLabel(SWITCH_TO_VISUAL_TEXT)
        self.switch_hint.setWordWrap(True)
        self.body.addWidget(self.switch_hint)
        self.next_button = button("次へ", primary=True)
        self.next_button.setEnabled(False)
        self.next_button.clicked.connect(self._next)
        self.body.addWidget(self.next_button)

    def prepare(self, method: Method, problem: str = "") -> None:
        self.prompt.setText(PIN_TEXT[method])
        self.switch_hint.setVisible(method is Method.PIN)
        self.keypad.clear()
        show_error(self.error, problem or None)
        self.keypad.setFocus()

    def _next(self) -> None:
        digits = self.keypad.value
        self.keypad.clear()  # the PIN leaves the screen at once
        self.pin_entered.emit(digits)
