from __future__ import annotations

import factory

from clearplan.accounts.models import Clinic, Membership, Organisation, User

TEST_PASSWORD = "correct horse battery staple"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Smile Group {n}")


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Harbour Dental {n}")
    address = "12 Wharf Street\nSydney NSW 2000"
    phone = "+61290000000"
    time_zone = "Australia/Sydney"
    locale = Clinic.Locale.EN_AU
    currency = "AUD"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = Membership.Role.COORDINATOR


def staff_member(clinic: Clinic, role: str, *, clinical_role: str = "", **user_fields: object) -> User:
    """A user who works at `clinic` in `role`."""
    user = UserFactory(organisation=clinic.organisation, **user_fields)
    MembershipFactory(user=user, clinic=clinic, role=role, clinical_role=clinical_role)
    return user
