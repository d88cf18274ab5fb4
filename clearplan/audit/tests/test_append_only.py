import pytest
from django.db import DatabaseError, connection, transaction

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record


@pytest.fixture
def event(clinic, owner):
    return audit_record(action=AuditEvent.Action.VIEW, actor=owner, clinic=clinic, object_type="patient", object_id="x")


def test_it_refuses_to_change_an_event_through_the_model(event):
    event.action = AuditEvent.Action.UPDATE
    with pytest.raises(PermissionError):
        event.save()


def test_it_refuses_to_delete_an_event_through_the_model(event):
    with pytest.raises(PermissionError):
        event.delete()


def test_the_database_refuses_bulk_updates(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="sign_in")
    event.refresh_from_db()
    assert event.action == AuditEvent.Action.VIEW


def test_the_database_refuses_bulk_deletes(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_database_refuses_raw_sql_deletes(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 1


def test_it_records_who_did_what_to_which_record(event, owner, clinic):
    stored = AuditEvent.objects.get()
    assert stored.actor == owner
    assert stored.actor_label == "Olivia Owner"
    assert stored.clinic == clinic
    assert stored.organisation_id == clinic.organisation_id
