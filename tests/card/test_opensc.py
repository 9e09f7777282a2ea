"""OpenSC (0.23, Debian) accepts the virtual card exactly like a real My Number card."""

from __future__ import annotations

import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from .conftest import VPCD_READER

pytestmark = pytest.mark.pcscd

PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
AUTH_TOKEN = "JPKI (User Authentication PIN)"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


def test_opensc_names_the_card_jpki(vpcd_card):
    result = run("opensc-tool", "--reader", VPCD_READER, "--name")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "jpki"


def test_pkcs15_read_certificate_01(vpcd_card, tmp_path):
    card, _ = vpcd_card
    out = tmp_path / "cert.pem"
    result = run("pkcs15-tool", "--reader", VPCD_READER, "--read-certificate", "01", "--output", str(out))
    assert result.returncode == 0, result.stderr
    cert = x509.load_pem_x509_certificate(out.read_bytes())
    assert cert.public_bytes(serialization.Encoding.DER) == card.cert_der


def test_pkcs15_lists_pins_with_tries(vpcd_card):
    result = run("pkcs15-tool", "--reader", VPCD_READER, "--list-pins")
    assert result.returncode == 0, result.stderr
    assert "User Authentication PIN" in result.stdout and "Digital Signature PIN" in result.stdout
    assert "Tries left" in result.stdout


def test_pkcs11_sign_sha256_verifies(vpcd_card, tmp_path):
    card, _ = vpcd_card
    data, sig = tmp_path / "data", tmp_path / "sig"
    data.write_bytes(b"qualification challenge")
    result = run(
        "pkcs11-tool", "--module", PKCS11_MODULE, "--token-label", AUTH_TOKEN, "--login", "--pin", "1234",
        "--sign", "--id", "01", "-m", "SHA256-RSA-PKCS", "-i", str(data), "-o", str(sig),
    )
    assert result.returncode == 0, result.stderr
    card.auth_public_key.verify(sig.read_bytes(), data.read_bytes(), padding.PKCS1v15(), hashes.SHA256())


def test_pkcs11_wrong_pin_is_pin_incorrect(vpcd_card, tmp_path):
    card, _ = vpcd_card
    data = tmp_path / "data"
    data.write_bytes(b"x")
    result = run(
        "pkcs11-tool", "--module", PKCS11_MODULE, "--token-label", AUTH_TOKEN, "--login", "--pin", "0000",
        "--sign", "--id", "01", "-m", "SHA256-RSA-PKCS", "-i", str(data), "-o", str(tmp_path / "sig"),
    )
    assert result.returncode != 0
    assert "CKR_PIN_INCORRECT" in result.stdout + result.stderr
    assert card.pin_tries_left() == 2


@pytest.mark.parametrize("profile", ["android", "iphone"])
def test_phone_profiles_found_by_select_fallback(pcsc, make_card, profile):
    """Contactless ATRs are not in OpenSC's jpki table: OpenSC probes other drivers first (unknown AIDs must get
    6A 82, unknown INS 6D 00), then claims the card by SELECT of the JPKI AID."""
    from terminal_agent.card.virtual.vpcd import VpcdClient

    from .conftest import VPCD_PORT, wait_for

    card = make_card(profile)
    client = VpcdClient(card, "127.0.0.1", VPCD_PORT).start()
    try:
        assert wait_for(lambda: pcsc.reader_states()[VPCD_READER].card_present)
        result = run("opensc-tool", "--reader", VPCD_READER, "--name")
        assert result.stdout.strip() == "jpki", result.stderr
        assert card.apdu_count > 5  # the other drivers' probes reached the card and were refused
        pins = run("pkcs15-tool", "--reader", VPCD_READER, "--list-pins")
        assert pins.returncode == 0 and "User Authentication PIN" in pins.stdout
    finally:
        client.stop()
        wait_for(lambda: not pcsc.reader_states()[VPCD_READER].card_present)
