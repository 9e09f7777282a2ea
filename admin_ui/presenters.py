"""Turns a stored result document into labelled rows for the detail page, with the manual's wording (C-04-01-W)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admin_ui.templatetags.console import jp_date
from contracts import display

IDENTITY_VERIFICATION = display.IDENTITY_VERIFICATION
CERTIFICATE_STATUS = {
    "valid": "有効",
    "expiring": "有効期限が残り3カ月未満",
    "grace_period": "有効期限経過後の猶予期間内",
}
REASON_OF_LOSS = {"01": "死亡", "02": "生活保護受給開始", "03": "医療保険等の資格取得", "99": "その他"}  # OQSCD008


@dataclass(frozen=True)
class Row:
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[Row]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _label(table: dict[str, str], code: Any) -> str:
    if code in (None, ""):
        return ""
    return table.get(str(code), str(code))


def result_sections(document: dict[str, Any]) -> list[Section]:
    """The sections of the detail page. Missing fields show blank, as the manual does for 照会番号."""
    q = document.get("result_of_qualification_confirmation") or {}
    branch = _text(q.get("insured_branch_number"))
    overview = Section(
        "照会情報",
        [
            Row("照会番号", _text(document.get("reference_number"))),
            Row("確認日", jp_date(document.get("qualification_confirmation_date"))),
            Row("資格有効性", _label(display.VALIDITY, document.get("qualification_validity"))),
            Row("本人確認の方法", _label(IDENTITY_VERIFICATION, document.get("identity_verification"))),
            Row("電子証明書の状態", _label(CERTIFICATE_STATUS, document.get("certificate_status"))),
            Row("医療機関コード", _text(document.get("medical_institution_code"))),
            Row("処理結果コード", _text(document.get("processing_result_code"))),
            Row("処理結果メッセージ", _text(document.get("processing_result_message"))),
        ],
    )
    qualification = Section(
        "資格情報",
        [
            Row("保険者番号", _text(q.get("insurer_number"))),
            Row("保険者名", _text(q.get("insurer_name"))),
            Row("記号", _text(q.get("insured_card_symbol"))),
            Row("番号", _text(q.get("insured_identification_number"))),
            Row("枝番", branch),
            Row("フリガナ", _text(q.get("name_kana"))),
            Row("氏名", _text(q.get("name"))),
            Row("性別", _label(display.SEX, q.get("sex1"))),
            Row("生年月日", jp_date(q.get("birthdate"))),
            Row("区分", display.category_label(q)),
            Row("有効開始日", jp_date(q.get("insured_card_valid_date"))),
            Row("有効終了日", jp_date(q.get("insured_card_expiration_date"))),
            Row("資格取得年月日", jp_date(q.get("qualification_date"))),
            Row("資格喪失年月日", jp_date(q.get("disqualification_date"))),
            Row("資格喪失事由", _label(REASON_OF_LOSS, q.get("reason_of_loss"))),
            Row("負担割合", display.ratio_label(q.get("insured_partial_contribution_ratio")) or ""),
            Row("本人・家族の別", _label(display.PERSONAL_FAMILY, q.get("personal_family_classification"))),
            Row("被保険者氏名", _text(q.get("insured_name"))),
        ],
    )
    sections = [overview, qualification]

    elderly = q.get("elderly_recipient_certificate_info")
    if elderly:
        sections.append(
            Section(
                "高齢受給者証",
                [
                    Row("交付年月日", jp_date(elderly.get("elderly_recipient_certificate_date"))),
                    Row("有効開始日", jp_date(elderly.get("elderly_recipient_valid_start_date"))),
                    Row("有効終了日", jp_date(elderly.get("elderly_recipient_valid_end_date"))),
                    Row("負担割合", display.ratio_label(elderly.get("elderly_recipient_contribution_ratio")) or ""),
                ],
            )
        )
    limit = q.get("limit_application_certificate_related_info")
    if limit:
        sections.append(
            Section(
                "限度額適用認定証",
                [
                    Row(
                        "証区分",
                        _label(
                            display.LIMIT_CERTIFICATE_CLASS, limit.get("limit_application_certificate_classification")
                        ),
                    ),
                    Row(
                        "適用区分",
                        _label(
                            display.LIMIT_APPLICATION_CLASS,
                            limit.get("limit_application_certificate_classification_flag"),
                        ),
                    ),
                    Row("交付年月日", jp_date(limit.get("limit_application_certificate_date"))),
                    Row("有効開始日", jp_date(limit.get("limit_application_certificate_valid_start_date"))),
                    Row("有効終了日", jp_date(limit.get("limit_application_certificate_valid_end_date"))),
                    Row("長期入院該当年月日", jp_date(limit.get("limit_application_certificate_long_term_date"))),
                ],
            )
        )
    for index, disease in enumerate(q.get("specific_diseases_certificate_list") or [], start=1):
        self_pay = disease.get("specific_diseases_self_pay")
        sections.append(
            Section(
                f"特定疾病療養受療証 {index}",
                [
                    Row(
                        "認定疾病名",
                        _label(display.SPECIFIC_DISEASE, disease.get("specific_diseases_disease_category")),
                    ),
                    Row("交付年月日", jp_date(disease.get("specific_diseases_certificate_date"))),
                    Row("有効開始日", jp_date(disease.get("specific_diseases_valid_start_date"))),
                    Row("有効終了日", jp_date(disease.get("specific_diseases_valid_end_date"))),
                    Row("自己負担限度額", "" if self_pay is None else f"{self_pay:,}円"),
                ],
            )
        )
    sensitive = [
        Row("氏名カナ", _text(q.get("name_of_other_kana"))),
        Row("氏名", _text(q.get("name_of_other"))),
        Row("性別", _label(display.SEX, q.get("sex2"))),
    ]
    if any(row.value for row in sensitive):
        sections.append(Section("要配慮情報 (備考)", sensitive))
    return sections
