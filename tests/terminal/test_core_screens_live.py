"""TerminalCore calls behind the manual's screens, against a live server (issue 11): documents (T01, T06), お知らせ
(T04), readers (T05), アカウントパスワード設定 and ログアウト / システムログイン (T09, T13), バージョン更新 (T14),
健康保険証利用登録 (T27) on the sandbox's asynchronous registration, offline (T30) and paging (T08)."""

from __future__ import annotations

import time

import pytest

from server.common.actor import Actor
from server.institutions.models import AppAccount
from server.notices.actions import (
    do_publish_app_release,
    do_publish_document,
    do_publish_notice,
    seed_default_documents,
)
from server.results.models import CheckResult
from terminal_agent.core.account import MSG_WRONG_CURRENT, MSG_WRONG_LOGIN, AccountFailure
from terminal_agent.core.app import TerminalCore, TerminalStatus
from terminal_agent.core.check_flow import MSG_OFFLINE_CHECK, CheckFailure, CheckFlow, Method
from terminal_agent.core.documents import DocumentUnavailable
from terminal_agent.core.insurance import MSG_COMPLETED, MSG_FAILED, RegStep
from terminal_agent.core.readers import InProcessReaderProvider
from terminal_agent.core.registration import RegistrationForm
from terminal_agent.core.search import MSG_OFFLINE_ALL, SearchCriteria, SearchError

from .test_core_live import free_port_url

pytestmark = [pytest.mark.e2e]
live = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@live
def test_documents_before_registration_offline_and_a_newer_terms_version(clinic, tmp_path):
    seed_default_documents(actor=Actor.cli("pytest"))
    core = TerminalCore(clinic.url, data_dir=tmp_path / "t", readers=InProcessReaderProvider(None), use_keyring=False)
    terms = core.document("terms")  # T01: unsigned, before registration
    assert (terms.version, terms.title, terms.cached) == ("1.0", "利用規約", False)
    assert core.document("privacy").title == "個人情報の取り扱い" and core.document("licenses").label == "ライセンス"
    core.accept_terms(terms.version)
    core.register(RegistrationForm(clinic.institution_code, clinic.account_id, clinic.password, clinic.activation_code()))
    assert core.terms_to_accept() is None and core.account_id == clinic.account_id
    core.close()

    offline = TerminalCore(free_port_url(), data_dir=tmp_path / "t", readers=InProcessReaderProvider(None), use_keyring=False)
    kept = offline.document("licenses")  # T06: read offline from this tablet's copy, with its version
    assert kept.cached and kept.version == "1.0" and "PySide6" in kept.body
    offline.close()
    never = TerminalCore(free_port_url(), data_dir=tmp_path / "n", readers=InProcessReaderProvider(None), use_keyring=False)
    with pytest.raises(DocumentUnavailable) as info:
        never.document("terms")
    assert info.value.message.startswith("利用規約を取得できませんでした。")
    never.close()

    core = TerminalCore(clinic.url, data_dir=tmp_path / "t", readers=InProcessReaderProvider(None), use_keyring=False)
    do_publish_document(kind="terms", version="2.0", title="利用規約", body="改定後の利用規約です。", actor=Actor.cli("pytest"))
    newer = core.startup().terms  # T01: a newer 利用規約 asks for consent again
    assert newer is not None and newer.version == "2.0" and newer.body == "改定後の利用規約です。"
    core.accept_terms(newer.version)
    assert core.startup().terms is None
    core.close()


