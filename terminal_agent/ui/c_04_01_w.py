"""資格確認結果 C-04-01-W (T21–T24): messages, 照会番号, 確認日, 資格情報 and the collapsible (▼) blocks."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from terminal_agent.core.formatting import Section, build_result_view, copy_text
from terminal_agent.ui import screen_ids
from terminal_agent.ui.widgets import Screen, button

COPIED = "コピーしました"


class _SectionView(QWidget):
    def __init__(self, section: Section):
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.content = QWidget()
        rows = QFormLayout(self.content)
        for label, value in section.rows:
            value_label = QLabel(value)
            value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value_label.setAccessibleName(f"{label} {value}")
            rows.addRow(QLabel(label), value_label)
        if section.collapsible:
            self.toggle = QToolButton()
            self.toggle.setText(f"{section.title} ▼")
            self.toggle.setAccessibleName(section.title)
            self.toggle.setCheckable(True)
            self.toggle.toggled.connect(self._toggled)
            layout.addWidget(self.toggle)
            self.content.setVisible(False)
        else:
            title = QLabel(section.title)
            title.setObjectName("sectionTitle")
            layout.addWidget(title)
        layout.addWidget(self.content)

    def _toggled(self, opened: bool) -> None:
        self.content.setVisible(opened)
        self.toggle.setText(self.toggle.accessibleName() + (" ▲" if opened else " ▼"))


class ResultScreen(Screen):
    title = "資格確認結果"
    screen_id = screen_ids.RESULT
    closed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.copy_button = button("コピー")
        self.copy_button.clicked.connect(self._copy)
        self.header_right.addWidget(self.copy_button)
        self.copied_label = QLabel(COPIED)
        self.copied_label.setObjectName("copiedToast")
        self.copied_label.setStyleSheet("background: #333; color: white; padding: 4px;")
        self.copied_label.hide()
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.body.addWidget(self.scroll, 1)
        self.body.addWidget(self.copied_label)
        self.close_button = button("閉じる", primary=True)
        self.close_button.clicked.connect(self.closed)
        self.body.addWidget(self.close_button)
        self.document: dict[str, Any] | None = None
        self.message_labels: list[QLabel] = []
        self.section_views: list[_SectionView] = []

    def show_document(self, document: dict[str, Any]) -> None:
        self.document = document
        view = build_result_view(document)
        page = QWidget()
        layout = QVBoxLayout(page)
        self.message_labels = []
        for message in view.messages:
            label = QLabel(message)
            label.setWordWrap(True)
            label.setObjectName("resultMessage")
            label.setAccessibleName(message)
            label.setStyleSheet("color: #c62828; font-weight: bold;")
            layout.addWidget(label)
            self.message_labels.append(label)
        header = QFormLayout()
        self.reference_label = QLabel(view.reference_number)
        self.reference_label.setAccessibleName(f"照会番号 {view.reference_number}")
        header.addRow("照会番号", self.reference_label)
        self.date_label = QLabel(view.confirmation_date)
        self.date_label.setAccessibleName(f"確認日 {view.confirmation_date}")
        header.addRow("確認日", self.date_label)
        layout.addLayout(header)
        self.section_views = []
        main = view.sections[0]
        group = QGroupBox(main.subtitle)
        group_layout = QVBoxLayout(group)
        first = _SectionView(main)
        group_layout.addWidget(first)
        self.section_views.append(first)
        for section in view.sections[1:]:
            if section.rows:
                part = _SectionView(section)
                group_layout.addWidget(part)
                self.section_views.append(part)
        layout.addWidget(group)
        layout.addStretch(1)
        self.scroll.setWidget(page)
        self.copied_label.hide()

    def field_value(self, label: str) -> str | None:
        """The shown value of a row (used by tests and the scripted demo)."""
        for view in self.section_views:
            form = view.content.layout()
            for row in range(form.rowCount()):
                name = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                value = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
                if name and value and name.widget().text() == label:
                    return value.widget().text()
        return None

    def _copy(self) -> None:
        if self.document is None:
            return
        QGuiApplication.clipboard().setText(copy_text(self.document))
        self.copied_label.show()
        QTimer.singleShot(2500, self.copied_label.hide)

    def entered(self) -> None:
        self.close_button.setFocus()
