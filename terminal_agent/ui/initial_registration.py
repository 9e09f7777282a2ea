"""初期登録 (T02): 機関コード, ID, パスワード (👁), アクティベーションコード, 必須 marks, field errors, 登録する."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QWidget

from terminal_agent.core.registration import FIELD_LABELS, RegistrationForm
from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import PasswordField, Screen, button, error_label, show_error, with_eye_images

ACTIVATION_HINT = "アクティベーションコードは、「-(ハイフン)」なし、半角数字12桁で入力してください。"
PASSWORD_HINT = "セキュリティのため、入力する文字が「***」で表示されます。👁をクリックすると、入力内容を表示することができます。"


def _label_with_required(text: str) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(QLabel(text))
    mark = QLabel("必須")
    mark.setObjectName("requiredMark")
    mark.setStyleSheet("color: white; background: #c62828; padding: 0 4px;")
    row.addWidget(mark)
    row.addStretch(1)
    return holder


class InitialRegistrationScreen(Screen):
    title = "初期登録"
    screen_id = screen_ids.INITIAL_REGISTRATION
    submitted = Signal(object)  # RegistrationForm

    def __init__(self) -> None:
        super().__init__()
        intro = QLabel("マイナ資格確認アプリユーザ設定情報を参照しながら、各項目を入力してください。")
        intro.setWordWrap(True)
        self.body.addWidget(intro)
        form = QFormLayout()
        self.institution_code = QLineEdit()
        self.institution_code.setMaxLength(10)
        self.account_id = QLineEdit()
        self.password = PasswordField(FIELD_LABELS["password"])
        self.activation_code = QLineEdit()
        self.activation_code.setMaxLength(12)
        self.activation_code.setPlaceholderText("半角数字12桁")
        self.errors: dict[str, QLabel] = {}
        inputs = {
            "institution_code": self.institution_code,
            "account_id": self.account_id,
            "password": self.password,
            "activation_code": self.activation_code,
        }
        for name, widget in inputs.items():
            label = FIELD_LABELS[name]
            widget.setAccessibleName(label)
            if name == "password":
                widget.edit.setAccessibleName(label)
            form.addRow(_label_with_required(label), widget)
            if name == "password":
                form.addRow("", self._hint(PASSWORD_HINT))
            if name == "activation_code":
                form.addRow("", self._hint(ACTIVATION_HINT))
            self.errors[name] = error_label()
            form.addRow("", self.errors[name])
        self.body.addLayout(form)
        self.general_error = error_label()
        self.body.addWidget(self.general_error)
        self.body.addStretch(1)
        self.submit_button = button("登録する", primary=True)
        self.submit_button.clicked.connect(self._submit)
        self.body.addWidget(self.submit_button)

    @staticmethod
    def _hint(text: str) -> QLabel:
        hint = QLabel(with_eye_images(text))
        hint.setTextFormat(Qt.TextFormat.RichText)
        hint.setAccessibleName(text)
        hint.setWordWrap(True)
        return hint

    def form(self) -> RegistrationForm:
        return RegistrationForm(
            self.institution_code.text(), self.account_id.text(), self.password.text(), self.activation_code.text()
        )

    def _submit(self) -> None:
        self.submitted.emit(self.form())

    def show_errors(self, fields: dict[str, list[str]], message: str = "") -> None:
        for name, label in self.errors.items():
            show_error(label, fields.get(name))
        leftovers = [m for k, v in fields.items() if k not in self.errors for m in v]
        show_error(self.general_error, [message, *leftovers] if message else leftovers)

    def set_busy(self, busy: bool) -> None:
        self.submit_button.setEnabled(not busy)

    def entered(self) -> None:
        self.show_errors({})
        self.institution_code.setFocus()
