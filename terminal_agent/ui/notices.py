"""お知らせ (T04, manual P.6 and P.17): the unread notices after 初期登録 and at every start (閉じる continues; with
none unread the list is skipped), and every notice from ⚙ → お知らせ, read and unread. A title opens its page
(F-02-W); a notice with a Web page opens it in the system browser."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QPushButton, QTextBrowser

from terminal_agent.core.notices import MSG_NONE, Notice
from terminal_agent.ui import screen_ids
from terminal_agent.ui.documents import MSG_CACHED
from terminal_agent.ui.widgets import Card, ErrorNotice, Screen, button, icon, show_error, text_label
from terminal_agent.ui.widgets import Notice as NoticeBox

INTRO_UNREAD = "未確認のお知らせがあります。お知らせのタイトルをクリックすると、お知らせの詳細を確認できます。"
INTRO_ALL = "実施機関からのお知らせです。お知らせのタイトルをクリックすると、お知らせの詳細を確認できます。"
LATER = "お知らせは、後で認証方法選択画面の メニュー > お知らせ から確認することもできます。"
UNREAD_MARK = "未読"
OPEN_PAGE = "詳細ページを開く"


def row_text(notice: Notice) -> str:
    mark = f"【{UNREAD_MARK}】" if not notice.read else ""
    return f"{mark}{notice.title}\n{notice.published}"


class NoticeListScreen(Screen):
    """F-01-W. ``show_unread`` (at start: 閉じる continues) or ``show_all`` (⚙: ← and 閉じる return)."""

    title = "お知らせ"
    screen_id = screen_ids.NOTICE_LIST
    notice_opened = Signal(object)  # Notice
    closed = Signal()

    def __init__(self) -> None:
        super().__init__(show_back=True, scroll=True, width=960)
        self.back_requested.connect(self.closed)
        self.intro = text_label(INTRO_UNREAD, "muted")
        self.body.addWidget(self.intro)
        self.cached_notice = NoticeBox(MSG_CACHED, "warning")
        self.cached_notice.hide()
        self.body.addWidget(self.cached_notice)
        self.error = ErrorNotice()
        self.body.addWidget(self.error)
        self.list = Card()
        self.list.content.setSpacing(0)
        self.body.addWidget(self.list)
        self.empty = text_label(MSG_NONE, "empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.body.addWidget(self.empty)
        self.later = text_label(LATER, "caption")
        self.body.addWidget(self.later)
        self.body.addStretch(1)
        self.close_button = button("閉じる", primary=True)
        self.close_button.setMinimumWidth(200)
        self.close_button.clicked.connect(self.closed)
        self.add_action(self.close_button)
        self.escape_button = self.close_button  # at start there is no ←: Esc = 閉じる (T28)
        self.rows: list[QPushButton] = []
        self.notices: list[Notice] = []
        self.startup = True

    def _fill(self, notices: list[Notice]) -> None:
        for row in self.rows:
            self.list.content.removeWidget(row)
            row.deleteLater()
        self.rows, self.notices = [], list(notices)
        for notice in notices:
            row = button(row_text(notice), f"{'未読 ' if not notice.read else ''}{notice.title} {notice.published}",
                         variant="row")
            row.setObjectName(f"notice_{notice.id}")
            row.setAutoDefault(True)  # Enter opens the focused row (T28)
            row.setIcon(icon("chevron"))
            row.setIconSize(QSize(24, 24))
            row.setLayoutDirection(Qt.LayoutDirection.RightToLeft)  # the › on the right, the text on the left
            row.clicked.connect(lambda _=False, n=notice: self.notice_opened.emit(n))
            self.list.add(row)
            self.rows.append(row)
        self.list.setVisible(bool(notices))
        self.empty.setVisible(not notices)
        show_error(self.error, None)

    def show_unread(self, notices: list[Notice]) -> None:
        """At start (T04): only the unread ones; there is no ← (閉じる goes on to 認証方法選択)."""
        self.startup = True
        self.back_button.hide()
        self.intro.setText(INTRO_UNREAD)
        self.later.show()
        self.cached_notice.hide()
        self._fill(notices)

    def show_all(self, notices: list[Notice], *, cached: bool = False) -> None:
        """From ⚙ → お知らせ: every notice, read and unread (kept on this tablet when offline)."""
        self.startup = False
        self.back_button.show()
        self.intro.setText(INTRO_ALL)
        self.later.hide()
        self.cached_notice.setVisible(cached)
        self._fill(notices)

    def mark_read(self, notice_id: int) -> None:
        for index, notice in enumerate(self.notices):
            if notice.id == notice_id and not notice.read:
                read = Notice(notice.id, notice.title, notice.body, notice.url, notice.published, True)
                self.notices[index] = read
                self.rows[index].setText(row_text(read))
                self.rows[index].setAccessibleName(f"{read.title} {read.published}")

    def show_problem(self, message: str) -> None:
        self._fill([])
        self.empty.hide()
        show_error(self.error, message)

    def entered(self) -> None:
        (self.rows[0] if self.rows else self.close_button).setFocus()


class NoticeScreen(Screen):
    """F-02-W: one notice's page; ← (or 閉じる) returns to the list."""

    title = "お知らせ"
    screen_id = screen_ids.NOTICE
    closed = Signal()

    def __init__(self) -> None:
        super().__init__(show_back=True, width=960)
        self.back_requested.connect(self.closed)
        self.heading = text_label("", "heading")
        self.heading.setObjectName("noticeTitle")
        self.body.addWidget(self.heading)
        self.published = text_label("", "muted")
        self.body.addWidget(self.published)
        self.text = QTextBrowser()
        self.text.setAccessibleName("お知らせの本文")
        self.body.addWidget(self.text, 1)
        self.open_button = button(OPEN_PAGE)
        self.open_button.setMinimumWidth(280)
        self.open_button.clicked.connect(self._open_page)
        self.add_action(self.open_button, leading=True)
        self.close_button = button("閉じる", primary=True)
        self.close_button.setMinimumWidth(200)
        self.close_button.clicked.connect(self.closed)
        self.add_action(self.close_button)
        self.notice: Notice | None = None

    def show_notice(self, notice: Notice) -> None:
        self.notice = notice
        self.heading.setText(notice.title)
        self.heading.setAccessibleName(notice.title)
        self.published.setText(notice.published)
        self.text.setPlainText(notice.body)
        self.open_button.setVisible(bool(notice.url))
        self.open_button.setToolTip(notice.url)

    def _open_page(self) -> None:
        if self.notice is not None and self.notice.url:
            QDesktopServices.openUrl(QUrl(self.notice.url))  # the system browser

    def entered(self) -> None:
        self.close_button.setFocus()
