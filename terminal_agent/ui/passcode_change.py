"""ログインパスコード設定 (T10, E-03-W, manual P.13): the current passcode, then the new one twice, on the keypad."""

from __future__ import annotations

from PySide6.QtCore import Signal

from terminal_agent.ui import screen_ids
from terminal_agent.ui.passcode_login import KeypadScreen
from terminal_agent.ui.widgets import show_error

PROMPTS = (
    "現在のパスコード(数字4桁)を入力してください。",
    "新しいパスコード(数字4桁)を入力してください。",
    "確認のため、もう一度新しいパスコード(数字4桁)を入力してください。",
)
TITLES = ("ログインパスコード設定", "ログインパスコード設定", "ログインパスコード設定(確認用)")


class PasscodeChangeScreen(KeypadScreen):
    title = "ログインパスコード設定"
    screen_id = screen_ids.PASSCODE_CHANGE
    current_entered = Signal(str)
    chosen = Signal(str, str, str)  # current, new, again

    def __init__(self) -> None:
        super().__init__(PROMPTS[0], show_back=True)
        self.caption.hide()
        self.keypad.completed.connect(self._completed)
        self.codes: list[str] = []

    def stage(self) -> int:
        return len(self.codes)

    def _show_stage(self, problem: str = "") -> None:
        stage = min(self.stage(), 2)
        self.set_title(TITLES[stage])
        self.prompt.setText(PROMPTS[stage])
        self.prompt.setAccessibleName(PROMPTS[stage])
        show_error(self.error, problem or None)
        self.keypad.clear()
        self.keypad.setFocus()

    def _completed(self, digits: str) -> None:
        self.codes.append(digits)
        self.keypad.clear()
        if len(self.codes) == 1:
            self.current_entered.emit(digits)  # checked at once: a wrong one is said before the new is asked
        elif len(self.codes) == 2:
            self._show_stage()
        else:
            current, new, again = self.codes
            self.chosen.emit(current, new, again)

    def current_accepted(self) -> None:
        self._show_stage()

    def restart(self, problem: str) -> None:
        """A wrong current passcode (from the start) or a mismatch (the new one again)."""
        self.codes = self.codes[:1] if len(self.codes) == 3 else []
        self._show_stage(problem)

    def entered(self) -> None:
        self.codes = []
        self._show_stage()
