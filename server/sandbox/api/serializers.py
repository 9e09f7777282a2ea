"""Request and response shapes of the sandbox API (docs/contracts.md, "Sandbox")."""

from __future__ import annotations

import base64
import binascii

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from server.common.serializers import StrictSerializer
from server.sandbox.query import CHALLENGE_BYTES, IDENTITY_VERIFICATIONS

MAX_CERTIFICATE_BYTES = 8192  # a JPKI user-auth certificate is about 1–2 KB
MAX_SIGNATURE_BYTES = 1024


class Base64BytesField(serializers.Field):
    """Standard, padded base64 in JSON; strict (no stray characters), decoded to bytes."""

    default_error_messages = {
        "invalid": "base64 形式で指定してください。",
        "too_long": "データが長すぎます。",
        "empty": "空のデータは指定できません。",
    }

    def __init__(self, *, max_bytes: int, exact_bytes: int | None = None, **kwargs):
        self.max_bytes = max_bytes
        self.exact_bytes = exact_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> bytes:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            raw = base64.b64decode(data.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            self.fail("invalid")
        if not raw:
            self.fail("empty")
        if len(raw) > self.max_bytes or (self.exact_bytes is not None and len(raw) != self.exact_bytes):
            self.fail("too_long" if len(raw) > self.max_bytes else "invalid")
        return raw

    def to_representation(self, value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")


class Base64BytesFieldSchema(OpenApiSerializerFieldExtension):
    """Base64 text as a pattern of what the field accepts — padded standard base64 of 1 to max_bytes bytes, or of
    exactly exact_bytes — rather than "format: byte", which says neither (schemathesis's valid examples must be
    valid here too)."""

    target_class = Base64BytesField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: object, direction: str) -> dict:
        field = self.target
        if field.exact_bytes is not None:
            full, rest = divmod(field.exact_bytes, 3)
            tail = {0: "", 1: "[A-Za-z0-9+/]{2}==", 2: "[A-Za-z0-9+/]{3}="}[rest]
            pattern = f"^[A-Za-z0-9+/]{{{full * 4}}}{tail}$"
        else:
            pattern = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$"
        return {"type": "string", "pattern": pattern, "maxLength": -(-field.max_bytes // 3) * 4}


class ChallengeSerializer(serializers.Serializer):
    challenge = serializers.CharField(help_text=f"base64 of {CHALLENGE_BYTES} random bytes; single use")
    expires_at = serializers.DateTimeField(help_text="valid 60 s")
    server_time = serializers.DateTimeField()


class QualificationQuerySerializer(StrictSerializer):
    challenge = Base64BytesField(max_bytes=CHALLENGE_BYTES, exact_bytes=CHALLENGE_BYTES)
    identity_verification = serializers.ChoiceField(
        choices=IDENTITY_VERIFICATIONS, error_messages={"invalid_choice": "本人確認の方法が正しくありません。"}
    )
    certificate = Base64BytesField(max_bytes=MAX_CERTIFICATE_BYTES, help_text="DER of the user-auth certificate")
    signature = Base64BytesField(
        max_bytes=MAX_SIGNATURE_BYTES,
        required=False,
        allow_null=True,
        default=None,
        help_text="RSA PKCS#1 v1.5 SHA-256 over the raw challenge bytes; null for visual",
    )
    visual_attested = serializers.BooleanField(required=False, default=False)
    consent_specific_diseases = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict) -> dict:
        if attrs["identity_verification"] != "visual" and not attrs.get("signature"):
            raise serializers.ValidationError({"signature": ["カードの署名が必要です。"]})
        return attrs


class QualificationAnswerSerializer(serializers.Serializer):
    result = serializers.JSONField(
        help_text="qualification result document (contracts/qualification_result.schema.json)"
    )
    server_time = serializers.DateTimeField()


class RegistrationRequestSerializer(QualificationQuerySerializer):
    consent_specific_diseases = None  # not part of a registration
    terms_accepted = serializers.BooleanField(help_text="利用規約に同意する (T27)")


class RegistrationSerializer(serializers.Serializer):
    registration_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["processing", "failed", "completed"])
    server_time = serializers.DateTimeField()


class RegistrationTermsSerializer(serializers.Serializer):
    version = serializers.CharField()
    title = serializers.CharField(help_text="健康保険証利用登録 利用規約")
    body = serializers.CharField(help_text="plain text")
    server_time = serializers.DateTimeField()
