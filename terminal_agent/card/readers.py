"""Card readers: PC/SC through pyscard's low-level `scard` module, and an in-process reader for tests/the demo.

Both offer the `ReaderBackend` protocol, so the terminal core does not care which one it holds. Readers are always
bound by name (PC/SC list order changes; names carry `00 00`/`01 00` suffixes).

`CardMonitor` watches readers and cards with events *and* polling, and survives pcscd restarts and reader removal
(pyscard's own monitor thread dies on both: pyscard issues #82, #87; it also gives no initial event, #231).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Protocol

from . import errors

log = logging.getLogger("terminal_agent.card.readers")

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_TRANSMIT_TIMEOUT = 10.0


@dataclass(frozen=True)
class ReaderState:
    name: str
    card_present: bool
    atr: bytes = b""


class CardConnection(Protocol):
    reader_name: str
    atr: bytes

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]: ...

    def disconnect(self) -> None: ...


class ReaderBackend(Protocol):
    def list_readers(self) -> list[str]: ...

    def connect(self, name: str, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> CardConnection: ...

    def reader_states(self) -> dict[str, ReaderState]: ...

    def wait_for_change(self, timeout: float) -> None: ...


# ---------------------------------------------------------------------------------------------------------------
# PC/SC
# ---------------------------------------------------------------------------------------------------------------
def _scard():  # imported lazily so that the in-process reader works without pyscard
    from smartcard import scard

    return scard


def _hr(value: int) -> int:
    return value & 0xFFFFFFFF


_NO_SERVICE = {0x8010001D, 0x8010001E, 0x80100003}  # no service, service stopped, invalid (stale) context
_CARD_GONE = {0x8010000C, 0x80100069, 0x80100068, 0x80100067, 0x80100066, 0x8010002F, 0x80100013, 0x80100016}
_READER_GONE = {0x80100017, 0x80100009}
PNP_NOTIFICATION = "\\\\?PnP?\\Notification"


def _error_for(hresult: int, *, during_transmit: bool = False) -> errors.CardError:
    hresult = _hr(hresult)
    if hresult in _NO_SERVICE:
        return errors.CardRemoved() if during_transmit and hresult == 0x80100003 else errors.NoService()
    if hresult in _READER_GONE:
        return errors.ReaderRemoved() if during_transmit else errors.NoReader()
    if hresult in _CARD_GONE:
        return errors.CardRemoved() if during_transmit else errors.NoCard()
    if hresult == 0x8010000A:
        return errors.CardTimeout()
    if hresult == 0x8010000B:  # another program holds the card exclusively
        return errors.CardError("カードリーダーを他のアプリが使用中です。しばらくしてから、もう一度お試しください。")
    return errors.CardError()


class _DaemonWorker:
    """One daemon thread running calls in order. Unlike ThreadPoolExecutor's workers it never blocks interpreter
    exit, so a card that never answers (vpcd's receive has no timeout) cannot hang the app on quit."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def _loop(self) -> None:
        while True:
            item = self._calls.get()
            if item is None:
                return
            future, function, args = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(*args))
                except BaseException as exc:
                    future.set_exception(exc)
            # Drop our references: the bound method would keep its connection (and PC/SC handles) alive.
            item = future = function = args = None

    def submit(self, function: Callable, *args: object) -> Future:
        future: Future = Future()
        self._calls.put((future, function, args))
        return future

    def shutdown(self) -> None:
        self._calls.put(None)


