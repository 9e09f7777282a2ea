"""The JPKI client against the in-process reader and virtual card: every path, typed errors, PIN hygiene."""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from terminal_agent.card import errors
from terminal_agent.card.jpki import JpkiCard
from terminal_agent.card.readers import InProcessReader
from terminal_agent.card.virtual import Faults

PIN = "1234"


def session(reader: InProcessReader) -> JpkiCard:
    return JpkiCard(reader.connect(reader.name, timeout=0.1))


class RecordingConnection:
    """Wraps a connection and keeps the APDUs (to count them and to check their bytes)."""

    def __init__(self, inner):
        self.inner = inner
        self.apdus: list[bytes] = []

    def transmit(self, apdu):
        self.apdus.append(bytes(apdu))
        return self.inner.transmit(apdu)


def test_prove_physical_card(reader, card):
    jpki = session(reader)
    cert, signature = jpki.prove(b"challenge-bytes", pin=PIN)
    assert cert == card.cert_der
    card.auth_public_key.verify(signature, b"challenge-bytes", padding.PKCS1v15(), hashes.SHA256())
    assert jpki.pin_tries_left() == 3


def test_prove_android_verifies_before_reading(make_card):
    card = make_card("android")
    reader = InProcessReader("R", card)
    jpki = session(reader)
    jpki.select_ap()
    assert jpki.token_kind() == "android"
    with pytest.raises(errors.PinRequired) as info:
        jpki.read_auth_certificate()
    assert "暗証番号" in info.value.message
    cert, signature = jpki.prove(b"c", pin=PIN)
    assert cert == card.cert_der


def test_prove_iphone_needs_biometric_not_pin(make_card):
    card = make_card("iphone")
    jpki = session(InProcessReader("R", card))
    with pytest.raises(errors.BiometricRequired) as info:
        jpki.prove(b"c")
    assert "Face ID" in info.value.message
    card.approve_biometric()
    cert, signature = jpki.prove(b"c")
    card.auth_public_key.verify(signature, b"c", padding.PKCS1v15(), hashes.SHA256())


def test_prove_without_pin_on_plastic_card(reader):
    with pytest.raises(errors.PinRequired):
        session(reader).prove(b"c")


def test_token_kinds(make_card):
    for profile, kind in (("physical", "card"), ("android", "android"), ("iphone", "iphone")):
        jpki = session(InProcessReader("R", make_card(profile)))
        jpki.select_ap()
        assert jpki.token_kind() == kind


