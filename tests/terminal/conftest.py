"""Fixtures of the terminal tests. The live test seeds the real server through the other parts' own actions."""

from __future__ import annotations

import contextlib
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def sandbox_ca(tmp_path, settings):
    """A throwaway test JPKI CA for this test (the sandbox creates it on first use)."""
    settings.SANDBOX_CA_DIR = tmp_path / "sandbox-ca"
    return settings.SANDBOX_CA_DIR


@pytest.fixture
def clinic(transactional_db, live_server, sandbox_ca, tmp_path):
    """The demo institution, its app account, activation codes and the sandbox roster, on a live server."""
    from server.devices.actions import do_issue_activation_code
    from server.institutions.actions import do_create_app_account, do_create_institution
    from server.sandbox.demo import seed_demo_roster

    institution = do_create_institution(code="1311000010", name="しかく整骨院")
    do_create_app_account(institution, "clinic-admin", "Demo#Pass1")
    cards = {card.name: card for card in seed_demo_roster(tmp_path / "cards")}

    class Clinic:
        url = live_server.url
        account_id = "clinic-admin"
        password = "Demo#Pass1"
        institution_code = "1311000010"

        def __init__(self) -> None:
            self.institution = institution
            self.cards = cards

        def activation_code(self) -> str:
            return do_issue_activation_code(institution)[0]

        def virtual_card(self, name: str):
            from terminal_agent.card.virtual import VirtualCard, load_card_files

            card = self.cards[name]
            key, cert_der = load_card_files(card.key_path, card.cert_path)
            return VirtualCard(profile=card.profile, pin=card.pin, key=key, cert_der=cert_der)

    return Clinic()


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
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
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
