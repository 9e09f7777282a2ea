"""Issue 15 point 1: a GIN index on the results' blind name index, for the console's and the audit trail's name
search (``name_index @> ARRAY[token]``). PostgreSQL only (SQLite matches through json_each, without an index), built
CONCURRENTLY so that a large table stays writable meanwhile."""

from django.db import migrations

INDEX = "result_name_index_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON results_checkresult USING gin (name_index)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("results", "0007_sealed_names")]

    operations = [migrations.RunPython(create, drop)]
