"""The demo's offscreen helper: one scripted 暗証番号 check through the real screens, then a PNG of C-04-01-W."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from terminal_agent.core.app import TerminalCore
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.registration import RegistrationForm
from terminal_agent.ui.scripted import run_scripted_pin_check


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_scripted_pin_check_saves_a_screenshot(qapp, clinic, tmp_path):
    core = TerminalCore(
        clinic.url,
        data_dir=tmp_path / "terminal",
        readers=InProcessReaderProvider(clinic.virtual_card("資格 太郎")),
        use_keyring=False,
    )
    form = RegistrationForm(clinic.institution_code, clinic.account_id, clinic.password, clinic.activation_code())
    outcome = run_scripted_pin_check(core, pin="1234", screenshot=tmp_path / "result.png", registration=form)
    assert outcome["result"]["result_of_qualification_confirmation"]["name"] == "資格 太郎"
    assert outcome["pending_results"] == 0
    image = QImage(outcome["screenshot"])
    assert not image.isNull() and image.width() > 300

    # A second run on the same terminal logs in with the passcode instead of registering.
    again = run_scripted_pin_check(core, pin="1234", screenshot=tmp_path / "again.png")
    assert again["result"]["identity_verification"] == "pin"
    core.close()
