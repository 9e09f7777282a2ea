"""The sandbox roster (N01): insurers, welfare offices, insured persons, their qualifications and card certificates.

Field meanings and code values follow reference/onshi-data-model.md §2c–2g and the OQSCD tables in §3; the result
document built from them is ``server/sandbox/results.py``.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from contracts.checkdigits import has_valid_check_digit, is_valid_insurer_number

EIGHT_DIGITS = RegexValidator(r"^[0-9]{8}$", "8桁の半角数字で入力してください。")
THREE_DIGIT_RATIO = RegexValidator(r"^[0-9]{3}$", "負担割合は3桁（1割 = 010）で入力してください。")


def validate_insurer_number(value: str) -> None:
    if not is_valid_insurer_number(value):
        raise ValidationError("保険者番号の検証番号が正しくありません。")


def validate_public_payer_number(value: str) -> None:
    if not (len(value) == 8 and has_valid_check_digit(value)):
        raise ValidationError("公費負担者番号の検証番号が正しくありません。")


class Sex(models.TextChoices):  # OQSCD007
    MALE = "1", "男"
    FEMALE = "2", "女"
    UNSET = "3", "未設定"


class Insurer(models.Model):
    """保険者."""

    number = models.CharField(
        "保険者番号", max_length=8, unique=True, validators=[EIGHT_DIGITS, validate_insurer_number]
    )
    name = models.CharField("保険者名", max_length=200)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class PublicAssistanceOffice(models.Model):
    """福祉事務所 (医療扶助): its 公費負担者番号 (法別 12) stands in the result's insurer_number."""

    payer_number = models.CharField(
        "公費負担者番号", max_length=8, unique=True, validators=[EIGHT_DIGITS, validate_public_payer_number]
    )
    name = models.CharField("福祉事務所名", max_length=200)

    class Meta:
        ordering = ["payer_number"]

    def __str__(self) -> str:
        return f"{self.payer_number} {self.name}"


