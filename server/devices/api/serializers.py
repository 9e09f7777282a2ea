from rest_framework import serializers

from server.common.serializers import NOT_BLANK, StrictSerializer
from server.devices.models import Device


class RegisterDeviceSerializer(StrictSerializer):
    institution_code = serializers.RegexField(
        r"^[0-9]{10}$", error_messages={"invalid": "機関コードは10桁の数字で入力してください。"}
    )
    account_id = serializers.RegexField(NOT_BLANK, max_length=64)  # a pattern so that the schema says "not blank"
    password = serializers.CharField(
        min_length=1, max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
    activation_code = serializers.RegexField(
        r"^[0-9]{12}$", error_messages={"invalid": "アクティベーションコードは12桁の数字で入力してください。"}
    )
    public_key = serializers.RegexField(
        NOT_BLANK, max_length=100, help_text="raw 32-byte Ed25519 public key, standard base64"
    )
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    os = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    app_version = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    reader_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RegisteredDeviceSerializer(serializers.Serializer):
    device_id = serializers.UUIDField()
    institution_code = serializers.CharField()
    institution_name = serializers.CharField()
    server_time = serializers.DateTimeField()


class DeviceMeSerializer(serializers.Serializer):
    device_id = serializers.UUIDField(source="id")
    device_name = serializers.CharField(source="name")
    institution_code = serializers.CharField(source="institution.code")
    institution_name = serializers.CharField(source="institution.name")
    status = serializers.ChoiceField(choices=Device.STATUS_CHOICES)


class DeviceMeResponseSerializer(DeviceMeSerializer):
    server_time = serializers.DateTimeField()


class HeartbeatSerializer(StrictSerializer):
    app_version = serializers.CharField(max_length=40, required=False, allow_blank=True)
    reader_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class HeartbeatResponseSerializer(serializers.Serializer):
    device_id = serializers.UUIDField()
    status = serializers.CharField(help_text="always `active`: other devices are refused before this answer")
    last_seen_at = serializers.DateTimeField()
    heartbeat_interval_seconds = serializers.IntegerField(help_text="how often the terminal should call in")
    server_time = serializers.DateTimeField()


class PingSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    server_time = serializers.DateTimeField()
