"""システムログイン (T13, B-03-W) after ログアウト, and アカウントパスワード設定 (T09, E-02-W): the manual's fields, masked
with 👁, the T09 rule shown and checked field by field before sending, the server's answers in Japanese."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit

from contracts.account_password import ALLOWED_TEXT, RULE_TEXT
from terminal_agent.core.account import LABELS, MSG_ID_PASSWORD_NOTE, MSG_LOCK_NOTE
from terminal_agent.core.registration import FIELD_LABELS
from terminal_agent.ui import screen_ids, theme
from terminal_agent.ui.widgets import (
    Card,
    ErrorNotice,
    FormField,
    Notice,
    PasswordField,
    ResponsiveRow,
    Screen,
    button,
    paragraph,
    show_error,
    text_label,
)

MASK_HINT = "セキュリティのため、入力する文字が「***」で表示されます。👁をクリックすると、入力内容を表示することができます。"
LOGIN_INTRO = "システムからログアウトしました。ID及びパスワードを入力して、ログインをクリックしてください。"
PASSWORD_INTRO = "現在のパスワードと、変更後の新しいパスワード(2か所)を入力し、変更をクリックしてください。"


class _Form(Screen):
    """A form of labelled fields in a card with an error notice on top; Enter in any field submits."""

    def _fields(self, card: Card, inputs: dict[str, tuple[QLineEdit | PasswordField, str]]) -> None:
        self.fields: dict[str, FormField] = {}
        for name, (widget, hint) in inputs.items():
            label = LABELS[name]
            (widget.edit if isinstance(widget, PasswordField) else widget).setAccessibleName(label)
            field = FormField(label, widget, required=True, hint=hint, rich_hint="👁" in hint)
            field.setObjectName(f"field_{name}")
            card.add(field)
            self.fields[name] = field
            edit = widget.edit if isinstance(widget, PasswordField) else widget
            edit.returnPressed.connect(self._submit)

    def _submit(self) -> None:  # pragma: no cover - each form defines it
        raise NotImplementedError

    def show_errors(self, fields: dict[str, list[str]], message: str = "") -> None:
        for name, field in self.fields.items():
            field.set_error(fields.get(name))
        leftovers = [m for k, v in fields.items() if k not in self.fields or self.fields[k].isHidden() for m in v]
        show_error(self.general_error, [message, *leftovers] if message else leftovers)
        first = next((n for n, f in self.fields.items() if fields.get(n) and not f.isHidden()), None)
        if first is not None:
            self.fields[first].widget.setFocus()

    def clear(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            (widget.edit if isinstance(widget, PasswordField) else widget).clear()
        self.show_errors({})


class SystemLoginScreen(_Form):
    title = "システムログイン"
    screen_id = screen_ids.SYSTEM_LOGIN
    submitted = Signal(str, str)  # account id, password

    def __init__(self) -> None:
        super().__init__(scroll=True, width=840)
        self.body.addWidget(paragraph(LOGIN_INTRO))
        self.general_error = ErrorNotice()
        self.body.addWidget(self.general_error)
        card = Card()
        card.content.setSpacing(theme.SPACE.m)
        self.account_id = QLineEdit()
        self.password = PasswordField(FIELD_LABELS["password"])
        self._fields(card, {"account_id": (self.account_id, ""), "password": (self.password, MASK_HINT)})
        self.body.addWidget(card)
        caution = Notice(f"ご注意\n{MSG_ID_PASSWORD_NOTE}\n{MSG_LOCK_NOTE}", "caution")
        caution.setObjectName("loginCaution")
        self.body.addWidget(caution)
        self.body.addStretch(1)
        self.submit_button = button("ログイン", primary=True)
        self.submit_button.setMinimumWidth(240)
        self.submit_button.clicked.connect(self._submit)
        self.add_action(self.submit_button)

    def _submit(self) -> None:
        if self.submit_button.isEnabled():
            self.submitted.emit(self.account_id.text(), self.password.text())

    def set_busy(self, busy: bool) -> None:
        self.submit_button.setEnabled(not busy)

    def prepare(self, account_id: str) -> None:
        self.clear()
        self.account_id.setText(account_id)

    def entered(self) -> None:
        (self.password.edit if self.account_id.text() else self.account_id).setFocus()


class AccountPasswordScreen(_Form):
    title = "アカウントパスワード設定"
    screen_id = screen_ids.ACCOUNT_PASSWORD
    submitted = Signal(str, str, str, str)  # current, new, again, account id ("" = the one of 初期登録)

    def __init__(self) -> None:
        super().__init__(show_back=True, scroll=True)
        self.body.addWidget(paragraph(PASSWORD_INTRO))
        self.general_error = ErrorNotice()
        self.body.addWidget(self.general_error)
        row = ResponsiveRow(stretch=(3, 2))
        rule = Card("パスワードのルール")
        rule.add(paragraph(RULE_TEXT))
        rule.add(text_label(ALLOWED_TEXT, "muted"))
        rule.setObjectName("passwordRule")
        card = Card()
        card.content.setSpacing(theme.SPACE.m)
        self.account_id = QLineEdit()
        self.current = PasswordField(LABELS["current_password"])
        self.new = PasswordField(LABELS["new_password"])
        self.again = PasswordField(LABELS["confirmation"])
        self._fields(card, {
            "account_id": (self.account_id, ""),
            "current_password": (self.current, MASK_HINT),
            "new_password": (self.new, ""),
            "confirmation": (self.again, ""),
        })
        row.first.addWidget(card)
        row.first.addStretch(1)
        row.second.addWidget(rule)
        row.second.addStretch(1)
        self.body.addWidget(row, 1)
        self.submit_button = button("変更", primary=True)
        self.submit_button.setMinimumWidth(240)
        self.submit_button.clicked.connect(self._submit)
        self.add_action(self.submit_button)

    def prepare(self, account_id: str) -> None:
        """The ID is that of 初期登録; asked only on a tablet that does not know it."""
        self.clear()
        self.account_id.setText(account_id)
        self.fields["account_id"].setVisible(not account_id)

    def _submit(self) -> None:
        if self.submit_button.isEnabled():
            self.submitted.emit(self.current.text(), self.new.text(), self.again.text(), self.account_id.text())

    def set_busy(self, busy: bool) -> None:
        self.submit_button.setEnabled(not busy)

    def entered(self) -> None:
        (self.account_id if self.fields["account_id"].isVisible() else self.current.edit).setFocus()
