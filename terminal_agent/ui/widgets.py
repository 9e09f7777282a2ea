"""Shared widgets: the screen frame (title, ←, 画面番号), the 4-digit keypad, the password field with 👁, dialogs."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeyEvent, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

FONT_FAMILY = "Noto Sans CJK JP"
APP_TITLE = "マイナ資格確認アプリ"


def button(text: str, accessible: str | None = None, *, primary: bool = False) -> QPushButton:
    widget = QPushButton(text)
    widget.setAccessibleName(accessible or text)
    widget.setAutoDefault(True)  # Enter activates the focused button (T28)
    if primary:
        widget.setDefault(True)
        widget.setObjectName("primary")
    return widget


class Screen(QWidget):
    """A page of the stacked main window: header (← and title), body, footer with 画面番号 (T29)."""

    back_requested = Signal()
    screen_id = ""
    title = ""

    def __init__(self, *, show_back: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(type(self).__name__)
        self.setAccessibleName(self.title)
        outer = QVBoxLayout(self)
        header = QHBoxLayout()
        self.back_button = QToolButton()
        self.back_button.setText("←")
        self.back_button.setAccessibleName("戻る")
        self.back_button.setToolTip("前の画面に戻る")
        self.back_button.clicked.connect(self.back_requested)
        self.back_button.setVisible(show_back)
        header.addWidget(self.back_button)
        self.title_label = QLabel(self.title)
        self.title_label.setObjectName("screenTitle")
        self.title_label.setAccessibleName(self.title)
        header.addWidget(self.title_label, 1)
        self.header_right = QHBoxLayout()
        header.addLayout(self.header_right)
        outer.addLayout(header)
        self.body = QVBoxLayout()
        outer.addLayout(self.body, 1)
        self.screen_id_label = QLabel(f"画面番号: {self.screen_id}")
        self.screen_id_label.setObjectName("screenId")
        self.screen_id_label.setAccessibleName(f"画面番号 {self.screen_id}")
        self.screen_id_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        outer.addWidget(self.screen_id_label)

    def entered(self) -> None:
        """Called each time the screen is shown; screens reset their inputs here."""


class PinDots(QLabel):
    def __init__(self, length: int = 4):
        super().__init__()
        self.length = length
        self.setObjectName("pinDots")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.show_count(0)

    def show_count(self, count: int) -> None:
        self.setText(" ".join("●" if i < count else "○" for i in range(self.length)))
        self.setAccessibleName(f"{count}桁入力済み")


class Keypad(QWidget):
    """On-screen numeric keypad; digits typed on a keyboard or a wired numeric keypad work too (T17)."""

    changed = Signal(str)
    completed = Signal(str)
    submitted = Signal(str)  # Enter on a keyboard or a wired numeric keypad

    def __init__(self, length: int = 4, parent: QWidget | None = None):
        super().__init__(parent)
        self.length = length
        self._digits = ""
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("テンキー")
        layout = QVBoxLayout(self)
        self.dots = PinDots(length)
        layout.addWidget(self.dots)
        grid = QGridLayout()
        self.digit_buttons: dict[str, QPushButton] = {}
        for index, digit in enumerate("1234567890"):
            key = button(digit, f"数字 {digit}")
            key.setAutoDefault(False)
            key.clicked.connect(lambda _=False, d=digit: self.press(d))
            self.digit_buttons[digit] = key
            row, col = (index // 3, index % 3) if digit != "0" else (3, 1)
            grid.addWidget(key, row, col)
        self.clear_button = button("クリア")
        self.clear_button.setAutoDefault(False)
        self.clear_button.clicked.connect(self.clear)
        grid.addWidget(self.clear_button, 3, 0)
        self.delete_button = button("削除", "1文字削除")
        self.delete_button.setAutoDefault(False)
        self.delete_button.clicked.connect(self.backspace)
        grid.addWidget(self.delete_button, 3, 2)
        layout.addLayout(grid)

    @property
    def value(self) -> str:
        return self._digits

    def press(self, digit: str) -> None:
        if len(self._digits) >= self.length:
            return
        self._digits += digit
        self._update()
        if len(self._digits) == self.length:
            self.completed.emit(self._digits)

    def backspace(self) -> None:
        self._digits = self._digits[:-1]
        self._update()

    def clear(self) -> None:
        self._digits = ""
        self._update()

    def _update(self) -> None:
        self.dots.show_count(len(self._digits))
        self.changed.emit(self._digits)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        text = event.text()
        if len(text) == 1 and text.isascii() and text.isdigit():
            self.press(text)
        elif event.key() == Qt.Key.Key_Backspace:
            self.backspace()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submitted.emit(self._digits)
        else:
            super().keyPressEvent(event)


class PasswordField(QWidget):
    """Masked input (***) with a 👁 toggle that reveals what was typed (T02, T09)."""

    def __init__(self, accessible: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setAccessibleName(accessible)
        layout.addWidget(self.edit, 1)
        self.reveal = QToolButton()
        self.reveal.setText("👁")
        self.reveal.setIcon(eye_icon())  # drawn: not every system has a font with 👁
        self.reveal.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.reveal.setToolTip("入力内容を表示")
        self.reveal.setCheckable(True)
        self.reveal.setAccessibleName("入力内容を表示")
        self.reveal.toggled.connect(self._toggle)
        layout.addWidget(self.reveal)
        self.setFocusProxy(self.edit)

    def _toggle(self, shown: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)

    def text(self) -> str:
        return self.edit.text()


def eye_icon(size: int = 24) -> QIcon:
    """👁 as a small drawing: an almond outline and an iris."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#333333"), 2))
    path = QPainterPath()
    path.moveTo(2, size / 2)
    path.quadTo(size / 2, 2, size - 2, size / 2)
    path.quadTo(size / 2, size - 2, 2, size / 2)
    painter.drawPath(path)
    painter.setBrush(QColor("#333333"))
    painter.drawEllipse(QPointF(size / 2, size / 2), size / 6, size / 6)
    painter.end()
    return QIcon(pixmap)


