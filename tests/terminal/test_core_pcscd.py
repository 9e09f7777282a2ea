"""The terminal core through the real pcscd: the virtual card sits behind vsmartcard's vpcd driver (C01, T05, T17).

Uses vpcd slot ``TERMINAL_TEST_VPCD_PORT`` (default 35964 = ``Virtual PCD 00 01``, the test slot; slot 0 is the demo's).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from server.results.models import CheckResult
from terminal_agent.card.virtual.vpcd import VpcdClient
from terminal_agent.core.app import TerminalCore
from terminal_agent.core.check_flow import CheckFailure, Method
from terminal_agent.core.readers import PcscReaderProvider
from terminal_agent.core.registration import RegistrationForm

REPO = Path(__file__).resolve().parents[2]
VPCD_PORT = int(os.environ.get("TERMINAL_TEST_VPCD_PORT", "35964"))
VPCD_READER = f"Virtual PCD 00 {VPCD_PORT - 35963:02d}"


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.pcscd
@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_pin_check_through_pcscd(clinic, tmp_path):
    started = subprocess.run([str(REPO / "scripts" / "pcscd-up.sh")], capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, f"pcscd-up.sh failed: {started.stderr}"
    readers = PcscReaderProvider()
    names = readers.list_readers()
    assert VPCD_READER in names, f"{VPCD_READER} missing from pcscd: {names}"
    # The slot is shared with the card layer's tests: wait until it is free rather than steal it.
    assert wait_for(lambda: not readers.backend.reader_states()[VPCD_READER].card_present, 60), "vpcd slot busy"

    card = clinic.virtual_card("資格 太郎")
    client = VpcdClient(card, "127.0.0.1", VPCD_PORT).start()
    try:
        assert client.connected.wait(5)
        assert wait_for(lambda: readers.backend.reader_states()[VPCD_READER].card_present)
        core = TerminalCore(clinic.url, data_dir=tmp_path / "terminal", readers=readers, use_keyring=False)
        core.register(
            RegistrationForm(clinic.institution_code, clinic.account_id, clinic.password, clinic.activation_code())
        )
        assert VPCD_READER in core.list_readers()
        core.select_reader(VPCD_READER)  # T05: persisted
        core.set_visual_check(False)

        flow = core.start_check(Method.PIN)
        flow.confirm()
        flow.enter_pin("1234")
        outcome = flow.read()
        assert outcome.document["result_of_qualification_confirmation"]["name"] == "資格 太郎"
        assert CheckResult.objects.filter(id=outcome.result_id).exists()

        client.remove()  # the card leaves the reader: a Japanese message, not a crash
        assert wait_for(lambda: not readers.backend.reader_states()[VPCD_READER].card_present)
        flow = core.start_check(Method.PIN)
        flow.confirm()
        flow.enter_pin("1234")
        with pytest.raises(CheckFailure) as info:
            flow.read()
        assert info.value.kind == "card" and info.value.code == "no_card"
        assert "マイナンバーカード" in info.value.message
        core.close()
    finally:
        client.stop()
        readers.backend.close()
