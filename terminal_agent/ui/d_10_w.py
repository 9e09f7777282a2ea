"""資格確認結果検索 D-10-W (T08): the list, ▽ 詳細設定 (period, scope), paging; a row opens C-04-01-W."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCalendarWidget,
    QCheckBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
)

from terminal_agent.core.formatting import date_time_jp, validity_label
from terminal_agent.core.search import (
    MSG_OFFLINE_LOCAL,
    SCOPE_LABEL,
    SearchCriteria,
    SearchPage,
    allowed_range,
    today_jst,
)
from terminal_agent.ui import screen_ids
from terminal_agent.ui.theme import COLORS, SIZE, SPACE
from terminal_agent.ui.widgets import (
    Card,
    ErrorNotice,
    FormField,
    Notice,
    Screen,
    button,
    header_button,
    show_error,
    text_label,
)

EMPTY_TEXT = "検索期間内の資格確認結果はありません。"

PAGING = [("first", "<<", "最初のページ"), ("previous", "<", "前のページ"), ("next", ">", "次のページ"), ("last", ">>", "最後のページ")]


CALENDAR_BUTTONS = {  # Qt's calendar has no names of its own for these (T28)
    "qt_calendar_prevmonth": "前の月",
    "qt_calendar_nextmonth": "次の月",
    "qt_calendar_monthbutton": "月を選択",
    "qt_calendar_yearbutton": "年を選択",
}


def name_calendar(calendar: QCalendarWidget, field: str) -> None:
    """Accessible names and tooltips, in Japanese, for the calendar popup of a date field."""
    calendar.setAccessibleName(f"{field}のカレンダー")
    for part in calendar.findChildren(QToolButton):
        label = CALENDAR_BUTTONS.get(part.objectName())
        if label:
            part.setAccessibleName(label)
            part.setToolTip(label)


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


class ResultSearchScreen(Screen):
    title = "資格確認検索結果"
    screen_id = screen_ids.RESULT_SEARCH
    search_requested = Signal(object)  # SearchCriteria
    page_requested = Signal(str)
    row_opened = Signal(str)  # result id

    def __init__(self) -> None:
        super().__init__(show_back=True)
        self.details_button = header_button("▽ 詳細設定", accessible="詳細設定", tooltip="詳細設定 (検索期間・対象端末)")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._details_toggled)
        self.header_right.addWidget(self.details_button)

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["資格確認日時", "氏名", "資格確認結果"])
        self.table.setAccessibleName("資格確認結果の一覧")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setCornerButtonEnabled(False)
        self.table.cellClicked.connect(lambda row, _col: self._open(row))
        self.table.cellActivated.connect(lambda row, _col: self._open(row))  # Enter on a row (T28)
        self.table.verticalHeader().setDefaultSectionSize(SIZE.button)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # 資格確認日時 on one line, and as wide with an empty page as with a full one (columns never move)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.body.addWidget(self.table, 1)
        self.empty = text_label(EMPTY_TEXT, "empty")
        self.empty.setObjectName("searchEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.body.addWidget(self.empty)
        self.error = ErrorNotice()
        self.body.addWidget(self.error)
        self.local_notice = Notice(MSG_OFFLINE_LOCAL, "warning")  # T30: offline, this tablet's own results
        self.local_notice.setObjectName("searchLocal")
        self.local_notice.hide()
        self.body.addWidget(self.local_notice)

        # ▽ 詳細設定 opens at the bottom of the screen, as in the manual (P.11)
        self.details = Card("詳細設定")
        self.details.setObjectName("searchDetails")
        dates = QHBoxLayout()
        dates.setSpacing(SPACE.m)
        self.date_from = QDateEdit()
        self.date_to = QDateEdit()
        for index, (edit, name) in enumerate(((self.date_from, "開始日"), (self.date_to, "終了日"))):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy/MM/dd")
            edit.setAccessibleName(name)
            edit.setMinimumWidth(220)
            name_calendar(edit.calendarWidget(), name)
            if index:
                dates.addWidget(text_label("〜", wrap=False))
            dates.addWidget(FormField(name, edit), 1)
        self.details.content.addLayout(dates)
        self.details.add(text_label("資格確認結果検索は前月1日から検索日当日までを指定することができます。", "caption"))
        self.this_device_only = QCheckBox(SCOPE_LABEL)
        self.this_device_only.setAccessibleName(SCOPE_LABEL)
        self.this_device_only.setChecked(True)
        self.details.add(self.this_device_only)
        self.search_button = button("検索", primary=True)
        self.search_button.setMinimumWidth(200)
        self.details.add(self.search_button)
        self.search_button.clicked.connect(self._search)
        self.details.setVisible(False)
        self.body.addWidget(self.details)

        self.paging_buttons: dict[str, QPushButton] = {}
        for key, text, name in PAGING:
            widget = button(text, name)
            widget.setAutoDefault(True)  # Enter on a focused page button turns the page (T28)
            widget.setToolTip(name)
            widget.setMinimumWidth(96)
            widget.clicked.connect(lambda _=False, k=key: self.page_requested.emit(k))
            self.add_action(widget)
            self.paging_buttons[key] = widget
        self.row_ids: list[str] = []
        self.page: SearchPage | None = None
        self.loading = False
        self.offline = False

    def set_loading(self, loading: bool) -> None:
        """T08: while a page loads no paging button answers (no double page turn)."""
        self.loading = loading
        self._update_paging()

    def set_offline(self, offline: bool) -> None:
        """T08/T30: offline, the server's pages cannot be turned (a local list still can)."""
        self.offline = offline
        self._update_paging()

    def _update_paging(self) -> None:
        page = self.page
        for key, widget in self.paging_buttons.items():
            usable = page is not None and page.enabled(key) and not self.loading
            widget.setEnabled(usable and (page.local or not self.offline))

    def reset(self) -> SearchCriteria:
        today = today_jst()
        earliest, latest = allowed_range(today)
        criteria = SearchCriteria.default(today)
        for edit in (self.date_from, self.date_to):
            edit.setDateRange(_qdate(earliest), _qdate(latest))
        self.date_from.setDate(_qdate(criteria.date_from))
        self.date_to.setDate(_qdate(criteria.date_to))
        self.this_device_only.setChecked(True)
        self.details_button.setChecked(False)
        show_error(self.error, None)
        self.empty.hide()
        self.local_notice.hide()
        self.page = None
        self.table.setRowCount(0)
        self._update_paging()
        return criteria

    def criteria(self) -> SearchCriteria:
        return SearchCriteria(
            self.date_from.date().toPython(), self.date_to.date().toPython(), self.this_device_only.isChecked()
        )

    def _search(self) -> None:
        self.search_requested.emit(self.criteria())

    def _details_toggled(self, shown: bool) -> None:
        self.details.setVisible(shown)
        if shown:
            self.date_from.setFocus()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # measured once shown: only then does the table carry the stylesheet's font
        widest = self.table.fontMetrics().horizontalAdvance(date_time_jp(dt.datetime(2026, 12, 28, 23, 58)))
        self.table.horizontalHeader().resizeSection(0, widest + 2 * SPACE.m + SPACE.l)

    def show_page(self, page: SearchPage) -> None:
        show_error(self.error, None)
        self.table.setRowCount(len(page.rows))
        self.row_ids = [row.id for row in page.rows]
        for index, row in enumerate(page.rows):
            for column, text in enumerate((row.checked_at, row.name, row.validity)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, text)
                if column == 2 and text == validity_label(False):
                    item.setForeground(QColor(COLORS.error))  # 資格無効 stands out in the list
                self.table.setItem(index, column, item)
        self.empty.setVisible(not page.rows)
        self.local_notice.setVisible(page.local)
        self.page = page
        self.loading = False
        self._update_paging()
        if page.rows:
            self.table.setFocus()

    def show_problem(self, message: str) -> None:
        show_error(self.error, message)

    def _open(self, row: int) -> None:
        if 0 <= row < len(self.row_ids):
            self.row_opened.emit(self.row_ids[row])
