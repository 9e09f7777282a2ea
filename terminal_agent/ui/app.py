"""Application set-up: the design system (fonts, palette, stylesheet) and ``build_main_window(core)`` for the program,
the tests and the demo."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from terminal_agent.core.app import TerminalCore
from terminal_agent.ui.main_window import MainWindow
from terminal_agent.ui.theme import apply_theme
from terminal_agent.ui.widgets import APP_TITLE


def ensure_application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_TITLE)
    apply_theme(app)
    return app  # type: ignore[return-value]


def build_main_window(core: TerminalCore) -> MainWindow:
    """The whole UI over one core; the caller shows it (or grabs it offscreen)."""
    ensure_application()
    return MainWindow(core)
