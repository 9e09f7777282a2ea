"""A console user may hold several roles (A01): one boolean per role instead of the single ``role`` column."""

from django.db import migrations, models


def roles_from_role(apps, schema_editor):
    StaffMembership = apps.get_model("institutions", "StaffMembership")
    StaffMembership.objects.filter(role="manager").update(is_manager=True)
    StaffMembership.objects.filter(role="it").update(is_it=True)


def role_from_roles(apps, schema_editor):
    StaffMembership = apps.get_model("institutions", "StaffMembership")
    StaffMembership.objects.filter(is_manager=True).update(role="manager")
    StaffMembership.objects.filter(is_manager=False).update(role="it")


class Migration(migrations.Migration):
    dependencies = [("institutions", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="staffmembership", name="is_manager", field=models.BooleanField(default=False, verbose_name="管理者")
        ),
        migrations.AddField(
            model_name="staffmembership", name="is_it", field=models.BooleanField(default=False, verbose_name="IT担当")
        ),
        migrations.AddField(
            model_name="staffmembership",
            name="is_admin",
            field=models.BooleanField(default=False, verbose_name="利用者管理"),
        ),
        migrations.RunPython(roles_from_role, role_from_roles),
        migrations.RemoveField(model_name="staffmembership", name="role"),
    ]
