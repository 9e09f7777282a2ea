"""バージョン更新 (T14, B-04-W, manual P.17): a newer version is published. ストアページへ移動する opens the store
page in the system browser. Below the minimum supported version the screen has no way on (checks are blocked until
the update); otherwise 閉じる continues."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices

from terminal_agent.core.release import MSG_AVAILABLE, MSG_REQUIRED, STORE_BUTTON, TITLE, ReleaseInfo
from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import Card, Illustration, Notice, Screen, button, paragraph, set_paragraph, text_label

STORE_HINT = "ストアページへ移動するをクリックし、ストアに移動後、最新バージョンをインストールしてください。"


class VersionUpdateScreen(Screen):
    title = TITLE
    screen_id = screen_ids.VERSION_UPDATE
    closed = Signal()
    store_failed = Signal()

    def __init__(self) -> None:
        super().__init__(width=880)
        self.available = Notice(MSG_AVAILABLE, "info")
        self.available.setObjectName("updateAvailable")
        self.body.addWidget(self.available)
        self.required = Notice(MSG_REQUIRED, "error")
        self.required.setObjectName("updateRequired")
        self.body.addWidget(self.required)
        card = Card()
        self.versions = text_label("", "label")
        card.add(self.versions)
        self.notes = paragraph("", "muted")
        card.add(self.notes)
        card.add(text_label(STORE_HINT, "muted"))
        self.body.addWidget(card)
        self.body.addWidget(Illustration("app-update", height=160, accessible="アプリの更新"), 1)
        self.close_button = button("閉じる")
        self.close_button.setMinimumWidth(200)
        self.close_button.clicked.connect(self.closed)
        self.add_action(self.close_button, leading=True)
        self.escape_button = self.close_button  # hidden when the update is required: then Esc does nothing
        self.store_button = button(STORE_BUTTON, primary=True)
        self.store_button.setMinimumWidth(300)
        self.store_button.clicked.connect(self._open_store)
        self.add_action(self.store_button)
        self.release: ReleaseInfo | None = None

    def show_release(self, release: ReleaseInfo) -> None:
        self.release = release
        self.available.setVisible(not release.update_required)
        self.required.setVisible(release.update_required)
        self.versions.setText(f"現在のバージョン: {release.current}　　最新バージョン: {release.latest or ''}")
        set_paragraph(self.notes, release.notes)
        self.notes.setVisible(bool(release.notes))
        self.close_button.setVisible(not release.update_required)  # required: no way on until updated

    def _open_store(self) -> None:
        if not (self.release and self.release.store_url and QDesktopServices.openUrl(QUrl(self.release.store_url))):
            self.store_failed.emit()

    def entered(self) -> None:
        self.store_button.setFocus()
