"""Japanese formatting of dates and of the qualification result (T08, T21–T24). No Qt here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from contracts import display

JST = ZoneInfo("Asia/Tokyo")

# (first day, era name): newest first.
_ERAS = [
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1912, 7, 30), "大正"),
    (dt.date(1868, 10, 23), "明治"),
]

MSG_INVALID = "この資格は無効です"
MSG_MEDICAL_AID = "医療扶助の対象者です。必要な提出書類等により、資格確認を行ってください"
MSG_CERT_EXPIRING = (
    "マイナンバーカードに記録されている電子証明書の有効期限が残り3カ月を切りました。住民票がある市区町村から"
    "送付される有効期限通知書をご確認いただくか、住民票がある市区町村の窓口にお問い合わせください。"
)
MSG_CERT_GRACE = (
    "マイナンバーカードの電子証明書の有効期限が切れています。当期間は猶予期間であり、資格情報の確認が可能ですが、"
    "お早めに住民票がある市区町村の窓口にお問い合わせください。"
)


def _as_date(value: str | dt.date | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value[:10])


def wareki(value: str | dt.date | None) -> str:
    """昭和27年01月01日 (元年 for an era's first year)."""
    day = _as_date(value)
    if day is None:
        return ""
    for start, name in _ERAS:
        if day >= start:
            year = day.year - start.year + 1
            year_text = "元" if year == 1 else f"{year:02d}"
            return f"{name}{year_text}年{day.month:02d}月{day.day:02d}日"
    return seireki(day)


def seireki(value: str | dt.date | None) -> str:
    """2025年03月24日."""
    day = _as_date(value)
    return "" if day is None else f"{day.year:04d}年{day.month:02d}月{day.day:02d}日"


def date_time_jp(value: str | dt.datetime | None) -> str:
    """2025年03月24日 12時00分, in Japan time."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(JST)
    return f"{moment.year:04d}年{moment.month:02d}月{moment.day:02d}日 {moment.hour:02d}時{moment.minute:02d}分"


def validity_label(is_valid: bool) -> str:
    """The list column of D-10-W."""
    return "資格有効" if is_valid else "資格無効"


def yen(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}円"


@dataclass
class Section:
    """A titled block of label/value rows; ``collapsible`` ones start folded (▼) on C-04-01-W."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    collapsible: bool = False
    subtitle: str = ""

    def add(self, label: str, value: Any) -> None:
        """Only the items the record has are shown (T21)."""
        if value not in (None, ""):
            self.rows.append((label, str(value)))


@dataclass
class ResultView:
    """Everything C-04-01-W shows, in order, as plain strings."""

    messages: list[str]
    reference_number: str
    confirmation_date: str
    sections: list[Section]
    is_valid: bool


def build_result_view(document: dict[str, Any]) -> ResultView:
    q = document["result_of_qualification_confirmation"]
    validity = document["qualification_validity"]
    medical_aid = q.get("insured_card_classification") == "A1"
    messages: list[str] = []
    if not display.is_valid_qualification(validity):
        messages.append(MSG_INVALID)
    if medical_aid:
        messages.append(MSG_MEDICAL_AID)
    notice = document.get("processing_result_message")
    if notice:
        messages.append(notice)  # the service's own text, shown verbatim
    elif document.get("certificate_status") == "expiring":
        messages.append(MSG_CERT_EXPIRING)
    elif document.get("certificate_status") == "grace_period":
        messages.append(MSG_CERT_GRACE)

    main = Section("資格情報", subtitle="医療扶助" if medical_aid else "医療保険")
    if medical_aid:
        main.add("福祉事務所名", q.get("insurer_name"))
    else:
        main.add("保険者番号", q.get("insurer_number"))
        main.add("保険者名", q.get("insurer_name"))
        main.add("記号", q.get("insured_card_symbol"))
        number = q.get("insured_identification_number") or ""
        if q.get("insured_branch_number"):
            number = f"{number} 枝番 {q['insured_branch_number']}".strip()
        main.add("番号", number)
    main.add("フリガナ", q.get("name_kana"))
    main.add("氏名", q.get("name"))
    main.add("生年月日", wareki(q.get("birthdate")))
    main.add("性別", display.SEX.get(q.get("sex1") or ""))
    main.add("区分", display.category_label(q))
    if not medical_aid:
        main.add("有効開始日", seireki(q.get("insured_card_valid_date")))
        main.add("有効終了日", seireki(q.get("insured_card_expiration_date")))
        main.add("資格取得年月日", seireki(q.get("qualification_date")))
        main.add("負担割合", display.ratio_label(q.get("insured_partial_contribution_ratio")))
        main.add("本人・家族の別", display.PERSONAL_FAMILY.get(q.get("personal_family_classification") or ""))
        main.add("被保険者氏名", q.get("insured_name"))
    sections = [main]

    remarks = Section("要配慮情報 (備考)", collapsible=True)
    remarks.add("氏名カナ", q.get("name_of_other_kana"))
    remarks.add("氏名", q.get("name_of_other"))
    remarks.add("性別", display.SEX.get(q.get("sex2") or ""))
    sections.append(remarks)

    elderly = q.get("elderly_recipient_certificate_info")
    if elderly:
        block = Section("高齢受給者証", collapsible=True)
        block.add("有効開始日", seireki(elderly.get("elderly_recipient_valid_start_date")))
        block.add("有効終了日", seireki(elderly.get("elderly_recipient_valid_end_date")))
        block.add("負担割合", display.ratio_label(elderly.get("elderly_recipient_contribution_ratio")))
        sections.append(block)

    limit = q.get("limit_application_certificate_related_info")
    if limit:
        block = Section("限度額適用認定証", collapsible=True)
        block.add("証区分", display.LIMIT_CERTIFICATE_CLASS.get(limit.get("limit_application_certificate_classification")))
        block.add(
            "適用区分", display.LIMIT_APPLICATION_CLASS.get(limit.get("limit_application_certificate_classification_flag"))
        )
        block.add("有効開始年月日", seireki(limit.get("limit_application_certificate_valid_start_date")))
        block.add("有効終了年月日", seireki(limit.get("limit_application_certificate_valid_end_date")))
        block.add("長期入院該当年月日", seireki(limit.get("limit_application_certificate_long_term_date")))
        sections.append(block)

    diseases = q.get("specific_diseases_certificate_list") or []
    if diseases:
        block = Section("特定疾病療養受療証", collapsible=True)
        for entry in diseases[:3]:
            block.add("疾病区分", display.SPECIFIC_DISEASE.get(entry.get("specific_diseases_disease_category")))
            block.add("有効開始年月日", seireki(entry.get("specific_diseases_valid_start_date")))
            block.add("有効終了年月日", seireki(entry.get("specific_diseases_valid_end_date")))
            block.add("自己負担額", yen(entry.get("specific_diseases_self_pay")))
        sections.append(block)

    return ResultView(
        messages=messages,
        reference_number=document.get("reference_number") or "",
        confirmation_date=seireki(document.get("qualification_confirmation_date")),
        sections=sections,
        is_valid=display.is_valid_qualification(validity),
    )


def copy_text(document: dict[str, Any]) -> str:
    """The plain text that `コピー` puts on the clipboard (T24)."""
    view = build_result_view(document)
    lines = ["資格確認結果", *view.messages, f"照会番号\t{view.reference_number}", f"確認日\t{view.confirmation_date}"]
    for section in view.sections:
        if not section.rows:
            continue
        if section.subtitle:
            lines.append(section.subtitle)
        lines.append(section.title)
        lines.extend(f"{label}\t{value}" for label, value in section.rows)
    return "\n".join(lines)
