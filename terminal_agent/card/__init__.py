"""Card layer (C01–C04): PC/SC readers, the JPKI protocol and a virtual My Number card. No Qt, no Django.

Typical use in the terminal core::

    backend = PcscBackend()                      # or InProcessReader("Demo Reader", VirtualCard())
    with open_card(backend, reader_name) as card:
        card.select_ap()
        kind = card.token_kind()                 # "card" | "android" | "iphone"
        certificate, signature = card.prove(challenge, pin=pin)   # pin=None for the iPhone

Every failure is an `errors.CardError` subclass with a Japanese `message` for the screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import errors
from .jpki import JpkiCard
from .readers import (
    CardMonitor,
    InProcessReader,
    MonitorEvent,
    MultiBackend,
    PcscBackend,
    ReaderBackend,
    ReaderState,
)


@contextmanager
def open_card(backend: ReaderBackend, reader_name: str, timeout: float = 5.0) -> Iterator[JpkiCard]:
    """Connect to the card in `reader_name` (waiting up to `timeout` s for one) and disconnect afterwards."""
    connection = backend.connect(reader_name, timeout)
    try:
        yield JpkiCard(connection)
    finally:
        connection.disconnect()


__all__ = [
    "CardMonitor",
    "InProcessReader",
    "JpkiCard",
    "MonitorEvent",
    "MultiBackend",
    "PcscBackend",
    "ReaderBackend",
    "ReaderState",
    "errors",
    "open_card",
]
