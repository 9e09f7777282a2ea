"""Fixtures of the terminal tests. The live test seeds the real server through the other parts' own actions."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def sandbox_ca(tmp_path, settings):
    """A throwaway test JPKI CA for this test (the sandbox creates it on first use)."""
    settings.SANDBOX_CA_DIR = tmp_path / "sandbox-ca"
    return settings.SANDBOX_CA_DIR


@pytest.fixture
def clinic(transactional_db, live_server, sandbox_ca, tmp_path):
    """The demo institution, its app account, activation codes and the sandbox roster, on a live server."""
    from server.devices.actions import do_issue_activation_code
    from server.institutions.actions import do_create_app_account, do_create_institution
    from server.sandbox.demo import seed_demo_roster

    institution = do_create_institution(code="1311000010", name="しかく整骨院")
    do_create_app_account(institution, "clinic-admin", "Demo#Pass1")
    cards = {card.name: card for card in seed_demo_roster(tmp_path / "cards")}

    class Clinic:
        url = live_server.url
        account_id = "clinic-admin"
        password = "Demo#Pass1"
        institution_code = "1311000010"

        def __init__(self) -> None:
            self.institution = institution
            self.cards = cards

        def activation_code(self) -> str:
            return do_issue_activation_code(institution)[0]

        def virtual_card(self, name: str):
            from terminal_agent.card.virtual import VirtualCard, load_card_files

            card = self.cards[name]
            key, cert_der = load_card_files(card.key_path, card.cert_path)
            return VirtualCard(profile=card.profile, pin=card.pin, key=key, cert_der=cert_der)

    return Clinic()
