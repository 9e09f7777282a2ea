"""The demo roster (N01, FEATURES T21–T23 variants) and the virtual cards' key/certificate files.

``seed_demo_roster(card_dir)`` is idempotent: persons are matched by 氏名 + 生年月日, their qualifications are rewritten,
and a card certificate is re-issued only when the existing one is missing or no longer in the intended state (an
"expiring" certificate drifts into "grace_period" as time passes). All data is synthetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import transaction
from django.utils import timezone

from server.sandbox.actions import (
    do_issue_card_certificate,
    do_record_card_certificate,
    do_revoke_card_certificate,
    do_set_registration,
)
from server.sandbox.ca import CertificateState, fingerprint, get_ca, write_card_files
from server.sandbox.models import (
    CardCertificate,
    InsuredPerson,
    Insurer,
    PublicAssistanceOffice,
    Qualification,
    SpecificDiseaseCertificate,
)

DEMO_PIN = "1234"
PROFILE_FOR_HOLDER = {"card": "physical", "android": "android", "iphone": "iphone"}

# Luhn-valid numbers (contracts.checkdigits); none of them is a real insurer's.
INSURERS = {
    "kumiai": ("06131239", "限定資格保険組合"),
    "kyokai": ("01130012", "全国健康保険協会 東京支部"),
    "kokuho": ("00138057", "しかく市国民健康保険"),
    "kouki": ("39131230", "東京都後期高齢者医療広域連合"),
}
OFFICES = {"minato": ("12133013", "港区福祉事務所")}

D = dt.date
STANDARD = {
    "valid_from": D(2023, 4, 1),
    "valid_until": D(2027, 3, 31),
    "qualification_date": D(2023, 4, 1),
}


@dataclass(frozen=True)
class DemoCard:
    """One virtual card of the demo: load ``key_path`` and ``cert_path`` into ``VirtualCard(profile, pin, ...)``."""

    name: str
    profile: str  # "physical" | "android" | "iphone"
    pin: str
    key_path: Path
    cert_path: Path
    name_kana: str = ""
    scenario: str = ""
    certificate_state: str = "valid"
    expected_error_code: str | None = None

    @property
    def ca_cert_path(self) -> Path:
        """The issuing CA's certificate (DER), next to the card's own files."""
        return self.cert_path.parent / "ca.der"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "name_kana": self.name_kana,
            "profile": self.profile,
            "pin": self.pin,
            "key_path": str(self.key_path),
            "cert_path": str(self.cert_path),
            "ca_cert_path": str(self.ca_cert_path),
            "scenario": self.scenario,
            "certificate_state": self.certificate_state,
            "expected_error_code": self.expected_error_code,
        }


@dataclass(frozen=True)
class DemoPerson:
    slug: str  # folder name of the card files
    scenario: str
    name: str
    name_kana: str
    birthdate: dt.date
    sex: str
    insurer: str | None = "kumiai"
    office: str | None = None
    reference_number: str = ""
    registration: str = InsuredPerson.Registration.REGISTERED
    holder_kind: str = CardCertificate.HolderKind.CARD
    certificate_state: CertificateState = CertificateState.VALID
    person_extra: dict[str, Any] = field(default_factory=dict)
    qualification: dict[str, Any] = field(default_factory=dict)
    diseases: tuple[dict[str, Any], ...] = ()
    expected_error_code: str | None = None


def _family(**extra: Any) -> dict[str, Any]:
    return {"card_classification": "01", **STANDARD, **extra}


DIALYSIS = {"category": "1", "valid_from": D(2023, 4, 1), "valid_until": D(2027, 3, 31), "self_pay": 10000}
HEMOPHILIA = {"category": "2", "valid_from": D(2023, 4, 1), "valid_until": D(2027, 3, 31), "self_pay": 10000}
HIV = {"category": "3", "valid_from": D(2024, 4, 1), "valid_until": D(2027, 3, 31), "self_pay": 10000}

SEARCH_LIST = [  # the eight people of the manual's 資格確認結果検索 example (P.10), 佐藤 一子 資格無効
    ("sato-ichiko", "佐藤 一子", "サトウ イチコ", D(1961, 1, 11), "2", "2"),
    ("suzuki-jiro", "鈴木 次郎", "スズキ ジロウ", D(1972, 2, 12), "1", "1"),
    ("takahashi-mitsuko", "高橋 三子", "タカハシ ミツコ", D(1983, 3, 13), "2", "1"),
    ("tanaka-yotsuko", "田中 四子", "タナカ ヨツコ", D(1994, 4, 14), "2", "1"),
    ("ito-goro", "伊藤 五郎", "イトウ ゴロウ", D(1965, 5, 15), "1", "1"),
    ("watanabe-mutsuko", "渡辺 六子", "ワタナベ ムツコ", D(1976, 6, 16), "2", "1"),
    ("yamamoto-shichiro", "山本 七郎", "ヤマモト シチロウ", D(1987, 7, 17), "1", "1"),
    ("nakamura-hachiro", "中村 八郎", "ナカムラ ハチロウ", D(1998, 8, 18), "1", "1"),
]


def demo_people(today: dt.date) -> list[DemoPerson]:
    """The roster. ``today`` places the 医療券 in the current month."""
    month_start = today.replace(day=1)
    month_end = (month_start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    taro_qualification = _family(
        symbol="1234", number="12345678", branch_number="02", personal_family="1", insured_name="資格 太郎",
        partial_contribution_ratio="010",
    )  # fmt: skip
    people = [
        DemoPerson(
            "shikaku-taro",
            "manual P.32: 一般, 本人, valid",
            "資格 太郎",
            "シカク タロウ",
            D(1952, 1, 1),
            "1",
            reference_number="1234567890000001",
            qualification=taro_qualification,
        ),
        DemoPerson(
            "shikaku-mukoko",
            "資格無効 (qualification_validity 2)",
            "資格 無効子",
            "シカク ムコウコ",
            D(1980, 5, 5),
            "2",
            reference_number="1234567890000002",
            qualification=_family(
                symbol="1234",
                number="22345678",
                branch_number="00",
                personal_family="1",
                insured_name="資格 無効子",
                validity="2",
                disqualification_date=D(2025, 3, 31),
                reason_of_loss="03",
            ),
        ),
        DemoPerson(
            "shikaku-mirai",
            "義務教育就学前 (未就学, 家族)",
            "資格 未来",
            "シカク ミライ",
            D(2021, 6, 15),
            "2",
            reference_number="1234567890000003",
            qualification=_family(
                symbol="1234",
                number="12345678",
                branch_number="03",
                personal_family="2",
                insured_name="資格 太郎",
                preschool=True,
                qualification_date=D(2021, 6, 15),
            ),
        ),
        DemoPerson(
            "shikaku-chouju",
            "後期高齢者 1割",
            "資格 長寿",
            "シカク チョウジュ",
            D(1945, 3, 3),
            "1",
            insurer="kouki",
            reference_number="1234567890000004",
            qualification=_family(number="00012345", personal_family="1", partial_contribution_ratio="010"),
        ),
        DemoPerson(
            "shikaku-korei",
            "高齢受給者証 2割",
            "資格 高齢",
            "シカク コウレイ",
            D(1953, 8, 8),
            "2",
            insurer="kokuho",
            reference_number="1234567890000005",
            qualification=_family(
                symbol="しかく",
                number="5555",
                personal_family="1",
                insured_name="資格 高齢",
                elderly_certificate_date=D(2023, 3, 15),
                elderly_valid_from=D(2023, 4, 1),
                elderly_valid_until=D(2027, 3, 31),
                elderly_ratio="020",
            ),
        ),
        DemoPerson(
            "shikaku-gendo",
            "限度額 ア + 長期入院, 特定疾病 2件 (manual P.34)",
            "資格 限度",
            "シカク ゲンド",
            D(1970, 2, 2),
            "1",
            reference_number="1234567890000006",
            qualification=_family(
                symbol="1234",
                number="32345678",
                branch_number="01",
                personal_family="1",
                insured_name="資格 限度",
                limit_certificate="02",
                limit_class="A01",
                limit_certificate_date=D(2023, 3, 20),
                limit_valid_from=D(2023, 4, 1),
                limit_valid_until=D(2027, 3, 31),
                limit_long_term_date=D(2023, 11, 1),
            ),
            diseases=(DIALYSIS, HEMOPHILIA),
        ),
        DemoPerson(
            "shikaku-sanshitsu",
            "特定疾病 3件",
            "資格 三疾",
            "シカク サンシツ",
            D(1968, 9, 9),
            "1",
            insurer="kyokai",
            reference_number="1234567890000007",
            qualification=_family(symbol="11223344", number="556", personal_family="1", insured_name="資格 三疾"),
            diseases=(DIALYSIS, HEMOPHILIA, HIV),
        ),
        DemoPerson(
            "hogo-taro",
            "医療扶助 (港区福祉事務所)",
            "保護 太郎",
            "ホゴ タロウ",
            D(1952, 1, 1),
            "1",
            insurer=None,
            office="minato",
            reference_number="1234567890000008",
            qualification={
                "card_classification": "A1",
                "number": "1234566",
                **STANDARD,
                "ticket_type": "01",
                "ticket_valid_from": month_start,
                "ticket_valid_until": month_end,
                "designated_institution_name": "しかく整骨院",
            },
        ),
        DemoPerson(
            "hairyo-hanako",
            "要配慮情報 (氏名（その他）, 性別2)",
            "配慮 花子",
            "ハイリョ ハナコ",
            D(1990, 9, 9),
            "2",
            reference_number="1234567890000009",
            person_extra={"name_of_other": "配慮 太郎", "name_of_other_kana": "ハイリョ タロウ", "sex2": "1"},
            qualification=_family(
                symbol="1234",
                number="42345678",
                branch_number="00",
                personal_family="1",
                insured_name="配慮 花子",
            ),
        ),
        DemoPerson(
            "muban-hanako",
            "照会番号 未登録 (blank)",
            "無番 花子",
            "ムバン ハナコ",
            D(1985, 10, 10),
            "2",
            qualification=_family(symbol="1234", number="52345678", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "kigen-chikako",
            "電子証明書 残り3カ月未満 (notice)",
            "期限 近子",
            "キゲン チカコ",
            D(1979, 11, 11),
            "2",
            reference_number="1234567890000010",
            certificate_state=CertificateState.EXPIRING,
            qualification=_family(symbol="1234", number="62345678", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "yuyo-kiko",
            "電子証明書 期限切れ 猶予期間内 (資格情報のみ)",
            "猶予 期子",
            "ユウヨ キコ",
            D(1977, 12, 12),
            "2",
            reference_number="1234567890000011",
            certificate_state=CertificateState.GRACE_PERIOD,
            qualification=_family(
                symbol="1234",
                number="72345678",
                branch_number="00",
                personal_family="1",
                limit_certificate="01",
                limit_class="A03",
                limit_valid_from=D(2023, 4, 1),
                limit_valid_until=D(2027, 3, 31),
            ),
        ),
        DemoPerson(
            "kigen-kireo",
            "電子証明書 猶予期間経過 (error)",
            "期限 切男",
            "キゲン キレオ",
            D(1966, 1, 21),
            "1",
            certificate_state=CertificateState.EXPIRED,
            expected_error_code="E-C-04-02-A-6101",
            qualification=_family(symbol="1234", number="82345678", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "shikko-shoo",
            "電子証明書 失効 (error)",
            "失効 証男",
            "シッコウ ショウオ",
            D(1971, 2, 22),
            "1",
            certificate_state=CertificateState.REVOKED,
            expected_error_code="E-C-04-02-A-6103",
            qualification=_family(symbol="1234", number="92345678", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "mitouroku-hanako",
            "保険証利用登録 未登録 (6002)",
            "未登録 花子",
            "ミトウロク ハナコ",
            D(1988, 3, 23),
            "2",
            registration=InsuredPerson.Registration.NOT_REGISTERED,
            expected_error_code="E-C-04-02-A-6002",
            qualification=_family(symbol="1234", number="10345678", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "touroku-machiko",
            "保険証利用登録 処理中 (6003)",
            "登録 待子",
            "トウロク マチコ",
            D(1989, 4, 24),
            "2",
            registration=InsuredPerson.Registration.PROCESSING,
            expected_error_code="E-C-04-02-A-6003",
            qualification=_family(symbol="1234", number="11345678", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "touroku-haio",
            "保険証利用登録 失敗 (6004)",
            "登録 敗男",
            "トウロク ハイオ",
            D(1991, 5, 25),
            "1",
            registration=InsuredPerson.Registration.FAILED,
            expected_error_code="E-C-04-02-A-6004",
            qualification=_family(symbol="1234", number="12345679", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "touroku-fukako",
            "保険証利用登録 未登録, 登録すると失敗する (T27)",
            "登録 不可子",
            "トウロク フカコ",
            D(1992, 6, 6),
            "2",
            registration=InsuredPerson.Registration.NOT_REGISTERED,
            person_extra={"registration_fails": True},
            expected_error_code="E-C-04-02-A-6002",
            qualification=_family(symbol="1234", number="16345678", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "keitai-aiko",
            "iPhone のマイナンバーカード",
            "携帯 愛子",
            "ケイタイ アイコ",
            D(1995, 6, 26),
            "2",
            reference_number="1234567890000012",
            holder_kind=CardCertificate.HolderKind.IPHONE,
            qualification=_family(symbol="1234", number="13345678", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "keitai-yasuo",
            "Android スマホ用電子証明書",
            "携帯 安男",
            "ケイタイ ヤスオ",
            D(1993, 7, 27),
            "1",
            reference_number="1234567890000013",
            holder_kind=CardCertificate.HolderKind.ANDROID,
            qualification=_family(symbol="1234", number="14345678", branch_number="00", personal_family="1"),
        ),
        DemoPerson(
            "keitai-mitoko",
            "Android 保険証未登録 (T20: 6002)",
            "携帯 未登子",
            "ケイタイ ミトコ",
            D(1996, 8, 28),
            "2",
            holder_kind=CardCertificate.HolderKind.ANDROID,
            registration=InsuredPerson.Registration.NOT_REGISTERED,
            expected_error_code="E-C-04-02-A-6002",
            qualification=_family(symbol="1234", number="15345678", branch_number="00", personal_family="1"),
        ),
    ]
    for index, (slug, name, kana, birthdate, sex, validity) in enumerate(SEARCH_LIST, start=1):
        people.append(
            DemoPerson(
                slug, "manual P.10 search list" + (" (資格無効)" if validity == "2" else ""), name, kana, birthdate, sex,
                insurer="kyokai", reference_number=f"20250324000000{index:02d}",
                qualification=_family(
                    symbol="7001", number=f"{index:04d}", branch_number="00", personal_family="1", insured_name=name,
                    validity=validity,
                ),
            )
        )  # fmt: skip
    return people


def _validity_window(state: CertificateState, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """not_before / not_after that put a new certificate into ``state`` now (and for a while)."""
    day = dt.timedelta(days=1)
    if state == CertificateState.EXPIRING:
        return now - 1780 * day, now + 45 * day
    if state == CertificateState.GRACE_PERIOD:
        return now - 1835 * day, now - 10 * day
    if state == CertificateState.EXPIRED:
        return now - 2025 * day, now - 200 * day
    return now - 365 * day, now + 3 * 365 * day  # valid, and revoked (revoked after issue)


def _reuse_card_files(
    person: InsuredPerson, spec: DemoPerson, files_dir: Path, now: dt.datetime
) -> CardCertificate | None:
    """The certificate already in ``files_dir`` if it is this CA's, in the intended state and not someone else's.

    Keeps a virtual card usable across a database reset (and makes re-seeding cheap: no new RSA keys).
    """
    key_path, cert_path = files_dir / "key.pem", files_dir / "cert.der"
    if not (key_path.exists() and cert_path.exists()):
        return None
    try:
        cert = x509.load_der_x509_certificate(cert_path.read_bytes())
        # The match with the certificate's public key is checked below; the full RSA check would cost ~40 ms a card.
        key = serialization.load_pem_private_key(
            key_path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except ValueError:
        return None
    ca = get_ca()
    if (
        not isinstance(key, rsa.RSAPrivateKey)
        or key.public_key().public_numbers() != cert.public_key().public_numbers()
    ):
        return None
    if ca.verify_card_certificate(cert, now) != spec.certificate_state:
        return None
    owner = CardCertificate.objects.filter(fingerprint=fingerprint(cert)).first()
    if owner is not None:
        return owner if owner.person_id == person.pk and owner.holder_kind == spec.holder_kind else None
    ca.keep_card_key(cert.serial_number, key)
    record = do_record_card_certificate(person, cert, holder_kind=spec.holder_kind)
    revoked = ca.crl().get_revoked_certificate_by_serial_number(cert.serial_number)
    if revoked is not None:
        do_revoke_card_certificate(record, revoked.revocation_date_utc)
    return record


def _ensure_certificate(person: InsuredPerson, spec: DemoPerson, files_dir: Path, now: dt.datetime) -> CardCertificate:
    ca = get_ca()
    existing = person.card_certificates.filter(holder_kind=spec.holder_kind).order_by("-id").first()
    if existing is not None and ca.card_key_path(int(existing.serial)).exists():
        state = ca.verify_card_certificate(x509.load_der_x509_certificate(bytes(existing.der)), now)
        if state == spec.certificate_state:
            return existing
    reused = _reuse_card_files(person, spec, files_dir, now)
    if reused is not None:
        return reused
    not_before, not_after = _validity_window(spec.certificate_state, now)
    certificate = do_issue_card_certificate(
        person, holder_kind=spec.holder_kind, not_before=not_before, not_after=not_after
    )
    if spec.certificate_state == CertificateState.REVOKED:
        do_revoke_card_certificate(certificate, now - dt.timedelta(days=3))
    return certificate


def _payers() -> tuple[dict[str, Insurer], dict[str, PublicAssistanceOffice]]:
    insurers = {
        key: Insurer.objects.update_or_create(number=number, defaults={"name": name})[0]
        for key, (number, name) in INSURERS.items()
    }
    offices = {
        key: PublicAssistanceOffice.objects.update_or_create(payer_number=number, defaults={"name": name})[0]
        for key, (number, name) in OFFICES.items()
    }
    return insurers, offices


@transaction.atomic
def seed_demo_roster(card_dir: Path, now: dt.datetime | None = None) -> list[DemoCard]:
    """Create (or refresh) the demo roster and write every person's card files under ``card_dir/<slug>/``."""
    now = now or timezone.now()
    insurers, offices = _payers()
    cards: list[DemoCard] = []
    for spec in demo_people(timezone.localdate(now)):
        person, _ = InsuredPerson.objects.update_or_create(
            name=spec.name,
            birthdate=spec.birthdate,
            defaults={
                "name_kana": spec.name_kana,
                "sex": spec.sex,
                "reference_number": spec.reference_number,
                "name_of_other": spec.person_extra.get("name_of_other", ""),
                "name_of_other_kana": spec.person_extra.get("name_of_other_kana", ""),
                "sex2": spec.person_extra.get("sex2", ""),
                "registration_fails": spec.person_extra.get("registration_fails", False),
            },
        )
        do_set_registration(person, spec.registration)
        person.qualifications.all().delete()
        qualification = Qualification.objects.create(
            person=person,
            insurer=insurers[spec.insurer] if spec.insurer else None,
            public_assistance_office=offices[spec.office] if spec.office else None,
            **spec.qualification,
        )
        for disease in spec.diseases:
            SpecificDiseaseCertificate.objects.create(qualification=qualification, **disease)
        _ensure_certificate(person, spec, card_dir / spec.slug, now)
        key_path, cert_path = write_card_files(person, card_dir / spec.slug, holder_kind=spec.holder_kind)
        cards.append(
            DemoCard(
                name=spec.name,
                name_kana=spec.name_kana,
                profile=PROFILE_FOR_HOLDER[spec.holder_kind],
                pin=DEMO_PIN,
                key_path=key_path,
                cert_path=cert_path,
                scenario=spec.scenario,
                certificate_state=str(spec.certificate_state),
                expected_error_code=spec.expected_error_code,
            )
        )
    return cards
