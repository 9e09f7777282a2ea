"""Through the real pcscd with the vsmartcard vpcd driver (the virtual card speaks the vicc protocol)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from terminal_agent.card import errors
from terminal_agent.card.jpki import JpkiCard
from terminal_agent.card.readers import CardMonitor
from terminal_agent.card.virtual import Faults

from .conftest import PIN, REPO, VPCD_PORT, VPCD_READER, wait_for

pytestmark = pytest.mark.pcscd


def test_readers_listed_by_name(pcsc):
    names = pcsc.list_readers()
    assert "Virtual PCD 00 00" in names and "Virtual PCD 00 01" in names


def test_read_verify_sign_and_check_signature(pcsc, vpcd_card):
    card, _client = vpcd_card
    with pcsc.connect(VPCD_READER, timeout=5) as connection:
        assert connection.atr == bytes.fromhex("3BE000FF8131FE4514")
        jpki = JpkiCard(connection)
        jpki.select_ap()
        assert jpki.token_kind() == "card"
        assert jpki.pin_tries_left() == 3
        cert = jpki.read_auth_certificate()
        assert cert == card.cert_der
        jpki.verify_pin(PIN)
        signature = jpki.sign_digest_info(__import__("hashlib").sha256(b"nonce").digest())
        card.auth_public_key.verify(signature, b"nonce", padding.PKCS1v15(), hashes.SHA256())
        cert2, signature2 = jpki.prove(b"other nonce", pin=PIN)
        assert cert2 == cert


def test_wrong_pin_over_pcsc(pcsc, vpcd_card):
    with pcsc.connect(VPCD_READER) as connection:
        jpki = JpkiCard(connection)
        jpki.select_ap()
        with pytest.raises(errors.WrongPin) as info:
            jpki.verify_pin("0000")
        assert info.value.tries_left == 2
        jpki.verify_pin(PIN)
        assert jpki.pin_tries_left() == 3


def test_card_removed_mid_read(pcsc, make_card):
    from terminal_agent.card.virtual.vpcd import VpcdClient

    card = make_card(faults=Faults(remove_after=5))  # select AP, select EF, 2 reads, then gone
    client = VpcdClient(card, "127.0.0.1", VPCD_PORT).start()
    try:
        assert wait_for(lambda: pcsc.reader_states()[VPCD_READER].card_present)
        connection = pcsc.connect(VPCD_READER)
        jpki = JpkiCard(connection)
        jpki.select_ap()
        with pytest.raises(errors.CardRemoved):
            jpki.read_auth_certificate()
        connection.disconnect()
        assert wait_for(lambda: not pcsc.reader_states()[VPCD_READER].card_present)
        with pytest.raises(errors.NoCard):
            pcsc.connect(VPCD_READER, timeout=0.3)
        client.insert()  # put it back: reading works again
        with pcsc.connect(VPCD_READER, timeout=5) as connection:
            jpki = JpkiCard(connection)
            jpki.select_ap()
            assert jpki.read_auth_certificate() == card.cert_der
    finally:
        client.stop()


def test_unknown_reader_and_empty_reader(pcsc):
    with pytest.raises(errors.NoReader):
        pcsc.connect("No Such Reader 00 00", timeout=0.1)
    other = "Virtual PCD 00 00" if VPCD_READER.endswith("01") else "Virtual PCD 00 01"
    if not pcsc.reader_states()[other].card_present:
        started = time.monotonic()
        with pytest.raises(errors.NoCard):
            pcsc.connect(other, timeout=0.3)
        assert time.monotonic() - started < 2


def test_monitor_sees_insert_and_remove(pcsc, make_card):
    from terminal_agent.card.virtual.vpcd import VpcdClient

    with CardMonitor(pcsc.__class__(), interval=0.2) as monitor:
        first = monitor.events.get(timeout=3)
        assert first.kind == "reader_added"
        client = VpcdClient(make_card(), "127.0.0.1", VPCD_PORT).start()
        try:
            event = _next(monitor, "card_inserted", VPCD_READER)
            assert event.atr == bytes.fromhex("3BE000FF8131FE4514")
            client.remove()
            _next(monitor, "card_removed", VPCD_READER)
        finally:
            client.stop()
        assert monitor.alive


def _next(monitor: CardMonitor, kind: str, reader: str, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = monitor.events.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if event.kind == kind and event.reader == reader:
            return event
    raise AssertionError(f"no {kind} event for {reader}")


def test_cli_serves_card_through_vpcd(pcsc, tmp_path, auth_key, auth_cert):
    from cryptography.hazmat.primitives import serialization

    key_path, cert_path = tmp_path / "card.key", tmp_path / "card.der"
    key_path.write_bytes(
        auth_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(auth_cert)
    process = subprocess.Popen(
        [sys.executable, "-m", "terminal_agent.card.virtual", "--vpcd", f"127.0.0.1:{VPCD_PORT}",
         "--profile", "iphone", "--pin", PIN, "--cert", str(cert_path), "--key", str(key_path)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert wait_for(lambda: pcsc.reader_states()[VPCD_READER].card_present, timeout=15), "CLI card not seen"
        with pcsc.connect(VPCD_READER) as connection:
            jpki = JpkiCard(connection)
            jpki.select_ap()
            assert jpki.token_kind() == "iphone"
            with pytest.raises(errors.BiometricRequired):
                jpki.prove(b"n")
            process.send_signal(signal.SIGUSR1)  # the demo's "Face ID" button
            time.sleep(0.2)
            cert, signature = jpki.prove(b"n")
            assert cert == auth_cert
    finally:
        process.terminate()
        process.wait(10)
    assert wait_for(lambda: not pcsc.reader_states()[VPCD_READER].card_present)


def test_apdu_round_trip_is_fast(pcsc, vpcd_card):
    """TCP_QUICKACK keeps an APDU well under a millisecond (≈44 ms per APDU without it); loose bound for busy CI."""
    with pcsc.connect(VPCD_READER) as connection:
        jpki = JpkiCard(connection)
        jpki.select_ap()
        started = time.perf_counter()
        for _ in range(50):
            jpki.select_ap()
        per_apdu = (time.perf_counter() - started) / 50
        assert per_apdu < 0.015, f"{per_apdu * 1000:.1f} ms per APDU"


def test_forgotten_connections_do_not_exhaust_pcsc(pcsc, vpcd_card):
    """pcsc-lite refuses the 200th open context of a process; connections dropped without disconnect() are released
    (and their transmit threads end)."""
    import threading

    card, _ = vpcd_card
    threads_before = threading.active_count()
    for _ in range(250):
        connection = pcsc.connect(VPCD_READER)
        jpki = JpkiCard(connection)
        jpki.select_ap()
        del jpki, connection
    assert wait_for(lambda: threading.active_count() <= threads_before + 2)
    with pcsc.connect(VPCD_READER) as connection:
        jpki = JpkiCard(connection)
        jpki.select_ap()
        assert jpki.read_auth_certificate() == card.cert_der


def test_mute_card_times_out_instead_of_hanging(pcsc, make_card):
    from terminal_agent.card.readers import PcscBackend
    from terminal_agent.card.virtual.vpcd import VpcdClient

    card = make_card(faults=Faults(delay=1.0))
    client = VpcdClient(card, "127.0.0.1", VPCD_PORT).start()
    backend = PcscBackend(transmit_timeout=0.3)
    try:
        assert wait_for(lambda: pcsc.reader_states()[VPCD_READER].card_present)
        connection = backend.connect(VPCD_READER)
        started = time.monotonic()
        with pytest.raises(errors.CardTimeout) as info:
            JpkiCard(connection).select_ap()
        assert time.monotonic() - started < 0.9
        assert "応答" in info.value.message
        with pytest.raises(errors.CardRemoved):
            JpkiCard(connection).select_ap()  # the connection is spent; the caller reconnects
        connection.disconnect()
    finally:
        client.stop()
        backend.close()
        wait_for(lambda: not pcsc.reader_states()[VPCD_READER].card_present)
