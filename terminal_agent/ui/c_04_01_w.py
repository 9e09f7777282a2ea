"""資格確認結果 C-04-01-W (T21–T24), readable at a glance.

First the banner — 資格有効 or この資格は無効です — and the manual's other messages as coloured notices (医療扶助,
the certificate expiring or in its grace period, the service's own message, 義務教育就学前); then the patient's name
and フリガナ large with 照会番号 and 確認日; then the sections as cards, every row of T21–T23 in the manual's order
and words, the collapsible ones (▼) folded. コピー (header) and 閉じる (action bar) never scroll away.

Everything shown comes from the core's presenter, ``terminal_agent.core.formatting.build_result_view``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from terminal_agent.core.formatting import (
    MSG_CERT_EXPIRING,
    MSG_CERT_GRACE,
    MSG_INVALID,
    MSG_MEDICAL_AID,
    ResultView,
    Section,
    build_result_view,
    copy_text,
)
from terminal_agent.ui import screen_ids
from terminal_agent.ui.theme import SPACE, set_style_property
from terminal_agent.ui.widgets import (
    Banner,
    Card,
    Notice,
    ResponsiveRow,
    Screen,
    button,
    header_button,
    text_label,
)

COPIED = "コピーしました"
VALID = "資格有効"
PRESCHOOL = "義務教育就学前"
FLOW_STEPS = ("本人確認", "読み取り", "結果")
NOTICE_TONES = {MSG_MEDICAL_AID: "warning", MSG_CERT_EXPIRING: "caution", MSG_CERT_GRACE: "caution"}


class _SectionView(Card):
    """One section as a card: its title (a ▼ toggle when collapsible) and its label/value rows."""

    def __init__(self, section: Section, *, subtitle: str = "", wide_columns: int = 1):
        super().__init__()
        self.section = section
        self.wide_columns = wide_columns
        self.setAccessibleName(section.title)
        if subtitle:
            self.add(text_label(subtitle, "muted"))
        self.rows: dict[str, list[QLabel]] = {}
        self.pairs: list[tuple[QLabel, QLabel]] = []
        self.rows_widget = QWidget()
        self.grid = QGridLayout(self.rows_widget)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(SPACE.l)
        self.grid.setVerticalSpacing(SPACE.s)
        for label, value in section.rows:
            name = text_label(label, "rowLabel", wrap=False)
            value_label = text_label(value, "rowValue")
            value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value_label.setAccessibleName(f"{label} {value}")
            self.pairs.append((name, value_label))
            self.rows.setdefault(label, []).append(value_label)
        self.columns = 0
        self.set_columns(1)
        if section.collapsible:
            self.toggle = QPushButton()
            self.toggle.setProperty("variant", "disclosure")
            self.toggle.setAutoDefault(True)  # Enter opens or folds it (T28)
            self.toggle.setText(f"{section.title} ▼")
            self.toggle.setAccessibleName(section.title)
            self.toggle.setCheckable(True)
            self.toggle.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self.toggle.toggled.connect(self._toggled)
            self.add(self.toggle)
            self.rows_widget.setVisible(False)
        else:
            self.add(text_label(section.title, "heading"))
        self.add(self.rows_widget)
        self.content.addStretch(1)

    def set_columns(self, columns: int) -> None:
        """Lay the rows out in ``columns`` label/value columns, filled top to bottom, so the manual's order reads down
        the first column and then the next."""
        if columns == self.columns:
            return
        self.columns = columns
        for name, value in self.pairs:
            self.grid.removeWidget(name)
            self.grid.removeWidget(value)
        per_column = -(-len(self.pairs) // columns) if self.pairs else 0
        for index, (name, value) in enumerate(self.pairs):
            column, row = divmod(index, per_column)
            self.grid.addWidget(name, row, 2 * column, Qt.AlignmentFlag.AlignTop)
            self.grid.addWidget(value, row, 2 * column + 1, Qt.AlignmentFlag.AlignTop)  # a wrapped neighbour row
        for column in range(4):
            self.grid.setColumnStretch(column, 1 if column % 2 else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        if self.wide_columns > 1:
            self.set_columns(self.wide_columns if event.size().width() >= 720 else 1)
        super().resizeEvent(event)

    def _toggled(self, opened: bool) -> None:
        self.rows_widget.setVisible(opened)
        self.toggle.setText(self.toggle.accessibleName() + (" ▲" if opened else " ▼"))


class ResultScreen(Screen):
    title = "資格確認結果"
    screen_id = screen_ids.RESULT
    closed = Signal()

    def __init__(self) -> None:
        super().__init__(scroll=True, width=None)
        self.copy_button = header_button("コピー", "copy", accessible="コピー", tooltip="資格情報をコピー")
        self.copy_button.clicked.connect(self._copy)
        self.header_right.addWidget(self.copy_button)

        self.banner = Banner(VALID, "success")
        self.banner.setObjectName("resultBanner")
        self.body.addWidget(self.banner)
        self.notices = QVBoxLayout()
        self.notices.setSpacing(SPACE.s)
        self.body.addLayout(self.notices)
        self.row = ResponsiveRow(breakpoint=1000, stretch=(1, 2))
        self.body.addWidget(self.row)
        self.more_sections = QVBoxLayout()  # the collapsible (▼) cards, under both columns
        self.more_sections.setSpacing(SPACE.m)
        self.body.addLayout(self.more_sections)
        self.body.addStretch(1)

        # the glance column: name, フリガナ, 照会番号, 確認日
        self.person = Card()
        self.person.setObjectName("resultPerson")
        self.kana_label = text_label("", "kana")
        self.name_label = text_label("", "name")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.person.add(self.kana_label)
        self.person.add(self.name_label)
        facts = QGridLayout()
        facts.setHorizontalSpacing(SPACE.l)
        facts.setVerticalSpacing(SPACE.s)
        facts.setColumnStretch(1, 1)
        self.reference_label = text_label("", "rowValue")
        self.date_label = text_label("", "rowValue")
        self.birth_label = text_label("", "rowValue")
        for index, (name, widget) in enumerate(
            (("照会番号", self.reference_label), ("確認日", self.date_label), ("生年月日", self.birth_label))
        ):
            facts.addWidget(text_label(name, "rowLabel", wrap=False), index, 0)
            widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            facts.addWidget(widget, index, 1)
        self.person.content.addLayout(facts)
        self.person.content.addStretch(1)
        self.row.first.addWidget(self.person, 1)

        self.copied_label = text_label(COPIED, "toast", wrap=False)
        self.copied_label.setObjectName("copiedToast")
        self.copied_label.hide()
        self.add_action(self.copied_label, leading=True)
        self.close_button = button("閉じる", primary=True)
        self.close_button.setMinimumWidth(240)
        self.close_button.clicked.connect(self.closed)
        self.add_action(self.close_button)
        self.escape_button = self.close_button  # Esc closes the result (T28)

        self.document: dict[str, Any] | None = None
        self.view: ResultView | None = None
        self.message_labels: list[QLabel | Notice] = []  # each has text(): the banner's label, then the notices
        self.notice_widgets: list[Notice] = []
        self.section_views: list[_SectionView] = []

    # --- content ---------------------------------------------------------------------------------------------------
    def show_document(self, document: dict[str, Any], *, from_check: bool = False) -> None:
        """Show one result; ``from_check`` adds the flow's step indicator (a result opened from D-10-W has none)."""
        self.document = document
        self.view = view = build_result_view(document)
        self.set_steps(FLOW_STEPS if from_check else (), 2)
        self.banner.set(VALID if view.is_valid else MSG_INVALID, "success" if view.is_valid else "error")
        self.message_labels = [self.banner.label] if MSG_INVALID in view.messages else []

        self._clear(self.notices)
        self.notice_widgets = []
        for message in view.messages:
            if message != MSG_INVALID:
                self._add_notice(message, NOTICE_TONES.get(message, "caution"))
        main = view.sections[0]
        values = dict(main.rows)
        if values.get("区分") == PRESCHOOL:
            self._add_notice(PRESCHOOL, "info")

        self.kana_label.setText(values.get("フリガナ", ""))
        self.kana_label.setAccessibleName(f"フリガナ {values.get('フリガナ', '')}")
        self.kana_label.setVisible(bool(values.get("フリガナ")))
        self.name_label.setText(values.get("氏名", ""))
        self.name_label.setAccessibleName(f"氏名 {values.get('氏名', '')}")
        self.reference_label.setText(view.reference_number)
        self.reference_label.setAccessibleName(f"照会番号 {view.reference_number}")
        self.date_label.setText(view.confirmation_date)
        self.date_label.setAccessibleName(f"確認日 {view.confirmation_date}")
        self.birth_label.setText(values.get("生年月日", ""))
        self.birth_label.setAccessibleName(f"生年月日 {values.get('生年月日', '')}")

        self._clear(self.row.second)
        self._clear(self.more_sections)
        self.section_views = []
        for index, section in enumerate(view.sections):
            if index and not section.rows:
                continue  # only the items the record has are shown (T21)
            part = _SectionView(section, subtitle=section.subtitle, wide_columns=1 if index else 2)
            (self.more_sections if index else self.row.second).addWidget(part)
            self.section_views.append(part)
        self.copied_label.hide()
        if self.scroll_area is not None:
            self.scroll_area.verticalScrollBar().setValue(0)

    def _add_notice(self, text: str, tone: str) -> None:
        notice = Notice(text, tone)
        notice.setObjectName("resultNotice")
        self.notices.addWidget(notice)
        self.notice_widgets.append(notice)
        self.message_labels.append(notice)

    @staticmethod
    def _clear(layout: QVBoxLayout) -> None:
        while layout.count():
            item = layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()

    def field_value(self, label: str) -> str | None:
        """The shown value of a row (used by tests and the scripted demo)."""
        for view in self.section_views:
            if label in view.rows:
                return view.rows[label][0].text()
        return None

    @property
    def banner_tone(self) -> str:
        return self.banner.tone

    def _copy(self) -> None:
        if self.document is None:
            return
        QGuiApplication.clipboard().setText(copy_text(self.document))
        set_style_property(self.copied_label, "role", "toast")
        self.copied_label.show()
        QTimer.singleShot(2500, self.copied_label.hide)

    def entered(self) -> None:
        self.close_button.setFocus()
