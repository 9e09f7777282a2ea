"""Issue 4, "done when": every person of the demo roster can be checked from the terminal path of the skeleton issue.

One terminal registers with an activation code against the live clinic server (pytest-django's ``live_server``) and
checks every demo card through ``TerminalCore`` over the virtual card's APDUs, with the method its holder calls for
(physical → 暗証番号, android → Android, iphone → iPhone): start_check → confirm → enter_pin (if needed) → read → next.
A card that answers gives the roster's result (name, 資格有効性, certificate state and notice) and reaches the clinic
server; a card the manual shows as an error gives its DemoCard's ``expected_error_code``.

The test CA and the card files live for the module; each test re-seeds the (flushed) database from them, which
reuses every card's key and certificate, so no RSA key is generated after the first test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from server.common.actor import Actor
from server.devices.actions import do_issue_activation_code
from server.institutions.actions import do_create_app_account, do_create_institution
from server.results.models import CheckResult
from server.sandbox.demo import DemoCard, demo_people, seed_demo_roster
from server.sandbox.error_codes import NOTICES
from server.sandbox.models import InsuredPerson
from terminal_agent.card.virtual import VirtualCard, load_card_files
from terminal_agent.core.app import TerminalCore
from terminal_agent.core.check_flow import CheckFailure, Method, Step
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.registration import RegistrationForm
from tests.terminal.fixtures import run_check

INSTITUTION_CODE = "1311000010"
ACCOUNT_ID = "clinic-admin"
PASSWORD = "Demo#Pass1"
METHOD_FOR_PROFILE = {"physical": Method.PIN, "android": Method.ANDROID, "iphone": Method.IPHONE}
NOTICE_FOR_STATE = {
    "valid": None,
    "expiring": NOTICES["certificate_expiring"].code,
    "grace_period": NOTICES["certificate_grace_period"].code,
}
DEMO_NAMES = [person.name for person in demo_people(dt.date.today())]


@pytest.fixture(scope="module")
def sandbox_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tmp_path_factory.mktemp("roster-ca"), tmp_path_factory.mktemp("roster-cards")


@pytest.fixture
def terminal(transactional_db, live_server, settings, sandbox_files, tmp_path):
    """The roster (re-seeded into this test's database) and one registered, logged-in terminal on the live server."""
    ca_dir, card_dir = sandbox_files
    settings.SANDBOX_CA_DIR = ca_dir
    institution = do_create_institution(code=INSTITUTION_CODE, name="しかく整骨院", actor=Actor.cli("pytest"))
    do_create_app_account(institution, ACCOUNT_ID, PASSWORD, actor=Actor.cli("pytest"))
    cards = {card.name: card for card in seed_demo_roster(card_dir)}
    code, _ = do_issue_activation_code(institution, actor=Actor.cli("pytest"))
    reader = InProcessReaderProvider(None)
    core = TerminalCore(live_server.url, data_dir=tmp_path / "terminal", readers=reader, use_keyring=False)
    core.register(RegistrationForm(INSTITUTION_CODE, ACCOUNT_ID, PASSWORD, code), device_name="受付1")
    core.set_passcode("1111", "1111")
    assert core.login("1111")
    yield core, reader, cards
    core.close()


def check(core: TerminalCore, card: DemoCard):
    """The manual's flow for the card's holder; returns the outcome (or raises the flow's CheckFailure)."""
    flow, outcome = run_check(core, METHOD_FOR_PROFILE[card.profile], pin=card.pin)
    assert flow.next() is Step.RESULT
    return outcome


@pytest.mark.e2e
@pytest.mark.parametrize("name", DEMO_NAMES)
def test_every_demo_person_through_the_terminal(terminal, name):
    core, reader, cards = terminal
    card = cards[name]
    key, cert_der = load_card_files(card.key_path, card.cert_path)
    reader.card = VirtualCard(profile=card.profile, pin=card.pin, key=key, cert_der=cert_der)

    if card.expected_error_code:
        with pytest.raises(CheckFailure) as failure:
            check(core, card)
        assert failure.value.code == card.expected_error_code, card.scenario
        assert failure.value.message  # the manual's Japanese text, shown verbatim
        assert not CheckResult.objects.exists()  # nothing is stored for a refused check
        return

    outcome = check(core, card)
    document = outcome.document
    block = document["result_of_qualification_confirmation"]
    expected_validity = InsuredPerson.objects.get(name=name).current_qualification().validity
    assert block["name"] == name and block["name_kana"] == card.name_kana
    assert document["qualification_validity"] == expected_validity, card.scenario
    assert document["identity_verification"] == METHOD_FOR_PROFILE[card.profile].value
    assert document["certificate_status"] == card.certificate_state
    assert document["processing_result_code"] == NOTICE_FOR_STATE[card.certificate_state]
    assert outcome.synced, "the result reaches the clinic server right after the check"
    stored = CheckResult.objects.get(pk=outcome.result_id)
    assert (stored.name, stored.qualification_validity) == (name, expected_validity)
