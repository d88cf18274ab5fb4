"""Signing in and out, lock-out after repeated unsuccessful sign-ins, and password reset."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from clearplan.accounts import lockout
from clearplan.accounts.models import SignInThrottle
from clearplan.audit.models import AuditEvent

LOGIN_URL = "/accounts/login/"


def sign_in(client: Client, email: str, password: str):
    return client.post(LOGIN_URL, {"login": email, "password": password})


def test_the_sign_in_page_is_calm_and_offers_no_public_sign_up(client, db):
    response = client.get(LOGIN_URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Sign in</h1>" in page
    assert 'for="id_login">Email address' in page
    assert "Forgotten your password?" in page
    assert "sign up" not in page.lower()


def test_sign_up_is_closed(client, db):
    response = client.get("/accounts/signup/")
    assert "Joining is by invitation" in response.content.decode()


def test_staff_sign_in_with_email_and_password_and_it_is_audited(client, owner, password):
    response = sign_in(client, "Owner@Example.com", password)
    assert response.status_code == 302
    assert response["Location"] == "/today/"
    assert client.get("/today/").status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN)
    assert event.actor == owner
    assert event.organisation_id == owner.organisation_id


def test_a_wrong_password_gets_a_clear_message_and_is_audited(client, owner):
    response = sign_in(client, owner.email, "not the password")
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert event.object_id == str(owner.public_id)
    assert event.changes == {"unsuccessful_in_a_row": 1}


def test_five_unsuccessful_sign_ins_lock_the_account_for_fifteen_minutes(client, owner, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_LOCKOUT_MINUTES = 15
    with time_machine.travel("2026-03-02 10:27:00+11:00", tick=False):  # Sydney, daylight saving
        for _ in range(4):
            response = sign_in(client, owner.email, "wrong password")
            assert "locked" not in response.content.decode()
        response = sign_in(client, owner.email, "wrong password")
        message = (
            "For your security this account is locked for 15 minutes after 5 unsuccessful sign-ins. "
            "Try again at 10:42 am, or reset your password."
        )
        assert message in response.content.decode()

        # Even the right password is refused while the lock lasts.
        response = sign_in(client, owner.email, password)
        assert message in response.content.decode()
        assert "_auth_user_id" not in client.session

    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).count() == 5
    locked = AuditEvent.objects.get(action=AuditEvent.Action.LOCKED_OUT)
    assert locked.object_id == str(owner.public_id)
    assert locked.changes["minutes"] == 15


def test_the_lock_shows_the_time_in_the_installations_time_zone_whoever_the_account_is(client, outsider, settings):
    # The outsider works at the Perth clinic; the message must not reveal that (or that the
    # address has an account at all), so it reads in the installation's zone, Sydney.
    settings.TIME_ZONE = "Australia/Sydney"
    settings.LOGIN_FAILURE_LIMIT = 2
    with time_machine.travel("2026-03-02 10:27:00+08:00", tick=False):  # 1:27 pm in Sydney (daylight saving)
        sign_in(client, outsider.email, "wrong")
        response = sign_in(client, outsider.email, "wrong")
    assert "Try again at 1:42 pm" in response.content.decode()


def test_the_lock_ends_after_the_lock_out_period(client, owner, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            sign_in(client, owner.email, "wrong")
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert "locked" in sign_in(client, owner.email, password).content.decode()
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        response = sign_in(client, owner.email, password)
    assert response.status_code == 302
    assert client.get("/today/").status_code == 200


def test_a_successful_sign_in_resets_the_count(client, owner, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    sign_in(client, owner.email, "wrong")
    sign_in(client, owner.email, "wrong")
    assert sign_in(client, owner.email, password).status_code == 302
    assert not SignInThrottle.objects.filter(email=owner.email).exists()
    client.post("/accounts/logout/")
    sign_in(client, owner.email, "wrong")
    sign_in(client, owner.email, "wrong")
    assert sign_in(client, owner.email, password).status_code == 302


def test_old_failures_stop_counting_after_the_lock_out_period(client, owner, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, owner.email, "wrong")
        sign_in(client, owner.email, "wrong")
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        response = sign_in(client, owner.email, "wrong")
    assert "locked" not in response.content.decode()
    assert SignInThrottle.objects.get(email=owner.email).failures == 1


def test_an_unknown_email_address_is_treated_exactly_like_a_real_one(client, outsider, settings):
    """The answers for an address with no account match a real account's, even one at a
    clinic in another time zone, so the form can't be used to find out who works where."""
    settings.LOGIN_FAILURE_LIMIT = 2
    pages = {}
    with time_machine.travel("2026-03-02 10:27:00+08:00", tick=False):
        for email in (outsider.email, "nobody@example.com"):
            Client().post(LOGIN_URL, {"login": email, "password": "wrong"})
            pages[email] = Client().post(LOGIN_URL, {"login": email, "password": "wrong"}).content.decode()
            # And again while locked.
            pages[email] += Client().post(LOGIN_URL, {"login": email, "password": "wrong"}).content.decode()

    def without_token(page: str) -> str:
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        return page.replace(outsider.email, "EMAIL").replace("nobody@example.com", "EMAIL")

    assert "is locked for 15 minutes" in pages["nobody@example.com"]
    assert without_token(pages[outsider.email]) == without_token(pages["nobody@example.com"])
    unknown = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT, actor__isnull=True).get()
    assert unknown.object_label == "nobody@example.com"


