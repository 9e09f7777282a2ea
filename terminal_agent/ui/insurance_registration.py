"""健康保険証利用登録の選択 (T27, C-05-01-W, manual P.35): a plastic card not registered for insurance use was read;
the staff choose 健康保険証利用登録する (then 利用規約 → the card read again → completion) or 登録しない."""

from __future__ import annotations

from PySide6.QtCore import Signal

from terminal_agent.core.insurance import CHOICE_TEXT, REGISTER_BUTTON, SKIP_BUTTON, TITLE
from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import Illustration, Notice, ResponsiveRow, Screen, button, paragraph

STEPS = ("利用登録", "利用規約", "読み取り")
HINT = "健康保険証利用登録が完了した後に、再度、資格確認を行ってください。"


class InsuranceChoiceScreen(Screen):
    title = TITLE
    screen_id = screen_ids.INSURANCE_CHOICE
    register_chosen = Signal()
    skipped = Signal()

    def __init__(self) -> None:
        super().__init__(show_back=True, steps=STEPS)
        self.step_indicator.set_current(0)
        self.back_requested.connect(self.skipped)
        row = ResponsiveRow(stretch=(1, 1))
        row.first.addWidget(Illustration("card-on-reader", height=300, accessible="カードリーダーの上のマイナンバーカード"), 1)
        self.message = Notice(CHOICE_TEXT, "warning")
        self.message.setObjectName("insuranceChoice")
        row.second.addWidget(self.message)
        row.second.addWidget(paragraph(HINT, "muted"))
        row.second.addStretch(1)
        self.body.addWidget(row, 1)
        self.skip_button = button(SKIP_BUTTON)
        self.skip_button.setMinimumWidth(200)
        self.skip_button.clicked.connect(self.skipped)
        self.add_action(self.skip_button, leading=True)
        self.register_button = button(REGISTER_BUTTON, primary=True)
        self.register_button.setMinimumWidth(320)
        self.register_button.clicked.connect(self.register_chosen)
        self.add_action(self.register_button)

    def set_busy(self, busy: bool) -> None:
        self.register_button.setEnabled(not busy)

    def entered(self) -> None:
        self.register_button.setEnabled(True)
        self.register_button.setFocus()
