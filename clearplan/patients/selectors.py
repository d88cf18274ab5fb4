"""Reading patients. Every read starts from the clinic the user is working in."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import F, Q, QuerySet
from django.http import Http404

from clearplan.accounts.models import Membership, User
from clearplan.patients import phones
from clearplan.patients.models import Patient
from clearplan.patients.search import PatientQuery, name_key, parse_query

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic


def patients_of(clinic: Clinic) -> QuerySet[Patient]:
    return Patient.objects.filter(clinic=clinic)


def get_patient_for_user(request: HttpRequest, public_id: uuid.UUID | str) -> Patient:
    """The patient with this public id in the clinic the user is working in, or 404 — also when
    the patient exists in another clinic, even one the user belongs to."""
    clinic = getattr(request, "clinic", None)
    if clinic is None or not request.user.is_authenticated:
        raise Http404("No such patient.")
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as error:
        raise Http404("No such patient.") from error
    try:
        return patients_of(clinic).select_related("clinic", "primary_dentist", "created_by").get(public_id=key)
    except Patient.DoesNotExist as error:
        raise Http404("No such patient.") from error


def patient_added_by_form(clinic: Clinic, creation_token: uuid.UUID | None) -> Patient | None:
    """The patient an "Add a patient" form with this token has already added at the clinic."""
    if creation_token is None:
        return None
    return patients_of(clinic).filter(creation_token=creation_token).first()


def read_query(text: str, *, clinic: Clinic) -> PatientQuery:
    month_first = clinic.locale == "en-US"
    query = parse_query(text, month_first=month_first)
    if query.phone_digits:
        query = parse_query(
            text, month_first=month_first, phone_digits=phones.search_digits(query.text, country=clinic.country)
        )
    return query


def search_patients(clinic: Clinic, query: PatientQuery) -> QuerySet[Patient]:
    """The clinic's patients matching the search, by last name. An empty search lists everyone."""
    patients = patients_of(clinic).select_related("clinic", "primary_dentist")
    if query.is_empty:
        return patients.order_by("search_name", "id")

    # A practice-management ID can look like anything, so it is always a possible match.
    matches = Q(pms_id__iexact=query.text)
    if query.email:
        matches |= Q(email__iexact=query.email) | Q(guardian_email__iexact=query.email)
    elif query.date_of_birth is not None:
        matches |= Q(date_of_birth=query.date_of_birth)
    elif query.phone_digits:
        matches |= Q(mobile__contains=query.phone_digits) | Q(guardian_mobile__contains=query.phone_digits)
    elif query.name_words:
        by_name = Q()
        for word in query.name_words:
            # Each word must start one of the stored words: "an" finds Anh, not Nathan.
            by_name &= Q(search_name__startswith=word) | Q(search_name__contains=f" {word}")
        matches |= by_name
    return patients.filter(matches).order_by("search_name", "id")


def possible_duplicates(
    clinic: Clinic, *, first_name: str, last_name: str, date_of_birth: date, exclude: Patient | None = None
) -> list[Patient]:
    """Patients of the clinic with the same date of birth and the same names once accents,
    case, apostrophes and hyphens are set aside."""
    wanted = name_key(first_name=first_name, last_name=last_name)
    same_birthday = patients_of(clinic).filter(date_of_birth=date_of_birth).order_by("created_at")
    if exclude is not None and exclude.pk:
        same_birthday = same_birthday.exclude(pk=exclude.pk)
    return [
        patient
        for patient in same_birthday
        if name_key(first_name=patient.first_name, last_name=patient.last_name) == wanted
    ]


def practitioners_at(clinic: Clinic) -> QuerySet[User]:
    """Staff who can be a patient's primary dentist here, with their clinical role for labels."""
    return (
        User.objects.filter(memberships__clinic=clinic, memberships__role=Membership.Role.PRACTITIONER, is_active=True)
        .annotate(clinical_role=F("memberships__clinical_role"))
        .order_by("first_name", "last_name")
    )