# ---------- Attempts sent side by side ----------


def test_an_attempt_beyond_the_limit_is_refused_while_earlier_ones_are_still_being_checked(
    client, owner, password, settings
):
    """Five requests sent at once each reserve an attempt before any password is checked;
    the sixth is refused even with the right password, so a burst gets five guesses, not more."""
    settings.LOGIN_FAILURE_LIMIT = 5
    for _ in range(5):
        assert lockout.sign_in_attempt_reserve(email=owner.email) is None
    response = sign_in(client, owner.email, password)
    assert response.status_code == 200
    assert "is locked for 15 minutes after 5 unsuccessful sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_burst_of_wrong_passwords_locks_the_address_once(owner, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert lockout.sign_in_attempt_reserve(email=owner.email) is None
    assert lockout.sign_in_attempt_reserve(email=owner.email) is not None
    locks = [lockout.sign_in_failure_record(email=owner.email, request=None) for _ in range(3)]
    assert locks[:2] == [None, None]
    assert locks[2] is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).count() == 3
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT).count() == 1
    assert lockout.sign_in_attempt_reserve(email=owner.email) == locks[2]


def test_a_reserved_attempt_with_the_right_password_frees_the_address(client, owner, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(2):
        lockout.sign_in_attempt_reserve(email=owner.email)
    assert sign_in(client, owner.email, password).status_code == 302
    assert not SignInThrottle.objects.filter(email=owner.email).exists()


def test_reservations_made_before_the_lock_out_period_stop_counting(owner, settings):
    # An attempt whose request died before its password was checked holds its place only for a while.
    settings.LOGIN_FAILURE_LIMIT = 2
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        lockout.sign_in_attempt_reserve(email=owner.email)
        lockout.sign_in_attempt_reserve(email=owner.email)
        assert lockout.sign_in_attempt_reserve(email=owner.email) is not None
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert lockout.sign_in_attempt_reserve(email=owner.email) is None
    assert SignInThrottle.objects.get(email=owner.email).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_for_a_new_address_get_no_more_than_the_limit(settings):
    """Real parallel requests, each with its own database connection, for an address with
    no row yet: the row is created once and exactly `limit` attempts get through."""
    settings.LOGIN_FAILURE_LIMIT = 5
    start = threading.Barrier(12)

    def attempt() -> bool:
        try:
            start.wait()
            return lockout.sign_in_attempt_reserve(email="burst@example.com") is None
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        allowed = list(pool.map(lambda _: attempt(), range(12)))
    assert allowed.count(True) == 5
    assert SignInThrottle.objects.get(email="burst@example.com").attempts == 5


def test_signing_out_asks_first_and_is_audited(owner_client, owner):
    response = owner_client.get("/accounts/logout/")
    assert "Sign out of Clearplan?" in response.content.decode()
    response = owner_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert owner_client.get("/today/").status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_OUT)
    assert event.actor == owner


