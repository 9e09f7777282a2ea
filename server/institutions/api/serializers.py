from rest_framework import serializers

from server.common.serializers import NOT_BLANK, StrictSerializer


class ChangePasswordSerializer(StrictSerializer):
    account_id = serializers.RegexField(NOT_BLANK, max_length=64)  # a pattern so that the schema says "not blank"
    current_password = serializers.CharField(min_length=1, max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(min_length=1, max_length=128, trim_whitespace=False)


class PasswordChangedSerializer(serializers.Serializer):
    account_id = serializers.CharField()
    password_changed_at = serializers.DateTimeField()
    server_time = serializers.DateTimeField()


class LoginSerializer(StrictSerializer):
    account_id = serializers.RegexField(NOT_BLANK, max_length=64)
    password = serializers.CharField(min_length=1, max_length=128, trim_whitespace=False)


class LoggedInSerializer(serializers.Serializer):
    account_id = serializers.CharField()
    institution_code = serializers.CharField()
    institution_name = serializers.CharField()
    server_time = serializers.DateTimeField()