@live
def test_notices_unread_once_read_per_device_all_listed(clinic, tmp_path, terminal):
    core, _ = terminal()
    other = TerminalCore(clinic.url, data_dir=tmp_path / "o", readers=InProcessReaderProvider(None), use_keyring=False)
    other.register(RegistrationForm(clinic.institution_code, clinic.account_id, clinic.password, clinic.activation_code()))
    assert core.startup().notices == []  # none: the list is skipped (T04)
    notice = do_publish_notice(title="システムメンテナンスのお知らせ", body="12月1日 2時〜4時は利用できません。",
                               url="https://example.org/notice/1",
                               actor=Actor.cli("pytest"),
                           )
    do_publish_notice(title="別の機関のお知らせ", body="x", institution=None, actor=Actor.cli("pytest"))
    unread = core.startup().notices
    assert [n.title for n in unread] == ["別の機関のお知らせ", "システムメンテナンスのお知らせ"]
    first = next(n for n in unread if n.id == notice.pk)
    assert first.url == "https://example.org/notice/1" and first.published.endswith("分") and not first.read
    core.mark_notice_read(notice.pk)
    assert [n.id for n in core.unread_notices()] != [notice.pk] and notice.pk not in {n.id for n in core.unread_notices()}
    everything = core.all_notices()  # ⚙ → お知らせ: read and unread
    assert {(n.id, n.read) for n in everything.notices} >= {(notice.pk, True)} and everything.unread_count == 1
    assert notice.pk in {n.id for n in other.unread_notices()}  # read state is per device
    core.close()

    offline = TerminalCore(free_port_url(), data_dir=tmp_path / "terminal", readers=InProcessReaderProvider(None),
                           use_keyring=False)
    kept = offline.all_notices()
    assert kept.cached and notice.pk in {n.id for n in kept.notices}
    assert offline.unread_notices() == []  # offline: nothing to show at start, the start goes on
    offline.close()
    other.close()


@live
def test_release_newer_then_minimum_supported_blocks_checks_also_offline(clinic, tmp_path, terminal, check):
    core, _ = terminal()
    assert core.startup().release is None  # nothing published
    do_publish_app_release(version="0.2.0", store_url="https://apps.microsoft.com/detail/9NN2X23F7BN3", actor=Actor.cli("pytest"))
    plan = core.startup()
    assert plan.release.update_available and not plan.release.update_required
    assert plan.release.store_url == "https://apps.microsoft.com/detail/9NN2X23F7BN3"
    check(core, Method.VISUAL)  # staff may continue
    do_publish_app_release(version="0.3.0", store_url="https://apps.microsoft.com/detail/9NN2X23F7BN3",
                           minimum_supported=True,
                           actor=Actor.cli("pytest"),
                       )
    assert core.startup().release.update_required and core.update_required
    with pytest.raises(CheckFailure) as info:
        core.start_check(Method.VISUAL)
    assert info.value.kind == "update_required" and "最新バージョン" in info.value.message
    core.close()
    offline = TerminalCore(free_port_url(), data_dir=tmp_path / "terminal", readers=InProcessReaderProvider(None),
                           use_keyring=False)
    assert offline.startup().release.update_required and offline.update_required  # kept: still blocked offline
    offline.close()
    updated = TerminalCore(clinic.url, data_dir=tmp_path / "terminal", readers=InProcessReaderProvider(None),
                           use_keyring=False, app_version="0.3.0")
    assert updated.startup().release is None and not updated.update_required
    updated.close()


@live
def test_password_change_logout_and_lockout(clinic, tmp_path, terminal):
    core, _ = terminal()
    core.set_passcode("2580", "2580")
    with pytest.raises(AccountFailure) as info:  # T09 rule, field by field, before anything is sent
        core.change_account_password("", "short", "other")
    assert set(info.value.fields) == {"current_password", "new_password"}
    assert "8文字以上20文字以下で入力してください。" in info.value.fields["new_password"]
    with pytest.raises(AccountFailure) as info:
        core.change_account_password("Wrong#Pass1", "Next#Pass22", "Next#Pass22")
    assert info.value.fields == {"current_password": [MSG_WRONG_CURRENT]}
    with pytest.raises(AccountFailure) as info:
        core.change_account_password(clinic.password, "Next#Pass22", "Next#Pass2")
    assert info.value.fields["confirmation"] == ["新しいパスワードが一致しません。もう一度入力してください。"]
    core.change_account_password(clinic.password, "Next#Pass22", "Next#Pass22")

    core.logout()  # T13
    assert core.start_screen() == "system_login"
    again = TerminalCore(clinic.url, data_dir=tmp_path / "terminal", readers=InProcessReaderProvider(None),
                         use_keyring=False)
    assert again.start_screen() == "system_login"  # also at the next start
    with pytest.raises(AccountFailure) as info:
        again.system_login(clinic.account_id, clinic.password)  # the old password
    assert info.value.message == MSG_WRONG_LOGIN and info.value.code == "invalid_credentials"
    for _ in range(3):
        with pytest.raises(AccountFailure):
            again.system_login(clinic.account_id, "Wrong#Pass1")
    with pytest.raises(AccountFailure) as info:
        again.system_login(clinic.account_id, "Wrong#Pass1")
    assert info.value.locked and "ロック" in info.value.message and "以降に再度お試しください" in info.value.message
    with pytest.raises(AccountFailure) as info:
        again.system_login(clinic.account_id, "Next#Pass22")  # locked: even the right password waits
    assert info.value.locked
    assert again.start_screen() == "system_login"
    AppAccount.objects.filter(account_id=clinic.account_id).update(failed_attempts=0, locked_until=None)
    assert again.system_login(clinic.account_id, "Next#Pass22").institution_name == "しかく整骨院"
    assert again.start_screen() == "login"
    again.close()
    core.close()


