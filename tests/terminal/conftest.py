"""Fixtures of the terminal tests: the shared ones of ``tests/terminal/fixtures.py`` (clinic, terminal, check, ui,
stub_window), and the switchable server of the T30 tests."""

from __future__ import annotations

import contextlib
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class ServerSwitch:
    """A TCP forwarder in front of the live server whose port can be closed and opened again (T30 tests).

    ``down()`` stops listening and cuts every open connection, so the terminal meets a refused connection as it
    would with the clinic server stopped; ``up()`` listens on the same port again. The live server and the machine's
    services are never touched.
    """

    def __init__(self, target_url: str):
        import socket
        import threading
        from urllib.parse import urlparse

        parsed = urlparse(target_url)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()

    def up(self) -> None:
        import socket
        import threading

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        import socket

        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = set(self._open), set()
        for sock in [listener, *sockets]:
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink) -> None:
        import socket

        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # shutdown first: close() alone neither wakes the other direction's thread blocked in recv() nor sends
            # the live server the FIN that ends its request thread (which would keep its database connection).
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)


@pytest.fixture
def server_switch(clinic):
    switch = ServerSwitch(clinic.url)
    switch.up()
    yield switch
    switch.down()
