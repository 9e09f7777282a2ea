"""S06/S10: result documents encrypted at rest (existing rows are encrypted here), search indexes, ResultExport."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def encrypt_existing_documents(apps, schema_editor):
    from server.results.crypto import encrypt_document

    CheckResult = apps.get_model("results", "CheckResult")
    for row in CheckResult.objects.only("id", "document").iterator(chunk_size=500):
        key_id, blob = encrypt_document(row.document, row.id)
        CheckResult.objects.filter(pk=row.pk).update(key_id=key_id, document_encrypted=blob)


def decrypt_documents_back(apps, schema_editor):
    from server.results.crypto import decrypt_document

    CheckResult = apps.get_model("results", "CheckResult")
    for row in CheckResult.objects.only("id", "key_id", "document_encrypted").iterator(chunk_size=500):
        document = decrypt_document(row.document_encrypted, row.id, row.key_id)
        CheckResult.objects.filter(pk=row.pk).update(document=document)


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_initial"),
        ("institutions", "0001_initial"),
        ("results", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkresult",
            name="document_encrypted",
            field=models.BinaryField(null=True),
        ),
        migrations.AddField(
            model_name="checkresult",
            name="key_id",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="checkresult",
            name="document",
            field=models.JSONField(null=True),
        ),
        migrations.RunPython(encrypt_existing_documents, decrypt_documents_back),
        migrations.RemoveField(model_name="checkresult", name="document"),
        migrations.AlterField(
            model_name="checkresult",
            name="document_encrypted",
            field=models.BinaryField(),
        ),
        migrations.RemoveIndex(model_name="checkresult", name="result_device_time"),
        migrations.AddIndex(
            model_name="checkresult",
            index=models.Index(fields=["institution", "device", "-checked_at", "-id"], name="result_inst_device_time"),
        ),
        migrations.AddIndex(
            model_name="checkresult",
            index=models.Index(fields=["checked_at"], name="result_checked_at"),
        ),
        migrations.CreateModel(
            name="ResultExport",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("requested_by_type", models.CharField(default="device", max_length=16)),
                ("requested_by_id", models.CharField(blank=True, max_length=150)),
                ("scope", models.CharField(default="device", max_length=16)),
                ("date_from", models.DateField()),
                ("date_to", models.DateField()),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "待機中"), ("running", "作成中"), ("done", "完了"), ("failed", "失敗")],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("rows_total", models.PositiveIntegerField(blank=True, null=True)),
                ("rows_done", models.PositiveIntegerField(default=0)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("error_message", models.CharField(blank=True, max_length=200)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("content_encrypted", models.BinaryField(blank=True, null=True)),
                ("key_id", models.CharField(blank=True, max_length=32)),
                (
                    "result_ids",
                    models.JSONField(blank=True, default=list, help_text="ids of the exported results, for the audit"),
                ),
                (
                    "device",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="devices.device",
                    ),
                ),
                (
                    "institution",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="result_exports",
                        to="institutions.institution",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["expires_at"], name="result_export_expiry")],
            },
        ),
    ]
