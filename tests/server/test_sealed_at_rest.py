"""Sealed at rest (issue 15 point 1, S06): no name, カナ, birth date, insurer or card number in clear anywhere in the
results tables; the name search — console and API — still finds 資格 太郎 by しかく, シカク and ｼｶｸ through the blind
index; reencrypt_results moves documents, summaries and index tokens to the new key."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from server.common.actor import Actor
from server.institutions.actions import do_create_staff_user
from server.results.exports import do_build_export
from server.results.models import CheckResult
from server.results.queries import matching_name
from tests.server import factories
from tests.server.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PATIENT = {
    "name": "資格 太郎",
    "name_kana": "シカク タロウ",
    "birthdate": "1952-01-01",
    "insurer_number": factories.insurer_number("0613771"),
    "insured_card_symbol": "記号アイウ123",
    "insured_identification_number": "98765432",
    "insured_branch_number": "07",
}
# Every spelling a dump could hold them in: as sent, without spaces, the birth date without dashes.
NEEDLES = [
    "資格 太郎", "資格太郎", "シカク タロウ", "シカクタロウ", "1952-01-01", "19520101", PATIENT["insurer_number"],
    "記号アイウ123", "98765432",
]  # fmt: skip


def push(terminal, **patient) -> dict:
    item = factories.batch_item(**{**PATIENT, **patient})
    response = terminal.call("POST", "/api/v1/results/batch", {"results": [item]})
    assert response.json()["items"][0]["status"] == "stored", response.content
    return item


def raw_dump(table: str) -> list[bytes]:
    """Every value of every row of ``table`` as bytes (text as UTF-8, binary as stored, the rest as its repr)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # a fixed table name from this module
        rows = cursor.fetchall()
    values = []
    for row in rows:
        for value in row:
            if isinstance(value, (bytes, memoryview)):
                values.append(bytes(value))
            elif isinstance(value, str):
                values.append(value.encode("utf-8"))
            else:
                values.append(repr(value).encode("utf-8"))
    return values


def test_a_raw_select_of_the_results_tables_finds_no_patient_data(terminal, second_terminal):
    push(terminal)
    push(second_terminal, name="保険 花子", name_kana="ホケン ハナコ")
    export_id = terminal.call("POST", "/api/v1/results/exports", {"scope": "institution"}).json()["export_id"]
    assert do_build_export(export_id) == "done"
    for table in ("results_checkresult", "results_resultexport", "audit_auditevent"):
        values = raw_dump(table)
        assert values, table
        for needle in NEEDLES + ["保険 花子", "ホケンハナコ"]:
            found = [v[:80] for v in values if needle.encode("utf-8") in v]
            assert not found, (table, needle, found)
    # What the columns are: no name, カナ or insurer number among them.
    columns = {field.column for field in CheckResult._meta.concrete_fields}
    assert not {"name", "name_kana", "insurer_number"} & columns
    assert {"summary_encrypted", "name_index", "document_encrypted"} <= columns


def test_the_api_still_shows_the_names(terminal):
    item = push(terminal)
    rows = terminal.call("GET", "/api/v1/results", params={"scope": "institution"}).json()["results"]
    assert [(r["name"], r["name_kana"]) for r in rows] == [("資格 太郎", "シカク タロウ")]
    detail = terminal.call("GET", f"/api/v1/results/{item['id']}").json()
    assert detail["insurer_number"] == PATIENT["insurer_number"]
    assert detail["result"]["result_of_qualification_confirmation"]["birthdate"] == "1952-01-01"


@pytest.mark.parametrize("term", ["しかく", "シカク", "ｼｶｸ", "資格太郎", "資格 太郎", "カク タ", "ﾀﾛｳ", "太", "SHIKAKU"])
def test_the_console_finds_the_patient_by_any_spelling(terminal, second_terminal, institution, term):
    push(terminal)
    push(second_terminal, name="保険 花子", name_kana="ホケン ハナコ")
    push(terminal, name="Shikaku Taro", name_kana="シカク タロウ")
    do_create_staff_user(institution, "manager", PASSWORD, "manager", actor=Actor.cli("pytest"))
    console = APIClient()
    assert console.login(username="manager", password=PASSWORD)
    page = console.get("/console/results/", {"q": term, "date_from": "", "date_to": ""}).content.decode()
    expected = {"資格 太郎", "Shikaku Taro"} if term not in ("資格太郎", "資格 太郎", "太") else {"資格 太郎"}
    if term == "SHIKAKU":
        expected = {"Shikaku Taro"}  # case folded: the plain search was case-insensitive too
    assert {n for n in ("資格 太郎", "Shikaku Taro", "保険 花子") if n in page} == expected


