"""Issue 15 point 1 (S06): no patient name, カナ or insurer number in clear columns any more.

Each row's 氏名, カナ and 保険者番号 move into ``summary_encrypted`` (AES-GCM under the row's key, bound to its id) and
the name search into ``name_index`` (keyed blind-index tokens, server/results/sealing.py); then the clear columns go.
Rows are converted in id order, 1,000 per statement batch; the reverse puts the columns back from the summaries.
"""

from django.db import migrations, models

import server.results.fields

BATCH = 1000


def seal_existing(apps, schema_editor):
    from server.results import sealing

    CheckResult = apps.get_model("results", "CheckResult")
    after = None
    while True:
        rows = CheckResult.objects.order_by("id").only("id", "key_id", "name", "name_kana", "insurer_number")
        batch = list((rows.filter(id__gt=after) if after else rows)[:BATCH])
        if not batch:
            return
        for row in batch:
            summary = {"name": row.name, "name_kana": row.name_kana, "insurer_number": row.insurer_number}
            row.summary_encrypted = sealing.seal_summary(summary, row.id, row.key_id)
            row.name_index = sealing.name_tokens(row.name, row.name_kana, row.key_id)
        CheckResult.objects.bulk_update(batch, ["summary_encrypted", "name_index"])
        after = batch[-1].id


def unseal(apps, schema_editor):
    from server.results import sealing

    CheckResult = apps.get_model("results", "CheckResult")
    for row in CheckResult.objects.only("id", "key_id", "summary_encrypted").iterator(chunk_size=BATCH):
        summary = sealing.open_summary(row.summary_encrypted, row.id, row.key_id)
        CheckResult.objects.filter(pk=row.pk).update(**summary)


class Migration(migrations.Migration):
    dependencies = [("results", "0006_export_options")]

    operations = [
        migrations.AddField(
            model_name="checkresult",
            name="summary_encrypted",
            field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="checkresult",
            name="name_index",
            field=server.results.fields.TokenArrayField(default=list),
        ),
        migrations.RunPython(seal_existing, unseal),
        migrations.RemoveField(model_name="checkresult", name="name"),
        migrations.RemoveField(model_name="checkresult", name="name_kana"),
        migrations.RemoveField(model_name="checkresult", name="insurer_number"),
    ]
