"""Online or offline (T30): learned from every call the terminal makes and from a probe on a background thread.

Every ``ApiClient`` call reports whether the server answered at all (``report``), so a failed check or sync turns the
state offline at once. The probe keeps the state fresh between calls: every ``online_interval`` seconds while online
(the signed heartbeat when registered and due, else the unsigned ping) and every ``offline_interval`` seconds while
offline, so that the terminal notices within seconds that the server is back and can send what waits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from terminal_agent.core.loop import BackgroundLoop

log = logging.getLogger(__name__)

ONLINE_INTERVAL = 10.0
OFFLINE_INTERVAL = 2.0


class Connectivity:
    def __init__(
        self,
        probe: Callable[[], None],
        *,
        online_interval: float = ONLINE_INTERVAL,
        offline_interval: float = OFFLINE_INTERVAL,
    ):
        self.probe = probe  # one call to the server; raises when it is not reachable
        self.online_interval = online_interval
        self.offline_interval = offline_interval
        self._online: bool | None = None  # None until the first call or probe
        self._listeners: list[Callable[[bool], None]] = []
        self._lock = threading.Lock()
        self.loop = BackgroundLoop(
            "connectivity", self.probe_now, lambda: self.online_interval if self._online else self.offline_interval
        )

    @property
    def online(self) -> bool | None:
        return self._online

    @property
    def offline(self) -> bool:
        return self._online is False

    def add_listener(self, listener: Callable[[bool], None]) -> None:
        """``listener(online)`` on every change, from whichever thread learned it."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[bool], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def report(self, answered: bool) -> None:
        with self._lock:
            changed = self._online is not answered
            self._online = answered
            listeners = list(self._listeners) if changed else []
        if changed:
            log.info("server %s", "reachable" if answered else "unreachable")
            self.loop.poke()  # the probe switches interval
        for listener in listeners:
            try:
                listener(answered)
            except Exception:  # a listener's fault must not stop the state from spreading
                log.exception("connectivity listener failed")

    def probe_now(self) -> bool:
        """One probe on this thread; the result is reported like any call's (the client reports it)."""
        try:
            self.probe()
        except Exception as exc:  # ApiFailure for the network; anything else also means "not usable now"
            log.debug("probe failed: %s", type(exc).__name__)
        return bool(self._online)

    # --- background -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.loop.stop(timeout)
