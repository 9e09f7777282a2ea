"""利用規約 (T01): the server's published version, shown at first launch (before registration) and again when a newer
version than the accepted one is published; 同意して利用開始 accepts the version shown. Offline, the copy kept on this
tablet is shown; with none kept, the screen says so and offers 再読み込み."""

from __future__ import annotations

from PySide6.QtCore import Signal

from terminal_agent.core.documents import Document
from terminal_agent.ui import screen_ids
from terminal_agent.ui.documents import MSG_CACHED, MSG_LOADING, document_browser
from terminal_agent.ui.widgets import ErrorNotice, Notice, Screen, button, show_error, text_label

INTRO = "利用規約の内容を確認後、利用規約に同意する場合は、同意して利用開始をクリックしてください。"
INTRO_RENEWED = "利用規約が改定されました。" + INTRO


class TermsScreen(Screen):
    title = "利用規約"
    screen_id = screen_ids.TERMS
    accepted = Signal(str)  # the version accepted
    reload_requested = Signal()

    def __init__(self) -> None:
        super().__init__(width=960)
        self.intro = text_label(INTRO, "muted")
        self.body.addWidget(self.intro)
        self.version_label = text_label("", "muted")
        self.body.addWidget(self.version_label)
        self.cached_notice = Notice(MSG_CACHED, "warning")
        self.cached_notice.hide()
        self.body.addWidget(self.cached_notice)
        self.error = ErrorNotice()
        self.body.addWidget(self.error)
        self.text = document_browser("利用規約の本文")
        self.body.addWidget(self.text, 1)
        self.reload_button = button("再読み込み")
        self.reload_button.setMinimumWidth(200)
        self.reload_button.clicked.connect(self.reload_requested)
        self.reload_button.hide()
        self.add_action(self.reload_button, leading=True)
        self.accept_button = button("同意して利用開始", primary=True)
        self.accept_button.setMinimumWidth(280)
        self.accept_button.setEnabled(False)  # until the text is there to be read
        self.accept_button.clicked.connect(lambda: self.accepted.emit(self.version))
        self.add_action(self.accept_button)
        self.version = ""

    def loading(self, *, renewed: bool = False) -> None:
        self.intro.setText(INTRO_RENEWED if renewed else INTRO)
        self.version_label.setText(MSG_LOADING)
        self.accept_button.setEnabled(False)
        self.reload_button.hide()
        show_error(self.error, None)

    def show_document(self, document: Document, *, renewed: bool = False) -> None:
        self.version = document.version
        self.intro.setText(INTRO_RENEWED if renewed else INTRO)
        self.version_label.setText(f"{document.title}（版: {document.version}）")
        self.cached_notice.setVisible(document.cached)
        show_error(self.error, None)
        self.reload_button.hide()
        self.text.setPlainText(document.body)
        self.accept_button.setEnabled(True)
        self.accept_button.setFocus()

    def show_unavailable(self, message: str) -> None:
        self.version_label.clear()
        self.text.clear()
        show_error(self.error, message)
        self.accept_button.setEnabled(False)
        self.reload_button.show()
        self.reload_button.setFocus()

    def entered(self) -> None:
        (self.accept_button if self.accept_button.isEnabled() else self.reload_button).setFocus()
