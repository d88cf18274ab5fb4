"""Two-factor authentication with an authenticator app and recovery codes, and an
organisation's rule that everyone must use it."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client
from django.utils import timezone

from clearplan.accounts.models import Membership, Organisation
from clearplan.accounts.tests.factories import ClinicFactory, staff_member
from clearplan.accounts.tests.helpers import current_code, signed_in_client
from clearplan.audit.models import AuditEvent


def _activate_authenticator_app(client: Client) -> str:
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post("/accounts/2fa/totp/activate/", {"code": current_code(secret)})
    assert response.status_code == 302, response.content.decode()
    return secret


def test_setting_up_the_authenticator_app_shows_an_inline_qr_code_and_the_setup_key(owner, password):
    client = signed_in_client(owner.email, password)
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    assert "Set up your authenticator app" in page
    data_uri = re.search(r'<img src="(data:image/svg\+xml;base64,[^"]+)"', page).group(1)
    svg = base64.b64decode(data_uri.split(",", 1)[1]).decode()
    assert svg.startswith("<?xml")
    assert "<svg" in svg
    assert client.session[SECRET_SESSION_KEY] in page


def test_a_wrong_code_does_not_turn_two_factor_on(owner, password):
    client = signed_in_client(owner.email, password)
    client.get("/accounts/2fa/totp/activate/")
    response = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert not Authenticator.objects.filter(user=owner).exists()


def test_turning_on_two_factor_gives_recovery_codes_and_sign_in_then_asks_for_a_code(owner, password):
    client = signed_in_client(owner.email, password)
    secret = _activate_authenticator_app(client)

    codes_page = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert "Your recovery codes" in codes_page
    assert codes_page.count("<li>") >= 10
    assert "On" in client.get("/accounts/2fa/").content.decode()

    later = timezone.now() + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        fresh = Client()
        response = fresh.post("/accounts/login/", {"login": owner.email, "password": password})
        assert response["Location"] == "/accounts/2fa/authenticate/"
        assert "Enter your code" in fresh.get("/accounts/2fa/authenticate/").content.decode()
        assert fresh.get("/today/").status_code == 302  # not signed in until the code is given

        wrong = fresh.post("/accounts/2fa/authenticate/", {"code": "123456"})
        assert wrong.status_code == 200
        response = fresh.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
        assert response.status_code == 302
        assert fresh.get("/today/").status_code == 200
    # One sign-in from the first client, one from the second, after the code.
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN, actor=owner).count() == 2


def test_a_recovery_code_signs_in_when_the_phone_is_not_at_hand(owner, password):
    client = signed_in_client(owner.email, password)
    _activate_authenticator_app(client)
    recovery_code = Authenticator.objects.get(user=owner, type=Authenticator.Type.RECOVERY_CODES).wrap()
    code = recovery_code.get_unused_codes()[0]

    fresh = Client()
    fresh.post("/accounts/login/", {"login": owner.email, "password": password})
    response = fresh.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert fresh.get("/today/").status_code == 200


def test_changing_two_factor_asks_to_confirm_the_password_after_a_while(owner, password):
    client = signed_in_client(owner.email, password)
    with time_machine.travel(timezone.now() + timedelta(minutes=20), tick=False):
        response = client.get("/accounts/2fa/totp/activate/")
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
    assert "Confirm it's you" in page


# ---------- The organisation requires two-factor ----------


def test_staff_without_an_authenticator_app_are_sent_to_set_one_up_when_the_organisation_requires_it(
    coordinator, password, organisation
):
    Organisation.objects.filter(pk=organisation.pk).update(require_two_factor=True)
    client = signed_in_client(coordinator.email, password)
    for path in ("/today/", "/patients/", "/settings/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == "/accounts/2fa/totp/activate/"
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    assert "Your organisation asks everyone to use two-factor authentication" in page
    # They can still sign out and change their password.
    assert client.get("/accounts/password/change/").status_code == 200

    _activate_authenticator_app(client)
    assert client.get("/today/").status_code == 200


def test_the_requirement_does_not_touch_other_organisations(organisation):
    elsewhere = staff_member(ClinicFactory(), Membership.Role.COORDINATOR)
    Organisation.objects.filter(pk=organisation.pk).update(require_two_factor=True)
    client = Client()
    client.force_login(elsewhere)
    assert client.get("/today/").status_code == 200


def test_an_organisation_admin_turns_the_requirement_on_from_the_team_page(organisation, clinic):
    admin = staff_member(clinic, Membership.Role.MANAGER, email="admin@example.com", is_organisation_admin=True)
    client = Client()
    client.force_login(admin)
    page = client.get("/settings/team/").content.decode()
    assert "Everyone must use two-factor authentication" in page
    response = client.post("/settings/team/two-factor/", {"require_two_factor": "on"})
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.require_two_factor
    event = AuditEvent.objects.get(action=AuditEvent.Action.SETTINGS)
    assert event.changes == {"require_two_factor": [False, True]}
    assert event.actor == admin


def test_a_clinic_manager_sees_the_organisation_wide_requirement_but_cannot_change_it(
    owner_client, owner, organisation
):
    """The rule binds every clinic in the organisation, so one clinic's manager must not set it for all."""
    Authenticator.objects.create(user=owner, type=Authenticator.Type.TOTP, data={"secret": "x"})
    Organisation.objects.filter(pk=organisation.pk).update(require_two_factor=True)
    page = owner_client.get("/settings/team/").content.decode()
    assert "Set by your organisation admin" in page
    assert "must use an authenticator app" in page
    assert "/settings/team/two-factor/" not in page
    assert 'name="require_two_factor"' not in page

    response = owner_client.post("/settings/team/two-factor/", {})
    assert response.status_code == 403
    organisation.refresh_from_db()
    assert organisation.require_two_factor
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SETTINGS).exists()


def test_other_roles_cannot_change_the_requirement(coordinator_client, organisation):
    response = coordinator_client.post("/settings/team/two-factor/", {"require_two_factor": "on"})
    assert response.status_code == 403
    organisation.refresh_from_db()
    assert not organisation.require_two_factor


def test_turning_the_app_off_under_the_requirement_means_setting_it_up_again(owner, password, organisation):
    client = signed_in_client(owner.email, password)
    _activate_authenticator_app(client)
    Organisation.objects.filter(pk=organisation.pk).update(require_two_factor=True)
    page = client.get("/accounts/2fa/totp/deactivate/").content.decode()
    assert "you'll be asked to set up an authenticator app again" in page
    client.post("/accounts/2fa/totp/deactivate/")
    assert not Authenticator.objects.filter(user=owner, type=Authenticator.Type.TOTP).exists()
    assert client.get("/today/")["Location"] == "/accounts/2fa/totp/activate/"