def test_the_audit_api_patient_search_goes_through_the_index(terminal, institution):
    item = push(terminal)
    terminal.call("GET", f"/api/v1/results/{item['id']}")  # a result_viewed event naming it
    do_create_staff_user(institution, "manager", PASSWORD, "manager", actor=Actor.cli("pytest"))
    console = APIClient()
    assert console.login(username="manager", password=PASSWORD)
    events = console.get("/api/v1/audit/events", {"patient": "ｼｶｸ"}).json()["events"]
    assert {"result_viewed", "results_synced"} <= {e["action"] for e in events}
    assert console.get("/api/v1/audit/events", {"patient": "ほけん"}).json()["events"] == []


def test_a_long_term_and_a_term_that_is_not_there(terminal, institution):
    push(terminal, name="長い 名前", name_kana="ナガイナマエ ヲ モツ カンジャ サン デス")
    results = CheckResult.objects.filter(institution=institution)
    assert matching_name(results, "ながいなまえをもつかんじゃさんです").count() == 1  # 17 characters: windows
    assert matching_name(results, "ながいなまえをもつかんじゃさんでした").count() == 0
    assert matching_name(results, "ナマエヲモ").count() == 1
    assert matching_name(results, "マエナ").count() == 0


def test_reencrypt_results_rotates_documents_summaries_and_tokens(terminal, institution, settings):
    item = push(terminal)
    before = CheckResult.objects.get(pk=item["id"])
    new_key = base64.b64encode(os.urandom(32)).decode()
    settings.RESULT_ENCRYPTION_KEYS = {**settings.RESULT_ENCRYPTION_KEYS, "k2027": new_key}
    settings.RESULT_ENCRYPTION_KEY_ID = "k2027"
    call_command("reencrypt_results", "--to", "k2027", stdout=open(os.devnull, "w"))  # noqa: SIM115
    # The old key is dropped: everything reads under the new one only.
    settings.RESULT_ENCRYPTION_KEYS = {"k2027": new_key}
    after = CheckResult.objects.get(pk=item["id"])
    assert after.key_id == "k2027"
    assert set(after.name_index).isdisjoint(before.name_index)
    assert bytes(after.summary_encrypted) != bytes(before.summary_encrypted)
    assert (after.name, after.document["result_of_qualification_confirmation"]["name"]) == ("資格 太郎", "資格 太郎")
    results = CheckResult.objects.filter(institution=institution)
    assert list(matching_name(results, "しかく").values_list("id", flat=True)) == [after.id]


def test_during_a_rotation_rows_under_either_key_are_found(terminal, second_terminal, institution, settings):
    old = push(terminal)
    new_key = base64.b64encode(os.urandom(32)).decode()
    settings.RESULT_ENCRYPTION_KEYS = {**settings.RESULT_ENCRYPTION_KEYS, "k2027": new_key}
    settings.RESULT_ENCRYPTION_KEY_ID = "k2027"
    new = push(second_terminal)  # written under the new key; the first row is still under the old one
    keys = dict(CheckResult.objects.values_list("id", "key_id"))
    assert len(set(keys.values())) == 2
    results = CheckResult.objects.filter(institution=institution)
    found = {str(pk) for pk in matching_name(results, "ｼｶｸ").values_list("id", flat=True)}
    assert found == {old["id"], new["id"]}


@pytest.mark.parametrize(("probe_rows", "rare_limit"), [(500, 2000), (1, 2000), (1, 1)])
def test_every_access_path_of_the_name_search_finds_the_same_rows(
    terminal, second_terminal, institution, monkeypatch, probe_rows, rare_limit
):
    """A common term is walked in time order, a rare one read from the GIN index first, a rare one with too many
    rows walked after all: each way gives the same rows (the probe and the limit only choose the access path)."""
    from server.results import queries

    older = [push(terminal)["id"], push(terminal, name="資格 次郎", name_kana="シカク ジロウ")["id"]]
    push(second_terminal, name="保険 花子", name_kana="ホケン ハナコ")  # the newest row: not a シカク
    monkeypatch.setattr(queries, "NAME_PROBE_ROWS", probe_rows)
    monkeypatch.setattr(queries, "NAME_RARE_LIMIT", rare_limit)
    results = CheckResult.objects.filter(institution=institution).order_by("-checked_at", "-id")
    assert sorted(str(pk) for pk in matching_name(results, "しかく").values_list("id", flat=True)) == sorted(older)
    assert list(matching_name(results, "いない").values_list("id", flat=True)) == []