# ---------- Password reset ----------


def _reset_link(body: str) -> str:
    return re.search(r"http://testserver(/accounts/password/reset/key/\S+)", body).group(1)


def test_password_reset_email_is_sent_in_the_background_and_the_link_sets_a_new_password(
    client, owner, sending, mailoutbox
):
    with sending():
        response = client.post("/accounts/password/reset/", {"email": owner.email})
    assert response.status_code == 302
    assert "Check your email" in client.get(response["Location"]).content.decode()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [owner.email]
    assert message.subject == "Clearplan: Reset your password"

    link = _reset_link(message.body)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    new_password = "a calm new sentence for work"
    response = client.post(action, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    assert "Your password is changed" in client.get(response["Location"]).content.decode()
    owner.refresh_from_db()
    assert owner.check_password(new_password)


def test_a_password_reset_for_an_unknown_address_says_the_same_and_never_mentions_sign_up(
    client, db, sending, mailoutbox
):
    with sending():
        response = client.post("/accounts/password/reset/", {"email": "stranger@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "no Clearplan account with this address" in mailoutbox[0].body
    assert "sign up" not in mailoutbox[0].body.lower()


def test_a_used_or_broken_reset_link_explains_what_to_do(client, owner):
    response = client.get("/accounts/password/reset/key/1-not-a-real-key/", follow=True)
    assert "This reset link doesn't work" in response.content.decode()


def test_resetting_the_password_lifts_a_lock_out(client, owner, sending, mailoutbox, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    sign_in(client, owner.email, "wrong")
    sign_in(client, owner.email, "wrong")
    assert SignInThrottle.objects.get(email=owner.email).locked_until is not None
    with sending():
        client.post("/accounts/password/reset/", {"email": owner.email})
    link = _reset_link(mailoutbox[0].body)
    page = client.get(link, follow=True)
    new_password = "a calm new sentence for work"
    client.post(page.redirect_chain[-1][0], {"password1": new_password, "password2": new_password})
    assert sign_in(Client(), owner.email, new_password).status_code == 302


def test_a_new_password_must_pass_the_password_rules(client, owner, sending, mailoutbox):
    with sending():
        client.post("/accounts/password/reset/", {"email": owner.email})
    page = client.get(_reset_link(mailoutbox[0].body), follow=True)
    response = client.post(page.redirect_chain[-1][0], {"password1": "12345678", "password2": "12345678"})
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    owner.refresh_from_db()
    assert not owner.check_password("12345678")


@pytest.mark.parametrize("path", ["/accounts/password/change/", "/accounts/2fa/"])
def test_signed_in_account_pages_open_in_the_staff_layout(owner_client, path):
    response = owner_client.get(path)
    assert response.status_code == 200
    assert b'aria-label="Main"' in response.content


def test_changing_the_password_needs_the_current_one(owner_client, owner, password):
    response = owner_client.post(
        "/accounts/password/change/",
        {"oldpassword": "wrong", "password1": "another calm sentence", "password2": "another calm sentence"},
    )
    assert response.status_code == 200
    assert "Please type your current password." in response.content.decode()
    response = owner_client.post(
        "/accounts/password/change/",
        {"oldpassword": password, "password1": "another calm sentence", "password2": "another calm sentence"},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("another calm sentence")


def test_counts_for_addresses_not_tried_for_a_day_are_cleared_away(client, db):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, "someone@example.com", "wrong")
    with time_machine.travel(start + timedelta(days=2), tick=False):
        sign_in(client, "someone.else@example.com", "wrong")
    assert list(SignInThrottle.objects.values_list("email", flat=True)) == ["someone.else@example.com"]
