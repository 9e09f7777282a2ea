"""The one gateway between screens and the headless core (like Anki's TaskManager/QueryOp).

Core calls may block on the network or the card reader, so they run on a worker thread; their result or exception
comes back to the UI thread through a queued signal and is handed to the screen's callback there.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Relay(QObject):
    finished = Signal(int, object, object)  # ticket, result, exception


class _Job(QRunnable):
    def __init__(self, ticket: int, call: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.ticket, self.call, self.relay = ticket, call, relay

    def run(self) -> None:
        try:
            result, error = self.call(), None
        except Exception as exc:  # handed to the screen's on_error on the UI thread
            result, error = None, exc
        self.relay.finished.emit(self.ticket, result, error)


class CoreGateway(QObject):
    """``gateway.run(core.register, form, on_done=..., on_error=...)``; ``busy`` tells screens to disable input."""

    busy = Signal(bool)

    def __init__(self, core: Any, parent: QObject | None = None):
        super().__init__(parent)
        self.core = core
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._deliver)
        self._tickets = itertools.count(1)
        self._pending: dict[int, tuple[Callable | None, Callable | None]] = {}

    @property
    def running(self) -> int:
        return len(self._pending)

    def run(
        self,
        call: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        **kwargs: Any,
    ) -> int:
        ticket = next(self._tickets)
        self._pending[ticket] = (on_done, on_error)
        if len(self._pending) == 1:
            self.busy.emit(True)
        self._pool.start(_Job(ticket, lambda: call(*args, **kwargs), self._relay))
        return ticket

    def _deliver(self, ticket: int, result: Any, error: Exception | None) -> None:
        on_done, on_error = self._pending.pop(ticket, (None, None))
        if not self._pending:
            self.busy.emit(False)
        if error is not None:
            if on_error is None:
                log.error("core call failed without a handler: %s", type(error).__name__)
            else:
                on_error(error)
        elif on_done is not None:
            on_done(result)

    def wait_idle(self, msecs: int = 30000) -> bool:
        return self._pool.waitForDone(msecs)
