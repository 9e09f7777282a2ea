"""セキュリティ設定 (T06, T07): reached from ⚙ only after the passcode; 資格確認結果検索, 目視確認で本人認証, デバイス登録解除."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QPushButton, QVBoxLayout

from terminal_agent.ui import screen_ids
from terminal_agent.ui.passcode_login import PasscodeLoginScreen
from terminal_agent.ui.theme import SPACE
from terminal_agent.ui.widgets import Card, Screen, button, icon, text_label

VISUAL_TOGGLE_LABEL = "目視確認で本人認証"
VISUAL_HINT = "オン: マイナンバーカード (目視) / オフ: マイナンバーカード (暗証番号)"
ITEMS = (  # the manual's order (P.9)
    ("search", "資格確認結果検索"),
    ("account_password", "アカウントパスワード設定"),
    ("passcode", "ログインパスコード設定"),
    ("visual", VISUAL_TOGGLE_LABEL),
    ("deregister", "デバイス登録解除"),
    ("logout", "ログアウト"),
)


class PasscodeVerifyScreen(PasscodeLoginScreen):
    """The passcode asked before セキュリティ設定 (the OS biometric is not used here)."""

    title = "パスコードの入力"
    screen_id = screen_ids.PASSCODE_VERIFY

    def __init__(self) -> None:
        super().__init__(show_back=True)
        self.caption.hide()


class SecuritySettingsScreen(Screen):
    """One card listing the settings in the manual's order; each row opens its page, the 目視 row is a switch."""

    title = "セキュリティ設定"
    screen_id = screen_ids.SECURITY_SETTINGS
    chosen = Signal(str)  # search / account_password / passcode / deregister / logout
    visual_toggled = Signal(bool)

    def __init__(self) -> None:
        super().__init__(show_back=True, scroll=True, width=880)
        self.items: dict[str, QPushButton] = {}
        self.list = Card()
        self.list.content.setSpacing(0)
        for key, text in ITEMS:
            if key == "visual":
                self.list.add(self._switch_row())
            else:
                self._add(key, text)
        self.body.addWidget(self.list)
        self.body.addStretch(1)

    def _switch_row(self) -> QFrame:
        """目視確認で本人認証 with its hint on the left and the slider on the right (the manual's スライダー)."""
        row = QFrame()
        row.setObjectName("switchRow")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(SPACE.m, SPACE.s, SPACE.m, SPACE.s)
        texts = QVBoxLayout()
        texts.setSpacing(SPACE.xs)
        title = text_label(VISUAL_TOGGLE_LABEL, "label")
        texts.addWidget(title)
        texts.addWidget(text_label(VISUAL_HINT, "caption"))
        layout.addLayout(texts, 1)
        self.visual_toggle = QCheckBox()
        self.visual_toggle.setProperty("variant", "switch")
        self.visual_toggle.setAccessibleName(VISUAL_TOGGLE_LABEL)
        self.visual_toggle.setAccessibleDescription(VISUAL_HINT)
        self.visual_toggle.toggled.connect(self.visual_toggled)
        title.setBuddy(self.visual_toggle)
        layout.addWidget(self.visual_toggle)
        return row

    def _add(self, key: str, text: str) -> None:
        widget = button(text, variant="rowDanger" if key == "deregister" else "row")
        widget.setObjectName(f"security_{key}")
        widget.setAutoDefault(True)  # Enter opens the focused row (T28)
        widget.setIcon(icon("chevron"))
        widget.setIconSize(QSize(24, 24))
        widget.setLayoutDirection(widget.layoutDirection().RightToLeft)  # the › on the right, the text on the left
        widget.clicked.connect(lambda _=False, k=key: self.chosen.emit(k))
        self.list.add(widget)
        self.items[key] = widget

    def show_state(self, visual_enabled: bool) -> None:
        self.visual_toggle.blockSignals(True)
        self.visual_toggle.setChecked(visual_enabled)
        self.visual_toggle.blockSignals(False)

    def entered(self) -> None:
        self.items["search"].setFocus()
