"""A06 監査ログ: search by period, actor, terminal and action; paging; streamed CSV with a BOM; read only; S11."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.admin_ui.conftest import csv_rows

pytestmark = pytest.mark.django_db


def event(action: str, *, institution, device=None, actor_type="staff", actor_id="it", at=None, **extra):
    from server.audit.actions import record_event
    from server.audit.models import AuditEvent
    from server.common.actor import Actor

    made = record_event(action, Actor(actor_type, actor_id), institution=institution, device=device, **extra)
    if at is not None:  # back-dating goes around save(): the model refuses updates, as it should
        AuditEvent.objects.filter(pk=made.pk).update(occurred_at=at)
        made = AuditEvent.objects.get(pk=made.pk)
    return made


@pytest.fixture
def trail(clinic, other_clinic, make_device):
    front = make_device(clinic, "受付1")
    back = make_device(clinic, "受付2")
    now = timezone.now()
    return {
        "front": front,
        "back": back,
        "renamed": event("device_renamed", institution=clinic, device=front, detail={"from": "A", "to": "受付1"}),
        "retired": event("device_retired", institution=clinic, device=back, actor_id="it2", detail={"reason": "故障"}),
        "login": event("console_login", institution=clinic, actor_id="manager"),
        "old": event("activation_code_issued", institution=clinic, at=now - dt.timedelta(days=45)),
        "foreign": event("console_login", institution=other_clinic, actor_id="someone-else"),
    }


def test_it_staff_do_not_see_the_trail(client, it_staff, trail):
    client.force_login(it_staff)
    assert client.get(reverse("console:audit")).status_code == 403


def test_managers_see_the_trail_of_their_institution_only(client, manager, trail):
    client.force_login(manager)
    response = client.get(reverse("console:audit"))
    assert response.status_code == 200
    body = response.content.decode()
    ids = {row["event"].pk for row in response.context["rows"]}
    assert ids == {trail["renamed"].pk, trail["retired"].pk, trail["login"].pk}  # default: the last 30 days
    assert "someone-else" not in body
    for text in ("端末名の変更", "端末の廃止", "コンソールへのログイン", "受付1", "受付2", "故障", "コンソール利用者"):
        assert text in body, text
    # Read only: no way to change or delete anything from the page.
    assert body.count('method="post"') == 1  # the sign-out form only


def test_audit_filters(client, manager, clinic, trail):
    client.force_login(manager)
    url = reverse("console:audit")

    def ids(**params):
        return {row["event"].pk for row in client.get(url, params).context["rows"]}

    assert ids(actor="IT2") == {trail["retired"].pk}  # the actor ID ignores case
    assert ids(device=str(trail["front"].pk)) == {trail["renamed"].pk}
    assert ids(action="console_login") == {trail["login"].pk}
    old_day = timezone.localdate(trail["old"].occurred_at).isoformat()
    assert ids(date_from=old_day, date_to=old_day) == {trail["old"].pk}
    assert trail["old"].pk in ids(date_from="", date_to="")  # emptied dates: no bound


def test_audit_bad_input_gives_field_errors(client, manager, trail):
    client.force_login(manager)
    url = reverse("console:audit")
    body = client.get(url, {"date_from": "2026-02-10", "date_to": "2026-02-01"}).content.decode()
    assert "終了日は開始日以降の日付を指定してください。" in body
    response = client.get(url, {"date_from": "2026-13-45"})
    assert response.context["form"].errors["date_from"]
    assert "日付を正しく入力してください" in response.content.decode()
    foreign = client.get(url, {"device": "00000000-0000-0000-0000-000000000000"})
    assert "選択肢の中から選んでください。" in foreign.content.decode()
    assert list(foreign.context["rows"]) == []
    unknown = client.get(url, {"action": "drop_table"})
    assert unknown.context["form"].errors["action"] == ["選択肢の中から選んでください。"]
    long_actor = client.get(url, {"actor": "x" * 151})
    assert "操作者IDは150文字以内で入力してください。" in long_actor.content.decode()


def test_audit_paging(client, manager, clinic):
    for i in range(60):
        event("console_result_viewed", institution=clinic, actor_id=f"user{i:02d}")
    client.force_login(manager)
    first = client.get(reverse("console:audit"))
    assert len(first.context["rows"]) == 50
    assert first.context["rows"][0]["event"].actor_id == "user59"  # newest first
    assert "次のページ" in first.content.decode()
    second = client.get(reverse("console:audit"), {"page": 2})
    assert [r["event"].actor_id for r in second.context["rows"]] == [f"user{i:02d}" for i in range(9, -1, -1)]


def test_audit_csv_export_streams_with_bom_and_is_audited(client, manager, clinic, trail):
    from server.audit.models import AuditEvent

    client.force_login(manager)
    listing = client.get(reverse("console:audit"), {"device": str(trail["back"].pk)}).content.decode()
    assert reverse("console:audit-export") + f"?device={trail['back'].pk}" in listing.replace("&amp;", "&")
    response = client.get(reverse("console:audit-export"), {"device": str(trail["back"].pk)})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][:5] == ["日時", "操作", "操作コード", "操作者の種類", "操作者ID"]
    assert len(rows) == 2
    assert rows[1][1:6] == ["端末の廃止", "device_retired", "コンソール利用者", "it2", "受付2"]
    assert "故障" in rows[1][8]
    exported = AuditEvent.objects.get(action="console_audit_exported")
    assert (exported.actor_id, exported.institution_id, exported.detail["rows"]) == ("manager", clinic.pk, 1)
    assert exported.detail["device"] == str(trail["back"].pk)


def test_audit_csv_refuses_bad_filters(client, manager, trail):
    client.force_login(manager)
    response = client.get(reverse("console:audit-export"), {"date_from": "2026-02-10", "date_to": "2026-02-01"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:audit") + "?")


def test_csv_cells_cannot_become_excel_formulas(client, manager, clinic):
    event("console_login", institution=clinic, actor_id='=HYPERLINK("http://x")')
    client.force_login(manager)
    rows = csv_rows(client.get(reverse("console:audit-export")))
    assert rows[1][4] == '\'=HYPERLINK("http://x")'


def test_audit_pages_require_sign_in_and_membership(client, make_staff, clinic):
    for name in ("console:audit", "console:audit-export"):
        assert client.get(reverse(name)).status_code == 302
    client.force_login(make_staff("outsider", clinic, role=None))
    for name in ("console:audit", "console:audit-export"):
        assert client.get(reverse(name)).status_code == 403


def test_the_trail_has_no_write_urls():
    from django.urls import NoReverseMatch

    for name in ("console:audit-delete", "console:audit-edit", "console:audit-update"):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=[1])


def test_details_are_labelled_japanese_pairs(client, manager, trail):
    client.force_login(manager)
    response = client.get(reverse("console:audit"))
    rows = {row["event"].pk: row for row in response.context["rows"]}
    assert [(d.label, d.value) for d in rows[trail["retired"].pk]["details"]] == [("理由", "故障")]
    assert [(d.label, d.value) for d in rows[trail["renamed"].pk]["details"]] == [("変更前", "A"), ("変更後", "受付1")]
    body = response.content.decode()
    assert "<dt>理由</dt><dd>故障</dd>" in body and '{"reason"' not in body
    rows_csv = csv_rows(client.get(reverse("console:audit-export")))
    details = {row[1]: row[8] for row in rows_csv[1:]}
    assert details["端末の廃止"] == "理由: 故障"


def test_actor_search_is_by_prefix(client, manager, trail):
    client.force_login(manager)
    ids = {row["event"].pk for row in client.get(reverse("console:audit"), {"actor": "IT"}).context["rows"]}
    assert ids == {trail["renamed"].pk, trail["retired"].pk}  # "it" and "it2", case-insensitive
    ids = {row["event"].pk for row in client.get(reverse("console:audit"), {"actor": "it2"}).context["rows"]}
    assert ids == {trail["retired"].pk}


def test_filter_by_object(client, manager, clinic, trail, make_result):
    result = make_result(trail["front"], "資格 太郎", "シカク タロウ")
    seen = event("console_result_viewed", institution=clinic, actor_id="manager", objects=[str(result.pk)])
    unlocked = event("app_account_unlocked", institution=clinic, objects=["clinic-admin"])
    client.force_login(manager)

    def found(**params):
        response = client.get(reverse("console:audit"), params)
        return {row["event"].pk for row in response.context["rows"]}, response

    assert found(object_type="result", object_id=str(result.pk))[0] == {seen.pk}
    assert found(object_type="device", object_id=str(trail["front"].pk))[0] == {trail["renamed"].pk}
    assert found(object_type="account", object_id="clinic-admin")[0] == {unlocked.pk}
    ids, response = found(object_type="result", object_id="not-an-id")
    assert ids == set() and response.context["form"].errors["object_id"]
    ids, response = found(object_id="clinic-admin")
    assert response.context["form"].errors["object_type"] == ["対象の種類を選んでください。"]


def test_a_result_page_shows_who_saw_it(client, manager, make_staff, clinic, trail, make_result):
    result = make_result(trail["front"], "資格 太郎", "シカク タロウ")
    event("result_viewed", institution=clinic, device=trail["front"], actor_type="device", actor_id=str(trail["front"].pk), objects=[str(result.pk)])
    other = make_staff("jimu", clinic, "manager")
    client.force_login(other)
    client.get(reverse("console:result-detail", args=[result.pk]))
    client.force_login(manager)
    response = client.get(reverse("console:result-detail", args=[result.pk]))
    viewers = response.context["viewers"]["rows"]
    assert [(v["who"], v["what"]) for v in viewers] == [
        ("manager", "詳細を表示"),
        ("jimu", "詳細を表示"),
        ("受付1", "端末で詳細を表示"),
    ]
    body = response.content.decode()
    assert "この結果を見た人" in body and f"object_id={result.pk}" in body


def test_a_terminals_sync_reads_in_japanese(client, manager, clinic, make_device):
    """A06: a results_synced event (what every terminal writes after each check) is labelled, counts included."""
    from server.common.actor import DEVICE, Actor
    from server.results.actions import do_store_results
    from tests.admin_ui.conftest import result_document

    device = make_device(clinic, "受付1")
    checked_at = timezone.now()
    item = {
        "id": "6f1c1a52-7f64-4d8e-9a51-3b1f0d1e2a10",
        "checked_at": checked_at.isoformat(),
        "result": result_document(clinic.code, checked_at, "資格 太郎", "シカク タロウ", "1"),
    }
    do_store_results(device, [item], actor=Actor(DEVICE, str(device.pk)))
    do_store_results(device, [item], actor=Actor(DEVICE, str(device.pk)))  # sent again: a duplicate
    client.force_login(manager)
    response = client.get(reverse("console:audit"), {"action": "results_synced"})
    details = [[(d.label, d.value) for d in row["details"]] for row in response.context["rows"]]
    assert details == [
        [("受信件数", "1件"), ("保存件数", "0件"), ("重複件数", "1件"), ("拒否件数", "0件")],
        [("受信件数", "1件"), ("保存件数", "1件"), ("重複件数", "0件"), ("拒否件数", "0件")],
    ]


def test_every_detail_key_the_server_records_has_a_japanese_label():
    """The labels of server.audit.labels cover every key written as a literal in a ``record_event`` detail (a key
    without one shows as English on the console's 監査ログ and in its CSV)."""
    import ast
    from pathlib import Path

    from server.audit.labels import DETAIL_LABELS

    root = Path(__file__).resolve().parents[2]
    keys: dict[str, str] = {}
    for path in [*root.joinpath("server").rglob("*.py"), *root.joinpath("admin_ui").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            if getattr(node.func, "id", getattr(node.func, "attr", "")) not in ("record_event", "_audit"):
                continue
            for keyword in node.keywords:
                if keyword.arg == "detail" and isinstance(keyword.value, ast.Dict):
                    for key in keyword.value.keys:
                        if isinstance(key, ast.Constant):
                            keys[key.value] = str(path.relative_to(root))
    assert len(keys) > 20  # the scan found the trail's writers
    assert {key: where for key, where in keys.items() if key not in DETAIL_LABELS} == {}
