"""Patients for tests in any app: `PatientFactory(clinic=clinic)` gives a valid adult patient
who can be contacted by SMS. Pass `date_of_birth` for a child (and guardian_* fields)."""

from __future__ import annotations

from datetime import date

import factory

from clearplan.accounts.tests.factories import ClinicFactory
from clearplan.patients.models import Patient


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Sequence(lambda n: date(1960 + n % 40, 1 + n % 12, 1 + n % 28))
    # 0491 570 xxx: Australian mobile numbers set aside for fiction.
    mobile = factory.Sequence(lambda n: f"+61491570{n % 1000:03d}")
    email = factory.LazyAttribute(
        lambda p: f"{p.first_name.lower()}.{p.last_name.lower()}@example.com".replace(" ", "")
    )
    preferred_channel = Patient.Channel.SMS
    consent_sms = True
    consent_email = True
