"""認証方法選択 (T15): consent checkbox, one large button per method with its picture (T11), 操作方法について, ⚙ menu.

Staff-facing: how to switch from 暗証番号 to 目視 is explained here (the PIN screen itself is the patient's)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QCheckBox, QMenu, QToolButton, QVBoxLayout

from terminal_agent.core.check_flow import (
    CONSENT_CONFIRM_TEXT,
    CONSENT_LABEL,
    METHOD_LABELS,
    SWITCH_TO_VISUAL_TEXT,
    Method,
)
from terminal_agent.ui import screen_ids, theme
from terminal_agent.ui.widgets import (
    OK_CANCEL,
    Card,
    ResponsiveRow,
    Screen,
    button,
    header_button,
    message_box,
    paragraph,
    picture_icon,
    set_paragraph,
    text_label,
)

METHOD_PICTURE_SIZE = QSize(96, 64)

HELP_TEXT = {
    Method.VISUAL: (
        "マイナンバーカード (目視) の場合\n現在設定されている認証方法は、実物のマイナンバーカードの券面写真の目視での確認です。\n"
        "券面写真により本人であることを確認後、マイナンバーカードをカードリーダーの上に置いていただくことで、"
        "資格情報を確認することができます。"
    ),
    Method.PIN: (
        "マイナンバーカード (暗証番号) の場合\n現在設定されている認証方法は、実物のマイナンバーカードの利用者証明用暗証番号での確認です。\n"
        "暗証番号入力後マイナンバーカードをカードリーダーの上に置いていただくことで、資格情報を確認することができます。"
        f"\n{SWITCH_TO_VISUAL_TEXT}"
    ),
}
METHOD_PICTURES = {
    Method.VISUAL: "card-visual",
    Method.PIN: "pin-keypad",
    Method.IPHONE: "iphone-over-reader",
    Method.ANDROID: "android-nfc",
}


class MethodSelectScreen(Screen):
    title = "認証方法選択"
    screen_id = screen_ids.METHOD_SELECT
    method_chosen = Signal(str, bool)  # method, consent to 特定疾病療養受療証
    menu_requested = Signal(str)  # reader / notices / terms / privacy / license / security

    def __init__(self) -> None:
        super().__init__()
        self.gear = header_button("メニュー", "gear", accessible="メニュー", tooltip="⚙ メニュー")
        self.gear.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.gear)
        for text, key in (
            ("カードリーダー選択", "reader"),
            ("お知らせ", "notices"),
            ("利用規約", "terms"),
            ("個人情報の取り扱い", "privacy"),
            ("ライセンス", "license"),
            ("セキュリティ設定", "security"),
        ):
            action = self.menu.addAction(text)
            action.setObjectName(f"menu_{key}")
            action.triggered.connect(lambda _=False, k=key: self.menu_requested.emit(k))
        self.gear.setMenu(self.menu)
        self.header_right.addWidget(self.gear)

        row = ResponsiveRow(stretch=(3, 2))
        consent_box = Card("特定疾病療養受療証情報の表示")
        consent_box.add(text_label("プライバシーに関わる情報のため、患者の同意を得てから表示してください。", "muted"))
        self.consent = QCheckBox(CONSENT_LABEL)
        self.consent.setAccessibleName(CONSENT_LABEL)
        self.consent.clicked.connect(self._consent_clicked)
        consent_box.add(self.consent)
        row.first.addWidget(consent_box)

        row.first.addWidget(text_label("本人認証の方法を選択", "heading"))
        self.buttons_box = QVBoxLayout()
        self.buttons_box.setSpacing(theme.SPACE.m)
        row.first.addLayout(self.buttons_box)
        row.first.addStretch(1)
        self.method_buttons: dict[Method, object] = {}

        help_card = Card("操作方法について")
        self.help_title = help_card.title_label
        self.help = paragraph("")
        help_card.add(self.help)
        row.second.addWidget(help_card)
        row.second.addStretch(1)
        self.body.addWidget(row, 1)

    def set_methods(self, methods: list[Method]) -> None:
        while self.buttons_box.count():
            item = self.buttons_box.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.method_buttons = {}
        for method in methods:
            widget = button(METHOD_LABELS[method], variant="method")
            widget.setObjectName(f"method_{method.value}")
            widget.setIcon(picture_icon(METHOD_PICTURES[method], METHOD_PICTURE_SIZE))
            widget.setIconSize(METHOD_PICTURE_SIZE)
            widget.clicked.connect(lambda _=False, m=method: self.method_chosen.emit(m.value, self.consent.isChecked()))
            self.buttons_box.addWidget(widget)
            widget.show()  # shown now, not on a later queued event: the screen may already be on display
            self.method_buttons[method] = widget
        set_paragraph(self.help, HELP_TEXT.get(methods[0], ""))

    def _consent_clicked(self, checked: bool) -> None:
        if not checked:
            return
        self.consent.setChecked(False)  # only the dialog's OK sets it

        def answered(label: str) -> None:
            self.consent.setChecked(label == "OK")

        message_box(
            self, "確認", CONSENT_CONFIRM_TEXT, buttons=OK_CANCEL, on_finished=answered, kind="question",
            screen_id=screen_ids.CONSENT_CONFIRM,
        )

    def entered(self) -> None:
        self.consent.setChecked(False)  # T25: consent is asked per patient
        first = next(iter(self.method_buttons.values()), None)
        if first is not None:
            first.setFocus()