def test_cert_read_uses_no_more_apdus_than_opensc(reader, card):
    recording = RecordingConnection(reader.connect(reader.name))
    jpki = JpkiCard(recording)
    jpki.select_ap()
    recording.apdus.clear()
    assert jpki.read_auth_certificate() == card.cert_der
    reads = [a for a in recording.apdus if a[1] == 0xB0]
    opensc_reads = 1 + -(-len(card.cert_der) // 256)  # 4-byte header read, then 256-byte chunks
    assert len(reads) == -(-len(card.cert_der) // 256) < opensc_reads
    assert all(a[4] == 0 for a in reads[:-1])  # Le=00 (256) until the remainder
    assert recording.apdus[0] == bytes.fromhex("00A4020C02000A")


def test_apdu_bytes_match_reference(reader):
    recording = RecordingConnection(reader.connect(reader.name))
    jpki = JpkiCard(recording)
    jpki.select_ap()
    jpki.verify_pin(PIN)
    jpki.sign_digest_info(bytes(32))
    assert recording.apdus[0] == bytes.fromhex("00A4040C0AD392F000260100000001")
    assert recording.apdus[1] == bytes.fromhex("00A4020C020018")
    assert recording.apdus[2] == bytes.fromhex("002000800431323334")
    assert recording.apdus[3] == bytes.fromhex("00A4020C020017")
    assert recording.apdus[4] == bytes.fromhex("802A008033" "3031300D060960864801650304020105000420") + bytes(32) + b"\x00"


def test_wrong_pin_then_lockout(reader, card):
    jpki = session(reader)
    jpki.select_ap()
    with pytest.raises(errors.WrongPin) as first:
        jpki.verify_pin("0000")
    assert first.value.tries_left == 2 and "残り回数は2回" in first.value.message
    with pytest.raises(errors.WrongPin) as second:
        jpki.verify_pin("0001")
    assert second.value.tries_left == 1
    with pytest.raises(errors.PinLocked) as third:
        jpki.verify_pin("0002")
    assert "住民票のある市町村窓口" in third.value.message
    assert jpki.pin_tries_left() == 0
    with pytest.raises(errors.PinLocked):
        jpki.verify_pin(PIN)  # 69 84: even the right PIN
    with pytest.raises(errors.PinLocked):
        jpki.prove(b"c", pin=PIN)


def test_correct_pin_restores_tries(reader):
    jpki = session(reader)
    jpki.select_ap()
    with pytest.raises(errors.WrongPin):
        jpki.verify_pin("9999")
    assert jpki.pin_tries_left() == 2
    jpki.verify_pin(PIN)
    assert jpki.pin_tries_left() == 3


@pytest.mark.parametrize("bad", ["123", "12345", "abcd", "１２３４", "", None])
def test_pin_format_checked_before_any_apdu(reader, bad):
    jpki = session(reader)
    with pytest.raises(errors.InvalidPinFormat):
        jpki.verify_pin(bad)
    assert jpki.apdu_count == 0


def test_sign_before_verify(reader):
    jpki = session(reader)
    jpki.select_ap()
    with pytest.raises(errors.PinRequired):
        jpki.sign_digest_info(bytes(32))
    with pytest.raises(ValueError):
        jpki.sign_digest_info(b"short")


def test_prove_logs_out_afterwards(reader):
    jpki = session(reader)
    jpki.prove(b"c", pin=PIN)
    with pytest.raises(errors.PinRequired):
        jpki.sign_digest_info(bytes(32))  # the AP was re-selected: PIN state gone


def test_pin_never_in_logs_or_errors(reader, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "4821"
    texts = []
    jpki = session(reader)
    for attempt in (secret, secret, secret, PIN):
        try:
            jpki.prove(b"c", pin=attempt)
        except errors.CardError as exc:
            texts += [str(exc), repr(exc), exc.message, repr(exc.__cause__), repr(exc.__context__)]
    texts.append(repr(jpki))
    assert caplog.records, "the client should log APDU headers at DEBUG"
    for text in [r.getMessage() for r in caplog.records] + texts:
        assert secret not in text and "34383231" not in text and PIN not in text


def test_not_a_my_number_card():
    class OtherCard:
        def transmit(self, apdu):
            return [], 0x6A, 0x82

    with pytest.raises(errors.NotMyNumberCard) as info:
        JpkiCard(OtherCard()).select_ap()
    assert "マイナンバーカード" in info.value.message


def test_old_juki_card_token_is_refused(make_card):
    card = make_card()
    card._jpki_files[0x0006] = b"JPKIAPICCTOKEN".ljust(32, b" ")
    jpki = session(InProcessReader("R", card))
    jpki.select_ap()
    with pytest.raises(errors.NotMyNumberCard):
        jpki.token_kind()


def test_unexpected_status_carries_sw():
    class Odd:
        def transmit(self, apdu):
            return [], 0x6F, 0x00

    with pytest.raises(errors.UnexpectedStatus) as info:
        JpkiCard(Odd()).select_ap()
    assert info.value.sw == 0x6F00 and "6F00" in info.value.message


def test_card_removed_mid_read(make_card):
    card = make_card(faults=Faults(remove_after=4))
    reader = InProcessReader("R", card)
    jpki = session(reader)
    jpki.select_ap()
    with pytest.raises(errors.CardRemoved) as info:
        jpki.read_auth_certificate()
    assert "カード" in info.value.message
    assert reader.reader_states()["R"].card_present is False
    with pytest.raises(errors.NoCard):
        reader.connect("R", timeout=0.05)


def test_garbled_response_is_typed(make_card):
    card = make_card(faults=Faults(garble=lambda r: b"\x31" + r[1:], garble_at={3}))
    jpki = session(InProcessReader("R", card))
    jpki.select_ap()
    with pytest.raises(errors.CardDataError):
        jpki.read_auth_certificate()  # the DER header's tag was flipped


def test_reader_unplugged_mid_session(reader):
    jpki = session(reader)
    jpki.select_ap()
    reader.unplug()
    with pytest.raises(errors.ReaderRemoved):
        jpki.token_kind()
    with pytest.raises(errors.NoReader):
        reader.connect(reader.name)


def test_get_response_and_wrong_le_are_followed(card):
    """T=0 style answers: 61 xx (data waiting) and 6C xx (use this Le)."""

    class T0:
        def __init__(self):
            self.pending = b""

        def transmit(self, apdu):
            apdu = bytes(apdu)
            if apdu[1] == 0xC0:
                size = apdu[4] or 256
                out, self.pending = self.pending[:size], self.pending[size:]
                return list(out), 0x90, 0x00
            if apdu[1] == 0xB0 and apdu[4] == 0x10:
                return [], 0x6C, 0x20
            data, sw1, sw2 = card.transmit(apdu)
            if data and apdu[1] == 0x2A:
                self.pending = bytes(data)
                return [], 0x61, 0x00
            return data, sw1, sw2

    jpki = JpkiCard(T0())
    jpki.select_ap()
    jpki.verify_pin(PIN)
    signature = jpki.sign_digest_info(bytes(32))
    assert len(signature) == 256
    jpki._select_ef(0x0006)
    data, sw = jpki._send([0x00, 0xB0, 0x00, 0x00, 0x10])
    assert sw == 0x9000 and data.startswith(b"JPKIAPICCTOKEN2") and len(data) == 32
