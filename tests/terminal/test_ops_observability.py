"""Logs, request ids and versions seen from a terminal (issue 16, points 1 and 3).

A full check — registration with the account password and an activation code, a 暗証番号 check with the PIN, the
sync — runs through the terminal core against the live server while every log record of both (any logger, DEBUG
and up) is written through the server's JSON-lines formatter; then the lines are searched for the person's name,
kana and birth date, the PIN, the password and the activation code.
"""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest

from server.ops.logs import structured_formatter
from terminal_agent.card.virtual import VirtualCard, load_card_files
from terminal_agent.core.api_client import ApiFailure
from terminal_agent.core.app import RegistrationFailed, TerminalCore
from terminal_agent.core.check_flow import Method
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.registration import APP_VERSION, RegistrationForm

PIN = "8371"  # this test's card: a PIN that no other test data carries


@pytest.fixture
def json_log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structured_formatter("json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _values(entry: dict) -> list[str]:
    """Every logged value that could carry data: not timestamps, durations or ids made of hex digits."""
    values = []
    for key, value in entry.items():
        if key in {"timestamp", "duration_ms", "request_id", "device_id", "task_id"}:
            continue
        text = str(value)
        try:
            uuid.UUID(text)
            continue
        except ValueError:
            values.append(text)
    return values


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_full_check_logs_its_requests_without_patient_data_or_secrets(clinic, tmp_path, json_log_lines):
    card = clinic.cards["資格 太郎"]
    key, cert_der = load_card_files(card.key_path, card.cert_path)
    readers = InProcessReaderProvider(VirtualCard(profile=card.profile, pin=PIN, key=key, cert_der=cert_der))
    core = TerminalCore(clinic.url, data_dir=tmp_path / "terminal", readers=readers, use_keyring=False)
    code = clinic.activation_code()
    core.register(RegistrationForm(clinic.institution_code, clinic.account_id, clinic.password, code))
    core.set_passcode("1111", "1111")
    assert core.login("1111")
    core.set_visual_check(False)
    flow = core.start_check(Method.PIN)
    flow.confirm()
    flow.enter_pin(PIN)
    outcome = flow.read()
    person = outcome.document["result_of_qualification_confirmation"]
    assert person["name"] == "資格 太郎" and core.pending_results() == 0
    device_id = core.registration.device_id
    core.close()

    entries = json_log_lines()
    requests = [e for e in entries if e.get("event") == "request"]
    routes = {e["route"] for e in requests}
    assert {"api/v1/devices/register", "sandbox/onshi/v1/qualifications", "api/v1/results/batch"} <= routes
    synced = next(e for e in requests if e["route"] == "api/v1/results/batch")
    assert synced["status"] == 200 and synced["method"] == "POST" and synced["duration_ms"] > 0
    assert synced["device_id"] == device_id
    assert synced["institution_id"] == clinic.institution.pk
    uuid.UUID(synced["request_id"])

    secrets = {
        "name": person["name"], "kana": person["name_kana"], "birth date": person["birthdate"],
        "PIN": PIN, "password": clinic.password, "activation code": code,
    }
    logged = "\n".join(v for entry in entries for v in _values(entry))
    for what, secret in secrets.items():
        assert secret not in logged, f"the {what} reached a log line"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_api_failures_carry_the_request_id_and_versions_name_both_sides(clinic, tmp_path):
    core = TerminalCore(clinic.url, data_dir=tmp_path / "t", readers=InProcessReaderProvider(None), use_keyring=False)
    with pytest.raises(RegistrationFailed) as refused:
        core.register(RegistrationForm(clinic.institution_code, clinic.account_id, "Wrong#Pass1", clinic.activation_code()))
    uuid.UUID(refused.value.request_id)  # the server's X-Request-Id of the refused call

    with pytest.raises(ApiFailure) as unsigned:
        core.api._request("GET", "/api/v1/devices/me", signed=False)
    assert unsigned.value.code == "signature_required" and uuid.UUID(unsigned.value.request_id)

    versions = core.versions()
    assert versions.app == APP_VERSION and versions.server == APP_VERSION  # one repository, one version
    core.close()

    offline = TerminalCore("http://127.0.0.1:9", data_dir=tmp_path / "o", readers=InProcessReaderProvider(None),
                           use_keyring=False)
    assert offline.versions().server == ""
    offline.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_error_dialog_shows_the_request_id_of_the_refused_call(qtbot, clinic, tmp_path):
    from PySide6.QtCore import Qt

    from server.audit.models import AuditEvent
    from terminal_agent.ui.app import build_main_window

    core = TerminalCore(clinic.url, data_dir=tmp_path / "t", readers=InProcessReaderProvider(None), use_keyring=False)
    window = build_main_window(core)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.terms.accept_button.isEnabled)  # the server's 利用規約 is shown first (T01)
    qtbot.mouseClick(window.terms.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current_screen() is window.registration)
    screen = window.registration
    qtbot.keyClicks(screen.institution_code, clinic.institution_code)
    qtbot.keyClicks(screen.account_id, clinic.account_id)
    qtbot.keyClicks(screen.password.edit, "Wrong#Pass1")
    qtbot.keyClicks(screen.activation_code, clinic.activation_code())
    qtbot.mouseClick(screen.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.active_dialog is not None and window.active_dialog.isVisible(), timeout=30000)
    text = window.active_dialog.text()
    window.active_dialog.grab().save(str(tmp_path / "registration-error.png"))
    assert text.splitlines()[-1].startswith("問い合わせ番号: ")
    request_id = text.splitlines()[-1].removeprefix("問い合わせ番号: ")
    # Support finds the call: the same id is in the server's audit trail (and its log line).
    assert AuditEvent.objects.filter(request_id=uuid.UUID(request_id)).exists()
    window.close()
    core.close()


@pytest.mark.parametrize("online", [True, False])
def test_the_licence_page_names_the_app_and_server_versions(qtbot, stub_window, tmp_path, online):
    window, core = stub_window(start="login", online=online)
    window.methods.menu_requested.emit("license")  # ⚙ → ライセンス
    screen = window.document_view
    qtbot.waitUntil(lambda: screen.versions_label.isVisible(), timeout=10000)
    assert window.current_screen() is screen and screen.screen_id == "G-03-W"
    server = "0.1.0" if online else "（取得できません）"
    assert screen.versions_label.text() == f"アプリのバージョン: 0.1.0　　サーバーのバージョン: {server}"
    assert "versions" in core.calls
    window.grab().save(str(tmp_path / f"licenses-{online}.png"))

    window.methods.menu_requested.emit("terms")  # the other documents show no versions
    qtbot.waitUntil(lambda: screen.kind == "terms")
    assert not screen.versions_label.isVisible()
