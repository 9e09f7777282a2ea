"""Child process for the pcscd-restart test: runs CardMonitor on PcscBackend and prints events as JSON lines.

A separate process because libpcsclite reads PCSCLITE_CSOCK_NAME once per process.
On every card_inserted it also reads the certificate, to show that the whole path recovered.
"""

from __future__ import annotations

import json
import sys
import threading

from terminal_agent.card.errors import CardError
from terminal_agent.card.jpki import JpkiCard
from terminal_agent.card.readers import CardMonitor, MonitorEvent, PcscBackend


def main() -> None:
    backend = PcscBackend(transmit_timeout=5)
    lock = threading.Lock()

    def emit(**fields) -> None:
        with lock:
            print(json.dumps(fields), flush=True)

    def on_event(event: MonitorEvent) -> None:
        emit(kind=event.kind, reader=event.reader)
        if event.kind == "card_inserted":
            try:
                with backend.connect(event.reader, timeout=3) as connection:
                    jpki = JpkiCard(connection)
                    jpki.select_ap()
                    emit(kind="cert_read", reader=event.reader, size=len(jpki.read_auth_certificate()))
            except CardError as exc:
                emit(kind="read_failed", reader=event.reader, code=exc.code)

    monitor = CardMonitor(backend, on_event=on_event, interval=0.2).start()
    sys.stdin.read()  # runs until the test closes stdin
    emit(kind="alive", value=monitor.alive)
    monitor.stop()


if __name__ == "__main__":
    main()
