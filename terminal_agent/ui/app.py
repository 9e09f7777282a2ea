"""Application set-up: the design system (fonts, palette, stylesheet) and ``build_main_window(core)`` for the program,
the tests and the demo."""

from __future__ import annotations

import gc
import logging
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QLibraryInfo, QObject, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QWidget

from terminal_agent.ui.main_window import MainWindow
from terminal_agent.ui.theme import apply_theme
from terminal_agent.ui.widgets import APP_TITLE

if TYPE_CHECKING:
    from terminal_agent.ui.gateway import CoreCalls

log = logging.getLogger(__name__)


def ensure_application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_TITLE)
    apply_theme(app)
    install_japanese_translations(app)
    return app  # type: ignore[return-value]


def install_japanese_translations(app: QApplication) -> bool:
    """Qt's own texts in Japanese (T28): the context menu of every field (元に戻す, コピー, 貼り付け…), the calendar's
    tooltips, standard buttons. ``qtbase_ja.qm`` ships with PySide6 (Qt's translations directory). Idempotent."""
    if app.property("myna_translator"):
        return True
    translator = QTranslator(app)
    if not translator.load("qtbase_ja", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        log.warning("Qt's Japanese translations (qtbase_ja) not found: Qt's own menus stay in English")
        return False
    app.installTranslator(translator)
    app.setProperty("myna_translator", True)
    return True


def build_main_window(core: CoreCalls) -> MainWindow:
    """The whole UI over one core; the caller shows it (or grabs it offscreen)."""
    ensure_application()
    return MainWindow(core)


def open_main_window(core: CoreCalls, *, sync_interval: float = 30.0) -> MainWindow:
    """The program's window, shown. Only once its first screen is painted (issue 12) do the sync relay and the
    connectivity probe start (their first network call) and ``core.preload()`` load the data key, httpx and the card
    protocol, on a background thread."""
    window = build_main_window(core)

    def preload() -> None:
        try:
            core.preload()
        except Exception as exc:  # the first check loads what is missing and reports what fails there
            log.warning("preloading the core failed: %s", type(exc).__name__)

    def started() -> None:
        core.start_background(sync_interval)
        threading.Thread(target=preload, name="core-preload", daemon=True).start()

    after_first_paint(window, started)
    collect_garbage_on_ui_thread(window)
    window.show()
    return window


GC_INTERVAL_MS = 10_000


def collect_garbage_on_ui_thread(window: QWidget) -> QTimer:
    """Python's cyclic collector runs in whichever thread happens to allocate; left on, it may free a finished
    screen's Qt objects on the gateway's or the sync relay's thread, which crashes Qt (seen in the gallery). As
    Anki does (aqt: gc disabled, a timer collecting on the main thread), collect only here, on the UI thread."""
    gc.disable()
    timer = QTimer(window)
    timer.setObjectName("gc-on-ui-thread")
    timer.timeout.connect(lambda: gc.collect())
    timer.start(GC_INTERVAL_MS)
    return timer


class _FirstPaint(QObject):
    def __init__(self, window: QWidget, callback: Callable[[], None]):
        super().__init__(window)
        self.callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self.callback)  # after the paint pass that this event starts has finished
        return False


def after_first_paint(window: QWidget, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``window`` has been painted the first time (start-up work that may wait: issue 12)."""
    window.installEventFilter(_FirstPaint(window, callback))
