"""One daemon thread that repeats a piece of work: every ``interval()`` seconds, or at once when poked.

The sync relay (S06) and the connectivity probe (T30) each run one; a round that raises is logged and the loop goes
on, so a bad answer never stops the terminal from relaying or probing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundLoop:
    def __init__(self, name: str, work: Callable[[], None], interval: Callable[[], float]):
        self.name = name
        self.work = work
        self.interval = interval  # asked after every round: the probe waits longer while online
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.alive:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.work()
            except Exception:  # keep going whatever one round did; the cause is logged
                log.exception("%s round failed", self.name)
            self._wake.wait(self.interval())
            self._wake.clear()

    def poke(self) -> None:
        """The next round now, not after the interval."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None
