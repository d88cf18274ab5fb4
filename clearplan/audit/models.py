"""The append-only record of who saw or changed what.

Rows are only ever inserted. The model refuses updates and deletes, and the database
refuses them too (triggers installed by migration 0002), so a bulk query or raw SQL sent
through the application cannot rewrite history. The triggers do not stop someone who owns
the table: they can drop or disable them. On PostgreSQL in production the application's role
therefore should not own the audit table (see docs/architecture.md), and
`manage.py check --database default` reports triggers that have gone missing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        EXPORT = "export", "Exported"
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGN_OUT = "sign_out", "Signed out"
        LOCKED_OUT = "locked_out", "Locked out"
        INVITE = "invite", "Invited"
        PERMISSION = "permission", "Role changed"
        SETTINGS = "settings", "Settings changed"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Kept as text too, so the log reads the same after a staff member's name changes.
    actor_label = models.CharField(max_length=300, blank=True)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, null=True, related_name="+")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True, help_text="Public id of the record.")
    object_label = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "-at"], name="audit_by_clinic_newest"),
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_by_record_newest"),
            models.Index(fields=["actor", "-at"], name="audit_by_actor_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.get_action_display()} {self.object_label}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events cannot be deleted.")
