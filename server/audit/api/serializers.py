from rest_framework import serializers

from server.audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    device_id = serializers.UUIDField(allow_null=True)
    device_name = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "action",
            "actor_type",
            "actor_id",
            "device_id",
            "device_name",
            "object_ids",
            "detail",
            "ip_address",
            "user_agent",
            "request_id",
        ]
        read_only_fields = fields

    def get_device_name(self, event: AuditEvent) -> str:
        return self.context.get("device_names", {}).get(str(event.device_id), "") if event.device_id else ""


class AuditPageSerializer(serializers.Serializer):
    events = AuditEventSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="cursor of the next (older) page")
    server_time = serializers.DateTimeField()
