"""Fixtures of the pure tests: the in-process virtual My Number card and reader (no pcscd), shared with tests/card."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from terminal_agent.card.readers import InProcessReader
from terminal_agent.card.virtual import Faults, VirtualCard, testca

PIN = "1234"


@pytest.fixture(scope="session")
def auth_key():
    return testca.new_rsa_key()


@pytest.fixture(scope="session")
def auth_cert(auth_key) -> bytes:
    return testca.issue_end_entity(auth_key.public_key())


@pytest.fixture
def make_card(auth_key, auth_cert) -> Callable[..., VirtualCard]:
    def make(profile: str = "physical", faults: Faults | None = None, **kwargs) -> VirtualCard:
        return VirtualCard(profile, pin=PIN, key=auth_key, cert_der=auth_cert, faults=faults, **kwargs)

    return make


@pytest.fixture
def card(make_card) -> VirtualCard:
    return make_card()


@pytest.fixture
def reader(card) -> InProcessReader:
    return InProcessReader("Test Reader 00 00", card)
