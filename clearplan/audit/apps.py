from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AuditConfig(AppConfig):
    name = "clearplan.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from clearplan.audit import checks  # noqa: F401 - registers the trigger check
        from clearplan.audit.guard import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="clearplan_audit_sqlite_guard")
