"""TerminalCore against a live server and sandbox, without a display: every method, the card and service errors,
sync with an unreachable server (T30), paging, and deregistration (T12, S03)."""

from __future__ import annotations

import socket

import pytest

from server.common.actor import Actor
from server.results.models import CheckResult
from terminal_agent.core.api_client import MSG_NETWORK_DOWN, ApiClient, ApiFailure
from terminal_agent.core.app import RegistrationFailed, TerminalCore
from terminal_agent.core.check_flow import MSG_PIN_LOCKED, CheckFailure, FailureKind, Method, Step
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.registration import RegistrationForm
from terminal_agent.core.search import SearchCriteria

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def free_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there once the socket is closed


def test_registration_errors_come_back_in_japanese(clinic, tmp_path):
    core = TerminalCore(clinic.url, data_dir=tmp_path / "t", readers=InProcessReaderProvider(None), use_keyring=False)
    with pytest.raises(RegistrationFailed) as info:
        core.register(RegistrationForm(clinic.institution_code, clinic.account_id, "Wrong#Pass1", clinic.activation_code()))
    assert info.value.code == "invalid_credentials"
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in info.value.message)
    assert not core.is_registered() and core.start_screen() == "terms"
    core.close()


def test_every_method_and_sync(clinic, terminal, check):
    core, readers = terminal()
    assert core.method_choices() == [Method.VISUAL, Method.IPHONE, Method.ANDROID]

    flow, outcome = check(core, Method.VISUAL)  # T16: no PIN
    assert flow.steps == [Step.READ, Step.READ_DONE, Step.RESULT]
    assert outcome.document["identity_verification"] == "visual"
    assert flow.next() is Step.RESULT

    readers.card = clinic.virtual_card("携帯 愛子")  # T18: iPhone, no PIN at the terminal
    _, outcome = check(core, Method.IPHONE)
    assert outcome.document["result_of_qualification_confirmation"]["name"] == "携帯 愛子"

    readers.card = clinic.virtual_card("携帯 安男")  # T19: Android スマホ用電子証明書 PIN
    _, outcome = check(core, Method.ANDROID, pin="1234")
    assert outcome.document["identity_verification"] == "android"

    readers.card = clinic.virtual_card("資格 無効子")
    core.set_visual_check(False)
    _, outcome = check(core, Method.PIN, pin="1234")
    assert core.result_view(outcome.document).messages[0] == "この資格は無効です"

    # Each result reached the server once, under the terminal's id (S06).
    assert core.pending_results() == 0
    assert CheckResult.objects.count() == 4
    assert CheckResult.objects.filter(id=outcome.result_id, is_valid=False).exists()

    # A resend of an acknowledged result (its answer lost) is a harmless duplicate.
    assert core.store.purge_delivered("9999") == 4
    core.store.add_to_outbox(outcome.result_id, outcome.checked_at, outcome.document)
    report = core.sync_now()
    assert report.duplicate == [outcome.result_id] and core.pending_results() == 0


def test_card_and_service_errors(clinic, terminal):
    core, readers = terminal()
    core.set_visual_check(False)

    readers.card = clinic.virtual_card("未登録 花子")  # T27 entry: a plastic card not registered for insurance use
    flow = core.start_check(Method.PIN)
    flow.confirm()
    flow.enter_pin("1234")
    with pytest.raises(CheckFailure) as info:
        flow.read()
    assert info.value.kind is FailureKind.REGISTRATION_REQUIRED
    assert info.value.code == "E-C-04-02-A-6002" and info.value.title == "保険証未登録"
    assert info.value.message.startswith("マイナンバーカードを保険証として利用するための登録が必要です。")
    assert flow.step is Step.FAILED

    readers.card = clinic.virtual_card("資格 太郎")  # T17: wrong PIN twice, then locked
    flow = core.start_check(Method.PIN)
    flow.confirm()
    for tries_left in (2, 1):
        flow.enter_pin("0000")
        with pytest.raises(CheckFailure) as info:
            flow.read()
        assert (info.value.kind, info.value.tries_left) == (FailureKind.PIN_WRONG, tries_left)
        assert f"残り回数は{tries_left}回" in info.value.message
        assert flow.step is Step.PIN_ENTRY  # the patient may try again
    flow.enter_pin("0000")
    with pytest.raises(CheckFailure) as info:
        flow.read()
    assert info.value.kind is FailureKind.PIN_LOCKED and info.value.message == MSG_PIN_LOCKED
    assert "住民票のある市町村窓口" in info.value.message

    readers.card = None  # no card on the reader: a message, not a crash
    flow = core.start_check(Method.IPHONE)
    flow.confirm()
    with pytest.raises(CheckFailure) as info:
        flow.read()
    assert info.value.kind is FailureKind.CARD and flow.step is Step.READ
    assert CheckResult.objects.count() == 0


