"""S09: a GIN index on the audit trail's object ids, for the audit query API's patient and device filters.

Those filters ask "which events name one of these result ids" (``object_ids ?| array[...]``) or "this device"
(``object_ids @> [...]``); without this index every such query reads all of the institution's events. It lives in the
results app because the patient filter goes through the results' names; the audit model itself is unchanged.
PostgreSQL only, built CONCURRENTLY so that a large trail stays writable meanwhile.
"""

from django.db import migrations

INDEX = "audit_event_object_ids_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON audit_auditevent USING gin (object_ids jsonb_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("results", "0003_fewer_indexes"), ("audit", "0002_refuse_delete")]

    operations = [migrations.RunPython(create, drop)]