class PcscConnection:
    """One SCardConnect'ed card. `transmit` runs on a worker thread so that a mute card cannot freeze the UI."""

    def __init__(self, context: int, handle: int, protocol: int, reader_name: str, atr: bytes,
                 transmit_timeout: float) -> None:
        self._context = context
        self._handle = handle
        self._protocol = protocol
        self.reader_name = reader_name
        self.atr = atr
        self.transmit_timeout = transmit_timeout
        self._worker = _DaemonWorker(f"pcsc-transmit {reader_name}")
        self._broken = False
        self._closed = False

    def __del__(self) -> None:
        # pcsc-lite allows few contexts per process: a caller that forgets disconnect() must not exhaust them.
        with contextlib.suppress(Exception):
            self.disconnect()

    def __repr__(self) -> str:
        return f"PcscConnection(reader={self.reader_name!r})"

    def _raw_transmit(self, apdu: list[int]) -> tuple[int, list[int]]:
        return _scard().SCardTransmit(self._handle, self._protocol, apdu)

    def getATR(self) -> list[int]:  # noqa: N802 - pyscard CardConnection name
        return list(self.atr)

    def getReader(self) -> str:  # noqa: N802 - pyscard CardConnection name
        return self.reader_name

    def transmit(self, apdu: list[int], protocol: int | None = None) -> tuple[list[int], int, int]:
        if self._broken or self._closed:
            raise errors.CardRemoved()
        future = self._worker.submit(self._raw_transmit, list(apdu))
        try:
            hresult, response = future.result(timeout=self.transmit_timeout)
        except FutureTimeout:
            self._broken = True
            raise errors.CardTimeout() from None
        if _hr(hresult) != 0:
            self._broken = True
            raise _error_for(hresult, during_transmit=True)
        if not response:  # pcsc-lite + vpcd: the card left while the APDU was in flight
            self._broken = True
            raise errors.CardRemoved()
        if len(response) < 2:
            raise errors.CardDataError()
        return list(response[:-2]), response[-2], response[-1]

    def disconnect(self) -> None:
        if self._closed:
            return
        self._closed = True
        scard = _scard()
        with contextlib.suppress(Exception):
            scard.SCardDisconnect(self._handle, scard.SCARD_LEAVE_CARD)
        with contextlib.suppress(Exception):
            scard.SCardReleaseContext(self._context)
        self._worker.shutdown()

    def __enter__(self) -> PcscConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()


