"""セキュリティ設定 (T06, T07): reached from ⚙ only after the passcode; 資格確認結果検索, 目視確認で本人認証, デバイス登録解除."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QLabel

from terminal_agent.ui import screen_ids
from terminal_agent.ui.passcode_login import PasscodeLoginScreen
from terminal_agent.ui.widgets import Screen, button

VISUAL_TOGGLE_LABEL = "目視確認で本人認証"


class PasscodeVerifyScreen(PasscodeLoginScreen):
    """The passcode asked before セキュリティ設定 (the OS biometric is not used here)."""

    title = "パスコードの入力"
    screen_id = screen_ids.PASSCODE_VERIFY

    def __init__(self) -> None:
        super().__init__(show_back=True)
        self.caption.hide()


class SecuritySettingsScreen(Screen):
    title = "セキュリティ設定"
    screen_id = screen_ids.SECURITY_SETTINGS
    chosen = Signal(str)  # search / account_password / passcode / deregister / logout
    visual_toggled = Signal(bool)

    def __init__(self) -> None:
        super().__init__(show_back=True)
        self.items: dict[str, object] = {}
        for key, text in (
            ("search", "資格確認結果検索"),
            ("account_password", "アカウントパスワード設定"),
            ("passcode", "ログインパスコード設定"),
        ):
            self._add(key, text)
        self.visual_toggle = QCheckBox(VISUAL_TOGGLE_LABEL)
        self.visual_toggle.setAccessibleName(VISUAL_TOGGLE_LABEL)
        self.visual_toggle.toggled.connect(self.visual_toggled)
        self.body.addWidget(self.visual_toggle)
        hint = QLabel("オン: マイナンバーカード (目視) / オフ: マイナンバーカード (暗証番号)")
        hint.setWordWrap(True)
        self.body.addWidget(hint)
        self._add("deregister", "デバイス登録解除")
        self._add("logout", "ログアウト")
        self.body.addStretch(1)

    def _add(self, key: str, text: str) -> None:
        widget = button(text)
        widget.setObjectName(f"security_{key}")
        widget.clicked.connect(lambda _=False, k=key: self.chosen.emit(k))
        self.body.addWidget(widget)
        self.items[key] = widget

    def show_state(self, visual_enabled: bool) -> None:
        self.visual_toggle.blockSignals(True)
        self.visual_toggle.setChecked(visual_enabled)
        self.visual_toggle.blockSignals(False)

    def entered(self) -> None:
        self.items["search"].setFocus()
