"""パスコードの登録 (T03): four digits on the keypad, then again (確認用)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel

from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import Keypad, Screen, error_label, show_error

PROMPT_FIRST = "アプリ起動時に使用するパスコード(任意の数字4桁)を入力してください。"
PROMPT_CONFIRM = "確認のため、もう一度パスコード(数字4桁)を入力してください。"


class PasscodeSetupScreen(Screen):
    title = "パスコードの登録"
    screen_id = screen_ids.PASSCODE_SETUP
    chosen = Signal(str, str)  # first, confirmation

    def __init__(self) -> None:
        super().__init__()
        self.prompt = QLabel(PROMPT_FIRST)
        self.prompt.setWordWrap(True)
        self.body.addWidget(self.prompt)
        self.error = error_label()
        self.body.addWidget(self.error)
        self.keypad = Keypad(4)
        self.keypad.completed.connect(self._completed)
        self.body.addWidget(self.keypad)
        self._first: str | None = None

    def entered(self) -> None:
        self._first = None
        self.title_label.setText(self.title)
        self.prompt.setText(PROMPT_FIRST)
        self.keypad.clear()
        show_error(self.error, None)
        self.keypad.setFocus()

    def _completed(self, digits: str) -> None:
        if self._first is None:
            self._first = digits
            self.title_label.setText("パスコードの登録(確認用)")
            self.prompt.setText(PROMPT_CONFIRM)
            self.keypad.clear()
            return
        first, self._first = self._first, None
        self.keypad.clear()
        self.chosen.emit(first, digits)

    def show_problem(self, message: str) -> None:
        self.entered()
        show_error(self.error, message)
