from rest_framework import serializers


class ChangePasswordSerializer(serializers.Serializer):
    account_id = serializers.CharField(max_length=64)
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordChangedSerializer(serializers.Serializer):
    account_id = serializers.CharField()
    password_changed_at = serializers.DateTimeField()
    server_time = serializers.DateTimeField()


class LoginSerializer(serializers.Serializer):
    account_id = serializers.CharField(max_length=64)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class LoggedInSerializer(serializers.Serializer):
    account_id = serializers.CharField()
    institution_code = serializers.CharField()
    institution_name = serializers.CharField()
    server_time = serializers.DateTimeField()