class InsuredPerson(models.Model):
    """被保険者 (or 医療扶助 recipient) as the national service knows them."""

    class Registration(models.TextChoices):  # 保険証利用登録
        REGISTERED = "registered", "登録済み"
        NOT_REGISTERED = "not_registered", "未登録"
        PROCESSING = "processing", "処理中"
        FAILED = "failed", "失敗"

    name = models.CharField("氏名", max_length=100)
    name_kana = models.CharField("氏名カナ", max_length=100)
    birthdate = models.DateField("生年月日")
    sex = models.CharField("性別1", max_length=1, choices=Sex.choices)
    # 要配慮情報 (備考): the name and sex the person asked to be shown instead.
    name_of_other = models.CharField("氏名（その他）", max_length=100, blank=True)
    name_of_other_kana = models.CharField("氏名カナ（その他）", max_length=100, blank=True)
    sex2 = models.CharField("性別2", max_length=1, choices=Sex.choices, blank=True)
    # Empty = 照会番号 not registered: the result then carries null and the screen shows it blank.
    reference_number = models.CharField(
        "照会番号", max_length=16, blank=True, validators=[RegexValidator(r"^[0-9A-Za-z]{1,16}$")]
    )
    registration = models.CharField(
        "保険証利用登録", max_length=16, choices=Registration.choices, default=Registration.REGISTERED
    )
    # Demo switch: the sandbox's 保険証利用登録 of this person ends in 失敗 (manual P.36).
    registration_fails = models.BooleanField("利用登録が失敗する", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_kana", "id"]
        constraints = [models.UniqueConstraint(fields=["name", "birthdate"], name="sandbox_person_name_birthdate")]

    def __str__(self) -> str:
        return f"InsuredPerson {self.pk}"  # no patient data in logs and reprs

    def current_qualification(self) -> Qualification | None:
        """The newest qualification (by 有効開始日, then by creation)."""
        # One query for the answer: the payer joined, and whether a 特定疾病 query is needed at all (most have none).
        return (
            self.qualifications.select_related("insurer", "public_assistance_office")
            .annotate(
                has_specific_diseases=models.Exists(
                    SpecificDiseaseCertificate.objects.filter(qualification=models.OuterRef("pk"))
                )
            )
            .order_by(models.F("valid_from").desc(nulls_last=True), "-id")
            .first()
        )


class Qualification(models.Model):
    """One ResultOfQualificationConfirmation's worth of data (FEATURES T21–T23)."""

    class CardClassification(models.TextChoices):  # OQSCD010
        GENERAL = "01", "被保険者証（一般）"
        RETIRED = "02", "被保険者証（退職）"
        SHORT_GENERAL = "03", "短期被保険者証（一般）"
        SHORT_RETIRED = "04", "短期被保険者証（退職）"
        SPECIAL = "05", "特別療養費支給対象者"
        SPECIAL_RETIRED = "06", "特例退職被保険者証"
        SDF = "07", "自衛官診療証"
        MEDICAL_ASSISTANCE = "A1", "医療扶助"

    class PersonalFamily(models.TextChoices):  # OQSCD009
        INSURED = "1", "本人"
        FAMILY = "2", "家族"

    class Validity(models.TextChoices):  # OQSCD006
        VALID = "1", "有効"
        INVALID = "2", "無効"
        INVALID_NEWER = "3", "無効（新しい資格あり）"
        NONE = "4", "該当資格なし"
        MULTIPLE = "5", "複数該当"
        VALID_UNREGISTERED = "6", "有効（未登録）"

    class ReasonOfLoss(models.TextChoices):  # OQSCD008
        DEATH = "01", "死亡"
        PUBLIC_ASSISTANCE = "02", "生活保護受給開始"
        OTHER_INSURANCE = "03", "医療保険等の資格取得"
        OTHER = "99", "その他"

    class LimitCertificate(models.TextChoices):  # OQSCD011
        LIMIT = "01", "限度額適用認定証"
        LIMIT_AND_REDUCTION = "02", "限度額適用・標準負担額減額認定証"
        REDUCTION = "03", "標準負担額減額認定証"

    class TicketType(models.TextChoices):  # OQSCD018
        MEDICAL = "01", "医療券"
        DISPENSING = "02", "調剤券"

    person = models.ForeignKey(InsuredPerson, on_delete=models.CASCADE, related_name="qualifications")
    insurer = models.ForeignKey(Insurer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    public_assistance_office = models.ForeignKey(
        PublicAssistanceOffice, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    card_classification = models.CharField("被保険者証区分", max_length=2, choices=CardClassification.choices)
    symbol = models.CharField("記号", max_length=38, blank=True)
    number = models.CharField("番号 (医療扶助: 受給者番号)", max_length=38, blank=True)
    branch_number = models.CharField(
        "枝番", max_length=2, blank=True, validators=[RegexValidator(r"^[0-9]{2}$", "枝番は2桁です。")]
    )
    personal_family = models.CharField("本人・家族の別", max_length=1, choices=PersonalFamily.choices, blank=True)
    insured_name = models.CharField("被保険者氏名", max_length=100, blank=True)
    valid_from = models.DateField("有効開始日", null=True, blank=True)
    valid_until = models.DateField("有効終了日", null=True, blank=True)
    qualification_date = models.DateField("資格取得年月日", null=True, blank=True)
    disqualification_date = models.DateField("資格喪失年月日", null=True, blank=True)
    reason_of_loss = models.CharField("資格喪失事由", max_length=2, choices=ReasonOfLoss.choices, blank=True)
    partial_contribution_ratio = models.CharField(
        "負担割合 (後期高齢者)", max_length=3, blank=True, validators=[THREE_DIGIT_RATIO]
    )
    preschool = models.BooleanField("未就学", default=False)
    validity = models.CharField("資格有効性", max_length=1, choices=Validity.choices, default=Validity.VALID)

    # 高齢受給者証 (ages 70–74)
    elderly_certificate_date = models.DateField("高齢受給者証 交付年月日", null=True, blank=True)
    elderly_valid_from = models.DateField("高齢受給者証 有効開始日", null=True, blank=True)
    elderly_valid_until = models.DateField("高齢受給者証 有効終了日", null=True, blank=True)
    elderly_ratio = models.CharField("高齢受給者証 負担割合", max_length=3, blank=True, validators=[THREE_DIGIT_RATIO])

    # 限度額適用認定証
    limit_certificate = models.CharField("限度額 証区分", max_length=2, choices=LimitCertificate.choices, blank=True)
    limit_class = models.CharField(
        "限度額 適用区分", max_length=3, blank=True, validators=[RegexValidator(r"^[AB][0-9]{2}$")]
    )
    limit_certificate_date = models.DateField("限度額 交付年月日", null=True, blank=True)
    limit_valid_from = models.DateField("限度額 有効開始年月日", null=True, blank=True)
    limit_valid_until = models.DateField("限度額 有効終了年月日", null=True, blank=True)
    limit_long_term_date = models.DateField("長期入院該当年月日", null=True, blank=True)

    # 医療扶助 (医療券・調剤券); the office and 受給者番号 are above.
    ticket_type = models.CharField("医療券・調剤券別", max_length=2, choices=TicketType.choices, blank=True)
    ticket_valid_from = models.DateField("医療券 有効開始年月日", null=True, blank=True)
    ticket_valid_until = models.DateField("医療券 有効終了年月日", null=True, blank=True)
    designated_institution_name = models.CharField("指定医療機関名", max_length=200, blank=True)
    remarks = models.CharField("備考", max_length=200, blank=True)

    class Meta:
        ordering = ["person_id", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                name="sandbox_qualification_payer",
                condition=(
                    models.Q(card_classification="A1", public_assistance_office__isnull=False)
                    | (~models.Q(card_classification="A1") & models.Q(insurer__isnull=False))
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Qualification {self.pk}"

    @property
    def is_medical_assistance(self) -> bool:
        return self.card_classification == self.CardClassification.MEDICAL_ASSISTANCE


class SpecificDiseaseCertificate(models.Model):
    """特定疾病療養受療証: up to 3 per qualification, returned only with the patient's consent."""

    class Category(models.TextChoices):  # OQSCD013
        DIALYSIS = "1", "人工透析を必要とする慢性腎不全"
        HEMOPHILIA = "2", "先天性血液凝固因子障害（第VIII因子、第IX因子）"
        HIV = "3", "血液凝固因子製剤の投与に起因するHIV感染症"

    MAX_PER_QUALIFICATION = 3

    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE, related_name="specific_diseases")
    category = models.CharField("認定疾病区分", max_length=1, choices=Category.choices)
    certificate_date = models.DateField("交付年月日", null=True, blank=True)
    valid_from = models.DateField("有効開始年月日", null=True, blank=True)
    valid_until = models.DateField("有効終了年月日", null=True, blank=True)
    self_pay = models.PositiveIntegerField("自己負担額 (円/月)", null=True, blank=True)

    class Meta:
        ordering = ["qualification_id", "category", "id"]
        constraints = [
            models.UniqueConstraint(fields=["qualification", "category"], name="sandbox_specific_disease_once")
        ]

    def __str__(self) -> str:
        return f"SpecificDiseaseCertificate {self.pk}"


class RegistrationRequest(models.Model):
    """One 保険証利用登録 (N04), done asynchronously by ``server.sandbox.tasks.complete_registration``."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "処理中"
        FAILED = "failed", "失敗"
        COMPLETED = "completed", "完了"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(InsuredPerson, on_delete=models.CASCADE, related_name="registration_requests")
    device_id = models.UUIDField("申請した端末", null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"RegistrationRequest {self.pk} {self.status}"


class CardCertificate(models.Model):
    """A user-authentication certificate issued by the sandbox CA to a card or a smartphone of a person."""

    class HolderKind(models.TextChoices):
        CARD = "card", "マイナンバーカード"
        ANDROID = "android", "Android"
        IPHONE = "iphone", "iPhone"

    person = models.ForeignKey(InsuredPerson, on_delete=models.CASCADE, related_name="card_certificates")
    holder_kind = models.CharField(max_length=8, choices=HolderKind.choices, default=HolderKind.CARD)
    serial = models.CharField("シリアル番号 (10進)", max_length=50, unique=True)
    subject_cn = models.CharField(max_length=64)
    fingerprint = models.CharField("SHA-256", max_length=64, unique=True)
    der = models.BinaryField()
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person_id", "-not_before"]

    def __str__(self) -> str:
        return f"CardCertificate {self.subject_cn}"