def with_eye_images(text: str) -> str:
    """Rich text where each 👁 is the drawn eye, so the manual's wording reads right without an emoji font."""
    buffer_bytes = QByteArray()
    buffer = QBuffer(buffer_bytes)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    eye_icon(16).pixmap(16, 16).save(buffer, "PNG")
    image = f'<img src="data:image/png;base64,{bytes(buffer_bytes.toBase64()).decode()}">'
    return html.escape(text).replace("👁", image)


def error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    label.setStyleSheet("color: #c62828;")
    label.hide()
    return label


def show_error(label: QLabel, messages: list[str] | str | None) -> None:
    text = "\n".join(messages) if isinstance(messages, list) else (messages or "")
    label.setText(text)
    label.setAccessibleName(text)
    label.setVisible(bool(text))


def message_box(
    parent: QWidget,
    title: str,
    text: str,
    *,
    buttons: list[tuple[str, QMessageBox.ButtonRole]] | None = None,
    on_finished: Callable[[str], None] | None = None,
    icon: QMessageBox.Icon = QMessageBox.Icon.Information,
) -> QMessageBox:
    """A window-modal, non-blocking dialog (``open()``, never ``exec()``): the clicked button's text is reported."""
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("messageBox")
    box.setAccessibleName(title)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    created = []
    for label, role in buttons or [("OK", QMessageBox.ButtonRole.AcceptRole)]:
        created.append(box.addButton(label, role))
        created[-1].setAccessibleName(label)
    box.setDefaultButton(created[0])

    def finished() -> None:
        clicked = box.clickedButton()
        if on_finished is not None:
            on_finished(clicked.text() if clicked is not None else "")
        box.deleteLater()

    box.finished.connect(lambda _result: finished())
    window = parent.window()
    if hasattr(window, "active_dialog"):
        window.active_dialog = box  # tests and the scripted demo find the open dialog here
    box.open()
    return box


def menu_action(text: str, slot: Callable[[], None], *, checkable: bool = False, checked: bool = False) -> QAction:
    action = QAction(text)
    action.setCheckable(checkable)
    if checkable:
        action.setChecked(checked)
    action.triggered.connect(lambda _=False: slot())
    return action
