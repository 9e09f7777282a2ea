"""Shared widgets of the design system: the page scaffold (header bar, step indicator, body, action bar, footer with
画面番号 and the status strip), buttons, cards, notices, form fields with inline errors, the keypad, illustrations and
dialogs. Screens build themselves from these and never style a widget themselves (``terminal_agent/ui/README.md``).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from functools import cache

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QObject,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QVariantAnimation,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QAbstractButton,
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from terminal_agent.ui import theme
from terminal_agent.ui.theme import COLORS, SIZE, SPACE, set_style_property

FONT_FAMILY = theme.FONT_FAMILY
APP_TITLE = "マイナ資格確認アプリ"

ButtonSpec = tuple[str, QMessageBox.ButtonRole] | tuple[str, QMessageBox.ButtonRole, str]


# --- icons and illustrations ----------------------------------------------------------------------------------------
@cache
def icon(name: str) -> QIcon:
    """One of our SVG icons (``assets/icons``): back, gear, eye, check, info, success, warning, error, question."""
    return QIcon(theme.icon_path(name))


def icon_pixmap(name: str, size: int, ratio: float = 2.0) -> QPixmap:
    """The icon drawn crisply for a display of ``ratio`` device pixels per logical pixel."""
    return icon(name).pixmap(QSize(size, size), ratio)


def picture_icon(name: str, size: QSize) -> QIcon:
    """An illustration as an icon of exactly ``size``, the picture centred in it: buttons whose pictures differ in
    shape still start their labels at the same x (a QIcon of the SVG alone is as wide as its picture). Drawn for
    100 %, 150 % and 200 % scaling."""
    renderer = QSvgRenderer(theme.illustration_path(name))
    picture = renderer.defaultSize().scaled(size, Qt.AspectRatioMode.KeepAspectRatio)
    left, top = (size.width() - picture.width()) / 2, (size.height() - picture.height()) / 2
    result = QIcon()
    for ratio in (1.0, 1.5, 2.0):
        pixmap = QPixmap(round(size.width() * ratio), round(size.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(left, top, picture.width(), picture.height()))
        painter.end()
        result.addPixmap(pixmap)
    return result


class Illustration(QWidget):
    """One of our SVG illustrations (``assets/illustrations``), scaled to fit and centred, sharp at any scaling."""

    def __init__(self, name: str = "", *, height: int = 240, accessible: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._renderer = QSvgRenderer(self)
        self._cached: QPixmap | None = None
        self._cached_key: tuple[str, int, int, float] | None = None
        self._height = height
        self.name = ""
        self.setMinimumHeight(height // 2)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        if name:
            self.set_name(name, accessible)

    def set_name(self, name: str, accessible: str = "") -> None:
        self.name = name
        if not self._renderer.load(theme.illustration_path(name)):
            raise FileNotFoundError(name)
        self.setAccessibleName(accessible or name)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        size = self._renderer.defaultSize()
        if size.isEmpty():
            return QSize(self._height, self._height)
        return QSize(round(size.width() * self._height / size.height()), self._height)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        # The picture is rendered once per name, size and pixel ratio and then only copied: a screen repaints often
        # (status text, the reading indicator beside it) and the UI thread shares the interpreter with the card read.
        ratio = self.devicePixelRatioF()
        key = (self.name, self.width(), self.height(), ratio)
        if self._cached_key != key:
            self._cached = self._render(ratio)
            self._cached_key = key
        if self._cached is not None:
            painter = QPainter(self)
            painter.drawPixmap(0, 0, self._cached)
            painter.end()

    def _render(self, ratio: float) -> QPixmap | None:
        size = self._renderer.defaultSize()
        if size.isEmpty() or self.width() <= 0 or self.height() <= 0:
            return None
        scale = min(self.width() / size.width(), self.height() / size.height())
        width, height = size.width() * scale, size.height() * scale
        pixmap = QPixmap(round(self.width() * ratio), round(self.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._renderer.render(painter, QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height))
        painter.end()
        return pixmap


class ReadingIndicator(QWidget):
    """The progress shown while the card is read: an arc going round a ring (``start()`` / ``stop()``)."""

    def __init__(self, diameter: int = 72, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedSize(diameter, diameter)
        self.setAccessibleName("読み取り中")
        self._angle = 0.0
        self._animation = QVariantAnimation(self)
        self._animation.setStartValue(0.0)
        self._animation.setEndValue(360.0)
        self._animation.setDuration(1100)
        self._animation.setLoopCount(-1)
        self._animation.valueChanged.connect(self._turn)

    @property
    def running(self) -> bool:
        return self._animation.state() == QVariantAnimation.State.Running

    def start(self) -> None:
        self.show()
        self._animation.start()

    def stop(self) -> None:
        self._animation.stop()
        self._angle = 0.0
        self.hide()

    def _turn(self, value: float) -> None:
        self._angle = value
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = max(6, self.width() // 10)
        rect = QRectF(width / 2, width / 2, self.width() - width, self.height() - width)
        painter.setPen(QPen(QColor(COLORS.primary_soft), width))
        painter.drawEllipse(rect)
        pen = QPen(QColor(COLORS.primary), width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawArc(rect, int((90 - self._angle) * 16), -100 * 16)
        painter.end()


# --- layout -------------------------------------------------------------------------------------------------------
class ResponsiveRow(QWidget):
    """Side by side when wide (a landscape tablet), stacked when narrower than ``breakpoint`` (portrait).

    ``first`` / ``second`` are QVBoxLayouts for the two columns."""

    def __init__(
        self,
        *,
        breakpoint: int = 1000,
        spacing: int = SPACE.xl,
        stretch: tuple[int, int] = (1, 1),
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.breakpoint = breakpoint
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(spacing)
        self.first = QVBoxLayout()
        self.second = QVBoxLayout()
        for column, factor in zip((self.first, self.second), stretch, strict=True):
            column.setSpacing(SPACE.m)
            self.box.addLayout(column, factor)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """The smaller need of either arrangement: the row switches before it would be squeezed."""
        first, second = self.first.minimumSize(), self.second.minimumSize()
        return QSize(max(first.width(), second.width()), max(first.height(), second.height()))

    @property
    def stacked(self) -> bool:
        return self.box.direction() == QBoxLayout.Direction.TopToBottom

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        wanted = (
            QBoxLayout.Direction.TopToBottom if event.size().width() < self.breakpoint else QBoxLayout.Direction.LeftToRight
        )
        if wanted != self.box.direction():
            self.box.setDirection(wanted)
        super().resizeEvent(event)


# --- text, buttons --------------------------------------------------------------------------------------------------
def text_label(text: str = "", role: str | None = None, *, wrap: bool = True) -> QLabel:
    """A label with a text role of the stylesheet (heading, label, muted, caption, instruction, patient, ...)."""
    label = QLabel(text)
    label.setWordWrap(wrap)
    if role:
        label.setProperty("role", role)
    if text:
        label.setAccessibleName(text)
    return label


def paragraph(text: str, role: str | None = None, *, line_height: int = 160) -> QLabel:
    """Wrapped Japanese text with a readable line height (1.5–1.75 suits Japanese), as rich text; ``text()`` of the
    label is HTML, its accessible name the plain text."""
    lines = "<br>".join(html.escape(line) for line in text.split("\n"))
    label = text_label(f'<p style="line-height:{line_height}%; margin:0">{lines}</p>', role)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setAccessibleName(text)
    label.plain_text = text  # type: ignore[attr-defined]
    return label


def set_paragraph(label: QLabel, text: str, *, line_height: int = 160) -> None:
    label.setTextFormat(Qt.TextFormat.RichText)
    lines = "<br>".join(html.escape(line) for line in text.split("\n"))
    label.setText(f'<p style="line-height:{line_height}%; margin:0">{lines}</p>')
    label.setAccessibleName(text)
    label.plain_text = text  # type: ignore[attr-defined]


def button(
    text: str, accessible: str | None = None, *, primary: bool = False, variant: str | None = None
) -> QPushButton:
    """A push button of a kind: ``primary`` (one per screen: the next step), ``secondary`` (the default look) or
    ``danger`` (destructive). Enter activates the focused button (T28)."""
    widget = QPushButton(text)
    widget.setAccessibleName(accessible or text)
    widget.setAutoDefault(True)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    kind = variant or ("primary" if primary else "secondary")
    widget.setProperty("variant", kind)
    if kind == "primary":
        widget.setDefault(True)
        widget.setObjectName("primary")
    return widget


def set_variant(widget: QWidget, variant: str) -> None:
    set_style_property(widget, "variant", variant)


# --- page scaffold --------------------------------------------------------------------------------------------------
class HeaderBar(QFrame):
    """The bar on top of every screen: ``←`` 戻る, the title, and a slot on the right (⚙, コピー, ...)."""

    def __init__(self, title: str, *, show_back: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("headerBar")
        self.setFixedHeight(SIZE.header)
        row = QHBoxLayout(self)
        row.setContentsMargins(SPACE.m, SPACE.s, SPACE.m, SPACE.s)
        row.setSpacing(SPACE.m)
        self.back_button = header_button("戻る", "back", accessible="戻る", tooltip="前の画面に戻る")
        row.addWidget(self.back_button)
        self.back_button.setVisible(show_back)  # after it has a parent: shown alone it would be a window of its own
        self.title_label = QLabel(title)
        self.title_label.setObjectName("screenTitle")
        self.title_label.setAccessibleName(title)
        row.addWidget(self.title_label, 1)
        self.right = QHBoxLayout()
        self.right.setSpacing(SPACE.s)
        row.addLayout(self.right)


def header_button(text: str, icon_name: str = "", *, accessible: str = "", tooltip: str = "") -> QToolButton:
    """A white-on-blue button for the header bar (``←`` 戻る, ⚙ メニュー)."""
    widget = QToolButton()
    widget.setText(text)
    widget.setProperty("variant", "header")
    widget.setAccessibleName(accessible or text)
    widget.setToolTip(tooltip or accessible or text)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    if icon_name:
        widget.setIcon(icon(icon_name))
        widget.setIconSize(QSize(SIZE.icon, SIZE.icon))
        widget.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    return widget


class StepIndicator(QFrame):
    """Where a check flow is: ``1 本人確認 → 2 読み取り → 3 結果`` with the current step filled."""

    def __init__(self, steps: Sequence[str] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("stepIndicator")
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(SPACE.l, SPACE.s, SPACE.l, SPACE.s)
        self._row.setSpacing(SPACE.m)
        self.labels: list[QLabel] = []
        self.current = -1
        self.set_steps(steps)

    def set_steps(self, steps: Sequence[str]) -> None:
        while self._row.count():
            item = self._row.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.labels = []
        self._row.addStretch(1)
        for index, name in enumerate(steps):
            if index:
                arrow = QLabel("→")
                arrow.setObjectName("stepArrow")
                self._row.addWidget(arrow)
            label = QLabel(f"{index + 1} {name}")
            self._row.addWidget(label)
            self.labels.append(label)
        self._row.addStretch(1)
        self.setVisible(bool(steps))
        self.set_current(self.current)

    def set_current(self, index: int) -> None:
        self.current = index
        for position, label in enumerate(self.labels):
            state = "done" if position < index else "current" if position == index else "todo"
            set_style_property(label, "step", state)
            label.setAccessibleName(f"{label.text()} ({ {'done': '完了', 'current': '現在', 'todo': '未'}[state] })")
        names = [label.text() for label in self.labels]
        if 0 <= index < len(names):
            self.setAccessibleName(f"手順 {index + 1}/{len(names)}: {names[index]}")


class StatusStrip(QFrame):
    """The footer's slot for the terminal's state: online / offline and the results waiting to be sent (T30).

    Hidden until told something: ``set_online(True | False | None)``, ``set_pending(n)``.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("statusStrip")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(SPACE.l)
        self.online_label = QLabel()
        self.online_label.setObjectName("statusOnline")
        self.pending_label = QLabel()
        self.pending_label.setObjectName("statusPending")
        row.addWidget(self.online_label)
        row.addWidget(self.pending_label)
        self.online_label.hide()
        self.pending_label.hide()
        self.online: bool | None = None
        self.pending: int | None = None

    def set_online(self, online: bool | None) -> None:
        self.online = online
        if online is None:
            self.online_label.hide()
            return
        text = "● オンライン" if online else "● オフライン (サーバーに接続できません)"
        self.online_label.setText(text)
        self.online_label.setAccessibleName(text.lstrip("● "))
        set_style_property(self.online_label, "online", "true" if online else "false")
        self.online_label.show()

    def set_pending(self, count: int | None) -> None:
        self.pending = count
        if count is None:
            self.pending_label.hide()
            return
        text = f"送信待ちの資格確認結果: {count}件"
        self.pending_label.setText(text)
        self.pending_label.setAccessibleName(text)
        set_style_property(self.pending_label, "waiting", "true" if count else "false")
        self.pending_label.show()


