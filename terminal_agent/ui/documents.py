"""利用規約 / 個人情報の取り扱い / ライセンス from ⚙ (T06, G-01-W … G-03-W), and the 利用規約 of 健康保険証利用登録
(T27, C-05-02-W) that the patient accepts with 同意する. Each is a scrollable page of the server's published text;
offline, the copy kept on this tablet is shown and says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTextBrowser

from terminal_agent.core.documents import Document
from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import ErrorNotice, Notice, Screen, button, show_error, text_label

if TYPE_CHECKING:  # the core facade is imported by the program later (fast first paint, issue 12)
    from terminal_agent.core.app import Versions

MSG_CACHED = "サーバーに接続できないため、この端末に保存されている内容を表示しています。"
MSG_LOADING = "読み込み中です…"
MSG_VERSIONS = "アプリのバージョン: {app}　　サーバーのバージョン: {server}"
MSG_SERVER_UNKNOWN = "（取得できません）"


def document_browser(accessible: str) -> QTextBrowser:
    """The scrollable text of a document (keyboard: Tab in, arrows and Page Up/Down scroll)."""
    text = QTextBrowser()
    text.setOpenExternalLinks(False)
    text.setAccessibleName(accessible)
    return text


class DocumentScreen(Screen):
    """One of the three documents, read-only; ← returns to 認証方法選択. Its 画面番号 follows the document."""

    title = "利用規約"
    screen_id = screen_ids.DOCUMENTS["terms"]

    def __init__(self) -> None:
        super().__init__(show_back=True, width=960)
        self.version_label = text_label("", "muted")
        self.body.addWidget(self.version_label)
        # ライセンス also names the versions of this app and of the clinic server (issue 16), for support.
        self.versions_label = text_label("", "muted")
        self.versions_label.setObjectName("versions")
        self.versions_label.hide()
        self.body.addWidget(self.versions_label)
        self.cached_notice = Notice(MSG_CACHED, "warning")
        self.cached_notice.hide()
        self.body.addWidget(self.cached_notice)
        self.error = ErrorNotice()
        self.body.addWidget(self.error)
        self.text = document_browser("本文")
        self.body.addWidget(self.text, 1)
        self.kind = "terms"

    def loading(self, kind: str, label: str) -> None:
        self.kind = kind
        self.screen_id = screen_ids.DOCUMENTS[kind]
        self.screen_id_label.setText(f"画面番号: {self.screen_id}")
        self.screen_id_label.setAccessibleName(f"画面番号 {self.screen_id}")
        self.set_title(label)
        self.setAccessibleName(label)
        self.text.setAccessibleName(f"{label}の本文")
        self.version_label.setText(MSG_LOADING)
        self.cached_notice.hide()
        self.versions_label.hide()
        show_error(self.error, None)
        self.text.clear()

    def show_document(self, document: Document) -> None:
        self.set_title(document.label)
        self.version_label.setText(f"{document.title}（版: {document.version}）")
        self.cached_notice.setVisible(document.cached)
        show_error(self.error, None)
        self.text.setPlainText(document.body)
        self.text.setFocus()

    def show_versions(self, versions: Versions) -> None:
        """Only the ライセンス page shows them; a late answer for another page is dropped."""
        if self.kind != "licenses":
            return
        self.versions_label.setText(MSG_VERSIONS.format(app=versions.app, server=versions.server or MSG_SERVER_UNKNOWN))
        self.versions_label.setAccessibleName(self.versions_label.text())
        self.versions_label.show()

    def show_problem(self, message: str) -> None:
        self.version_label.clear()
        show_error(self.error, message)

    def entered(self) -> None:
        self.text.setFocus()


class InsuranceTermsScreen(Screen):
    """健康保険証利用登録の利用規約 (T27, manual P.35 step 02): the patient reads it; 同意する goes on to the read."""

    title = "利用規約"
    screen_id = screen_ids.INSURANCE_TERMS
    agreed = Signal()

    def __init__(self) -> None:
        super().__init__(show_back=True, width=960, steps=("利用登録", "利用規約", "読み取り"))
        self.step_indicator.set_current(1)
        self.body.addWidget(
            text_label("利用規約の内容を確認後、利用規約に同意する場合は、同意するをクリックしてください。", "muted")
        )
        self.heading = text_label("", "heading")
        self.body.addWidget(self.heading)
        self.text = document_browser("健康保険証利用登録の利用規約の本文")
        self.body.addWidget(self.text, 1)
        self.agree_button = button("同意する", primary=True)
        self.agree_button.setMinimumWidth(240)
        self.agree_button.clicked.connect(self.agreed)
        self.add_action(self.agree_button)

    def show_terms(self, title: str, body: str) -> None:
        self.heading.setText(title)
        self.text.setPlainText(body)

    def entered(self) -> None:
        self.agree_button.setFocus()
