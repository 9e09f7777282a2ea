"""パスコードでログイン (T14): four digits at every start."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSizePolicy

from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import (
    APP_TITLE,
    ErrorNotice,
    Illustration,
    Keypad,
    ResponsiveRow,
    Screen,
    show_error,
    text_label,
)


class KeypadScreen(Screen):
    """A prompt with its error on the left (on top in portrait) and the keypad on the right."""

    def __init__(self, prompt: str, *, show_back: bool = False, caption: str = "") -> None:
        super().__init__(show_back=show_back)
        row = ResponsiveRow(stretch=(1, 1))
        self.caption = text_label(caption, "muted")
        row.first.addWidget(self.caption)
        self.caption.setVisible(bool(caption))  # once parented (alone it would be shown as a window)
        self.prompt = text_label(prompt, "instruction")
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.prompt.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        row.first.addWidget(self.prompt)
        self.error = ErrorNotice()
        row.first.addWidget(self.error)
        self.illustration = Illustration("passcode-lock", height=220, accessible="パスコードでロックされた端末")
        self.illustration.setMaximumHeight(300)
        row.first.addWidget(self.illustration, 1)
        row.first.addStretch(0)
        self.keypad = Keypad(4)
        row.second.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        row.second.addStretch(1)
        self.body.addWidget(row, 1)


class PasscodeLoginScreen(KeypadScreen):
    title = "ログイン"
    screen_id = screen_ids.PASSCODE_LOGIN
    entered_code = Signal(str)

    def __init__(self, *, show_back: bool = False) -> None:
        super().__init__("パスコード(数字4桁)を入力してください。", show_back=show_back, caption=APP_TITLE)
        self.keypad.completed.connect(self._completed)

    def entered(self) -> None:
        self.keypad.clear()
        show_error(self.error, None)
        self.keypad.setFocus()

    def _completed(self, digits: str) -> None:
        self.keypad.clear()
        self.entered_code.emit(digits)

    def show_problem(self, message: str) -> None:
        show_error(self.error, message)