class StatusBoard(QObject):
    """One state for the status strips of every screen: ``board.set_online(False)`` updates them all."""

    online_changed = Signal(object)  # bool | None
    pending_changed = Signal(object)  # int | None

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.online: bool | None = None
        self.pending: int | None = None

    def attach(self, strip: StatusStrip) -> None:
        strip.set_online(self.online)
        strip.set_pending(self.pending)
        self.online_changed.connect(strip.set_online)
        self.pending_changed.connect(strip.set_pending)

    def set_online(self, online: bool | None) -> None:
        self.online = online
        self.online_changed.emit(online)

    def set_pending(self, count: int | None) -> None:
        self.pending = count
        self.pending_changed.emit(count)


class Footer(QFrame):
    """The bar under every screen: the status strip on the left, 画面番号 on the right (T29)."""

    def __init__(self, screen_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("footer")
        self.setFixedHeight(SIZE.footer)
        row = QHBoxLayout(self)
        row.setContentsMargins(SPACE.l, 0, SPACE.l, 0)
        self.status_strip = StatusStrip()
        row.addWidget(self.status_strip)
        row.addStretch(1)
        self.screen_id_label = QLabel(f"画面番号: {screen_id}")
        self.screen_id_label.setObjectName("screenId")
        self.screen_id_label.setAccessibleName(f"画面番号 {screen_id}")
        row.addWidget(self.screen_id_label)


class Screen(QWidget):
    """A page of the stacked main window.

    ``header`` (``←`` and the title, ``header_right`` for ⚙ or コピー), an optional ``step_indicator``, ``body`` (a
    QVBoxLayout; inside a scroll area with ``scroll=True``; a centred column of at most ``width`` px), an
    ``action_bar`` that stays in view (``add_action``), and the ``footer`` with 画面番号 and the status strip.
    """

    back_requested = Signal()
    screen_id = ""
    title = ""

    def __init__(
        self,
        *,
        show_back: bool = False,
        scroll: bool = False,
        width: int | None = SIZE.content_max,
        steps: Sequence[str] = (),
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName(type(self).__name__)
        self.setAccessibleName(self.title)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.header = HeaderBar(self.title, show_back=show_back)
        self.back_button = self.header.back_button
        self.back_button.clicked.connect(self.back_requested)
        self.title_label = self.header.title_label
        self.header_right = self.header.right
        outer.addWidget(self.header)
        self.step_indicator = StepIndicator(steps, parent=self)  # parented first: shown alone it would be a window
        outer.addWidget(self.step_indicator)

        column = QWidget()
        column.setObjectName("pageColumn")
        if width:
            column.setMaximumWidth(width)
        self.body = QVBoxLayout(column)
        self.body.setContentsMargins(SPACE.xl, SPACE.l, SPACE.xl, SPACE.l)
        self.body.setSpacing(SPACE.m)
        holder = QWidget()
        holder.setObjectName("pageScrollContent" if scroll else "pageBody")
        centred = QHBoxLayout(holder)
        centred.setContentsMargins(0, 0, 0, 0)
        centred.addStretch(1)
        centred.addWidget(column, 1000)  # as wide as it may be; what is left goes to the margins
        centred.addStretch(1)
        if scroll:
            self.scroll_area: QScrollArea | None = QScrollArea()
            self.scroll_area.setObjectName("pageScroll")
            self.scroll_area.setWidgetResizable(True)
            self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
            self.scroll_area.setWidget(holder)
            outer.addWidget(self.scroll_area, 1)
        else:
            self.scroll_area = None
            outer.addWidget(holder, 1)

        self.action_bar = QFrame()
        self.action_bar.setObjectName("actionBar")
        self.actions = QHBoxLayout(self.action_bar)
        self.actions.setContentsMargins(SPACE.xl, SPACE.s + SPACE.xs, SPACE.xl, SPACE.s + SPACE.xs)
        self.actions.setSpacing(SPACE.m)
        self.action_bar.hide()
        outer.addWidget(self.action_bar)

        self.footer = Footer(self.screen_id)
        self.screen_id_label = self.footer.screen_id_label
        self.status_strip = self.footer.status_strip
        outer.addWidget(self.footer)

        self.escape_button: QAbstractButton | None = None  # Esc's target when there is no ← (e.g. 閉じる)
        escape = QShortcut(QKeySequence(QKeySequence.StandardKey.Cancel), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self._escape)

    def set_patient_facing(self, patient_facing: bool) -> None:
        """A screen the patient reads (the PIN keypad, holding the phone) shows nothing staff-only: the status strip
        (online state, results waiting to be sent) is hidden; 画面番号 stays for support (issue 12 point 5)."""
        self.status_strip.setVisible(not patient_facing)

    def add_action(self, widget: QWidget, *, stretch: int = 0, leading: bool = False) -> QWidget:
        """Put a button in the action bar at the bottom (always in view). ``leading`` ones go left, others right."""
        if self.actions.count() == 0:
            self.actions.addStretch(1)
        if leading:
            self.actions.insertWidget(0, widget, stretch)
        else:
            self.actions.addWidget(widget, stretch)
        self.action_bar.show()
        return widget

    def set_title(self, text: str) -> None:
        self.title_label.setText(text)
        self.title_label.setAccessibleName(text)

    def set_steps(self, steps: Sequence[str], current: int) -> None:
        self.step_indicator.set_steps(steps)
        self.step_indicator.set_current(current)

    def _escape(self) -> None:
        """Esc (T28) = ``←``, or the screen's own way out (``escape_button``: 閉じる) where it has no ←."""
        for target in (self.back_button, self.escape_button):
            if target is not None and target.isVisible() and target.isEnabled():
                target.click()
                return

    def entered(self) -> None:
        """Called each time the screen is shown; screens reset their inputs here."""


# --- cards, notices, banners ----------------------------------------------------------------------------------------
class Card(QFrame):
    """A white, rounded block for grouped content; ``layout`` takes its rows. ``title`` adds a heading."""

    def __init__(self, title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setProperty("role", "card")
        self.content = QVBoxLayout(self)
        self.content.setContentsMargins(SPACE.l, SPACE.m, SPACE.l, SPACE.m)
        self.content.setSpacing(SPACE.s)
        self.title_label: QLabel | None = None
        if title:
            self.title_label = text_label(title, "heading")
            self.content.addWidget(self.title_label)

    def add(self, widget: QWidget, stretch: int = 0) -> QWidget:
        self.content.addWidget(widget, stretch)
        return widget


NOTICE_ICONS = {"info": "info", "success": "success", "warning": "warning", "caution": "warning", "error": "error"}


class Notice(QFrame):
    """A coloured message with its icon: tone ``info``, ``success``, ``warning``, ``caution`` or ``error``."""

    def __init__(self, text: str, tone: str = "info", parent: QWidget | None = None):
        super().__init__(parent)
        self.setProperty("role", "notice")
        self.setProperty("tone", tone)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # never taller than its text
        self.tone = tone
        row = QHBoxLayout(self)
        row.setContentsMargins(SPACE.m, SPACE.m, SPACE.m, SPACE.m)
        row.setSpacing(SPACE.m)
        self.icon_label = QLabel()
        self.icon_label.setPixmap(icon_pixmap(NOTICE_ICONS[tone], 32, self.devicePixelRatioF() or 2.0))
        self.icon_label.setFixedSize(32, 32)
        row.addWidget(self.icon_label, 0, Qt.AlignmentFlag.AlignTop)
        self.label = paragraph(text, line_height=150)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        self._text = text
        self.setAccessibleName(text)

    def text(self) -> str:
        """The plain text (the label holds it as rich text, for the line height)."""
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - the QLabel spelling, so show_error() takes notices too
        self._text = text
        set_paragraph(self.label, text, line_height=150)
        self.setAccessibleName(text)

    def set_large(self, large: bool = True) -> None:
        """Instruction-sized text, for what a patient reads from across the counter."""
        set_style_property(self, "textSize", "large" if large else "")
        set_style_property(self.label, "textSize", "large" if large else "")


class Banner(QFrame):
    """The big coloured statement at the top of a result: tone ``success`` or ``error``."""

    def __init__(self, text: str = "", tone: str = "success", parent: QWidget | None = None):
        super().__init__(parent)
        self.setProperty("role", "banner")
        row = QHBoxLayout(self)
        row.setContentsMargins(SPACE.l, SPACE.m, SPACE.l, SPACE.m)
        row.setSpacing(SPACE.m)
        self.icon_label = QLabel()
        self.icon_label.setFixedSize(48, 48)
        row.addWidget(self.icon_label)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        row.addWidget(self.label, 1)
        self.tone = ""
        self.set(text, tone)

    def set(self, text: str, tone: str) -> None:
        self.tone = tone
        self.label.setText(text)
        self.setAccessibleName(text)
        self.icon_label.setPixmap(_white_badge("check" if tone == "success" else "error", 48, self.devicePixelRatioF() or 2.0))
        set_style_property(self, "tone", tone)

    def text(self) -> str:
        return self.label.text()


def _white_badge(kind: str, size: int, ratio: float) -> QPixmap:
    """A white disc with the tone's mark, for the banner (the coloured icons would vanish on the coloured fill)."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(COLORS.white))
    painter.drawEllipse(QRectF(2, 2, size - 4, size - 4))
    colour = QColor(COLORS.success if kind == "check" else COLORS.error)
    pen = QPen(colour, size / 9)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    s = size / 48
    if kind == "check":
        painter.drawPolyline([QPointF(13, 25) * s, QPointF(21, 33) * s, QPointF(35, 16) * s])
    else:
        painter.drawLine(QPointF(16, 16) * s, QPointF(32, 32) * s)
        painter.drawLine(QPointF(32, 16) * s, QPointF(16, 32) * s)
    painter.end()
    return pixmap


# --- form fields ----------------------------------------------------------------------------------------------------
class ErrorNotice(Notice):
    """An error shown in place (red notice with the error icon); hidden while empty. Works with ``show_error``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", "error", parent)
        self.setObjectName("fieldError")
        self.hide()


def error_label() -> QLabel:
    """The inline error under a field; hidden while empty."""
    label = QLabel()
    label.setObjectName("fieldError")
    label.setProperty("role", "fieldError")
    label.setWordWrap(True)
    label.hide()
    return label


def show_error(label: QLabel, messages: list[str] | str | None) -> None:
    text = "\n".join(messages) if isinstance(messages, list) else (messages or "")
    label.setText(text)
    label.setAccessibleName(text)
    label.setVisible(bool(text))


def required_mark() -> QLabel:
    mark = QLabel("必須")
    mark.setObjectName("requiredMark")
    mark.setProperty("role", "required")
    mark.setAccessibleName("必須")
    return mark


class FormField(QWidget):
    """A labelled input: the label (with 必須), the input, a hint and the inline error under it.

    ``set_error(messages)`` shows the error and marks the input red; ``set_error(None)`` clears both.
    """

    def __init__(
        self, label: str, widget: QWidget, *, required: bool = False, hint: str = "", rich_hint: bool = False
    ):
        super().__init__()
        self.widget = widget
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(SPACE.xs)
        top = QHBoxLayout()
        top.setSpacing(SPACE.s)
        self.label = text_label(label, "label", wrap=False)
        top.addWidget(self.label)
        if required:
            top.addWidget(required_mark())
        top.addStretch(1)
        column.addLayout(top)
        column.addWidget(widget)
        self.hint: QLabel | None = None
        if hint:
            self.hint = text_label(with_eye_images(hint) if rich_hint else hint, "muted")
            if rich_hint:
                self.hint.setTextFormat(Qt.TextFormat.RichText)
            self.hint.setAccessibleName(hint)
            column.addWidget(self.hint)
        self.error = error_label()
        column.addWidget(self.error)
        self.label.setBuddy(widget.focusProxy() or widget)

    def set_error(self, messages: list[str] | str | None) -> None:
        show_error(self.error, messages)
        target = getattr(self.widget, "edit", self.widget)
        set_style_property(target, "invalid", "true" if self.error.text() else "false")


class PasswordField(QWidget):
    """Masked input (***) with a 👁 toggle that reveals what was typed (T02, T09)."""

    def __init__(self, accessible: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACE.s)
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setAccessibleName(accessible)
        layout.addWidget(self.edit, 1)
        self.reveal = QToolButton()
        self.reveal.setText("👁")
        self.reveal.setIcon(icon("eye"))  # drawn: not every system has a font with 👁
        self.reveal.setIconSize(QSize(SIZE.icon, SIZE.icon))
        self.reveal.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.reveal.setFixedSize(SIZE.field, SIZE.field)
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
    """👁 as our eye icon (kept for callers that ask for a size)."""
    return QIcon(icon_pixmap("eye", size))


def with_eye_images(text: str) -> str:
    """Rich text where each 👁 is the eye icon, so the manual's wording reads right without an emoji font."""
    buffer_bytes = QByteArray()
    buffer = QBuffer(buffer_bytes)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    icon_pixmap("eye", 20, 1.0).save(buffer, "PNG")
    image = f'<img src="data:image/png;base64,{bytes(buffer_bytes.toBase64()).decode()}" width="20" height="20">'
    return html.escape(text).replace("👁", image)


# --- keypad ---------------------------------------------------------------------------------------------------------
class PinDots(QLabel):
    def __init__(self, length: int = 4):
        super().__init__()
        self.length = length
        self.setObjectName("pinDots")
        self.setProperty("role", "pinDots")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.show_count(0)

    def show_count(self, count: int) -> None:
        self.setText(" ".join("●" if i < count else "○" for i in range(self.length)))
        self.setAccessibleName(f"{count}桁入力済み")


class Keypad(QWidget):
    """On-screen numeric keypad with large keys; digits typed on a keyboard or a wired numeric keypad work too (T17)."""

    changed = Signal(str)
    completed = Signal(str)
    submitted = Signal(str)  # Enter on a keyboard or a wired numeric keypad

    def __init__(self, length: int = 4, parent: QWidget | None = None):
        super().__init__(parent)
        self.length = length
        self._digits = ""
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("テンキー")
        self.setMaximumWidth(3 * 150 + 2 * SPACE.m)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACE.m)
        self.dots = PinDots(length)
        layout.addWidget(self.dots)
        grid = QGridLayout()
        grid.setSpacing(SPACE.m)
        self.digit_buttons: dict[str, QPushButton] = {}
        for index, digit in enumerate("1234567890"):
            key = self._key(digit, f"数字 {digit}")
            key.clicked.connect(lambda _=False, d=digit: self.press(d))
            self.digit_buttons[digit] = key
            row, col = (index // 3, index % 3) if digit != "0" else (3, 1)
            grid.addWidget(key, row, col)
        self.clear_button = self._key("クリア", "クリア", edit=True)
        self.clear_button.clicked.connect(self.clear)
        grid.addWidget(self.clear_button, 3, 0)
        self.delete_button = self._key("削除", "1文字削除", edit=True)
        self.delete_button.clicked.connect(self.backspace)
        grid.addWidget(self.delete_button, 3, 2)
        layout.addLayout(grid)

    @staticmethod
    def _key(text: str, accessible: str, *, edit: bool = False) -> QPushButton:
        key = button(text, accessible, variant="key")
        key.setAutoDefault(False)
        key.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        key.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        if edit:
            key.setProperty("keyKind", "edit")
        return key

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


# --- dialogs --------------------------------------------------------------------------------------------------------
DIALOG_KINDS = {
    "info": ("info", QMessageBox.Icon.Information),
    "success": ("success", QMessageBox.Icon.Information),
    "question": ("question", QMessageBox.Icon.Question),
    "warning": ("warning", QMessageBox.Icon.Warning),
    "error": ("error", QMessageBox.Icon.Critical),
}
OK: list[ButtonSpec] = [("OK", QMessageBox.ButtonRole.AcceptRole)]
OK_CANCEL: list[ButtonSpec] = [("OK", QMessageBox.ButtonRole.AcceptRole), ("キャンセル", QMessageBox.ButtonRole.RejectRole)]
CLOSE: list[ButtonSpec] = [("閉じる", QMessageBox.ButtonRole.AcceptRole)]


MSG_REQUEST_ID = "問い合わせ番号: {request_id}"


def message_box(
    parent: QWidget,
    title: str,
    text: str,
    *,
    buttons: Sequence[ButtonSpec] | None = None,
    on_finished: Callable[[str], None] | None = None,
    kind: str = "info",
    icon: QMessageBox.Icon | None = None,
    request_id: str = "",
    screen_id: str = "",
) -> QMessageBox:
    """A window-modal, non-blocking dialog (``open()``, never ``exec()``) with our icon for ``kind`` — ``info``,
    ``success``, ``question``, ``warning`` or ``error`` (never an information icon on an error) — and Japanese
    buttons only: ``(label, role)`` or ``(label, role, variant)``; the first is the default, an AcceptRole button is
    primary unless a variant says ``danger``. The clicked button's text is reported to ``on_finished``. A server
    error's ``request_id`` (X-Request-Id) is added as a last line, so that support can find the call in the logs.
    ``screen_id`` is the dialog's 画面番号 (T29, ``screen_ids``), shown under the text and kept as a property."""
    if request_id:
        text = f"{text}\n\n{MSG_REQUEST_ID.format(request_id=request_id)}"
    if icon is not None:  # the old keyword: map Qt's icon to our kind
        kind = {QMessageBox.Icon.Critical: "error", QMessageBox.Icon.Warning: "warning"}.get(icon, kind)
    icon_name, standard = DIALOG_KINDS[kind]
    box = QMessageBox(parent)
    box.setIcon(standard)  # icon() and the accessible alert follow the kind; our drawing replaces Qt's once shown
    box.setWindowTitle(title)
    box.setText(text)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if screen_id:
        box.setInformativeText(f"画面番号: {screen_id}")
        box.setProperty("screen_id", screen_id)
    box.setObjectName("messageBox")
    box.setProperty("kind", kind)
    box.setAccessibleName(title)
    box.setAccessibleDescription(text)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    created = []
    for spec in buttons or OK:
        label, role = spec[0], spec[1]
        variant = spec[2] if len(spec) > 2 else ("primary" if role == QMessageBox.ButtonRole.AcceptRole else "secondary")
        widget = box.addButton(label, role)
        widget.setAccessibleName(label)
        set_style_property(widget, "variant", variant)  # already polished by the box's layout: polish again
        created.append(widget)
    box.setDefaultButton(created[0])
    rejecting = [b for b in created if box.buttonRole(b) == QMessageBox.ButtonRole.RejectRole]
    box.setEscapeButton(rejecting[0] if rejecting else created[-1] if len(created) == 1 else None)

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
    _draw_dialog_icon(box, icon_name, parent.devicePixelRatioF() or 2.0)
    return box


def _draw_dialog_icon(box: QMessageBox, icon_name: str, ratio: float) -> None:
    """Our icon in the box's icon label. Set after ``open()``: showing re-polishes the box and Qt puts its own
    standard pixmap back; should the style change again later, Qt's icon of the same kind shows."""
    icon_label = box.findChild(QLabel, "qt_msgboxex_icon_label")
    if icon_label is not None:
        icon_label.setPixmap(icon_pixmap(icon_name, 56, ratio))
        icon_label.setFixedSize(56, 56)


def menu_action(text: str, slot: Callable[[], None], *, checkable: bool = False, checked: bool = False) -> QAction:
    action = QAction(text)
    action.setCheckable(checkable)
    if checkable:
        action.setChecked(checked)
    action.triggered.connect(lambda _=False: slot())
    return action
