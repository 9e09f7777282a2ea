"""The one presenter of a qualification result document, shared by the terminal (C-04-01-W, T21–T24), the console's
result page and print view (A03) and the CSV exports (S10).

``read_result`` reads a document once: every code turned into the manual's words (the tables of
``contracts.display``), every date a ``datetime.date``. ``build_result_view`` lays that record out as C-04-01-W shows it,
dates in the manual's style (生年月日 in 和暦, 昭和27年01月01日; the others 2025年03月24日); the exports write the same
record's dates in a form spreadsheets read. No Django, no Qt: the terminal, the server and ``tests/unit`` import it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from contracts import display
from contracts.periods import JST

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
MAX_DISEASES = 3  # 特定疾病療養受療証: the manual shows up to three


# --- dates ---------------------------------------------------------------------------------------------------------


def as_date(value: str | dt.date | None) -> dt.date | None:
    """A document's ISO date (or a date) as a date; None when absent. A value that is no date raises ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value[:10])


def wareki(value: str | dt.date | None) -> str:
    """昭和27年01月01日 (元年 for an era's first year)."""
    day = as_date(value)
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
    day = as_date(value)
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
    """The list column of D-10-W and of the console's result list."""
    return "資格有効" if is_valid else "資格無効"


VALIDITY_FILTERS = {"valid": validity_label(True), "invalid": validity_label(False)}  # the searches' 資格確認結果


def yen(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}円"


# --- the record ------------------------------------------------------------------------------------------------------


def _label(table: dict[str, str], code: Any) -> str:
    """The table's words for ``code``; an unknown code as it is; nothing for none."""
    if code in (None, ""):
        return ""
    return table.get(str(code), str(code))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class ElderlyCertificate:
    """高齢受給者証."""

    issued_on: dt.date | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    ratio: str


@dataclass(frozen=True)
class LimitCertificate:
    """限度額適用認定証."""

    certificate_class: str
    application_class: str
    issued_on: dt.date | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    long_term_from: dt.date | None


@dataclass(frozen=True)
class DiseaseCertificate:
    """特定疾病療養受療証."""

    disease: str
    issued_on: dt.date | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    self_pay: int | None


@dataclass(frozen=True)
class ResultRecord:
    """A result document read once: labels instead of codes, dates as dates, "" for what the record lacks."""

    validity_code: str
    is_valid: bool
    validity: str  # 有効 / 無効 / … (OQSCD table)
    identity_verification: str
    certificate_status: str
    reference_number: str
    confirmation_date: dt.date | None
    processing_message: str
    medical_institution_code: str
    medical_aid: bool
    preschool: bool
    insurer_number: str
    insurer_name: str
    symbol: str
    number: str
    branch: str
    name: str
    name_kana: str
    birthdate: dt.date | None
    sex: str
    category: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    qualified_on: dt.date | None
    disqualified_on: dt.date | None
    reason_of_loss: str
    ratio: str
    personal_family: str
    insured_name: str
    other_name_kana: str
    other_name: str
    other_sex: str
    elderly: ElderlyCertificate | None
    limit: LimitCertificate | None
    diseases: list[DiseaseCertificate] = field(default_factory=list)


def read_result(document: dict[str, Any]) -> ResultRecord:
    """The record of a qualification result document (contracts/qualification_result.schema.json)."""
    q = document.get("result_of_qualification_confirmation") or {}
    validity = _text(document.get("qualification_validity"))
    elderly = q.get("elderly_recipient_certificate_info")
    limit = q.get("limit_application_certificate_related_info")
    return ResultRecord(
        validity_code=validity,
        is_valid=display.is_valid_qualification(validity),
        validity=_label(display.VALIDITY, validity),
        identity_verification=_label(display.IDENTITY_VERIFICATION, document.get("identity_verification")),
        certificate_status=_label(display.CERTIFICATE_STATUS, document.get("certificate_status")),
        reference_number=_text(document.get("reference_number")),
        confirmation_date=as_date(document.get("qualification_confirmation_date")),
        processing_message=_text(document.get("processing_result_message")),
        medical_institution_code=_text(document.get("medical_institution_code")),
        medical_aid=q.get("insured_card_classification") == "A1",
        preschool=q.get("preschool_classification") == "1",
        insurer_number=_text(q.get("insurer_number")),
        insurer_name=_text(q.get("insurer_name")),
        symbol=_text(q.get("insured_card_symbol")),
        number=_text(q.get("insured_identification_number")),
        branch=_text(q.get("insured_branch_number")),
        name=_text(q.get("name")),
        name_kana=_text(q.get("name_kana")),
        birthdate=as_date(q.get("birthdate")),
        sex=_label(display.SEX, q.get("sex1")),
        category=display.category_label(q) if q else "",
        valid_from=as_date(q.get("insured_card_valid_date")),
        valid_until=as_date(q.get("insured_card_expiration_date")),
        qualified_on=as_date(q.get("qualification_date")),
        disqualified_on=as_date(q.get("disqualification_date")),
        reason_of_loss=_label(display.REASON_OF_LOSS, q.get("reason_of_loss")),
        ratio=display.ratio_label(q.get("insured_partial_contribution_ratio")) or "",
        personal_family=_label(display.PERSONAL_FAMILY, q.get("personal_family_classification")),
        insured_name=_text(q.get("insured_name")),
        other_name_kana=_text(q.get("name_of_other_kana")),
        other_name=_text(q.get("name_of_other")),
        other_sex=_label(display.SEX, q.get("sex2")),
        elderly=None
        if not elderly
        else ElderlyCertificate(
            issued_on=as_date(elderly.get("elderly_recipient_certificate_date")),
            valid_from=as_date(elderly.get("elderly_recipient_valid_start_date")),
            valid_until=as_date(elderly.get("elderly_recipient_valid_end_date")),
            ratio=display.ratio_label(elderly.get("elderly_recipient_contribution_ratio")) or "",
        ),
        limit=None
        if not limit
        else LimitCertificate(
            certificate_class=_label(
                display.LIMIT_CERTIFICATE_CLASS, limit.get("limit_application_certificate_classification")
            ),
            application_class=_label(
                display.LIMIT_APPLICATION_CLASS, limit.get("limit_application_certificate_classification_flag")
            ),
            issued_on=as_date(limit.get("limit_application_certificate_date")),
            valid_from=as_date(limit.get("limit_application_certificate_valid_start_date")),
            valid_until=as_date(limit.get("limit_application_certificate_valid_end_date")),
            long_term_from=as_date(limit.get("limit_application_certificate_long_term_date")),
        ),
        diseases=[
            DiseaseCertificate(
                disease=_label(display.SPECIFIC_DISEASE, entry.get("specific_diseases_disease_category")),
                issued_on=as_date(entry.get("specific_diseases_certificate_date")),
                valid_from=as_date(entry.get("specific_diseases_valid_start_date")),
                valid_until=as_date(entry.get("specific_diseases_valid_end_date")),
                self_pay=entry.get("specific_diseases_self_pay"),
            )
            for entry in (q.get("specific_diseases_certificate_list") or [])[:MAX_DISEASES]
        ],
    )


