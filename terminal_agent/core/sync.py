"""The sync relay (S06, T30): pushes outbox results to the clinic server until each one is acknowledged.

Results carry the terminal-made UUID, so resending after a lost answer is harmless (the server says ``duplicate``).
Failed attempts back off exponentially with jitter so that many tablets coming back online do not all retry at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from terminal_agent.core.api_client import ApiClient, ApiFailure
from terminal_agent.core.loop import BackgroundLoop
from terminal_agent.core.store import LocalStore

log = logging.getLogger(__name__)

BATCH_LIMIT = 500


@dataclass
class SyncReport:
    stored: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    error: ApiFailure | None = None
    pending: int = 0

    @property
    def delivered(self) -> int:
        return len(self.stored) + len(self.duplicate)


class SyncRelay:
    def __init__(
        self,
        store: LocalStore,
        api: ApiClient,
        *,
        base_delay: float = 2.0,
        max_delay: float = 300.0,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        on_deregistered: Callable[[], None] | None = None,
        on_round: Callable[[SyncReport], None] | None = None,
    ):
        self.on_deregistered = on_deregistered  # S03: a retired/deregistered device stops relaying
        self.on_round = on_round  # T30: the status strip's count of results waiting
        self.store = store
        self.api = api
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self.rng = rng
        self._lock = threading.Lock()  # one push at a time, whichever thread asks
        self._interval = 30.0
        self.loop = BackgroundLoop("result-sync", self._round, lambda: self._interval)

    def backoff_delay(self, attempts: int) -> float:
        """Equal jitter: half the exponential step fixed, half random, capped at ``max_delay``."""
        step = min(self.max_delay, self.base_delay * (2 ** min(attempts, 30)))
        return step / 2 + self.rng() * step / 2

    def sync_once(self) -> SyncReport:
        report = SyncReport()
        with self._lock:
            items = self.store.due_outbox(self.clock(), BATCH_LIMIT)
            if items:
                payload = [{"id": i.id, "checked_at": i.checked_at, "result": i.document} for i in items]
                try:
                    answer = self.api.post_results(payload)
                except ApiFailure as failure:
                    report.error = failure
                    attempts = min(i.attempts for i in items)
                    self.store.postpone([i.id for i in items], self.clock() + self.backoff_delay(attempts), failure.code)
                    log.info("sync postponed for %d results: %s", len(items), failure.code)
                    if failure.means_deregistered and self.on_deregistered is not None:
                        self.on_deregistered()
                else:
                    self._apply(answer, items, report)
            report.pending = self.store.pending_count()
        if items and self.on_round is not None:
            self.on_round(report)
        return report

    def resume(self) -> None:
        """The server answers again (T30): what waits is due now, and the background loop sends it at once."""
        self.store.retry_now()
        self.poke()

    def _apply(self, answer: dict, items: list, report: SyncReport) -> None:
        by_id = {entry.get("id"): entry for entry in answer.get("items", []) if isinstance(entry, dict)}
        acked: list[str] = []
        unanswered: list[str] = []
        for item in items:
            entry = by_id.get(item.id)
            status = entry.get("status") if entry else None
            if status in ("stored", "duplicate"):
                acked.append(item.id)
                (report.stored if status == "stored" else report.duplicate).append(item.id)
            elif status == "rejected":
                error = entry.get("error") or {}
                self.store.mark_rejected(item.id, str(error.get("code", "rejected")))
                report.rejected.append(item.id)
                log.warning("server rejected result %s: %s", item.id, error.get("code"))
            else:
                unanswered.append(item.id)
        self.store.acknowledge(acked)
        if unanswered:
            self.store.postpone(unanswered, self.clock() + self.backoff_delay(1), "no_answer")

    # --- background loop ------------------------------------------------------------------------------------------
    def start_background(self, interval: float = 30.0) -> None:
        """A daemon thread that pushes whenever results are due; ``poke()`` wakes it after a new check."""
        self._interval = interval
        self.loop.start()

    def _round(self) -> None:
        if self.store.pending_count():
            self.sync_once()

    def poke(self) -> None:
        self.loop.poke()

    def stop(self, timeout: float = 5.0) -> None:
        self.loop.stop(timeout)
