"""vicc side of the vsmartcard vpcd protocol: puts a `VirtualCard` behind the real pcscd.

vpcd (pcscd's driver) listens on TCP 35963 (slot `Virtual PCD 00 00`) / 35964 (`00 01`); we connect to it.
Frames both ways: 2-byte big-endian length + payload. 1-byte payloads are control codes: 00 power off,
01 power on, 02 reset (never answered — an extra frame desynchronises vpcd), 04 get ATR (answer the ATR).
Longer payloads are C-APDUs, answered with the R-APDU. Closing the socket = card removed.
vpcd writes each frame in two sends; without TCP_QUICKACK re-armed before every recv an APDU costs ~44 ms.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading

from .card import VirtualCard, VirtualCardRemoved

log = logging.getLogger("terminal_agent.card.vpcd")

CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04


class _Closed(Exception):
    pass


def _quickack(sock: socket.socket) -> None:
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        _quickack(sock)
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise _Closed()
        buf += chunk
    return bytes(buf)


class VpcdClient:
    """Connects `card` to vpcd at host:port and serves it; reconnects when vpcd/pcscd goes away.

    `remove()` takes the card out of the reader (closes the socket and stays away); `insert()` puts it back.
    """

    def __init__(self, card: VirtualCard, host: str = "127.0.0.1", port: int = 35963,
                 retry_interval: float = 0.2) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.retry_interval = retry_interval
        self.connected = threading.Event()
        self._inserted = threading.Event()
        self._inserted.set()
        self._stop = threading.Event()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._sock_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VpcdClient({self.host}:{self.port}, connected={self.connected.is_set()})"

    # -- control --------------------------------------------------------------------------------------------
    def start(self) -> VpcdClient:
        self._thread = threading.Thread(target=self.serve_forever, name=f"vicc-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._inserted.set()
        self._close_socket()
        if self._thread is not None:
            self._thread.join(5)

    def remove(self) -> None:
        self._inserted.clear()
        self.card.remove()
        self._close_socket()

    def insert(self) -> None:
        self.card.reinsert()
        self._inserted.set()

    def _close_socket(self) -> None:
        with self._sock_lock:
            sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self.connected.clear()

    # -- loop -----------------------------------------------------------------------------------------------
    def serve_forever(self) -> None:
        while not self._stop.is_set():
            self._inserted.wait()
            if self._stop.is_set():
                break
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2)
            except OSError:
                self._stop.wait(self.retry_interval)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._sock_lock:
                self._socket = sock
            self.connected.set()
            log.info("virtual card connected to vpcd %s:%s", self.host, self.port)
            try:
                self._serve(sock)
            except (_Closed, OSError):
                pass
            finally:
                self._close_socket()
                if self.card.removed:
                    self._inserted.clear()  # fault injection took the card out: stay out until insert()
                log.info("virtual card disconnected from vpcd")
            self._stop.wait(self.retry_interval)

    def _serve(self, sock: socket.socket) -> None:
        while True:
            (length,) = struct.unpack("!H", _recv_exact(sock, 2))
            payload = _recv_exact(sock, length) if length else b""
            if length == 1:
                code = payload[0]
                if code == CTRL_GET_ATR:
                    self._send(sock, bytes(self.card.atr))
                elif code == CTRL_POWER_OFF:
                    self.card.power_off()
                elif code == CTRL_POWER_ON:
                    self.card.power_on()
                elif code == CTRL_RESET:
                    self.card.reset()
                continue  # unknown control codes: no answer either
            if length == 0:
                continue
            try:
                response = self.card.transmit_raw(payload)
            except VirtualCardRemoved:
                return  # closing the socket is how vpcd learns the card left
            self._send(sock, response)

    @staticmethod
    def _send(sock: socket.socket, payload: bytes) -> None:
        sock.sendall(struct.pack("!H", len(payload)) + payload)
