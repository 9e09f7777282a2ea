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
from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
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

# The protocol and reader modules load cryptography and the PC/SC plumbing: they are imported on first use, so that
# ``from terminal_agent.card import errors`` (what the terminal needs to start) stays light (issue 12, start-up).
_LAZY = {
    "JpkiCard": "jpki",
    "CardMonitor": "readers",
    "InProcessReader": "readers",
    "MonitorEvent": "readers",
    "MultiBackend": "readers",
    "PcscBackend": "readers",
    "ReaderBackend": "readers",
    "ReaderState": "readers",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_LAZY[name]}", __name__), name)


@contextmanager
def open_card(backend: ReaderBackend, reader_name: str, timeout: float = 5.0) -> Iterator[JpkiCard]:
    """Connect to the card in `reader_name` (waiting up to `timeout` s for one) and disconnect afterwards."""
    from .jpki import JpkiCard  # lazily, like _LAZY

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
