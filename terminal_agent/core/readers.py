"""Where the card connection comes from, over the card layer's reader backends (``terminal_agent.card.readers``).

``PcscReaderProvider`` uses the real readers through pcscd; ``InProcessReaderProvider`` holds one virtual card in this
process (tests, demo). Both hand the core a connection with ``transmit(apdu) -> (data, sw1, sw2)``, the shape
``JpkiCard`` wants, and raise the card layer's typed errors (``NoReader``, ``NoCard``, ``NoService``…), each carrying
a Japanese message for the screen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from terminal_agent.card import errors

if TYPE_CHECKING:  # the reader layer itself is imported on first use (start-up: issue 12)
    from terminal_agent.card.readers import CardConnection, ReaderBackend

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0


class ReaderProvider(Protocol):
    def list_readers(self) -> list[str]: ...

    def connect(self, reader_name: str | None) -> CardConnection: ...


class BackendReaderProvider:
    """Adapts a ``ReaderBackend`` (PcscBackend, InProcessReader, MultiBackend) to the core's needs."""

    def __init__(self, backend: ReaderBackend, *, connect_timeout: float = CONNECT_TIMEOUT):
        self.backend = backend
        self.connect_timeout = connect_timeout

    def list_readers(self) -> list[str]:
        return self.backend.list_readers()

    def connect(self, reader_name: str | None) -> CardConnection:
        """The selected reader (T05); with none selected yet, the first one present."""
        names = self.backend.list_readers()
        if not names:
            raise errors.NoReader()
        name = reader_name if reader_name else names[0]
        if name not in names:
            raise errors.NoReader()  # the chosen reader was unplugged: say so rather than read another desk's card
        return self.backend.connect(name, timeout=self.connect_timeout)


class PcscReaderProvider(BackendReaderProvider):
    """The real PC/SC readers (C01)."""

    def __init__(self, *, connect_timeout: float = CONNECT_TIMEOUT):
        from terminal_agent.card.readers import PcscBackend

        super().__init__(PcscBackend(), connect_timeout=connect_timeout)


class InProcessReaderProvider(BackendReaderProvider):
    """One in-process reader holding a ``VirtualCard`` (or nothing); ``provider.card = other`` swaps the card."""

    def __init__(self, card: Any = None, *, connect_timeout: float = 0.5, simulate_biometric: bool = True):
        from terminal_agent.card.readers import InProcessReader

        super().__init__(InProcessReader(card=card), connect_timeout=connect_timeout)
        # The iPhone asks its owner for Face ID before it signs; the virtual phone "approves" when it is read.
        self.simulate_biometric = simulate_biometric

    @property
    def card(self) -> Any:
        return self.backend.card

    @card.setter
    def card(self, card: Any) -> None:
        if card is None:
            self.backend.remove()
        else:
            self.backend.insert(card)

    def connect(self, reader_name: str | None) -> CardConnection:
        connection = super().connect(reader_name)
        card = self.backend.card
        if self.simulate_biometric and getattr(card, "profile", "") == "iphone":
            card.approve_biometric()
        return connection


class ReaderWatch:
    """T05: the readers present now, reported again whenever one is plugged in or pulled out.

    Runs the card layer's ``CardMonitor`` (PC/SC events plus polling; survives pcscd restarts) on the provider's
    backend; ``on_change(names)`` is called from the monitor's thread, first with the readers present at start.
    """

    EVENTS = frozenset({"reader_added", "reader_removed", "service_lost", "service_restored"})

    def __init__(self, provider: ReaderProvider, on_change: Callable[[list[str]], None], *, interval: float = 0.5):
        from terminal_agent.card.readers import CardMonitor

        self.provider = provider
        self.on_change = on_change
        self.monitor = CardMonitor(getattr(provider, "backend", provider), on_event=self._event, interval=interval)

    def _event(self, event: Any) -> None:
        if event.kind in self.EVENTS:
            self.on_change(self.names())

    def names(self) -> list[str]:
        return sorted(self.monitor.snapshot())

    def start(self) -> ReaderWatch:
        """One round now (readers present are reported by it; with none, "none" is reported), then the thread."""
        try:
            self.monitor.poll_once()
        except Exception:  # the monitor's thread retries; the first report then says "none"
            log.exception("first reader poll failed")
        if not self.names():
            self.on_change([])
        self.monitor.start()
        return self

    def stop(self) -> None:
        self.monitor.stop()
