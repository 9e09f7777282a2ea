"""The walking skeleton end to end (issue 2): two terminals, one live clinic server with its sandbox.

Terminal A registers with an activation code and checks both demo cards by the 暗証番号 flow (T17) through the
terminal core, over the virtual card's APDUs; terminal B registers and finds both results across the institution
(S07 scope=institution) and none of its own. A replayed signed request and a reused activation code are refused.
"""

from __future__ import annotations

import httpx
import pytest

from server.devices.actions import do_issue_activation_code
from server.institutions.actions import do_create_app_account, do_create_institution
from server.results.models import CheckResult
from server.sandbox.demo import seed_demo_roster
from terminal_agent.card.virtual import VirtualCard, load_card_files
from terminal_agent.core.app import RegistrationFailed, TerminalCore
from terminal_agent.core.check_flow import Method
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.registration import RegistrationForm
from terminal_agent.core.search import SearchCriteria

INSTITUTION_CODE = "1311000010"
ACCOUNT_ID = "clinic-admin"
PASSWORD = "Demo#Pass1"


class RecordingTransport(httpx.HTTPTransport):
    """The real transport, keeping every request sent so that one can be replayed byte for byte."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.sent.append(request)
        return super().handle_request(request)


def virtual_card(demo_card) -> VirtualCard:
    key, cert_der = load_card_files(demo_card.key_path, demo_card.cert_path)
    return VirtualCard(profile=demo_card.profile, pin=demo_card.pin, key=key, cert_der=cert_der)


def pin_check(core: TerminalCore, pin: str):
    flow = core.start_check(Method.PIN)
    flow.confirm()
    flow.enter_pin(pin)
    outcome = flow.read()
    flow.next()
    return outcome


@pytest.fixture
def clinic(transactional_db, live_server, settings, tmp_path):
    settings.SANDBOX_CA_DIR = tmp_path / "sandbox-ca"
    institution = do_create_institution(code=INSTITUTION_CODE, name="しかく整骨院")
    do_create_app_account(institution, ACCOUNT_ID, PASSWORD)
    cards = {card.name: card for card in seed_demo_roster(tmp_path / "cards")}
    return institution, cards


@pytest.mark.e2e
def test_two_terminals_check_cards_and_find_each_others_results(clinic, live_server, tmp_path):
    institution, cards = clinic
    code_a, _ = do_issue_activation_code(institution)
    code_b, _ = do_issue_activation_code(institution)

    reader_a = InProcessReaderProvider(None)
    transport_a = RecordingTransport()
    terminal_a = TerminalCore(live_server.url, data_dir=tmp_path / "terminal-a", readers=reader_a,
                              transport=transport_a, use_keyring=False)
    terminal_a.register(RegistrationForm(INSTITUTION_CODE, ACCOUNT_ID, PASSWORD, code_a), device_name="受付1")
    terminal_a.set_passcode("1111", "1111")
    assert terminal_a.login("1111")

    # Both demo cards by the PIN flow: 資格 太郎 (valid) and 資格 無効子 (この資格は無効です).
    outcomes = {}
    for name in ("資格 太郎", "資格 無効子"):
        reader_a.card = virtual_card(cards[name])
        outcome = pin_check(terminal_a, cards[name].pin)
        outcomes[name] = outcome
        assert outcome.document["result_of_qualification_confirmation"]["name"] == name
        assert outcome.synced, "the result reaches the clinic server right after the check"
    assert outcomes["資格 太郎"].document["qualification_validity"] == "1"
    assert outcomes["資格 無効子"].document["qualification_validity"] == "2"
    assert terminal_a.pending_results() == 0
    stored = CheckResult.objects.filter(institution=institution)
    assert {r.name: r.is_valid for r in stored} == {"資格 太郎": True, "資格 無効子": False}

    # A reused activation code is refused with its own code, and nothing is registered.
    terminal_c = TerminalCore(live_server.url, data_dir=tmp_path / "terminal-c", readers=InProcessReaderProvider(None),
                              use_keyring=False)
    with pytest.raises(RegistrationFailed) as refused:
        terminal_c.register(RegistrationForm(INSTITUTION_CODE, ACCOUNT_ID, PASSWORD, code_a))
    assert refused.value.code == "activation_code_used"
    assert not terminal_c.is_registered()

    # Terminal B: both results with scope=institution, none with scope=device.
    terminal_b = TerminalCore(live_server.url, data_dir=tmp_path / "terminal-b", readers=InProcessReaderProvider(None),
                              use_keyring=False)
    terminal_b.register(RegistrationForm(INSTITUTION_CODE, ACCOUNT_ID, PASSWORD, code_b), device_name="受付2")
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

    for core in (terminal_a, terminal_b, terminal_c):
        core.close()