@live
def test_a_phone_unregistered_is_the_6002_dialog_and_a_plastic_card_is_registered(clinic, tmp_path, settings, celery_worker_process, terminal, check):
    """T20 / T27 on the sandbox's asynchronous registration (a real Celery worker finishes it)."""
    settings.SANDBOX_REGISTRATION_DELAY_SECONDS = 1
    core, readers = terminal("携帯 未登子")
    with pytest.raises(CheckFailure) as info:
        check(core, Method.ANDROID, pin="1234")
    assert (info.value.kind, info.value.title, info.value.code) == ("insurance_unregistered", "保険証未登録",
                                                                    "E-C-04-02-A-6002")

    readers.card = clinic.virtual_card("未登録 花子")
    with pytest.raises(CheckFailure) as info:
        check(core, Method.VISUAL)
    assert info.value.kind == "registration_required"
    registration = core.start_insurance_registration(Method.VISUAL)
    terms = registration.choose()  # 健康保険証利用登録する
    assert terms.title == "健康保険証利用登録 利用規約" and registration.step is RegStep.TERMS
    assert registration.accept_terms() is RegStep.READ  # 同意する; 目視: no PIN
    outcome = registration.read()
    assert (outcome.status, outcome.message, registration.step) == ("completed", MSG_COMPLETED, RegStep.DONE)
    _, result = check(core, Method.VISUAL)  # 資格確認する
    assert result.document["result_of_qualification_confirmation"]["name"] == "未登録 花子"

    readers.card = clinic.virtual_card("登録 不可子")  # 暗証番号: the PIN again for the registration's read
    with pytest.raises(CheckFailure) as info:
        check(core, Method.PIN, pin="1234")
    assert info.value.kind == "registration_required"
    registration = core.start_insurance_registration(Method.PIN)
    registration.choose()
    assert registration.accept_terms() is RegStep.PIN_ENTRY
    registration.enter_pin("9999")
    with pytest.raises(CheckFailure) as info:
        registration.read()
    assert info.value.kind == "pin_wrong" and registration.step is RegStep.PIN_ENTRY
    registration.enter_pin("1234")
    outcome = registration.read()
    assert (outcome.status, outcome.message) == ("failed", MSG_FAILED)
    with pytest.raises(CheckFailure) as info:  # 失敗: the check says so (6004), register again with the same card
        check(core, Method.PIN, pin="1234")
    assert info.value.kind == "registration_failed" and info.value.code == "E-C-04-02-A-6004"

    settings.SANDBOX_REGISTRATION_DELAY_SECONDS = 30  # 処理中: the flow stops waiting, the check says wait
    readers.card = clinic.virtual_card("鈴木 次郎")
    from server.sandbox.actions import do_set_registration
    from server.sandbox.models import InsuredPerson

    do_set_registration(InsuredPerson.objects.get(name="鈴木 次郎"), InsuredPerson.Registration.NOT_REGISTERED)
    registration = core.start_insurance_registration(Method.VISUAL)
    registration.wait = 1.0
    registration.choose()
    registration.accept_terms()
    outcome = registration.read()
    assert outcome.status == "processing" and registration.step is RegStep.PROCESSING
    assert outcome.message.startswith("健康保険証利用登録の処理中です。")
    with pytest.raises(CheckFailure) as info:
        check(core, Method.VISUAL)
    assert info.value.kind == "registration_processing" and info.value.code == "E-C-04-02-A-6003"
    core.close()