# --- C-04-01-W -------------------------------------------------------------------------------------------------------


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
    validity: str = ""  # 資格有効性 in the table's words (有効, 無効（新しい資格あり）, …): the console shows it
    preschool: bool = False  # 未就学: C-04-01-W also shows 「義務教育就学前」 as a notice

    @property
    def preschool_notice(self) -> str:
        return display.PRESCHOOL if self.preschool else ""


def result_messages(record: ResultRecord) -> list[str]:
    """The manual's messages above the result: 無効, 医療扶助, then the service's own text or the certificate's state."""
    messages: list[str] = []
    if not record.is_valid:
        messages.append(MSG_INVALID)
    if record.medical_aid:
        messages.append(MSG_MEDICAL_AID)
    if record.processing_message:
        messages.append(record.processing_message)  # the service's own text, shown verbatim
    elif record.certificate_status == display.CERTIFICATE_STATUS["expiring"]:
        messages.append(MSG_CERT_EXPIRING)
    elif record.certificate_status == display.CERTIFICATE_STATUS["grace_period"]:
        messages.append(MSG_CERT_GRACE)
    return messages


def build_result_view(document: dict[str, Any]) -> ResultView:
    record = read_result(document)
    main = Section("資格情報", subtitle="医療扶助" if record.medical_aid else "医療保険")
    if record.medical_aid:
        main.add("福祉事務所名", record.insurer_name)
    else:
        main.add("保険者番号", record.insurer_number)
        main.add("保険者名", record.insurer_name)
        main.add("記号", record.symbol)
        number = record.number
        if record.branch:
            number = f"{number} 枝番 {record.branch}".strip()
        main.add("番号", number)
    main.add("フリガナ", record.name_kana)
    main.add("氏名", record.name)
    main.add("生年月日", wareki(record.birthdate))
    main.add("性別", record.sex)
    main.add("区分", record.category)
    if not record.medical_aid:
        main.add("有効開始日", seireki(record.valid_from))
        main.add("有効終了日", seireki(record.valid_until))
        main.add("資格取得年月日", seireki(record.qualified_on))
        main.add("負担割合", record.ratio)
        main.add("本人・家族の別", record.personal_family)
        main.add("被保険者氏名", record.insured_name)
    sections = [main]

    remarks = Section("要配慮情報 (備考)", collapsible=True)
    remarks.add("氏名カナ", record.other_name_kana)
    remarks.add("氏名", record.other_name)
    remarks.add("性別", record.other_sex)
    sections.append(remarks)

    if record.elderly:
        block = Section("高齢受給者証", collapsible=True)
        block.add("有効開始日", seireki(record.elderly.valid_from))
        block.add("有効終了日", seireki(record.elderly.valid_until))
        block.add("負担割合", record.elderly.ratio)
        sections.append(block)

    if record.limit:
        block = Section("限度額適用認定証", collapsible=True)
        block.add("証区分", record.limit.certificate_class)
        block.add("適用区分", record.limit.application_class)
        block.add("有効開始年月日", seireki(record.limit.valid_from))
        block.add("有効終了年月日", seireki(record.limit.valid_until))
        block.add("長期入院該当年月日", seireki(record.limit.long_term_from))
        sections.append(block)

    if record.diseases:
        block = Section("特定疾病療養受療証", collapsible=True)
        for disease in record.diseases:
            block.add("疾病区分", disease.disease)
            block.add("有効開始年月日", seireki(disease.valid_from))
            block.add("有効終了年月日", seireki(disease.valid_until))
            block.add("自己負担額", yen(disease.self_pay))
        sections.append(block)

    return ResultView(
        messages=result_messages(record),
        reference_number=record.reference_number,
        confirmation_date=seireki(record.confirmation_date),
        sections=sections,
        is_valid=record.is_valid,
        validity=record.validity,
        preschool=record.preschool,
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