def test_results_wait_in_the_outbox_while_the_server_is_unreachable(clinic, terminal, check):
    core, _ = terminal()
    online = core.sync.api
    offline = ApiClient(free_port_url(), device_id=online.device_id, key=online.key, timeout=2)
    core.sync.api = offline
    _, outcome = check(core, Method.VISUAL)
    assert not outcome.synced and core.pending_results() == 1
    [item] = core.store.outbox_items()
    assert item.attempts == 1 and item.last_error == "network_unavailable"
    report = core.sync.sync_once()  # backing off: nothing is due yet
    assert report.error is None and report.delivered == 0

    with pytest.raises(ApiFailure) as info:
        offline.me()
    assert info.value.message == MSG_NETWORK_DOWN and info.value.is_network

    core.sync.api = online  # the network is back; later rounds deliver
    core.sync.clock = lambda: 10**12
    report = core.sync_now()
    assert report.stored == [outcome.result_id] and core.pending_results() == 0
    assert CheckResult.objects.filter(id=outcome.result_id).count() == 1
    offline.close()


def test_search_paging_detail_and_scope(clinic, terminal, check):
    core, _ = terminal()
    ids = [check(core, Method.VISUAL)[1].result_id for _ in range(3)]
    criteria = SearchCriteria.default()
    criteria.page_size = 2
    page = core.search_results(criteria)
    assert [row.name for row in page.rows] == ["資格 太郎", "資格 太郎"]
    assert page.rows[0].validity == "資格有効" and page.rows[0].checked_at.endswith("分")
    assert page.has("next") and not page.has("previous")
    second = core.search_page("next")
    assert len(second.rows) == 1 and second.has("previous")
    assert {r.id for r in page.rows + second.rows} == set(ids)
    assert len(core.search_page("first").rows) == 2
    assert core.result_document(ids[0])["result_of_qualification_confirmation"]["name"] == "資格 太郎"

    other, _ = terminal(None, name="other")
    assert other.search_results().rows == []  # この端末で資格確認した結果のみ
    everything = SearchCriteria.default()
    everything.this_device_only = False
    assert len(other.search_results(everything).rows) == 3


def test_deregistration_returns_to_the_unregistered_state(clinic, terminal):
    core, _ = terminal()
    core.set_passcode("1357", "1357")
    assert core.start_screen() == "login"
    old = ApiClient(clinic.url, device_id=core.api.device_id, key=core.api.key)
    core.deregister()
    assert not core.is_registered() and core.start_screen() == "terms"
    with pytest.raises(ApiFailure) as info:
        old.me()
    assert info.value.code == "device_deregistered" and info.value.means_deregistered
    old.close()


def test_a_retired_device_turns_the_terminal_unregistered(clinic, terminal, check):
    from server.devices.actions import do_retire_device
    from server.devices.models import Device

    core, _ = terminal()
    _, outcome = check(core, Method.VISUAL)
    do_retire_device(Device.objects.get(id=core.registration.device_id), "tablet replaced", actor=Actor.cli("it"))
    with pytest.raises(CheckFailure) as info:
        check(core, Method.VISUAL)
    assert info.value.code == "device_retired"
    assert not core.is_registered() and core.start_screen() == "terms"
    assert CheckResult.objects.filter(id=outcome.result_id).exists()  # what was synced before stays on the server


def test_every_roster_variant_reads_and_displays(clinic, terminal, check):
    """Every sandbox person through the terminal: the manual's variants of T21–T23, or the coded error (T20, N05)."""
    from terminal_agent.core.formatting import MSG_MEDICAL_AID

    core, readers = terminal()
    core.set_visual_check(False)
    method_for = {"physical": Method.PIN, "iphone": Method.IPHONE, "android": Method.ANDROID}
    views = {}
    for name, card in clinic.cards.items():
        if card.scenario == "manual P.10 search list":
            continue  # seven more people like 資格 太郎 (the search screen's sample rows)
        readers.card = clinic.virtual_card(name)
        if card.expected_error_code:
            with pytest.raises(CheckFailure) as info:
                check(core, method_for[card.profile], pin=card.pin, consent=True)
            assert info.value.code == card.expected_error_code, name
            assert info.value.message, name
            continue
        _, outcome = check(core, method_for[card.profile], pin=card.pin, consent=True)
        views[name] = core.result_view(outcome.document)
        assert core.copy_text(outcome.document).startswith("資格確認結果"), name

    def rows(name: str, title: str) -> list[tuple[str, str]]:
        return next(s.rows for s in views[name].sections if s.title == title)

    assert views["資格 無効子"].messages[0] == "この資格は無効です" and not views["資格 無効子"].is_valid
    assert ("区分", "義務教育就学前") in rows("資格 未来", "資格情報")
    assert ("負担割合", "2割") in rows("資格 高齢", "高齢受給者証")
    assert ("適用区分", "ア") in rows("資格 限度", "限度額適用認定証")
    assert [label for label, _ in rows("資格 限度", "特定疾病療養受療証")].count("疾病区分") == 2
    assert [label for label, _ in rows("資格 三疾", "特定疾病療養受療証")].count("疾病区分") == 3
    assert MSG_MEDICAL_AID in views["保護 太郎"].messages
    assert ("福祉事務所名", "港区福祉事務所") in rows("保護 太郎", "資格情報")
    assert ("氏名", "配慮 太郎") in rows("配慮 花子", "要配慮情報 (備考)")
    assert views["無番 花子"].reference_number == ""
    assert any("3カ月" in m for m in views["期限 近子"].messages)
    assert any("猶予期間" in m for m in views["猶予 期子"].messages)
    assert core.pending_results() == 0 and CheckResult.objects.count() == len(views)
