"""A02: device names unique within an institution. Existing duplicates get " (2)", " (3)"… (oldest keeps its name)."""

from django.db import migrations, models


def number_duplicates(apps, schema_editor):
    Device = apps.get_model("devices", "Device")
    every: dict[int, set] = {}  # every name of the institution, so a new name never clashes with a later one
    for institution_id, name in Device.objects.values_list("institution_id", "name"):
        every.setdefault(institution_id, set()).add(name)
    kept: set = set()
    for device in Device.objects.order_by("institution_id", "registered_at", "id"):
        names = every[device.institution_id]
        if (device.institution_id, device.name) not in kept:
            kept.add((device.institution_id, device.name))
            continue
        number = 2
        while True:
            suffix = f" ({number})"
            candidate = device.name[: 100 - len(suffix)] + suffix
            if candidate not in names:
                break
            number += 1
        device.name = candidate
        device.save(update_fields=["name"])
        names.add(candidate)


class Migration(migrations.Migration):
    dependencies = [("devices", "0002_device_offline_since")]

    operations = [
        migrations.RunPython(number_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="device",
            constraint=models.UniqueConstraint(fields=("institution", "name"), name="device_name_unique_per_institution"),
        ),
    ]
