"""The append-only triggers are installed by migrate, and `manage.py check --database default`
notices when they are gone."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection, transaction

from clearplan.audit.checks import check_audit_triggers


def triggers_on_the_audit_table() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass AND NOT tgisinternal"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'")
        return {row[0] for row in cursor.fetchall()}


def test_migrate_installs_the_append_only_triggers(db):
    if connection.vendor == "postgresql":
        assert triggers_on_the_audit_table() == {"audit_event_no_change", "audit_event_no_truncate"}
    else:
        assert triggers_on_the_audit_table() == {"audit_event_no_update", "audit_event_no_delete"}


def test_the_database_check_passes_on_a_migrated_database(db):
    assert check_audit_triggers(databases=["default"]) == []
    out = StringIO()
    call_command("check", "--database", "default", stdout=out)
    assert "no issues" in out.getvalue()


def test_the_database_check_reports_a_missing_trigger(db):
    postgres = connection.vendor == "postgresql"
    trigger = "audit_event_no_change" if postgres else "audit_event_no_delete"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {trigger} ON audit_auditevent" if postgres else f"DROP TRIGGER {trigger}")
        errors = check_audit_triggers(databases=["default"])
        with pytest.raises(SystemCheckError, match=r"audit\.E001"):
            call_command("check", "--database", "default", stdout=StringIO(), stderr=StringIO())
        transaction.set_rollback(True)
    (error,) = errors
    assert error.id == "audit.E001"
    assert trigger in error.msg
    assert check_audit_triggers(databases=["default"]) == []


def test_the_check_is_only_run_against_a_database_when_asked(db):
    assert check_audit_triggers(databases=None) == []
