"""On PostgreSQL, a trigram index over the words of conversation messages, so the inbox's search
for words ("health fund") reads the index instead of every message. Django's case-insensitive
search compares UPPER(body), so the index is on that expression.

pg_trgm is a trusted extension (PostgreSQL 13 and later): the database's owner can add it. Where
it cannot be added, the search still works, reading every message; the migration says so and
goes on. SQLite has no such index and needs none at a single practice's size.
"""

from django.db import migrations, transaction

INDEX = "conversation_message_words_trgm"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            print("\n  pg_trgm is not installed on this server: message search reads every message.")
            return
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as error:  # noqa: BLE001 - any refusal leaves search working, only slower
            print(f"\n  pg_trgm could not be added ({error.__class__.__name__}): message search reads every message.")
            return
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS {INDEX} ON "messaging_conversationmessage" '
            'USING gin (UPPER("body"::text) gin_trgm_ops)'
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_conversations")]

    operations = [migrations.RunPython(add_index, drop_index)]
