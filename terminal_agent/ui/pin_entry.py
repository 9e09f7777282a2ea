"""暗証番号の入力 (T17, T19): the patient enters the 4-digit PIN on the keypad (or a wired numeric keypad), 次へ.

Patient-facing: read from the other side of the counter, so one large instruction, a large keypad and nothing meant
for the staff only (how to switch to 目視 is explained on 認証方法選択, where the staff are).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal

from terminal_agent.core.check_flow import PIN_TEXT, Method
from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import (
    ErrorNotice,
    Illustration,
    Keypad,
    ResponsiveRow,
    Screen,
    button,
    paragraph,
    set_paragraph,
    show_error,
)

FLOW_STEPS = ("本人確認", "読み取り", "結果")


class PinEntryScreen(Screen):
    title = "暗証番号の入力"
    screen_id = screen_ids.PIN_ENTRY
    pin_entered = Signal(str)

    def __init__(self) -> None:
        super().__init__(show_back=True, steps=FLOW_STEPS)
        self.set_patient_facing(True)
        self.step_indicator.set_current(0)
        row = ResponsiveRow()
        self.prompt = paragraph("", "patient", line_height=140)
        self.prompt.setObjectName("patientPrompt")
        row.first.addWidget(self.prompt)
        self.error = ErrorNotice()
        self.error.set_large()  # the patient reads it too
        row.first.addWidget(self.error)
        self.illustration = Illustration("pin-keypad", height=200, accessible="テンキーで暗証番号を入力")
        self.illustration.setMaximumHeight(260)
        row.first.addWidget(self.illustration, 1)
        row.first.addStretch(0)
        self.keypad = Keypad(4)
        self.keypad.changed.connect(lambda digits: self.next_button.setEnabled(len(digits) == 4))
        self.keypad.submitted.connect(lambda digits: self._next() if len(digits) == 4 else None)
        row.second.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        self.next_button = button("次へ", primary=True)
        self.next_button.setEnabled(False)
        self.next_button.clicked.connect(self._next)
        self.next_button.setFixedWidth(self.keypad.maximumWidth())
        row.second.addWidget(self.next_button, 0, Qt.AlignmentFlag.AlignHCenter)
        row.second.addStretch(1)
        self.body.addWidget(row, 1)

    def prepare(self, method: Method, problem: str = "") -> None:
        set_paragraph(self.prompt, PIN_TEXT[method], line_height=140)
        self.keypad.clear()
        show_error(self.error, problem or None)
        self.illustration.setVisible(not problem)  # the error takes the illustration's place
        self.keypad.setFocus()

    def _next(self) -> None:
        digits = self.keypad.value
        self.keypad.clear()  # the PIN leaves the screen at once
        self.pin_entered.emit(digits)
