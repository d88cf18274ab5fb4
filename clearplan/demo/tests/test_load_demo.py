import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clearplan.accounts.models import Clinic, Membership, Organisation, User
from clearplan.audit.models import AuditEvent
from clearplan.demo.practice import ORGANISATION_NAME
from clearplan.patients.models import Patient


@pytest.fixture(autouse=True)
def _demo_installation(settings):
    settings.DEMO = True


def load(*args):
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def counts():
    return {
        "organisations": Organisation.objects.count(),
        "clinics": Clinic.objects.count(),
        "staff": User.objects.count(),
        "memberships": Membership.objects.count(),
        "patients": Patient.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


@pytest.fixture
def demo(db):
    load()
    return Organisation.objects.get(name=ORGANISATION_NAME)


def test_loading_twice_changes_nothing_the_second_time(db):
    first_output = load()
    after_first = counts()
    second_output = load()
    assert counts() == after_first
    assert "Loaded the demo practice Harbour & Hills Dental: 2 clinics, 13 staff and 200 patients." in first_output
    assert "already exists" in second_output
    assert "nothing was changed" in second_output


def test_loading_again_after_the_practice_is_renamed_changes_nothing(demo):
    demo.name = "Harbour Dental Group"
    demo.save()
    before = counts()
    output = load()
    assert counts() == before
    assert "The demo practice Harbour Dental Group already exists" in output
    assert "nothing was changed" in output
    assert not Organisation.objects.filter(name=ORGANISATION_NAME).exists()


def test_logins_are_printed_after_the_practice_is_renamed(demo):
    demo.name = "Harbour Dental Group"
    demo.save()
    output = load("--print-logins", "--url", "http://127.0.0.1:8000/")
    assert "Sign in as any of the Harbour Dental Group team." in output
    assert len([line for line in output.splitlines() if "@harbourhills.example" in line]) == 13


def test_a_demo_that_is_only_partly_there_is_not_loaded_a_second_time(demo):
    # As if the practice had been removed by hand but some of its logins were kept.
    Organisation.objects.filter(pk=demo.pk).update(public_id=uuid.uuid4(), name="Someone else's practice")
    User.objects.filter(organisation=demo).update(organisation=None)
    before = counts()
    output = load()
    assert counts() == before
    assert "nothing was changed" in output
    assert "hannah@harbourhills.example" in load("--print-logins")


def test_a_demo_loaded_before_it_had_a_fixed_id_is_still_recognised(demo):
    Organisation.objects.filter(pk=demo.pk).update(public_id=uuid.uuid4(), name="Renamed long ago")
    before = counts()
    assert "The demo practice Renamed long ago already exists" in load()
    assert counts() == before


def test_print_logins_before_loading_says_how_to_load(db):
    with pytest.raises(CommandError, match="load_demo"):
        load("--print-logins")
    assert Organisation.objects.count() == 0


def test_it_refuses_to_create_published_passwords_outside_a_demo(db, settings):
    settings.DEMO = False
    settings.DEBUG = False
    with pytest.raises(CommandError, match="CLEARPLAN_DEMO"):
        load()
    assert Organisation.objects.count() == 0
