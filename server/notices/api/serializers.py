from rest_framework import serializers

from server.notices.models import AppRelease, Document, Notice


class NoticeSerializer(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField(help_text='"institution": this institution only; "all": every one')
    read = serializers.SerializerMethodField(help_text="read on this device")
    read_at = serializers.DateTimeField(allow_null=True, read_only=True, help_text="when this device read it (JST)")

    class Meta:
        model = Notice
        fields = ["id", "title", "body", "url", "publish_from", "publish_until", "scope", "read", "read_at"]

    def get_scope(self, notice: Notice) -> str:
        return "all" if notice.institution_id is None else "institution"

    def get_read(self, notice: Notice) -> bool:
        return getattr(notice, "read_at", None) is not None


class NoticeListSerializer(serializers.Serializer):
    notices = NoticeSerializer(many=True, help_text="newest first, at most 100")
    unread_count = serializers.IntegerField(help_text="unread notices visible to this device")
    server_time = serializers.DateTimeField()


class NoticeDetailSerializer(NoticeSerializer):
    server_time = serializers.DateTimeField()

    class Meta(NoticeSerializer.Meta):
        fields = [*NoticeSerializer.Meta.fields, "server_time"]


class NoticeReadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    read = serializers.BooleanField()
    read_at = serializers.DateTimeField()
    server_time = serializers.DateTimeField()


class DocumentSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Document.KIND_CHOICES)
    kind_label = serializers.CharField(
        source="get_kind_display", help_text="利用規約 / 個人情報の取り扱い / ライセンス"
    )

    class Meta:
        model = Document
        fields = ["kind", "kind_label", "version", "title", "body", "published_at"]


class DocumentResponseSerializer(DocumentSerializer):
    server_time = serializers.DateTimeField()

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "server_time"]


class AppReleaseCheckSerializer(serializers.Serializer):
    latest_version = serializers.CharField(allow_null=True, help_text="null when no release is published")
    store_url = serializers.URLField(allow_null=True)
    notes = serializers.CharField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    update_available = serializers.BooleanField(help_text="current < latest_version (PEP 440 order)")
    update_required = serializers.BooleanField(
        help_text="current < the newest release published as minimum supported: show バージョン更新 without a way on"
    )
    server_time = serializers.DateTimeField()


def release_fields(release: AppRelease | None) -> dict:
    if release is None:
        return {"latest_version": None, "store_url": None, "notes": None, "published_at": None}
    return {
        "latest_version": release.version,
        "store_url": release.store_url,
        "notes": release.notes,
        "published_at": serializers.DateTimeField().to_representation(release.published_at),
    }