class PcscBackend:
    """Readers through pcscd. Every call opens what it needs and maps PC/SC errors to `errors.CardError`."""

    def __init__(self, transmit_timeout: float = DEFAULT_TRANSMIT_TIMEOUT) -> None:
        self.transmit_timeout = transmit_timeout
        self._lock = threading.Lock()
        self._context: int | None = None
        self._wait_context: int | None = None

    def _establish(self) -> int:
        scard = _scard()
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if _hr(hresult) != 0:
            raise errors.NoService() if _hr(hresult) in _NO_SERVICE else _error_for(hresult)
        return context

    def _release(self, context: int | None) -> None:
        if context is not None:
            with contextlib.suppress(Exception):
                _scard().SCardReleaseContext(context)

    def _with_context(self, call: Callable[[int], tuple]) -> tuple:
        """Run `call(context)`; a stale context (pcscd restarted) is replaced once before giving up."""
        with self._lock:
            for attempt in (1, 2):
                if self._context is None:
                    self._context = self._establish()
                result = call(self._context)
                if _hr(result[0]) in _NO_SERVICE:
                    self._release(self._context)
                    self._context = None
                    if attempt == 2:
                        raise errors.NoService()
                    continue
                return result
        raise errors.NoService()

    def list_readers(self) -> list[str]:
        scard = _scard()
        hresult, readers = self._with_context(lambda ctx: scard.SCardListReaders(ctx, []))
        if _hr(hresult) in (0x8010002E, 0x80100009):  # no readers: an empty list, not an error
            return []
        if _hr(hresult) != 0:
            raise _error_for(hresult)
        return list(readers)

    def _states(self, context: int, names: Sequence[str], timeout_ms: int, known: dict[str, int] | None = None):
        scard = _scard()
        request = [(name, (known or {}).get(name, scard.SCARD_STATE_UNAWARE)) for name in names]
        return scard.SCardGetStatusChange(context, timeout_ms, request)

    def reader_states(self) -> dict[str, ReaderState]:
        names = self.list_readers()
        if not names:
            return {}
        hresult, states = self._with_context(lambda ctx: self._states(ctx, names, 0))
        if _hr(hresult) in _READER_GONE:
            return {}  # a reader vanished between the two calls; the next poll sees the new list
        if _hr(hresult) not in (0, 0x8010000A):
            raise _error_for(hresult)
        return {name: self._to_state(name, event, atr) for name, event, atr in states}

    @staticmethod
    def _to_state(name: str, event: int, atr: Sequence[int]) -> ReaderState:
        scard = _scard()
        present = bool(event & scard.SCARD_STATE_PRESENT) and not event & scard.SCARD_STATE_MUTE
        return ReaderState(name, present, bytes(atr) if present else b"")

    def wait_for_change(self, timeout: float) -> None:
        """Block until a reader or card changes, or `timeout` passes. Raises NoService when pcscd is gone."""
        scard = _scard()
        if self._wait_context is None:
            self._wait_context = self._establish()
        context = self._wait_context
        names = [PNP_NOTIFICATION]
        hresult, readers = scard.SCardListReaders(context, [])
        if _hr(hresult) == 0:
            names += list(readers)
        elif _hr(hresult) in _NO_SERVICE:
            self._release(context)
            self._wait_context = None
            raise errors.NoService()
        hresult, current = self._states(context, names, 0)
        if _hr(hresult) in _NO_SERVICE:
            self._release(context)
            self._wait_context = None
            raise errors.NoService()
        if _hr(hresult) not in (0, 0x8010000A):
            time.sleep(timeout)
            return
        known = {name: event & ~scard.SCARD_STATE_CHANGED for name, event, _ in current}
        hresult, _ = self._states(context, names, max(1, int(timeout * 1000)), known)
        if _hr(hresult) in _NO_SERVICE:
            self._release(context)
            self._wait_context = None
            raise errors.NoService()

    def connect(self, name: str, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> PcscConnection:
        """Connect to the card in reader `name`, waiting up to `timeout` seconds for a card to be put there."""
        scard = _scard()
        if name not in self.list_readers():
            raise errors.NoReader()
        context = self._establish()
        try:
            deadline = time.monotonic() + timeout
            known: dict[str, int] | None = None
            while True:
                remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
                hresult, states = self._states(context, [name], 0 if known is None else remaining_ms, known)
                if _hr(hresult) == 0x8010000A:
                    raise errors.NoCard()
                if _hr(hresult) != 0:
                    raise _error_for(hresult)
                _, event, _atr = states[0]
                if event & scard.SCARD_STATE_UNKNOWN or event & scard.SCARD_STATE_UNAVAILABLE:
                    raise errors.NoReader()
                if event & scard.SCARD_STATE_PRESENT and not event & scard.SCARD_STATE_MUTE:
                    break
                if time.monotonic() >= deadline:
                    raise errors.NoCard()
                known = {name: event & ~scard.SCARD_STATE_CHANGED}
            hresult, handle, protocol = scard.SCardConnect(
                context, name, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
            )
            if _hr(hresult) != 0:
                raise _error_for(hresult)
            hresult, _reader, _state, _proto, atr = scard.SCardStatus(handle)
            atr_bytes = bytes(atr) if _hr(hresult) == 0 else b""
            return PcscConnection(context, handle, protocol, name, atr_bytes, self.transmit_timeout)
        except BaseException:
            self._release(context)
            raise

    def close(self) -> None:
        with self._lock:
            self._release(self._context)
            self._context = None
        self._release(self._wait_context)
        self._wait_context = None


# ---------------------------------------------------------------------------------------------------------------
# In-process reader (tests, demo)
# ---------------------------------------------------------------------------------------------------------------
class InProcessConnection:
    def __init__(self, reader: InProcessReader, card) -> None:
        self._reader = reader
        self._card = card
        self.reader_name = reader.name
        self.atr = bytes(card.atr)
        self._closed = False

    def __repr__(self) -> str:
        return f"InProcessConnection(reader={self.reader_name!r})"

    def getATR(self) -> list[int]:  # noqa: N802 - pyscard CardConnection name
        return list(self.atr)

    def getReader(self) -> str:  # noqa: N802 - pyscard CardConnection name
        return self.reader_name

    def transmit(self, apdu: list[int], protocol: int | None = None) -> tuple[list[int], int, int]:
        from .virtual.card import VirtualCardRemoved

        if not self._reader.plugged:
            raise errors.ReaderRemoved()
        if self._closed or self._reader.card is not self._card:
            raise errors.CardRemoved()
        try:
            response = self._card.transmit_raw(bytes(apdu))
        except VirtualCardRemoved:
            self._reader._card_left(self._card)
            raise errors.CardRemoved() from None
        if len(response) < 2:
            raise errors.CardDataError()
        return list(response[:-2]), response[-2], response[-1]

    def disconnect(self) -> None:
        self._closed = True

    def __enter__(self) -> InProcessConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()


class InProcessReader:
    """A reader holding a `VirtualCard` in this process. Implements `ReaderBackend` for its single reader."""

    def __init__(self, name: str = "Virtual In-Process Reader 00 00", card=None) -> None:
        self.name = name
        self.card = card
        self.plugged = True
        self._changed = threading.Condition()
        if card is not None:
            card.power_on()

    def __repr__(self) -> str:
        return f"InProcessReader({self.name!r}, card={self.card!r})"

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def insert(self, card) -> None:
        if card.removed:
            card.reinsert()
        card.power_on()
        self.card = card
        self._notify()

    def remove(self) -> None:
        if self.card is not None:
            self.card.remove()
        self.card = None
        self._notify()

    def unplug(self) -> None:
        """The reader's cable is pulled: it leaves the reader list."""
        self.plugged = False
        self._notify()

    def plug(self) -> None:
        self.plugged = True
        self._notify()

    def _card_left(self, card) -> None:
        if self.card is card:
            self.card = None
            self._notify()

    def list_readers(self) -> list[str]:
        return [self.name] if self.plugged else []

    def reader_states(self) -> dict[str, ReaderState]:
        if not self.plugged:
            return {}
        card = self.card
        present = card is not None and not card.removed
        return {self.name: ReaderState(self.name, present, bytes(card.atr) if present else b"")}

    def wait_for_change(self, timeout: float) -> None:
        with self._changed:
            self._changed.wait(timeout)

    def connect(self, name: str, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> InProcessConnection:
        if name != self.name or not self.plugged:
            raise errors.NoReader()
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.card is None or self.card.removed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise errors.NoCard()
                self._changed.wait(remaining)
                if not self.plugged:
                    raise errors.ReaderRemoved()
        return InProcessConnection(self, self.card)


class MultiBackend:
    """Several backends as one (e.g. two in-process readers, or PC/SC plus a demo reader)."""

    def __init__(self, *backends: ReaderBackend) -> None:
        self.backends = backends

    def list_readers(self) -> list[str]:
        return [name for backend in self.backends for name in backend.list_readers()]

    def reader_states(self) -> dict[str, ReaderState]:
        states: dict[str, ReaderState] = {}
        for backend in self.backends:
            states.update(backend.reader_states())
        return states

    def wait_for_change(self, timeout: float) -> None:
        # Polling is enough here: the monitor also polls; a short sleep keeps every backend covered.
        time.sleep(min(timeout, 0.1))

    def connect(self, name: str, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> CardConnection:
        for backend in self.backends:
            if name in backend.list_readers():
                return backend.connect(name, timeout)
        raise errors.NoReader()


# ---------------------------------------------------------------------------------------------------------------
# Monitor
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MonitorEvent:
    kind: str  # reader_added | reader_removed | card_inserted | card_removed | service_lost | service_restored
    reader: str = ""
    atr: bytes = b""


class CardMonitor:
    """Background thread that reports reader/card changes and never dies.

    It waits for PC/SC events with a short timeout *and* re-reads the full state every round, so a missed event
    (pyscard #220) only delays a report by one interval. The first round reports readers and cards that are already
    there. When pcscd goes away it reports `service_lost` (and every reader as removed), then keeps retrying.
    """

    def __init__(
        self,
        backend: ReaderBackend,
        on_event: Callable[[MonitorEvent], None] | None = None,
        interval: float = 0.5,
    ) -> None:
        self.backend = backend
        self.on_event = on_event
        self.interval = interval
        self.events: queue.Queue[MonitorEvent] = queue.Queue()
        self.service_up: bool | None = None
        self._states: dict[str, ReaderState] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, ReaderState]:
        with self._lock:
            return dict(self._states)

    def start(self) -> CardMonitor:
        self._thread = threading.Thread(target=self._run, name="card-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> CardMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _emit(self, event: MonitorEvent) -> None:
        self.events.put(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                log.exception("card monitor callback failed")

    def _apply(self, new: dict[str, ReaderState]) -> None:
        with self._lock:
            old, self._states = self._states, new
        for name, state in old.items():
            if name not in new:
                if state.card_present:
                    self._emit(MonitorEvent("card_removed", name))
                self._emit(MonitorEvent("reader_removed", name))
        for name, state in new.items():
            before = old.get(name)
            if before is None:
                self._emit(MonitorEvent("reader_added", name))
            was_present = before is not None and before.card_present
            if state.card_present and (not was_present or (before is not None and before.atr != state.atr)):
                if was_present:
                    self._emit(MonitorEvent("card_removed", name))
                self._emit(MonitorEvent("card_inserted", name, state.atr))
            elif was_present and not state.card_present:
                self._emit(MonitorEvent("card_removed", name))

    def poll_once(self) -> None:
        """One round: read the whole state and report differences (also used by tests)."""
        try:
            states = self.backend.reader_states()
        except errors.NoService:
            if self.service_up is not False:
                self.service_up = False
                self._apply({})
                self._emit(MonitorEvent("service_lost"))
            return
        if self.service_up is False:
            self._emit(MonitorEvent("service_restored"))
        self.service_up = True
        self._apply(states)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
                if self.service_up:
                    self.backend.wait_for_change(self.interval)
                else:
                    self._stop.wait(self.interval)
            except errors.NoService:
                self._stop.wait(self.interval)
            except Exception:  # the monitor must outlive anything pcscd or a driver throws at it
                log.exception("card monitor round failed; retrying")
                self._stop.wait(self.interval)
