"""The walking skeleton end to end (issue 2): two terminals, one live clinic server with its sandbox.

Terminal A registers with an activation code and checks both demo cards by the 暗証番号 flow (T17) through the
terminal core, over the virtual card's APDUs; terminal B registers and finds both results across the institution
(S07 scope=institution) and none of its own. A replayed signed request and a reused activation code are refused.
"""

from __future__ import annotations

import httpx
import pytest

from server.results.models import CheckResult
from terminal_agent.core.app import RegistrationFailed, TerminalCore
from terminal_agent.core.check_flow import Method
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.search import SearchCriteria


class RecordingTransport(httpx.HTTPTransport):
    """The real transport, keeping every request sent so that one can be replayed byte for byte."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.sent.append(request)
        return super().handle_request(request)


@pytest.mark.e2e
def test_two_terminals_check_cards_and_find_each_others_results(clinic, terminal, check, tmp_path):
    institution, cards = clinic.institution, clinic.cards
    code_a = clinic.activation_code()
    transport_a = RecordingTransport()
    terminal_a, reader_a = terminal(
        None, name="terminal-a", device_name="受付1", activation_code=code_a, transport=transport_a
    )
    terminal_a.set_passcode("1111", "1111")
    assert terminal_a.login("1111")

    # Both demo cards by the PIN flow: 資格 太郎 (valid) and 資格 無効子 (この資格は無効です).
    outcomes = {}
    for name in ("資格 太郎", "資格 無効子"):
        reader_a.card = clinic.virtual_card(name)
        flow, outcome = check(terminal_a, Method.PIN, pin=cards[name].pin)
        flow.next()
        outcomes[name] = outcome
        assert outcome.document["result_of_qualification_confirmation"]["name"] == name
        assert outcome.synced, "the result reaches the clinic server right after the check"
    assert outcomes["資格 太郎"].document["qualification_validity"] == "1"
    assert outcomes["資格 無効子"].document["qualification_validity"] == "2"
    assert terminal_a.pending_results() == 0
    stored = CheckResult.objects.filter(institution=institution)
    assert {r.name: r.is_valid for r in stored} == {"資格 太郎": True, "資格 無効子": False}

    # A reused activation code is refused with its own code, and nothing is registered.
    terminal_c = TerminalCore(clinic.url, data_dir=tmp_path / "terminal-c", readers=InProcessReaderProvider(None),
                              use_keyring=False)
    with pytest.raises(RegistrationFailed) as refused:
        terminal_c.register(clinic.registration_form(code_a))
    assert refused.value.code == "activation_code_used"
    assert not terminal_c.is_registered()

    # Terminal B: both results with scope=institution, none with scope=device.
    terminal_b, _ = terminal(None, name="terminal-b", device_name="受付2")
    everywhere = SearchCriteria.default()
    everywhere.this_device_only = False
    page = terminal_b.search_results(everywhere)
    assert sorted(row.name for row in page.rows) == ["資格 太郎", "資格 無効子"]
    assert terminal_b.search_results(SearchCriteria.default()).rows == []
    detail = terminal_b.result_document(outcomes["資格 太郎"].result_id)
    assert detail == outcomes["資格 太郎"].document

    # A signed request replayed byte for byte is refused: the nonce was seen.
    search_request = next(r for r in transport_a.sent if r.url.path == "/api/v1/results/batch")
    replay = httpx.request(search_request.method, str(search_request.url), headers=search_request.headers,
                           content=search_request.content)
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "replayed_request"
    assert CheckResult.objects.filter(institution=institution).count() == 2

    terminal_c.close()
