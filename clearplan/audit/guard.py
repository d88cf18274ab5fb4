"""The database-level guard that keeps the audit table append-only.

Triggers (migration 0002) refuse UPDATE, DELETE and TRUNCATE on audit rows. The only
way past them is `audit_purge_allowed`, which the test suite uses to empty the
database between browser tests; no product code path calls it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PURGE_FUNCTION = "clearplan_audit_purge_allowed"
PURGE_SETTING = "clearplan.audit_purge"


def register_sqlite_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    """SQLite triggers ask this per-connection function whether a purge is allowed."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        PURGE_FUNCTION, 0, lambda: 1 if getattr(connection, "audit_purge_allowed", False) else 0
    )


@contextmanager
def audit_purge_allowed(connection: Any) -> Iterator[None]:
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET {PURGE_SETTING} = 'on'")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"RESET {PURGE_SETTING}")
    else:
        connection.audit_purge_allowed = True
        try:
            yield
        finally:
            connection.audit_purge_allowed = False