@live
def test_offline_refuses_before_the_card_and_delivers_what_waits_exactly_once(clinic, tmp_path, server_switch):
    """T30 with the server's port closed and opened again."""
    readers = InProcessReaderProvider(clinic.virtual_card("資格 太郎"))
    core = TerminalCore(server_switch.url, data_dir=tmp_path / "t", readers=readers, use_keyring=False,
                        online_interval=0.5, offline_interval=0.2)
    core.register(RegistrationForm(clinic.institution_code, clinic.account_id, clinic.password, clinic.activation_code()))
    seen = []
    core.add_status_listener(seen.append)
    core.start_background(sync_interval=30)
    wait_for(lambda: core.status().online is True)

    # A result waits: the server goes away between the qualification answer and the sync.
    service = core.check_service()
    sync_after_store = service.after_store
    service.after_store = lambda: (server_switch.down(), sync_after_store())[1]
    outcome = CheckFlow(Method.VISUAL, service).read()
    assert not outcome.synced and core.status() == TerminalStatus(False, 1)
    assert seen[-1].online is False and seen[-1].pending == 1

    started = time.monotonic()
    with pytest.raises(CheckFailure) as info:  # refused before anything is read: no card, no PIN
        core.start_check(Method.PIN)
    assert info.value.kind == "offline" and info.value.message == MSG_OFFLINE_CHECK
    stale = core.check_service()  # a state not yet learned: the challenge fails first, still before the card
    stale.is_offline = lambda: False
    readers.card = None  # a read would say "no card"; the refusal comes before any read
    with pytest.raises(CheckFailure) as info:
        stale.prove(Method.VISUAL, None)
    assert info.value.kind == "offline" and time.monotonic() - started < 5

    # D-10-W offline: this tablet's results only; all terminals says why not.
    page = core.search_results(SearchCriteria.default())
    assert page.local and [row.name for row in page.rows] == ["資格 太郎"]
    assert core.result_document(page.rows[0].id)["result_of_qualification_confirmation"]["name"] == "資格 太郎"
    everything = SearchCriteria.default()
    everything.this_device_only = False
    with pytest.raises(SearchError) as info:
        core.search_results(everything)
    assert info.value.message == MSG_OFFLINE_ALL

    server_switch.up()  # back: learned by the probe, delivered within seconds, once
    came_back = time.monotonic()
    wait_for(lambda: core.status() == TerminalStatus(True, 0), timeout=10)
    assert time.monotonic() - came_back < 5
    assert CheckResult.objects.filter(id=outcome.result_id).count() == 1 and CheckResult.objects.count() == 1
    assert seen[-1].online is True and seen[-1].pending == 0
    time.sleep(1.0)  # later rounds send nothing more
    assert CheckResult.objects.count() == 1
    core.close()


@live
def test_local_search_pages_never_overlap(clinic, tmp_path, terminal, check):
    core, _ = terminal()
    ids = [check(core, Method.VISUAL)[1].result_id for _ in range(5)]
    criteria = SearchCriteria.default()
    criteria.page_size = 2
    online = core.search_results(criteria)
    assert not online.enabled("first") and not online.enabled("previous") and online.enabled("last")
    last = core.search_page("last")
    assert len(last.rows) == 1 and not last.enabled("last") and not last.enabled("next") and last.enabled("first")
    core.close()
    offline = TerminalCore(free_port_url(), data_dir=tmp_path / "terminal", readers=InProcessReaderProvider(None),
                           use_keyring=False)
    offline.connectivity.probe_now()
    seen = []
    page = offline.search_results(criteria)
    assert page.local and not page.enabled("first") and page.enabled("next")
    seen += [r.id for r in page.rows]
    while page.enabled("next"):
        page = offline.search_page("next")
        seen += [r.id for r in page.rows]
    assert sorted(seen) == sorted(ids) and len(seen) == 5 and len(page.rows) == 1
    assert offline.search_page("last").rows == page.rows and not page.enabled("last")
    assert [r.id for r in offline.search_page("first").rows] == seen[:2]
    offline.close()


def test_reader_watch_reports_plugging_live(tmp_path):
    readers = InProcessReaderProvider(None)
    core = TerminalCore(free_port_url(), data_dir=tmp_path / "t", readers=readers, use_keyring=False)
    reports = []
    watch = core.watch_readers(reports.append)
    assert reports == [["Virtual In-Process Reader 00 00"]]
    readers.backend.unplug()
    wait_for(lambda: reports[-1] == [])
    readers.backend.plug()
    wait_for(lambda: reports[-1] == ["Virtual In-Process Reader 00 00"])
    watch.stop()
    core.close()
