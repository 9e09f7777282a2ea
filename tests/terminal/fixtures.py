"""Fixtures of the terminal and end-to-end tests, shared instead of copied per module (a pytest plugin, named in
tests/conftest.py's ``pytest_plugins``): the live clinic (``clinic``), registered terminal cores on it (``terminal``), one
check through the core (``check`` / ``run_check``), a driver of the real widgets (``ui``) and a window over the stub
core (``stub_window``). The live ones seed the real server through the other parts' own actions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from server.common.actor import Actor


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
    from server.notices.actions import seed_default_documents
    from server.sandbox.demo import seed_demo_roster

    seed_default_documents(actor=Actor.cli("pytest"))  # 利用規約 / 個人情報の取り扱い / ライセンス, version 1.0 (T01, T06)
    institution = do_create_institution(code="1311000010", name="しかく整骨院", actor=Actor.cli("pytest"))
    do_create_app_account(institution, "clinic-admin", "Demo#Pass1", actor=Actor.cli("pytest"))
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
            return do_issue_activation_code(institution, actor=Actor.cli("pytest"))[0]

        def registration_form(self, activation_code: str | None = None):  # noqa: ANN202 - a RegistrationForm
            """初期登録's four fields, with a fresh activation code unless one is given."""
            from terminal_agent.core.registration import RegistrationForm

            code = activation_code or self.activation_code()
            return RegistrationForm(self.institution_code, self.account_id, self.password, code)

        def virtual_card(self, name: str):  # noqa: ANN202 - a VirtualCard
            from terminal_agent.card.virtual import VirtualCard, load_card_files

            card = self.cards[name]
            key, cert_der = load_card_files(card.key_path, card.cert_path)
            return VirtualCard(profile=card.profile, pin=card.pin, key=key, cert_der=cert_der)

    return Clinic()


@pytest.fixture
def terminal(clinic, tmp_path) -> Iterator[Callable[..., Any]]:
    """``terminal(card_name="資格 太郎", name="terminal", device_name="", activation_code=None, **TerminalCore
    options)`` → (core, readers): a terminal registered on the live clinic with that card in its in-process reader
    (``None``: an empty reader). Every core is closed afterwards."""
    from terminal_agent.core.app import TerminalCore
    from terminal_agent.core.readers import InProcessReaderProvider

    made: list[Any] = []

    def make(
        card_name: str | None = "資格 太郎",
        *,
        name: str = "terminal",
        device_name: str = "",
        activation_code: str | None = None,
        **kwargs: Any,
    ) -> tuple[Any, Any]:
        readers = InProcessReaderProvider(clinic.virtual_card(card_name) if card_name else None)
        core = TerminalCore(clinic.url, data_dir=tmp_path / name, readers=readers, use_keyring=False, **kwargs)
        core.register(clinic.registration_form(activation_code), device_name=device_name)
        made.append(core)
        return core, readers

    yield make
    for core in made:
        core.close()


def run_check(core: Any, method: Any, pin: str | None = None, consent: bool = False) -> tuple[Any, Any]:
    """One check through the core, the manual's steps in order: (flow, outcome); a failure raises ``CheckFailure``."""
    from terminal_agent.core.check_flow import Step

    flow = core.start_check(method, consent_specific_diseases=consent)
    if flow.step is Step.CONFIRM:
        flow.confirm()
    if flow.step is Step.PIN_ENTRY:
        flow.enter_pin(pin or "")
    return flow, flow.read()


@pytest.fixture
def check() -> Callable[..., tuple[Any, Any]]:
    """``check(core, Method.PIN, pin="1234", consent=False)`` → (flow, outcome)."""
    return run_check


class UiDriver:
    """Mouse and keyboard on the real widgets, through pytest-qt (which waits in an event loop, not holding the GIL)."""

    def __init__(self, qtbot: Any) -> None:
        self.qtbot = qtbot

    def click(self, widget: Any) -> None:
        from PySide6.QtCore import Qt

        assert widget.isVisible() and widget.isEnabled(), widget.text() if hasattr(widget, "text") else widget
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

    def press(self, keypad: Any, digits: str) -> None:
        for digit in digits:
            self.click(keypad.digit_buttons[digit])

    def answer(self, window: Any, label: str = "OK", timeout: int = 30000) -> str:
        """Wait for the open dialog, click ``label`` with the mouse, return the dialog's text."""
        self.qtbot.waitUntil(lambda: window.active_dialog is not None and window.active_dialog.isVisible(), timeout=timeout)
        box = window.active_dialog
        text = box.text()
        [target] = [b for b in box.buttons() if b.text() == label]
        window.active_dialog = None
        self.click(target)
        return text

    def wait_screen(self, window: Any, screen: Any, timeout: int = 30000) -> None:
        self.qtbot.waitUntil(lambda: window.current_screen() is screen, timeout=timeout)


@pytest.fixture
def ui(qtbot) -> UiDriver:
    return UiDriver(qtbot)


@pytest.fixture
def stub_window(qtbot) -> Iterator[Callable[..., tuple[Any, Any]]]:
    """``stub_window(**StubCore options)`` → (window, core): the real main window, shown at 1280×800, over the stub
    core of ``tests/terminal/stub_core.py`` (no server, no card)."""
    from terminal_agent.ui.app import build_main_window
    from tests.terminal.stub_core import StubCore

    windows: list[Any] = []

    def make(**options: Any) -> tuple[Any, Any]:
        core = StubCore(**options)
        window = build_main_window(core)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window, core

    yield make
    for window in windows:
        window.close()
