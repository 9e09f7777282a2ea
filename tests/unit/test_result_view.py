"""The one result presenter (contracts.result_view): the terminal's C-04-01-W, the console's result page and the
exports read a document through it."""

import datetime as dt

import pytest

from contracts import result_view
from contracts import result_view as formatting  # the terminal's formatting re-exports the shared presenter
from contracts.result_schema import result_errors
from contracts.result_view import build_result_view, read_result
from tests.terminal.sample_documents import BASIC, variant


@pytest.mark.parametrize(
    ("iso", "expected"),
    [
        ("1952-01-01", "昭和27年01月01日"),
        ("1926-12-25", "昭和元年12月25日"),
        ("1926-12-24", "大正15年12月24日"),
        ("1989-01-07", "昭和64年01月07日"),
        ("1989-01-08", "平成元年01月08日"),
        ("2019-04-30", "平成31年04月30日"),
        ("2019-05-01", "令和元年05月01日"),
        ("2025-03-24", "令和07年03月24日"),
    ],
)
def test_wareki(iso, expected):
    assert formatting.wareki(iso) == expected


def test_western_dates_and_times():
    assert formatting.seireki(dt.date(2025, 3, 24)) == "2025年03月24日"
    # Stored in UTC, shown in Japan time.
    assert formatting.date_time_jp("2025-03-24T03:00:00Z") == "2025年03月24日 12時00分"
    assert formatting.validity_label(True) == "資格有効"
    assert formatting.validity_label(False) == "資格無効"


def test_sample_document_is_schema_valid():
    assert result_errors(BASIC) == []


def test_result_view_basic_fields():
    view = formatting.build_result_view(BASIC)
    assert view.reference_number == "1234567890000001"
    assert view.confirmation_date == "2025年03月24日"
    assert view.messages == []
    rows = dict(view.sections[0].rows)
    assert rows["保険者番号"] == "06139993"
    assert rows["番号"] == "12345678 枝番 02"
    assert rows["生年月日"] == "昭和27年01月01日"
    assert rows["性別"] == "男"
    assert rows["区分"] == "一般"
    assert rows["負担割合"] == "1割"
    assert rows["本人・家族の別"] == "本人"
    # Only items the record has: no 要配慮情報 rows, no 高齢受給者証 block.
    assert [s.title for s in view.sections if s.rows] == ["資格情報"]


def test_invalid_and_medical_aid_messages():
    invalid = formatting.build_result_view(variant(qualification_validity="2"))
    assert invalid.messages[0] == "この資格は無効です"
    aid = formatting.build_result_view(
        variant(qualification_validity="6", qualification={"insured_card_classification": "A1", "insurer_name": "港区福祉事務所"})
    )
    assert "医療扶助の対象者です。必要な提出書類等により、資格確認を行ってください" in aid.messages
    assert dict(aid.sections[0].rows)["福祉事務所名"] == "港区福祉事務所"
    assert dict(aid.sections[0].rows)["区分"] == "医療扶助"


def test_blocks_and_copy_text():
    document = variant(
        reference_number=None,
        qualification={
            "elderly_recipient_certificate_info": {
                "elderly_recipient_valid_start_date": "2023-04-01",
                "elderly_recipient_valid_end_date": "2027-03-31",
                "elderly_recipient_contribution_ratio": "020",
            },
            "specific_diseases_certificate_list": [
                {"specific_diseases_disease_category": "1", "specific_diseases_self_pay": 10000},
            ],
        },
    )
    assert result_errors(document) == []
    view = formatting.build_result_view(document)
    titles = [s.title for s in view.sections if s.rows]
    assert titles == ["資格情報", "高齢受給者証", "特定疾病療養受療証"]
    assert dict(view.sections[2].rows)["負担割合"] == "2割"
    assert ("自己負担額", "10,000円") in view.sections[3].rows
    text = formatting.copy_text(document)
    assert "照会番号\t\n" in text  # not registered: shown blank
    assert "氏名\t資格 太郎" in text


def test_the_record_reads_codes_as_the_manual_words_them():
    document = variant(
        qualification_validity="3",
        certificate_status="grace_period",
        qualification={
            "disqualification_date": "2025-03-31",
            "reason_of_loss": "03",
            "limit_application_certificate_related_info": {
                "limit_application_certificate_classification": "01",
                "limit_application_certificate_classification_flag": "A02",
                "limit_application_certificate_valid_start_date": "2024-08-01",
                "limit_application_certificate_valid_end_date": "2025-07-31",
            },
            "specific_diseases_certificate_list": [
                {"specific_diseases_disease_category": str(n % 3 + 1), "specific_diseases_self_pay": 10000}
                for n in range(4)
            ],
        },
    )
    record = read_result(document)
    assert (record.validity, record.is_valid) == ("無効（新しい資格あり）", False)
    assert record.certificate_status == "有効期限経過後の猶予期間内"
    assert record.reason_of_loss == "医療保険等の資格取得"
    assert record.birthdate == dt.date(1952, 1, 1) and record.disqualified_on == dt.date(2025, 3, 31)
    assert (record.limit.certificate_class, record.limit.application_class) == ("限度額適用認定証", "イ")
    assert len(record.diseases) == 3  # the manual shows at most three
    view = build_result_view(document)
    assert view.validity == "無効（新しい資格あり）"
    assert view.messages == [result_view.MSG_INVALID, result_view.MSG_CERT_GRACE]
    limit = next(s for s in view.sections if s.title == "限度額適用認定証")
    assert ("有効開始年月日", "2024年08月01日") in limit.rows and ("適用区分", "イ") in limit.rows


def test_a_code_without_a_label_is_shown_as_it_is_and_an_absent_one_not_at_all():
    record = read_result(variant(qualification={"sex1": "9", "personal_family_classification": None}))
    assert record.sex == "9" and record.personal_family == ""
    assert "本人・家族の別" not in dict(build_result_view(variant(qualification={"personal_family_classification": None})).sections[0].rows)
