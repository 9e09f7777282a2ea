"""Card-layer fixtures. No Django and no database: run with `-p no:django`.

pcscd tests use the real pcscd (started by scripts/pcscd-up.sh) with the vsmartcard vpcd driver. They use vpcd slot
CARD_TEST_VPCD_PORT (default 35964 = reader `Virtual PCD 00 01`) so that the demo can keep slot 0.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from terminal_agent.card.readers import PcscBackend
from terminal_agent.card.virtual import VirtualCard
from terminal_agent.card.virtual.vpcd import VpcdClient

# The in-process virtual card and reader are shared with the pure JPKI tests of tests/unit.
from tests.unit.conftest import PIN, auth_cert, auth_key, card, make_card, reader  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
VPCD_PORT = int(os.environ.get("CARD_TEST_VPCD_PORT", "35964"))
VPCD_READER = f"Virtual PCD 00 {VPCD_PORT - 35963:02d}"


@pytest.fixture(scope="session")
def pcscd() -> None:
    """The real pcscd; fails (never skips) when it cannot be started."""
    result = subprocess.run([str(REPO / "scripts" / "pcscd-up.sh")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"pcscd-up.sh failed: {result.stderr}"


@pytest.fixture
def pcsc(pcscd) -> Iterator[PcscBackend]:
    backend = PcscBackend(transmit_timeout=5)
    names = backend.list_readers()
    assert VPCD_READER in names, f"vpcd reader {VPCD_READER!r} missing from pcscd: {names}"
    yield backend
    backend.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def vpcd_card(pcsc, card) -> Iterator[tuple[VirtualCard, VpcdClient]]:  # noqa: F811 (the imported fixture)
    """`card` inserted into the vpcd reader of the real pcscd."""
    occupied = pcsc.reader_states()[VPCD_READER].card_present
    assert not occupied, f"{VPCD_READER} already holds a card: another vicc uses port {VPCD_PORT}"
    client = VpcdClient(card, "127.0.0.1", VPCD_PORT).start()
    assert client.connected.wait(5), f"could not connect to vpcd on port {VPCD_PORT}"
    assert wait_for(lambda: pcsc.reader_states()[VPCD_READER].card_present), "pcscd did not see the card"
    yield card, client
    client.stop()
    wait_for(lambda: not pcsc.reader_states()[VPCD_READER].card_present)
