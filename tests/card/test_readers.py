"""In-process reader and the card monitor (no pcscd needed)."""

from __future__ import annotations

import queue

import pytest

from terminal_agent.card import errors
from terminal_agent.card.readers import CardMonitor, InProcessReader, MonitorEvent, MultiBackend

from .conftest import wait_for


def drain(monitor: CardMonitor, until: str, timeout: float = 3.0) -> list[MonitorEvent]:
    seen: list[MonitorEvent] = []
    while True:
        try:
            event = monitor.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {until!r} event; saw {seen}") from None
        seen.append(event)
        if event.kind == until:
            return seen


def test_reader_bound_by_name(card):
    reader_a = InProcessReader("ACS ACR39U 00 00", None)
    reader_b = InProcessReader("ACS ACR39U 01 00", card)
    backend = MultiBackend(reader_a, reader_b)
    assert backend.list_readers() == ["ACS ACR39U 00 00", "ACS ACR39U 01 00"]
    connection = backend.connect("ACS ACR39U 01 00", timeout=0.1)
    assert connection.reader_name == "ACS ACR39U 01 00"
    with pytest.raises(errors.NoCard):
        backend.connect("ACS ACR39U 00 00", timeout=0.05)
    with pytest.raises(errors.NoReader):
        backend.connect("ACS ACR39U 02 00", timeout=0.05)


def test_connect_waits_for_a_card(card):
    import threading

    reader = InProcessReader("R", None)
    threading.Timer(0.1, reader.insert, args=(card,)).start()
    connection = reader.connect("R", timeout=2)
    assert connection.atr == bytes(card.atr)


def test_monitor_reports_initial_card_then_changes(card, make_card):
    reader = InProcessReader("R", card)
    with CardMonitor(reader, interval=0.05) as monitor:
        events = drain(monitor, "card_inserted")  # initial event for a card already there (pyscard #231)
        assert [e.kind for e in events] == ["reader_added", "card_inserted"]
        assert events[-1].atr == bytes(card.atr)
        reader.remove()
        drain(monitor, "card_removed")
        reader.insert(make_card("iphone"))
        assert drain(monitor, "card_inserted")[-1].atr == bytes.fromhex("3B80800101")
        reader.unplug()
        kinds = [e.kind for e in drain(monitor, "reader_removed")]
        assert "card_removed" in kinds
        reader.plug()
        drain(monitor, "reader_added")
        assert wait_for(lambda: monitor.snapshot()["R"].card_present)
        assert monitor.alive


def test_monitor_survives_backend_failures(card):
    class Flaky:
        """A backend whose service goes away and comes back, and which sometimes throws anything at all."""

        def __init__(self):
            self.inner = InProcessReader("R", card)
            self.mode = "up"

        def reader_states(self):
            if self.mode == "down":
                raise errors.NoService()
            if self.mode == "broken":
                raise RuntimeError("driver exploded")
            return self.inner.reader_states()

        def wait_for_change(self, timeout):
            self.inner.wait_for_change(timeout)

        def list_readers(self):
            return self.inner.list_readers()

        def connect(self, name, timeout=5.0):
            return self.inner.connect(name, timeout)

    backend = Flaky()
    with CardMonitor(backend, interval=0.02) as monitor:
        drain(monitor, "card_inserted")
        backend.mode = "down"
        kinds = [e.kind for e in drain(monitor, "service_lost")]
        assert kinds == ["card_removed", "reader_removed", "service_lost"]
        backend.mode = "broken"
        assert wait_for(lambda: monitor.alive, 0.2)
        backend.mode = "up"
        kinds = [e.kind for e in drain(monitor, "card_inserted")]
        assert kinds == ["service_restored", "reader_added", "card_inserted"]
        assert monitor.alive


def test_monitor_callback_errors_do_not_kill_it(card):
    calls = []

    def callback(event):
        calls.append(event)
        raise ValueError("UI bug")

    reader = InProcessReader("R", card)
    with CardMonitor(reader, on_event=callback, interval=0.02) as monitor:
        drain(monitor, "card_inserted")
        reader.remove()
        drain(monitor, "card_removed")
        assert monitor.alive and len(calls) >= 3


def test_open_card_helper(card):
    from terminal_agent.card import open_card

    reader = InProcessReader("Demo Reader", card)
    with open_card(reader, "Demo Reader", timeout=0.1) as jpki:
        jpki.select_ap()
        assert jpki.token_kind() == "card"


def test_card_layer_imports_neither_qt_nor_django():
    import subprocess
    import sys

    code = (
        "import sys, terminal_agent.card, terminal_agent.card.virtual, terminal_agent.card.virtual.__main__;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'django', 'rest_framework')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    from .conftest import REPO

    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_in_process_connection_has_pyscard_shape(card):
    connection = InProcessReader("R", card).connect("R", timeout=0.1)
    assert connection.getATR() == list(card.atr) and connection.getReader() == "R"
    data, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x0C, 0x0A, *bytes.fromhex("D392F000260100000001")])
    assert (data, sw1, sw2) == ([], 0x90, 0x00)
