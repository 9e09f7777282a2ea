"""マイナンバーカードの読み取り (T16–T19): where to hold the card or phone, 読み取り開始, progress, then 読み取り完了 and 次へ.

The picture shows the method's step (the card on the reader, the top of an iPhone over it, an Android's NFC spot);
the instruction is large, since for the phones the patient holds the device and reads along.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel

from terminal_agent.core.check_flow import READ_DONE_TEXT, READ_TEXT, VISUAL_TEXT, Method
from terminal_agent.ui import screen_ids
from terminal_agent.ui.theme import SPACE
from terminal_agent.ui.widgets import (
    Illustration,
    Notice,
    ReadingIndicator,
    ResponsiveRow,
    Screen,
    button,
    icon_pixmap,
    paragraph,
    set_paragraph,
    set_style_property,
    text_label,
)

READING_TEXT = "読み取り中です。カードを動かさないでください。"
FLOW_STEPS = ("本人確認", "読み取り", "結果")
PICTURES = {
    Method.VISUAL: ("card-on-reader", "カードリーダーの上にマイナンバーカードを置く"),
    Method.PIN: ("card-on-reader", "カードリーダーの上にマイナンバーカードを置く"),
    Method.IPHONE: ("iphone-over-reader", "iPhoneの上部をカードリーダーの中央に近づける"),
    Method.ANDROID: ("android-nfc", "スマートフォンのNFC読み取り位置をカードリーダーの中央に近づける"),
}


class CardReadScreen(Screen):
    title = "マイナンバーカードの読み取り"
    screen_id = screen_ids.CARD_READ
    start_requested = Signal()
    next_requested = Signal()

    def __init__(self) -> None:
        super().__init__(show_back=True, steps=FLOW_STEPS)
        self.step_indicator.set_current(1)
        row = ResponsiveRow(stretch=(1, 1))
        self.illustration = Illustration(PICTURES[Method.PIN][0], height=360)
        self.illustration.setMaximumHeight(520)
        row.first.addWidget(self.illustration, 1)

        self.visual_notice = Notice(VISUAL_TEXT, "info")
        row.second.addWidget(self.visual_notice)
        self.instruction = paragraph("", "instruction", line_height=150)
        self.instruction.setObjectName("readInstruction")
        row.second.addWidget(self.instruction)

        status_row = QHBoxLayout()
        status_row.setSpacing(SPACE.m)
        self.indicator = ReadingIndicator(56)
        self.indicator.hide()
        status_row.addWidget(self.indicator)
        self.done_icon = QLabel()
        self.done_icon.setFixedSize(56, 56)
        self.done_icon.setPixmap(icon_pixmap("success", 56, 2.0))
        self.done_icon.hide()
        status_row.addWidget(self.done_icon)
        self.status = text_label("", "instruction")
        self.status.setObjectName("readStatus")
        status_row.addWidget(self.status, 1)
        row.second.addLayout(status_row)
        row.second.addStretch(1)

        self.start_button = button("読み取り開始", primary=True)
        self.start_button.clicked.connect(self._start)
        row.second.addWidget(self.start_button)
        self.next_button = button("次へ", primary=True)
        self.next_button.clicked.connect(self.next_requested)
        row.second.addWidget(self.next_button)
        self.body.addWidget(row, 1)

    def prepare(self, method: Method) -> None:
        self.set_title(self.title)
        picture, description = PICTURES[method]
        self.illustration.set_name(picture, description)
        self.visual_notice.setVisible(method is Method.VISUAL)
        phone = method in (Method.IPHONE, Method.ANDROID)
        self.set_patient_facing(phone)  # the patient holds the phone to the reader and reads the instruction
        set_style_property(self.instruction, "role", "patient" if phone else "instruction")
        set_paragraph(self.instruction, READ_TEXT[method], line_height=150)
        self.instruction.show()
        self._set_status("")
        self.start_button.setVisible(True)
        self.start_button.setEnabled(True)
        self.next_button.setVisible(False)
        self.back_button.setEnabled(True)
        self.step_indicator.set_current(1)
        self.start_button.setFocus()

    def _set_status(self, text: str, *, reading: bool = False, done: bool = False) -> None:
        self.status.setText(text)
        self.status.setAccessibleName(text)
        if reading:
            self.indicator.start()
        else:
            self.indicator.stop()
        self.done_icon.setVisible(done)

    def _start(self) -> None:
        self.start_button.setEnabled(False)
        self.back_button.setEnabled(False)
        self._set_status(READING_TEXT, reading=True)
        self.start_requested.emit()

    def read_failed(self) -> None:
        self._set_status("")
        self.start_button.setEnabled(True)
        self.back_button.setEnabled(True)

    def read_done(self) -> None:
        self.set_title("読み取り完了")
        self.instruction.hide()  # done: the next step is 次へ, not the card any more
        self._set_status(READ_DONE_TEXT, done=True)
        self.start_button.setVisible(False)
        self.next_button.setVisible(True)
        self.next_button.setDefault(True)
        self.next_button.setFocus()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        self.indicator.stop()  # no animation left running behind another screen
        super().hideEvent(event)

