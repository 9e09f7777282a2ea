"""パスコードの登録 (T03): four digits on the keypad, then again (確認用)."""

from __future__ import annotations

from PySide6.QtCore import Signal

from terminal_agent.ui import screen_ids
from terminal_agent.ui.passcode_login import KeypadScreen
from terminal_agent.ui.widgets import show_error

PROMPT_FIRST = "アプリ起動時に使用するパスコード(任意の数字4桁)を入力してください。"
PROMPT_CONFIRM = "確認のため、もう一度パスコード(数字4桁)を入力してください。"


class PasscodeSetupScreen(KeypadScreen):
    title = "パスコードの登録"
    screen_id = screen_ids.PASSCODE_SETUP
    chosen = Signal(str, str)  # first, confirmation

    def __init__(self) -> None:
        super().__init__(PROMPT_FIRST)
        self.keypad.completed.connect(self._completed)
        self._first: str | None = None

    def entered(self) -> None:
        self._first = None
        self.set_title(self.title)
        self.prompt.setText(PROMPT_FIRST)
        self.keypad.clear()
        show_error(self.error, None)
        self.keypad.setFocus()

    def _completed(self, digits: str) -> None:
        if self._first is None:
            self._first = digits
            self.set_title("パスコードの登録(確認用)")
            self.prompt.setText(PROMPT_CONFIRM)
            self.keypad.clear()
            return
        first, self._first = self._first, None
        self.keypad.clear()
        self.chosen.emit(first, digits)

    def show_problem(self, message: str) -> None:
        self.entered()
        show_error(self.error, message)
