"""`manage.py check --database default` confirms the audit table is still append-only: the
triggers installed by migration 0002 are what stop an UPDATE or DELETE that bypasses the model."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register
from django.db import connections

from clearplan.audit.models import AuditEvent

EXPECTED_TRIGGERS = {
    "sqlite": {"audit_event_no_update", "audit_event_no_delete"},
    "postgresql": {"audit_event_no_change", "audit_event_no_truncate"},
}


def installed_audit_triggers(connection: Any) -> set[str]:
    """Names of the enabled triggers on the audit table."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        elif connection.vendor == "postgresql":
            # tgenabled 'D' is a trigger switched off with ALTER TABLE ... DISABLE TRIGGER.
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal"
                " AND tgenabled <> 'D'",
                [table],
            )
        else:
            return set()
        return {row[0] for row in cursor.fetchall()}


@register(Tags.database)
def check_audit_triggers(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for alias in databases or []:
        connection = connections[alias]
        expected = EXPECTED_TRIGGERS.get(connection.vendor)
        if not expected:
            continue
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
        if AuditEvent._meta.db_table not in tables:
            # Not migrated yet; migrate installs the table and its triggers together.
            continue
        missing = expected - installed_audit_triggers(connection)
        if missing:
            errors.append(
                Error(
                    f"The audit log on database '{alias}' is not protected against changes: "
                    f"trigger(s) {', '.join(sorted(missing))} are missing or disabled.",
                    hint="Re-create them, as the database owner, with the statements in "
                    "clearplan/audit/migrations/0002_append_only_triggers.py; then find out who removed them.",
                    obj=AuditEvent,
                    id="audit.E001",
                )
            )
    return errors
