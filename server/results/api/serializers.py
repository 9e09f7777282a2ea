from rest_framework import serializers

from server.common.serializers import StrictSerializer
from server.results.actions import MAX_BATCH
from server.results.models import CheckResult


class BatchItemSerializer(serializers.Serializer):
    """Documentation shape of one item. Items are judged one by one in the action, never here: any JSON value is
    taken, and one that cannot be stored is answered ``rejected`` with its code (``invalid_item``, ``invalid_id``,
    ``invalid_checked_at``, ``schema_violation``, ``conflict``) while the rest of the batch is stored — a bad item
    never blocks the good ones behind it. So the schema gives neither the item nor its fields a type: a wrong one
    is not a malformed request."""

    id = serializers.JSONField(required=False, help_text="UUID made by the terminal (rejected `invalid_id` if not)")
    checked_at = serializers.JSONField(
        required=False,
        help_text="ISO 8601 with an offset, a possible time (rejected `invalid_checked_at` if not)",
    )
    result = serializers.JSONField(
        required=False,
        help_text="qualification result document (contracts/qualification_result.schema.json; rejected "
        "`schema_violation` if not)",
    )


class BatchRequestSerializer(StrictSerializer):
    results = serializers.ListField(
        child=serializers.JSONField(allow_null=True),  # a null item is rejected `invalid_item`, like any other
        min_length=1,
        max_length=MAX_BATCH,
        error_messages={
            "min_length": "結果を1件以上指定してください。",
            "max_length": f"一度に送信できる結果は{MAX_BATCH}件までです。",
            "not_a_list": "results は配列で指定してください。",
        },
    )


class BatchRequestDocSerializer(StrictSerializer):
    results = serializers.ListField(child=BatchItemSerializer(), min_length=1, max_length=MAX_BATCH)


class ItemErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["conflict", "schema_violation", "invalid_id", "invalid_checked_at", "invalid_item"]
    )
    message = serializers.CharField()


class BatchItemOutcomeSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=["stored", "duplicate", "rejected"])
    error = ItemErrorSerializer(required=False)


class BatchResponseSerializer(serializers.Serializer):
    items = BatchItemOutcomeSerializer(many=True)
    server_time = serializers.DateTimeField()


class ResultRowSerializer(serializers.ModelSerializer):
    device_id = serializers.UUIDField()
    device_name = serializers.CharField(source="device.name")

    class Meta:
        model = CheckResult
        fields = [
            "id",
            "checked_at",
            "device_id",
            "device_name",
            "name",
            "name_kana",
            "is_valid",
            "qualification_validity",
        ]


class ResultDetailSerializer(ResultRowSerializer):
    result = serializers.JSONField(source="document")

    class Meta(ResultRowSerializer.Meta):
        fields = [*ResultRowSerializer.Meta.fields, "received_at", "insurer_number", "identity_verification", "result"]


class ResultDetailResponseSerializer(ResultDetailSerializer):
    server_time = serializers.DateTimeField()

    class Meta(ResultDetailSerializer.Meta):
        fields = [*ResultDetailSerializer.Meta.fields, "server_time"]


class ResultPageSerializer(serializers.Serializer):
    results = ResultRowSerializer(many=True)
    first = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    next = serializers.CharField(allow_null=True)
    last = serializers.CharField(allow_null=True)
    server_time = serializers.DateTimeField()


class ExportRequestSerializer(StrictSerializer):
    scope = serializers.ChoiceField(choices=["device", "institution"], required=False, default="device")
    date_from = serializers.DateField(required=False, help_text="≥ the 1st of the previous month (JST)")
    date_to = serializers.DateField(required=False, help_text="≤ today (JST)")


class ExportStatusSerializer(serializers.Serializer):
    export_id = serializers.UUIDField()
    status = serializers.CharField(help_text="pending | running | done | failed")
    progress = serializers.IntegerField(help_text="percent, 0–100")
    rows_total = serializers.IntegerField(allow_null=True)
    rows_done = serializers.IntegerField()
    scope = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.CharField(allow_null=True, help_text="when done and not expired; signed, expiring")
    error_message = serializers.CharField(allow_blank=True)
    server_time = serializers.DateTimeField()
