"""Start-up and responsiveness (issue 12 point 6): the passcode screen is painted before any heavy import and before
any network call; core calls run off the UI thread, which keeps handling events while they block."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

from contracts.signing import generate_device_key, private_key_to_bytes
from terminal_agent.core import passcode
from terminal_agent.core.app import DEVICE_KEY_SECRET, TerminalCore
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.store import LocalStore
from tests.terminal.sample_documents import BASIC

REPO = Path(__file__).resolve().parents[2]


def registered_data_dir(path: Path, server_url: str, *, pending_result: bool = False) -> Path:
    """A terminal's data directory as registration and T03 leave it (no server needed to make it)."""
    store = LocalStore(path, use_keyring=False)
    store.put_secret(DEVICE_KEY_SECRET, private_key_to_bytes(generate_device_key()))
    store.set_setting("registration.device_id", "3f0c2b8e-6a55-4d0e-9c1e-5b7a0f1d2c3e")
    store.set_setting("registration.server_url", server_url)
    store.set_setting("passcode.hash", passcode.hash_passcode("2580"))
    if pending_result:
        store.add_to_outbox("0b7c6f43-5d55-4a36-9f3c-0e2f3f6a1c11", "2026-11-27T01:00:00+00:00", BASIC)
    store.close()
    return path


@pytest.fixture(autouse=True)
def collector_restored():
    """``open_main_window`` turns Python's collector off for the program's lifetime; the next test gets it back."""
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()


def test_cold_start_paints_the_passcode_screen_without_heavy_imports(tmp_path):
    data = registered_data_dir(tmp_path / "terminal", "http://127.0.0.1:9")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    probe = [sys.executable, str(REPO / "bench" / "_terminal_probe.py"), "terminal", "--data-dir", str(data)]
    done = subprocess.run(probe, capture_output=True, text=True, timeout=60, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert line["screen"] == "B-01-W"  # registered, passcode set: ログイン (T14)
    assert line["heavy"] == []  # no keyring, httpx, cryptography, jsonschema, pyscard or JPKI before the paint


def test_no_network_call_before_the_first_paint(qtbot, tmp_path):
    """A result waits in the outbox: the sync relay may deliver it only once the first screen is painted."""
    from terminal_agent.ui.app import open_main_window

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    core = TerminalCore(
        data_dir=registered_data_dir(tmp_path, url, pending_result=True),
        readers=InProcessReaderProvider(None),
        use_keyring=False,
    )
    events: list[str] = []

    class PaintWatch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint and "paint" not in events:
                events.append("paint")
            return False

    def connected() -> bool:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return False
        connection.close()  # the relay sees a network failure and backs off: enough for this test
        events.append("connection")
        return True

    window = open_main_window(core, sync_interval=0.05)
    qtbot.addWidget(window)
    watch = PaintWatch()
    window.installEventFilter(watch)  # installed before the event loop ran: nothing was painted yet
    assert not connected()
    qtbot.waitUntil(connected, timeout=10000)
    assert events == ["paint", "connection"]
    assert window.current_screen() is window.login
    window.close()
    core.close()
    listener.close()


def test_garbage_is_collected_on_the_ui_thread_only(qtbot, tmp_path):
    """Python's collector is off (it would run on whichever thread allocates, freeing Qt objects off the UI
    thread); the window's timer collects instead, on the UI thread."""
    from terminal_agent.ui.app import GC_INTERVAL_MS, open_main_window

    core = TerminalCore("http://127.0.0.1:9", data_dir=tmp_path, readers=InProcessReaderProvider(None), use_keyring=False)
    window = open_main_window(core, sync_interval=3600)
    qtbot.addWidget(window)
    try:
        assert not gc.isenabled()
        timer = window.findChild(QTimer, "gc-on-ui-thread")
        assert timer.isActive() and timer.interval() == GC_INTERVAL_MS

        class Node:
            pass

        cycle = Node()
        cycle.me = cycle
        freed = weakref.ref(cycle)
        del cycle
        assert freed() is not None  # a cycle waits for a collection
        timer.timeout.emit()
        assert freed() is None
    finally:
        window.close()
        core.close()


def test_a_blocking_core_call_leaves_the_window_responsive(qtbot, tmp_path):
    """The gateway runs the call on its worker: the UI thread keeps painting and handling events meanwhile, whether
    the call waits (a card or the network) or computes in Python."""
    from terminal_agent.ui.app import build_main_window

    core = TerminalCore("http://127.0.0.1:9", data_dir=tmp_path, readers=InProcessReaderProvider(None), use_keyring=False)
    window = build_main_window(core)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)

    def waits() -> str:
        time.sleep(0.6)
        return "waited"

    def computes() -> int:
        deadline, total = time.monotonic() + 0.6, 0
        while time.monotonic() < deadline:
            total += sum(range(1000))
        return total

    for call in (waits, computes):
        done: list[object] = []
        ticks.clear()
        window.gateway.run(call, on_done=done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=10000)  # noqa: B023 - waited for inside the loop
        gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
        assert len(ticks) >= 20, f"{call.__name__}: the UI thread handled {len(ticks)} timer events in 0.6 s"
        assert max(gaps) < 0.2, f"{call.__name__}: the UI thread stalled {max(gaps):.3f} s"
    timer.stop()
    window.close()
    core.close()


def test_core_calls_through_the_gateway_keep_every_reference(qapp):
    """Results cross from the worker to the UI thread without PySide marshalling them: True, False and None (what
    login, verify_passcode and most setters return) keep their reference counts however many calls are made."""
    from terminal_agent.ui.gateway import CoreGateway

    gateway = CoreGateway(None)  # type: ignore[arg-type] - only run() is used
    calls = 500
    for value in (True, False, None):
        gc.collect()  # what earlier tests left is collected now, not while counting
        before = sys.getrefcount(value)
        answers: list[object] = []
        for _ in range(calls):
            gateway.run(lambda v=value: v, on_done=answers.append)
        deadline = time.monotonic() + 20
        while len(answers) < calls and time.monotonic() < deadline:  # a bare event loop: nothing else counted
            loop = QEventLoop()
            QTimer.singleShot(5, loop.quit)
            loop.exec()
        assert len(answers) == calls
        answers.clear()
        # one reference lost per call would show as -500; other objects of the process move it by a few
        assert sys.getrefcount(value) - before > -calls // 10, f"{value!r} lost references through the gateway"


def test_signal_emits_keep_the_reference_count_of_true():
    """PySide6 6.12.0 dropped a reference to True on every ``emit`` from Python: on Python 3.11 a few thousand emits
    aborted the interpreter (pyproject.toml keeps PySide6 below 6.12). Run in a child, which such a binding kills."""
    code = (
        "import sys\n"
        "from PySide6.QtCore import QObject, Signal\n"
        "class Relay(QObject):\n"
        "    ticket = Signal(int)\n"
        "relay = Relay()\n"
        "before = sys.getrefcount(True)\n"
        "for _ in range(5000):\n"
        "    relay.ticket.emit(1)\n"
        "print(sys.getrefcount(True) - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-1000:]
    assert abs(int(done.stdout.strip())) <= 2
