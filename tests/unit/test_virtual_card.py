"""The virtual card, APDU by APDU, against the bytes in jpki-card.md."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from terminal_agent.card.virtual import Faults, VirtualCard, VirtualCardRemoved, load_card_files
from terminal_agent.card.virtual.card import _my_number_check_digit, build_basic4

SELECT_JPKI = "00A4040C0AD392F000260100000001"
SELECT_KENHOJO = "00A4040C0AD3921000310001010408"
SHA256_PREFIX = "3031300D060960864801650304020105000420"


def tx(card: VirtualCard, hexstr: str) -> tuple[bytes, str]:
    data, sw1, sw2 = card.transmit(bytes.fromhex(hexstr.replace(" ", "")))
    return bytes(data), f"{sw1:02X}{sw2:02X}"


def select_ef(card: VirtualCard, fid: str) -> str:
    return tx(card, "00A4020C02" + fid)[1]


def read_all(card: VirtualCard) -> bytes:
    out, offset = b"", 0
    while True:
        data, sw = tx(card, f"00B0{offset >> 8:02X}{offset & 0xFF:02X}00")
        if sw != "9000":
            return out
        out += data
        offset += len(data)


def sign_apdu(message: bytes) -> str:
    digest_info = SHA256_PREFIX + hashlib.sha256(message).hexdigest()
    return f"802A0080{len(digest_info) // 2:02X}{digest_info}00"


def test_select_ap_and_unknown_aid(card):
    assert tx(card, SELECT_JPKI) == (b"", "9000")
    assert tx(card, "00A4040C0AA000000000000000000000")[1] == "6A82"
    assert tx(card, "00A4040007A0000000030000")[1] == "6A82"  # other drivers' probes, P2=00


def test_select_ef_needs_ap_and_unknown_fid(card):
    assert select_ef(card, "000A") == "6A82"  # no AP selected yet
    tx(card, SELECT_JPKI)
    for fid in ("000A", "000B", "0017", "0018", "0006", "0001", "0002", "001A", "001B"):
        assert select_ef(card, fid) == "9000", fid
    assert select_ef(card, "1234") == "6A82"


def test_unknown_ins_and_cla(card):
    assert tx(card, "00CADF3005")[1] == "6D00"
    assert tx(card, "00CB3FFF055C035FC10200")[1] == "6D00"
    assert tx(card, "B0A4040C0AD392F000260100000001")[1] == "6E00"
    assert tx(card, "00A4")[1] == "6700"


def test_token_info_per_profile(make_card):
    for profile, token in (("physical", "JPKIAPICCTOKEN2"), ("android", "JPKIAPGPSETOKEN"), ("iphone", "JPKIAPIOSTOKEN")):
        card = make_card(profile)
        tx(card, SELECT_JPKI)
        select_ef(card, "0006")
        data, sw = tx(card, "00B0000020")
        assert sw == "9000"
        assert data == token.encode().ljust(32, b" ")


def test_atr_physical_is_opensc_jpki_atr(card):
    assert bytes(card.atr).hex().upper() == "3BE000FF8131FE4514"


def test_read_certificate_in_chunks_with_15_bit_offsets(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "000A")
    header, sw = tx(card, "00B0000004")
    assert sw == "9000" and header[:2] == b"\x30\x82"
    size = int.from_bytes(header[2:4], "big") + 4
    assert read_all(card) == card.cert_der and len(card.cert_der) == size
    last_offset = size - 10
    data, sw = tx(card, f"00B0{last_offset >> 8:02X}{last_offset & 0xFF:02X}00")
    assert sw == "9000" and data == card.cert_der[-10:]  # past the end: what is left, with 90 00
    assert tx(card, f"00B0{size >> 8:02X}{size & 0xFF:02X}01")[1] == "6B00"
    assert tx(card, "00B0800001")[1] == "6A86"  # SFI form not offered
    assert tx(card, "00B00000020000")[1] == "6700"


def test_read_needs_ef_and_transparent_file(card):
    tx(card, SELECT_JPKI)
    assert tx(card, "00B0000004")[1] == "6986"
    select_ef(card, "0017")
    assert tx(card, "00B0000004")[1] == "6981"  # a key is not readable


def test_ca_cert_is_readable(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "000B")
    assert x509.load_der_x509_certificate(read_all(card)).extensions


def test_tries_query_answers_63cx_even_after_verify(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "0018")
    assert tx(card, "00200080")[1] == "63C3"
    assert tx(card, "002000800431323334")[1] == "9000"
    assert tx(card, "00200080")[1] == "63C3"
    select_ef(card, "001B")
    assert tx(card, "00200080")[1] == "63C5"


def test_wrong_pin_counts_down_then_blocks(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "0018")
    assert tx(card, "002000800430303030")[1] == "63C2"
    assert tx(card, "002000800430303030")[1] == "63C1"
    assert tx(card, "002000800430303030")[1] == "63C0"  # last wrong try: now blocked
    assert tx(card, "002000800431323334")[1] == "6984"  # even the right PIN
    assert tx(card, "00200080")[1] == "63C0"
    select_ef(card, "0017")
    assert tx(card, sign_apdu(b"x"))[1] == "6982"


def test_correct_pin_resets_counter(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "0018")
    assert tx(card, "002000800430303030")[1] == "63C2"
    assert tx(card, "002000800431323334")[1] == "9000"
    assert tx(card, "00200080")[1] == "63C3"


def test_verify_needs_pin_ef(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "000A")
    assert tx(card, "002000800431323334")[1] == "6986"
    select_ef(card, "0018")
    assert tx(card, "002001800431323334")[1] == "6A86"


def test_sign_only_after_verify_and_matches_pkcs1(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "0017")
    assert tx(card, sign_apdu(b"challenge"))[1] == "6982"
    select_ef(card, "0018")
    tx(card, "002000800431323334")
    select_ef(card, "0017")
    signature, sw = tx(card, sign_apdu(b"challenge"))
    assert sw == "9000" and len(signature) == 256
    card.auth_public_key.verify(signature, b"challenge", padding.PKCS1v15(), hashes.SHA256())


def test_sign_raw_digest_info_uses_type1_padding(card):
    """A DigestInfo the fast path does not know still gets 00 01 FF.. 00 || data (pkcs11-tool RSA-PKCS)."""
    tx(card, SELECT_JPKI)
    select_ef(card, "0018")
    tx(card, "002000800431323334")
    select_ef(card, "0017")
    payload = b"arbitrary data block"
    signature, sw = tx(card, f"802A0080{len(payload):02X}{payload.hex()}00")
    assert sw == "9000"
    numbers = card.auth_public_key.public_numbers()
    block = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n).to_bytes(256, "big")
    assert block == b"\x00\x01" + b"\xff" * (256 - 3 - len(payload)) + b"\x00" + payload
    assert tx(card, "802A0080F5" + "00" * 0xF5 + "00")[1] == "9000"
    assert tx(card, "802A0080F6" + "00" * 0xF6 + "00")[1] == "6A80"  # longer than k - 11


def test_sign_needs_key_ef(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "0018")
    tx(card, "002000800431323334")
    assert tx(card, sign_apdu(b"x"))[1] == "6986"  # current EF is the PIN, not a key


def test_reselecting_ap_drops_pin_state(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "0018")
    tx(card, "002000800431323334")
    tx(card, SELECT_JPKI)
    select_ef(card, "0017")
    assert tx(card, sign_apdu(b"x"))[1] == "6982"


def test_power_off_drops_pin_state(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "0018")
    tx(card, "002000800431323334")
    card.power_off()
    card.power_on()
    assert select_ef(card, "0017") == "6A82"  # AP selection is gone too


def test_sign_side_needs_sign_password(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "0001")
    assert tx(card, "00B0000004")[1] == "6982"
    select_ef(card, "001B")
    assert tx(card, "0020008006" + b"ABC123".hex())[1] == "9000"
    select_ef(card, "0001")
    assert x509.load_der_x509_certificate(read_all(card))
    select_ef(card, "001A")
    assert tx(card, sign_apdu(b"x"))[1] == "9000"


def test_android_cert_needs_pin(make_card):
    card = make_card("android")
    tx(card, SELECT_JPKI)
    select_ef(card, "000A")
    assert tx(card, "00B0000004")[1] == "6982"
    select_ef(card, "0018")
    tx(card, "002000800431323334")
    select_ef(card, "000A")
    assert read_all(card) == card.cert_der
    assert tx(card, SELECT_KENHOJO)[1] == "6A82"  # no card-surface data on Android


def test_iphone_signs_once_per_biometric_approval(make_card):
    card = make_card("iphone")
    tx(card, SELECT_JPKI)
    select_ef(card, "000A")
    assert read_all(card) == card.cert_der  # free, like the plastic card
    select_ef(card, "0018")
    assert tx(card, "002000800431323334")[1] == "6985"  # no PIN at the terminal
    select_ef(card, "0017")
    assert tx(card, sign_apdu(b"x"))[1] == "6982"
    card.approve_biometric()
    assert tx(card, sign_apdu(b"x"))[1] == "9000"
    assert tx(card, sign_apdu(b"x"))[1] == "6982"  # single use


def test_kenhojo_ap_basics(make_card):
    card = make_card(my_number="123456789018")
    assert tx(card, SELECT_KENHOJO)[1] == "9000"
    select_ef(card, "0001")
    assert tx(card, "00B0000011")[1] == "6982"
    select_ef(card, "0011")
    assert tx(card, "00200080")[1] == "63C3"
    assert tx(card, "002000800431323334")[1] == "9000"
    select_ef(card, "0001")
    data, sw = tx(card, "00B0000011")
    assert sw == "9000" and data == b"\xdf\x10\x0c123456789018"
    select_ef(card, "0002")
    header, _ = tx(card, "00B0000007")
    assert header[:3] == b"\xff\x20\x82"
    body = read_all(card)
    offsets = [int.from_bytes(body[8 + 2 * i : 10 + 2 * i], "big") for i in range(4)]
    assert [body[o : o + 2] for o in offsets] == [b"\xdf\x22", b"\xdf\x23", b"\xdf\x24", b"\xdf\x25"]
    name_len = body[offsets[0] + 2]
    assert body[offsets[0] + 3 : offsets[0] + 3 + name_len].decode() == "資格 太郎"


def test_my_number_check_digit():
    assert _my_number_check_digit("12345678901") == "8"
    assert build_basic4("a", "b", "19900101", "2").startswith(b"\xff\x20\x82")


def test_fault_remove_after_n_apdus(make_card):
    card = make_card(faults=Faults(remove_after=2))
    tx(card, SELECT_JPKI)
    select_ef(card, "000A")
    with pytest.raises(VirtualCardRemoved):
        tx(card, "00B0000004")
    assert card.removed
    card.reinsert()
    assert tx(card, SELECT_JPKI)[1] == "9000"


def test_fault_garbled_response(make_card):
    card = make_card(faults=Faults(garble=lambda r: r[:-1], garble_at={2}))
    assert tx(card, SELECT_JPKI)[1] == "9000"
    with pytest.raises(ValueError):
        tx(card, "00A4020C02000A")  # "90": the status word was chopped
    assert tx(card, "00A4020C02000A")[1] == "9000"


def test_fault_delay(make_card):
    import time

    card = make_card(faults=Faults(delay=0.05))
    started = time.monotonic()
    tx(card, SELECT_JPKI)
    assert time.monotonic() - started >= 0.05


def test_throwaway_key_and_cert_match():
    card = VirtualCard("physical")
    cert = x509.load_der_x509_certificate(card.cert_der)
    assert cert.public_key().public_numbers() == card.auth_public_key.public_numbers()
    assert cert.public_key().key_size == 2048
    assert cert.signature_hash_algorithm.name == "sha256"
    assert "PIN" not in repr(card) and "1234" not in repr(card.__dict__.get("_jpki_pins"))


def test_load_card_files(tmp_path, auth_key, auth_cert):
    from cryptography.hazmat.primitives import serialization

    key_path, cert_path = tmp_path / "k.pem", tmp_path / "c.der"
    key_path.write_bytes(
        auth_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(auth_cert)
    key, cert = load_card_files(key_path, cert_path)
    assert cert == auth_cert
    assert VirtualCard(key=key, cert_der=cert).cert_der == auth_cert


def test_change_pin_after_verify(card):
    tx(card, SELECT_JPKI)
    select_ef(card, "0018")
    assert tx(card, "002401800439383736")[1] == "6982"  # not verified yet
    tx(card, "002000800431323334")
    assert tx(card, "0024018003393837")[1] == "6A80"  # must stay 4 digits
    assert tx(card, "002401800439383736")[1] == "9000"
    assert tx(card, "002000800431323334")[1] == "63C2"
    assert tx(card, "002000800439383736")[1] == "9000"


def test_load_card_dir(tmp_path, auth_key, auth_cert):
    from cryptography.hazmat.primitives import serialization

    from terminal_agent.card.virtual import load_card_dir

    (tmp_path / "key.pem").write_bytes(
        auth_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (tmp_path / "cert.der").write_bytes(auth_cert)
    (tmp_path / "ca.der").write_bytes(b"ca")
    key, cert, ca = load_card_dir(tmp_path)
    assert cert == auth_cert and ca == b"ca"
