"""Application set-up: fonts, style, and ``build_main_window(core)`` for the program, the tests and the demo."""

from __future__ import annotations

import sys

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from terminal_agent.core.app import TerminalCore
from terminal_agent.ui.main_window import MainWindow
from terminal_agent.ui.widgets import APP_TITLE, FONT_FAMILY

STYLE = """
QLabel#screenTitle { font-size: 20px; font-weight: bold; }
QLabel#screenId { color: #555; font-size: 11px; }
QLabel#pinDots { font-size: 28px; letter-spacing: 8px; }
QPushButton { min-height: 40px; font-size: 16px; }
QPushButton#primary { background: #1565c0; color: white; }
QPushButton:disabled { background: #ccc; color: #777; }
"""


def ensure_application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_TITLE)
    app.setFont(QFont(FONT_FAMILY, 11))
    app.setStyleSheet(STYLE)
    return app  # type: ignore[return-value]


def build_main_window(core: TerminalCore) -> MainWindow:
    """The whole UI over one core; the caller shows it (or grabs it offscreen)."""
    ensure_application()
    return MainWindow(core)
