"""The base fixture set every test can stand on: one organisation with two clinics,
an owner, a dentist, a treatment coordinator and a front-desk user at the main clinic,
and an outsider who works only at the other clinic."""

from __future__ import annotations

import pytest
from django.test import Client, TransactionTestCase

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import TEST_PASSWORD, ClinicFactory, OrganisationFactory, staff_member
from clearplan.audit.guard import audit_purge_allowed

_original_fixture_teardown = TransactionTestCase._fixture_teardown


def _fixture_teardown_allowing_audit_purge(self):  # pragma: no cover - test infrastructure
    # Tests that commit (browser tests) empty every table afterwards; the audit table's
    # append-only triggers would refuse, so the purge is allowed for that moment only.
    from django.db import connections

    connections_to_wrap = [connections[alias] for alias in self._databases_names(include_mirrors=False)]
    contexts = [audit_purge_allowed(connection) for connection in connections_to_wrap]
    for context in contexts:
        context.__enter__()
    try:
        return _original_fixture_teardown(self)
    finally:
        for context in reversed(contexts):
            context.__exit__(None, None, None)


TransactionTestCase._fixture_teardown = _fixture_teardown_allowing_audit_purge


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is what production uses (see test_passwords_are_hashed_with_argon2);
    # tests create many users, so they hash with a fast algorithm.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # The hashed-manifest storage needs collectstatic; tests use the source files directly.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    # Uploaded files and the outbox of one test never reach another test or a real installation.
    settings.OUTBOX_DIR = tmp_path / "outbox"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def password():
    return TEST_PASSWORD


@pytest.fixture
def organisation(db):
    return OrganisationFactory(name="Harbour Smiles Group")


@pytest.fixture
def clinic(organisation):
    return ClinicFactory(organisation=organisation, name="Harbour Dental Sydney", time_zone="Australia/Sydney")


@pytest.fixture
def other_clinic(organisation):
    return ClinicFactory(organisation=organisation, name="Harbour Dental Perth", time_zone="Australia/Perth")


@pytest.fixture
def owner(clinic):
    return staff_member(
        clinic, Membership.Role.MANAGER, first_name="Olivia", last_name="Owner", email="owner@example.com"
    )


@pytest.fixture
def dentist(clinic):
    return staff_member(
        clinic,
        Membership.Role.PRACTITIONER,
        clinical_role=Membership.ClinicalRole.DENTIST,
        first_name="Priya",
        last_name="Raman",
        email="dentist@example.com",
    )


@pytest.fixture
def coordinator(clinic):
    return staff_member(
        clinic, Membership.Role.COORDINATOR, first_name="Chloé", last_name="O'Connor", email="coordinator@example.com"
    )


@pytest.fixture
def front_desk(clinic):
    return staff_member(
        clinic, Membership.Role.FRONT_DESK, first_name="Fatima", last_name="Desk", email="frontdesk@example.com"
    )


@pytest.fixture
def outsider(other_clinic):
    return staff_member(
        other_clinic, Membership.Role.COORDINATOR, first_name="Oscar", last_name="Outside", email="outsider@example.com"
    )


def signed_in_client(user):
    """A test browser session already signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner):
    return signed_in_client(owner)


@pytest.fixture
def coordinator_client(coordinator):
    return signed_in_client(coordinator)


@pytest.fixture
def front_desk_client(front_desk):
    return signed_in_client(front_desk)


@pytest.fixture
def dentist_client(dentist):
    return signed_in_client(dentist)


@pytest.fixture
def outsider_client(outsider):
    return signed_in_client(outsider)
