"""利用規約 (T01): shown at first launch; 同意して利用開始 proceeds to 初期登録."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTextBrowser

from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import Screen, button, text_label

TERMS_TEXT = """資格確認限定型オンライン資格確認等システム 利用規約

本アプリは、オンライン資格確認等システムを利用して、患者の医療保険の資格を確認するためのアプリです。
初期登録を行ったタブレット又はパソコンのみが資格確認できます。

・マイナンバーカードの暗証番号は、患者本人が入力してください。
・資格確認結果は、診療等の目的以外に利用しないでください。
・本アプリで表示される個人情報は、施設の個人情報保護方針に従って取り扱ってください。

(この利用規約は開発用のサンプルです。)"""


class TermsScreen(Screen):
    title = "利用規約"
    screen_id = screen_ids.TERMS
    accepted = Signal()

    def __init__(self) -> None:
        super().__init__(width=960)
        self.body.addWidget(text_label("利用規約の内容を確認後、利用規約に同意する場合は、同意して利用開始をクリックしてください。", "muted"))
        self.text = QTextBrowser()
        self.text.setPlainText(TERMS_TEXT)
        self.text.setAccessibleName("利用規約の本文")
        self.body.addWidget(self.text, 1)
        self.accept_button = button("同意して利用開始", primary=True)
        self.accept_button.setMinimumWidth(280)
        self.accept_button.clicked.connect(self.accepted)
        self.add_action(self.accept_button)

    def entered(self) -> None:
        self.accept_button.setFocus()
