"""One cold start, timed to its first paint: the child process of bench/terminal.py and tests/terminal/test_startup.py.

    python bench/_terminal_probe.py bare
    python bench/_terminal_probe.py terminal --data-dir DIR --server URL

``bare``      a PySide6 window of 1280×800 with one label, shown, until it has been painted: the baseline.
``terminal``  the program's own ``main()`` (``python -m terminal_agent``) until its window has been painted; on a
              registered terminal with a passcode that is the passcode screen B-01-W.

When the paint pass has finished it prints one JSON line and exits at once (no teardown)::

    {"mode": "terminal", "screen": "B-01-W", "heavy": [], "since_start_ms": 190.3}

``heavy`` lists the modules of ``HEAVY`` already imported at that moment (the start-up path must load none of them);
``since_start_ms`` counts from this interpreter's own start-up (``time.perf_counter`` at the top of this file, so it
leaves out the interpreter's start; the parent measures from spawn). Not a benchmark itself: the leading underscore
keeps scripts/bench.sh from running it.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

HEAVY = (
    "httpx",
    "cryptography",
    "keyring",
    "jsonschema",
    "smartcard",
    "http_message_signatures",
    "contracts.signing",
    "terminal_agent.card.jpki",
    "terminal_agent.card.readers",
)


def report(mode: str, screen: str = "") -> None:
    line = {
        "mode": mode,
        "screen": screen,
        "heavy": [name for name in HEAVY if name in sys.modules],
        "since_start_ms": round((time.perf_counter() - STARTED) * 1000, 1),
    }
    print(json.dumps(line), flush=True)
    os._exit(0)


def bare() -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

    app = QApplication(sys.argv[:1])
    window = QWidget()
    QVBoxLayout(window).addWidget(QLabel("マイナ資格確認アプリ"))
    window.resize(1280, 800)

    class FirstPaint(QObject):  # the same mechanism as terminal_agent.ui.app.after_first_paint
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint:
                watched.removeEventFilter(self)
                QTimer.singleShot(0, lambda: report("bare"))
            return False

    first_paint = FirstPaint()
    window.installEventFilter(first_paint)
    window.show()
    app.exec()


def terminal(argv: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from terminal_agent import __main__ as program
    from terminal_agent.ui import app as ui_app

    product_hook = ui_app.after_first_paint

    def probe_hook(window, _callback) -> None:  # noqa: ANN001
        # Instead of the program's own callback (sync relay, preloading), which would run after the paint anyway.
        product_hook(window, lambda: report("terminal", window.current_screen().screen_id))

    ui_app.after_first_paint = probe_hook  # open_main_window() looks it up in the module when it runs
    program.main(argv)
    raise SystemExit("main() returned without painting a window")


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("bare", "terminal"):
        raise SystemExit(__doc__)
    bare() if sys.argv[1] == "bare" else terminal(sys.argv[2:])
