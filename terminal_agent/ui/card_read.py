"""マイナンバーカードの読み取り (T16–T19): 読み取り開始, then the 読み取り完了 message with 次へ."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel

from terminal_agent.core.check_flow import READ_DONE_TEXT, READ_TEXT, VISUAL_TEXT, Method
from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import Screen, button

READING_TEXT = "読み取り中です。カードを動かさないでください。"


class CardReadScreen(Screen):
    title = "マイナンバーカードの読み取り"
    screen_id = screen_ids.CARD_READ
    start_requested = Signal()
    next_requested = Signal()

    def __init__(self) -> None:
        super().__init__(show_back=True)
        self.instruction = QLabel()
        self.instruction.setWordWrap(True)
        self.body.addWidget(self.instruction)
        self.status = QLabel()
        self.status.setObjectName("readStatus")
        self.status.setWordWrap(True)
        self.body.addWidget(self.status)
        self.body.addStretch(1)
        self.start_button = button("読み取り開始", primary=True)
        self.start_button.clicked.connect(self._start)
        self.body.addWidget(self.start_button)
        self.next_button = button("次へ")
        self.next_button.clicked.connect(self.next_requested)
        self.body.addWidget(self.next_button)

    def prepare(self, method: Method) -> None:
        self.title_label.setText(self.title)
        text = READ_TEXT[method]
        self.instruction.setText(f"{VISUAL_TEXT}\n{text}" if method is Method.VISUAL else text)
        self.status.clear()
        self.start_button.setVisible(True)
        self.start_button.setEnabled(True)
        self.next_button.setVisible(False)
        self.back_button.setEnabled(True)
        self.start_button.setFocus()

    def _start(self) -> None:
        self.start_button.setEnabled(False)
        self.back_button.setEnabled(False)
        self.status.setText(READING_TEXT)
        self.start_requested.emit()

    def read_failed(self) -> None:
        self.status.clear()
        self.start_button.setEnabled(True)
        self.back_button.setEnabled(True)

    def read_done(self) -> None:
        self.title_label.setText("読み取り完了")
        self.status.setText(READ_DONE_TEXT)
        self.status.setAccessibleName(READ_DONE_TEXT)
        self.start_button.setVisible(False)
        self.next_button.setVisible(True)
        self.next_button.setDefault(True)
        self.next_button.setFocus()
