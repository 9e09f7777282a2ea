"""パスコードでログイン (T14): four digits at every start."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel

from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import Keypad, Screen, error_label, show_error


class PasscodeLoginScreen(Screen):
    title = "ログイン"
    screen_id = screen_ids.PASSCODE_LOGIN
    entered_code = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        prompt = QLabel("パスコード(数字4桁)を入力してください。")
        self.body.addWidget(prompt)
        self.error = error_label()
        self.body.addWidget(self.error)
        self.keypad = Keypad(4)
        self.keypad.completed.connect(self._completed)
        self.body.addWidget(self.keypad)

    def entered(self) -> None:
        self.keypad.clear()
        show_error(self.error, None)
        self.keypad.setFocus()

    def _completed(self, digits: str) -> None:
        self.keypad.clear()
        self.entered_code.emit(digits)

    def show_problem(self, message: str) -> None:
        show_error(self.error, message)
