"""Telling the team.

`notify_team` is called by the services that record what a patient did (a question, a request
to proceed, "not right now", a signature) and by those that notice trouble (a locked pack link,
a message that was not delivered). It runs inside the caller's transaction: the notifications
exist only if what they announce was saved, and their emails are queued on commit.

Emails carry no health information and not the patient's name: only that something happened on
a case at the clinic, and a link that needs a Clearplan sign-in to follow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from clearplan.accounts.models import Membership, User
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record, changes_between
from clearplan.messaging.services import email_send_later
from clearplan.notifications.models import (
    DEFAULT_EMAIL,
    EmailChoice,
    Kind,
    Notification,
    NotificationPreference,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic
    from clearplan.plans.models import Case

logger = logging.getLogger("clearplan.notifications")

_PATIENT_REPLIES = {Kind.QUESTION, Kind.PROCEED, Kind.NOT_NOW, Kind.SIGNED, Kind.MESSAGE}


def text_for(*, kind: str, case: Case) -> str:
    """The usual in-app wording for `kind` on `case`, for callers with nothing more specific to say."""
    name = case.patient.full_name if hasattr(case.patient, "full_name") else str(case.patient)
    return {
        Kind.QUESTION: f"{name} asked a question about their treatment pack",
        Kind.PROCEED: f"{name} would like to go ahead with treatment",
        Kind.NOT_NOW: f"{name} said “not right now” to their treatment pack",
        Kind.SIGNED: f"{name} signed the consent in their treatment pack",
        Kind.LINK_LOCKED: f"{name}’s pack link locked after too many wrong answers",
        Kind.DELIVERY_FAILED: f"A message to {name} was not delivered",
        Kind.MESSAGE: f"{name} sent a message",
    }[Kind(kind)]


def team_for_case(case: Case) -> QuerySet[User]:
    """Who hears about `case`: its coordinator and dentist, and the clinic's owners, managers and
    treatment coordinators (organisation admins count as owners). Only active staff who can still
    open the clinic; never anyone from another clinic."""
    return team_for_clinic(case.clinic, people=[case.dentist_id, case.coordinator_id])


def team_for_clinic(clinic: Clinic, *, people: Iterable[int | None] = ()) -> QuerySet[User]:
    """The clinic's owners, managers and treatment coordinators, and `people` (user ids) who can
    still open the clinic."""
    member_here = Membership.objects.filter(user=OuterRef("pk"), clinic_id=clinic.pk)
    leads_here = member_here.filter(role__in=[Membership.Role.MANAGER, Membership.Role.COORDINATOR])
    owner = Q(is_organisation_admin=True, organisation_id=clinic.organisation_id)
    named = Q(pk__in=[pk for pk in people if pk is not None])
    return (
        User.objects.filter(is_active=True)
        .filter(Exists(leads_here) | owner | (named & (Exists(member_here) | owner)))
        .order_by("pk")
    )


def email_choices_for(user: User) -> dict[str, str]:
    """The user's email choice for every kind, defaults filled in."""
    choices = dict(DEFAULT_EMAIL)
    choices.update(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return choices


def notify_team(
    *,
    case: Case | None = None,
    kind: str,
    text: str,
    link_url: str = "",
    clinic: Clinic | None = None,
    also: Iterable[User] = (),
) -> list[Notification]:
    """Notify the case's team (see `team_for_case`) in the app, and by email where each person asked
    for it. `text` is the in-app line, written for staff ("Mere Ngata asked a question about her
    treatment pack"; `text_for` gives a default); `link_url` an internal path, the case page by
    default. `also` adds people who look after it another way (a conversation's assignee); with no
    case, give the `clinic` and the `text`. Call inside the transaction that records the event."""
    kind = Kind(kind).value
    if case is None:
        if clinic is None or not text or not link_url:
            raise ValueError("Without a case, give the clinic, the text and the link.")
    else:
        clinic = case.clinic
        text = text or text_for(kind=kind, case=case)
        link_url = link_url or reverse("plans:detail", kwargs={"public_id": case.public_id})
    text = text.strip()[:300]
    if not link_url.startswith("/") or link_url.startswith("//"):
        raise ValueError("A notification links to a page inside Clearplan, such as /cases/<id>/.")
    extra = [user.pk for user in also]
    looks_after = {*extra, *((case.dentist_id, case.coordinator_id) if case is not None else ())}
    with transaction.atomic():
        team = list(team_for_clinic(clinic, people=looks_after))
        notifications = Notification.objects.bulk_create(
            [
                Notification(recipient=user, clinic=clinic, case=case, kind=kind, text=text, link_url=link_url)
                for user in team
            ]
        )
        preferences = _preferences(team, kind)
        for user in team:
            choice = preferences.get(user.pk, DEFAULT_EMAIL[kind])
            wants = user.notify_by_email and (
                choice == EmailChoice.ALL_CASES or (choice == EmailChoice.MY_CASES and user.pk in looks_after)
            )
            if wants:
                _email(user=user, clinic=clinic, kind=kind, link_url=link_url)
    return notifications


def _preferences(users: Iterable[User], kind: str) -> dict[int, str]:
    return dict(
        NotificationPreference.objects.filter(user__in=[user.pk for user in users], kind=kind).values_list(
            "user_id", "email"
        )
    )


def _email(*, user: User, clinic: Clinic, kind: str, link_url: str) -> None:
    url = settings.SITE_URL + link_url
    if kind == Kind.MESSAGE:
        subject = f"A patient sent a message to {clinic.name}"
        opening = f"A patient sent a message to {clinic.name}. Open Clearplan to read it: {url}"
    elif kind in _PATIENT_REPLIES:
        subject = f"A patient replied on a case at {clinic.name}"
        opening = f"A patient replied on a case at {clinic.name}. Open Clearplan to read it: {url}"
    elif kind == Kind.LINK_LOCKED:
        subject = f"A pack link was locked at {clinic.name}"
        opening = (
            f"A pack link was locked at {clinic.name} after too many wrong answers. "
            f"Open Clearplan to see the case: {url}"
        )
    else:
        subject = f"A message was not delivered at {clinic.name}"
        opening = f"A message to a patient of {clinic.name} was not delivered. Open Clearplan to see the case: {url}"
    body = (
        f"{opening}\n\n"
        "You get these emails because of your notification settings in Clearplan. "
        f"Change them under Settings, Your profile: {settings.SITE_URL}{reverse('accounts:profile')}\n"
    )
    try:
        email_send_later(to=[user.email], subject=subject, text=body)
    except ValidationError:
        # A bad stored address must not undo the patient's reply; the in-app notification stands.
        logger.warning("Notification email not queued for staff member %s: unusable address", user.public_id)


def notification_mark_read(*, notification: Notification) -> Notification:
    """Mark one notification read (opening it does this); reading it again changes nothing."""
    with transaction.atomic():
        if notification.read_at is None:
            notification.read_at = timezone.now()
            Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user: User, clinics: QuerySet[Clinic]) -> int:
    """Mark every unread notification of `user` in `clinics` read; returns how many."""
    with transaction.atomic():
        return Notification.objects.filter(recipient=user, clinic__in=clinics, read_at__isnull=True).update(
            read_at=timezone.now()
        )


def notification_preferences_set(*, user: User, choices: Mapping[str, str], request: HttpRequest | None = None) -> None:
    """Store the user's email choice per kind. Choices equal to the default are stored too, so a
    later change of default does not change what someone chose."""
    with transaction.atomic():
        before = email_choices_for(user)
        after = dict(before)
        for kind, email in choices.items():
            kind = Kind(kind).value
            after[kind] = EmailChoice(email).value
            NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"email": after[kind]})
        changes = changes_between(
            {f"email_{kind}": value for kind, value in before.items()},
            {f"email_{kind}": value for kind, value in after.items()},
        )
        if changes:
            audit_record(action=AuditEvent.Action.UPDATE, request=request, actor=user, obj=user, changes=changes)
