"""カードリーダー選択 (T05, manual P.7–8): the readers present now, updated live as one is plugged in or pulled out
(the card layer's monitor), the saved choice marked; clicking one selects it (カードリーダーが選択されました。)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QPushButton

from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import Card, Illustration, Notice, ResponsiveRow, Screen, button, icon, text_label

INTRO = "使用可能なカードリーダーが表示されます。一覧から使用するカードリーダーをクリックして選択してください。"
MSG_NONE = "使用可能なカードリーダーがありません。カードリーダー接続後に、本操作を行ってください。"
SELECTED = "選択中"
MSG_SELECTED = "カードリーダーが選択されました。"


class ReaderSelectScreen(Screen):
    title = "カードリーダー選択"
    screen_id = screen_ids.READER_SELECT
    reader_chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__(show_back=True)
        row = ResponsiveRow(stretch=(3, 2))
        row.first.addWidget(text_label(INTRO, "muted"))
        self.none_notice = Notice(MSG_NONE, "warning")
        self.none_notice.setObjectName("noReader")
        self.none_notice.hide()
        row.first.addWidget(self.none_notice)
        self.list = Card()
        self.list.content.setSpacing(0)
        self.list.hide()
        row.first.addWidget(self.list)
        row.first.addStretch(1)
        row.second.addWidget(Illustration("card-on-reader", height=280, accessible="カードリーダー"), 1)
        self.body.addWidget(row, 1)
        self.rows: dict[str, QPushButton] = {}
        self.names: list[str] = []
        self.selected: str | None = None

    def show_readers(self, names: list[str], selected: str | None) -> None:
        """Called now and on every change (the window passes the monitor's reports on the UI thread)."""
        focused = next((name for name, row in self.rows.items() if row.hasFocus()), None)
        for row in self.rows.values():
            self.list.content.removeWidget(row)
            row.deleteLater()
        self.rows, self.names, self.selected = {}, list(names), selected
        for name in names:
            chosen = name == selected
            row = button(f"{name}　（{SELECTED}）" if chosen else name, f"{name} {SELECTED}" if chosen else name,
                         variant="row")
            row.setObjectName("reader_row")
            row.setAutoDefault(True)  # Enter opens the focused row (T28)
            row.setCheckable(True)
            row.setChecked(chosen)
            if chosen:
                row.setIcon(icon("success"))
                row.setIconSize(QSize(28, 28))
            row.clicked.connect(lambda _=False, n=name: self.reader_chosen.emit(n))
            self.list.add(row)
            self.rows[name] = row
        self.list.setVisible(bool(names))
        self.none_notice.setVisible(not names)
        target = self.rows.get(focused or "") or self.rows.get(selected or "") or next(iter(self.rows.values()), None)
        if target is not None and self.isVisible():
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def entered(self) -> None:
        target = self.rows.get(self.selected or "") or next(iter(self.rows.values()), None)
        (target or self.back_button).setFocus()
