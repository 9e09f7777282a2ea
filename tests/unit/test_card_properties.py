"""Property-based: whatever a (broken) card answers, the client raises a typed CardError — no crash, no hang."""

from __future__ import annotations

import contextlib
import hashlib
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal_agent.card import errors
from terminal_agent.card.jpki import JpkiCard
from terminal_agent.card.virtual import Faults, VirtualCard
from terminal_agent.card.virtual.testca import issue_end_entity, new_rsa_key

KEY = new_rsa_key()
CERT = issue_end_entity(KEY.public_key())
PROFILE = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

status_words = st.one_of(
    st.sampled_from([(0x90, 0x00), (0x63, 0xC2), (0x63, 0xC0), (0x69, 0x82), (0x69, 0x84), (0x6A, 0x82),
                     (0x61, 0x10), (0x6C, 0x04), (0x62, 0x82), (0x69, 0x85), (0x6D, 0x00)]),
    st.tuples(st.integers(0, 255), st.integers(0, 255)),
)
garbage = st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.tuples(st.integers(), st.integers()),
    st.tuples(st.lists(st.integers(-5, 300), max_size=5), st.integers(-1, 300), st.integers(-1, 300)),
)
responses = st.one_of(
    st.tuples(st.lists(st.integers(0, 255), max_size=300), status_words).map(lambda t: (t[0], *t[1])),
    garbage,
)


class Scripted:
    """A card whose answers come from Hypothesis."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0

    def transmit(self, apdu):
        self.calls += 1
        if self.calls > 5000:
            raise AssertionError("client keeps sending: would hang")
        if not self.answers:
            return [], 0x90, 0x00
        return self.answers.pop(0)


def run_everything(jpki: JpkiCard) -> None:
    for call in (
        jpki.select_ap,
        jpki.token_kind,
        jpki.read_auth_certificate,
        jpki.pin_tries_left,
        lambda: jpki.verify_pin("1234"),
        lambda: jpki.sign_digest_info(hashlib.sha256(b"c").digest()),
        lambda: jpki.prove(b"c", pin="1234"),
    ):
        try:
            call()
        except errors.CardError as exc:
            assert exc.message and "1234" not in str(exc)


@PROFILE
@given(st.lists(responses, max_size=40))
def test_random_responses_give_typed_errors(answers):
    connection = Scripted(answers)
    started = time.monotonic()
    run_everything(JpkiCard(connection))
    assert time.monotonic() - started < 2


@PROFILE
@given(cut=st.integers(0, 300), which=st.integers(1, 12))
def test_truncated_responses_from_a_real_card(cut, which):
    card = VirtualCard(key=KEY, cert_der=CERT, faults=Faults(garble=lambda r: r[:cut], garble_at={which}))
    with contextlib.suppress(errors.CardError):
        JpkiCard(card).prove(b"c", pin="1234")


@PROFILE
@given(header=st.binary(min_size=0, max_size=8), tail=st.binary(max_size=600))
def test_bad_der_headers(header, tail):
    card = VirtualCard(key=KEY, cert_der=CERT)
    card._jpki_files[0x000A] = header + tail if header + tail else b"\x00"
    jpki = JpkiCard(card)
    jpki.select_ap()
    try:
        assert jpki.read_auth_certificate() == CERT
    except errors.CardDataError:
        pass
    except errors.UnexpectedStatus as exc:  # e.g. 6B 00: reading at an offset past a too-short file
        assert exc.sw == 0x6B00


@PROFILE
@given(declared=st.integers(0, 0xFFFFFF), form=st.sampled_from([1, 2, 3]))
def test_wrong_declared_lengths(declared, form):
    length_bytes = (declared % 256**form).to_bytes(form, "big")
    header = b"\x30" + bytes([0x80 | form]) + length_bytes
    card = VirtualCard(key=KEY, cert_der=CERT)
    card._jpki_files[0x000A] = header + CERT[len(header):]
    jpki = JpkiCard(card)
    jpki.select_ap()
    with contextlib.suppress(errors.CardDataError, errors.UnexpectedStatus):
        jpki.read_auth_certificate()


@PROFILE
@given(chunk=st.integers(1, 40))
def test_short_chunks_still_terminate(chunk):
    """A card that returns fewer bytes than asked: either assembled correctly or refused, in bounded APDUs."""
    card = VirtualCard(key=KEY, cert_der=CERT, faults=Faults(garble=lambda r: r[:-2][:chunk] + r[-2:] if len(r) > 2 else r))
    jpki = JpkiCard(card)
    jpki.select_ap()
    with contextlib.suppress(errors.CardDataError):
        assert jpki.read_auth_certificate() == CERT
    assert jpki.apdu_count < 40


KNOWN_INS = {0xA4, 0xB0, 0x20, 0x24, 0x2A}


@settings(max_examples=400, deadline=2000)
@given(st.lists(st.binary(min_size=0, max_size=270), min_size=1, max_size=8))
def test_virtual_card_answers_any_apdu_with_a_status_word(apdus):
    """Whatever a probing driver sends, the card answers a status word; unknown INS never get 90 00."""
    card = VirtualCard(key=KEY, cert_der=CERT)
    for apdu in apdus:
        data, sw1, sw2 = card.transmit(apdu)
        assert 0 <= sw1 <= 0xFF and 0 <= sw2 <= 0xFF and all(0 <= b <= 0xFF for b in data)
        if len(apdu) >= 4 and apdu[1] not in KNOWN_INS:
            assert (sw1, sw2) in ((0x6D, 0x00), (0x6E, 0x00), (0x67, 0x00))
