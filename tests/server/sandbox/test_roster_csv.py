"""N01: the roster as CSV — export, import (round trip, updates, all-or-nothing errors) and the command."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from server.sandbox import query as q
from server.sandbox.models import InsuredPerson, Qualification, SpecificDiseaseCertificate
from server.sandbox.roster_csv import COLUMNS, RosterImportError, export_roster, import_roster

from .conftest import MEDICAL_INSTITUTION_CODE, card_query

pytestmark = pytest.mark.django_db


def exported_rows() -> list[dict[str, str]]:
    out = io.StringIO()
    export_roster(out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def as_csv(rows: list[dict[str, str]]) -> io.StringIO:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out.seek(0)
    return out


def test_export_covers_the_variants(demo_cards):
    rows = {row["name"]: row for row in exported_rows()}
    assert len(rows) == InsuredPerson.objects.count()
    assert rows["資格 太郎"]["payer_number"] == "06131239" and rows["資格 太郎"]["branch_number"] == "02"
    assert rows["保護 太郎"]["payer_name"] == "港区福祉事務所" and rows["保護 太郎"]["card_classification"] == "A1"
    assert rows["資格 三疾"]["specific_diseases"].count("|") == 2
    assert rows["無番 花子"]["reference_number"] == ""


def test_round_trip_changes_nothing(demo_cards):
    before = exported_rows()
    counts = (Qualification.objects.count(), SpecificDiseaseCertificate.objects.count())
    assert import_roster(as_csv(before)) == len(before)
    assert exported_rows() == before
    assert (Qualification.objects.count(), SpecificDiseaseCertificate.objects.count()) == counts


def test_import_updates_and_creates(demo_cards):
    rows = {row["name"]: row for row in exported_rows()}
    taro = dict(rows["資格 太郎"], valid_until="2028-03-31", specific_diseases="1:::10000")
    newcomer = dict(rows["鈴木 次郎"], name="新規 三郎", name_kana="シンキ サブロウ", reference_number="")
    assert import_roster(as_csv([taro, newcomer])) == 2
    document = q.answer_qualification_query(
        card_query(demo_cards["資格 太郎"], consent=True), medical_institution_code=MEDICAL_INSTITUTION_CODE
    )
    block = document["result_of_qualification_confirmation"]
    assert block["insured_card_expiration_date"] == "2028-03-31"
    assert block["specific_diseases_certificate_list"][0]["specific_diseases_self_pay"] == 10000
    assert InsuredPerson.objects.get(name="新規 三郎").current_qualification().insurer.number == "01130012"


def test_invalid_rows_abort_the_whole_import(demo_cards):
    rows = {row["name"]: row for row in exported_rows()}
    good = dict(rows["鈴木 次郎"], valid_until="2030-01-01")
    bad_luhn = dict(rows["資格 太郎"], payer_number="12345678")
    bad_date = dict(rows["高橋 三子"], birthdate="昭和27年")
    with pytest.raises(RosterImportError) as caught:
        import_roster(as_csv([good, bad_luhn, bad_date]))
    problems = "\n".join(caught.value.problems)
    assert "3行目" in problems and "保険者番号の検証番号" in problems
    assert "4行目 birthdate" in problems
    suzuki = InsuredPerson.objects.get(name="鈴木 次郎").current_qualification()
    assert suzuki.valid_until.isoformat() == "2027-03-31"  # the good row was rolled back too


def test_command(demo_cards, tmp_path):
    path = tmp_path / "roster.csv"
    call_command("sandbox_roster", "export", str(path))
    call_command("sandbox_roster", "import", str(path))
    path.write_text("name,name_kana\nx,y\n", encoding="utf-8")
    with pytest.raises(CommandError, match="birthdate"):
        call_command("sandbox_roster", "import", str(path))
    person = InsuredPerson.objects.get(name="資格 無効子")
    call_command("sandbox_roster", "issue-card", str(person.pk), str(tmp_path / "card"), "--holder", "iphone")
    assert (tmp_path / "card" / "key.pem").exists() and (tmp_path / "card" / "cert.der").exists()
    assert person.card_certificates.filter(holder_kind="iphone").exists()


def test_issue_command_names(demo_cards, tmp_path):
    """``sandbox_export`` / ``sandbox_import FILE`` (the issue's names) round-trip the roster."""
    out = io.StringIO()
    call_command("sandbox_export", stdout=out, stderr=io.StringIO())
    assert list(csv.DictReader(io.StringIO(out.getvalue()))) == exported_rows()
    path = tmp_path / "roster.csv"
    call_command("sandbox_export", str(path), stderr=io.StringIO())
    done = io.StringIO()
    call_command("sandbox_import", str(path), stdout=done)
    assert f"{InsuredPerson.objects.count()} 件を取り込みました。" in done.getvalue()
    path.write_text("name,name_kana,birthdate,sex\n山田 花子,ヤマダ ハナコ,1990-13-01,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="2行目 birthdate"):
        call_command("sandbox_import", str(path))
