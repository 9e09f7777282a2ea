"""初期登録 (T02): 機関コード, ID, パスワード (👁), アクティベーションコード, 必須 marks, field errors, 登録する."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit

from terminal_agent.core.registration import FIELD_LABELS, RegistrationForm
from terminal_agent.ui import screen_ids, theme
from terminal_agent.ui.widgets import Card, ErrorNotice, FormField, PasswordField, Screen, button, paragraph, show_error

ACTIVATION_HINT = "アクティベーションコードは、「-(ハイフン)」なし、半角数字12桁で入力してください。"
PASSWORD_HINT = "セキュリティのため、入力する文字が「***」で表示されます。👁をクリックすると、入力内容を表示することができます。"
INTRO = "マイナ資格確認アプリユーザ設定情報を参照しながら、各項目を入力してください。"


class InitialRegistrationScreen(Screen):
    title = "初期登録"
    screen_id = screen_ids.INITIAL_REGISTRATION
    submitted = Signal(object)  # RegistrationForm

    def __init__(self) -> None:
        super().__init__(scroll=True, width=840)
        self.body.addWidget(paragraph(INTRO))
        self.general_error = ErrorNotice()
        self.body.addWidget(self.general_error)
        card = Card()
        card.content.setSpacing(theme.SPACE.m)
        self.institution_code = QLineEdit()
        self.institution_code.setMaxLength(10)
        self.institution_code.setPlaceholderText("半角数字10桁")
        self.account_id = QLineEdit()
        self.password = PasswordField(FIELD_LABELS["password"])
        self.activation_code = QLineEdit()
        self.activation_code.setMaxLength(12)
        self.activation_code.setPlaceholderText("半角数字12桁")
        inputs = {
            "institution_code": (self.institution_code, ""),
            "account_id": (self.account_id, ""),
            "password": (self.password, PASSWORD_HINT),
            "activation_code": (self.activation_code, ACTIVATION_HINT),
        }
        self.fields: dict[str, FormField] = {}
        self.errors: dict[str, QLabel] = {}
        for name, (widget, hint) in inputs.items():
            label = FIELD_LABELS[name]
            widget.setAccessibleName(label)
            field = FormField(label, widget, required=True, hint=hint, rich_hint="👁" in hint)
            field.setObjectName(f"field_{name}")
            card.add(field)
            self.fields[name] = field
            self.errors[name] = field.error
        self.body.addWidget(card)
        self.body.addStretch(1)
        self.submit_button = button("登録する", primary=True)
        self.submit_button.setMinimumWidth(240)
        self.submit_button.clicked.connect(self._submit)
        self.add_action(self.submit_button)
        for line_edit in (self.institution_code, self.account_id, self.password.edit, self.activation_code):
            line_edit.returnPressed.connect(self._submit)

    def form(self) -> RegistrationForm:
        return RegistrationForm(
            self.institution_code.text(), self.account_id.text(), self.password.text(), self.activation_code.text()
        )

    def _submit(self) -> None:
        if self.submit_button.isEnabled():
            self.submitted.emit(self.form())

    def show_errors(self, fields: dict[str, list[str]], message: str = "") -> None:
        for name, field in self.fields.items():
            field.set_error(fields.get(name))
        leftovers = [m for k, v in fields.items() if k not in self.fields for m in v]
        show_error(self.general_error, [message, *leftovers] if message else leftovers)
        first = next((name for name in self.fields if fields.get(name)), None)
        if first is not None:
            self.fields[first].widget.setFocus()
            if self.scroll_area is not None:
                self.scroll_area.ensureWidgetVisible(self.fields[first])

    def set_busy(self, busy: bool) -> None:
        self.submit_button.setEnabled(not busy)

    def entered(self) -> None:
        self.show_errors({})
        self.institution_code.setFocus()
