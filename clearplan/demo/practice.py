"""The demo practice: Harbour & Hills Dental, with a clinic in Sydney and one in Perth, a team in
every role and about 200 patients.

Everything is built from the curated lists in names.py with a seeded random number generator,
so two machines get the same people; dates of birth are relative to today so ages stay right.
Later features add their own demo data by extending `load_practice`.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from clearplan.accounts.models import Clinic, Membership, Organisation, User
from clearplan.accounts.services import clinic_create
from clearplan.catalog.demo import load_demo_catalog
from clearplan.demo import names
from clearplan.demo.cases import load_demo_cases
from clearplan.demo.packs import load_demo_packs
from clearplan.patients.models import ADULT_AGE, Patient, clinic_today
from clearplan.patients.search import fold
from clearplan.patients.services import patient_create

ORGANISATION_NAME = "Harbour & Hills Dental"
# How the demo is recognised: the organisation admin may rename the practice, never its id.
DEMO_ORGANISATION_ID = uuid.UUID("5f0c4a1e-8d7b-4c36-9a51-2d6e8b3f7c10")
# Published on purpose: it is printed by `load_demo` and in the README. The command refuses to
# run unless the installation is a demo (CLEARPLAN_DEMO) or in development (DEBUG).
DEMO_PASSWORD = "harbour-hills-demo"  # noqa: S105 - a demo password, printed for everyone to use
SEED = 20240611
STAFF_DOMAIN = "harbourhills.example"

Role = Membership.Role
Clinical = Membership.ClinicalRole


@dataclass(frozen=True)
class ClinicPlan:
    key: str
    name: str
    short_name: str
    address: str
    phone: str
    email: str
    time_zone: str
    patients: int
    pms_id_start: int


CLINICS = (
    ClinicPlan(
        key="sydney",
        name="Harbour & Hills Dental Surry Hills",
        short_name="Surry Hills",
        address="Level 2, 415 Crown Street\nSurry Hills NSW 2010",
        # 02 5550 xxxx and 08 5550 xxxx are set aside for fiction.
        phone="+61255501234",
        email=f"surryhills@{STAFF_DOMAIN}",
        time_zone="Australia/Sydney",
        patients=120,
        pms_id_start=100101,
    ),
    ClinicPlan(
        key="perth",
        name="Harbour & Hills Dental Subiaco",
        short_name="Subiaco",
        address="88 Rokeby Road\nSubiaco WA 6008",
        phone="+61855504321",
        email=f"subiaco@{STAFF_DOMAIN}",
        time_zone="Australia/Perth",
        patients=80,
        pms_id_start=200101,
    ),
)


@dataclass(frozen=True)
class StaffPlan:
    first_name: str
    last_name: str
    email_name: str
    # (clinic key, role, clinical role)
    roles: tuple[tuple[str, str, str], ...] = ()
    organisation_admin: bool = False

    @property
    def email(self) -> str:
        return f"{self.email_name}@{STAFF_DOMAIN}"


STAFF = (
    StaffPlan("Margaret", "Lee", "margaret", organisation_admin=True),
    StaffPlan("Hannah", "Whitford", "hannah", roles=(("sydney", Role.MANAGER, ""),)),
    StaffPlan("Aroha", "Ngata", "aroha", roles=(("sydney", Role.PRACTITIONER, Clinical.DENTIST),)),
    StaffPlan("Liam", "O'Sullivan", "liam", roles=(("sydney", Role.PRACTITIONER, Clinical.DENTIST),)),
    StaffPlan("Mei", "Chen", "mei", roles=(("sydney", Role.PRACTITIONER, Clinical.HYGIENIST),)),
    StaffPlan("Tomasi", "Fifita", "tomasi", roles=(("sydney", Role.PRACTITIONER, Clinical.ORAL_HEALTH_THERAPIST),)),
    StaffPlan("Chloé", "Martin", "chloe", roles=(("sydney", Role.COORDINATOR, ""),)),
    StaffPlan("Jack", "Tran", "jack", roles=(("sydney", Role.FRONT_DESK, ""),)),
    StaffPlan(
        "Sophie", "Kowalski-Reid", "sophie", roles=(("sydney", Role.COORDINATOR, ""), ("perth", Role.COORDINATOR, ""))
    ),
    StaffPlan("Ben", "Walker", "ben", roles=(("perth", Role.MANAGER, ""),)),
    StaffPlan("Anjali", "Sharma", "anjali", roles=(("perth", Role.PRACTITIONER, Clinical.DENTIST),)),
    StaffPlan("Georgia", "Papadopoulos", "georgia", roles=(("perth", Role.PRACTITIONER, Clinical.HYGIENIST),)),
    StaffPlan("Ruby", "Ellis", "ruby", roles=(("perth", Role.FRONT_DESK, ""),)),
)


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def demo_organisation() -> Organisation | None:
    """The demo practice, whatever it has been renamed to: found by its fixed id or, for a demo
    loaded before it had one, by the organisation of a demo login."""
    organisation = Organisation.objects.filter(public_id=DEMO_ORGANISATION_ID).first()
    if organisation is not None:
        return organisation
    login = (
        User.objects.filter(email__in=[plan.email for plan in STAFF], organisation__isnull=False)
        .select_related("organisation")
        .order_by("pk")
        .first()
    )
    return login.organisation if login is not None else None


def demo_logins_exist() -> bool:
    return User.objects.filter(email__in=[plan.email for plan in STAFF]).exists()


@dataclass
class LoadResult:
    organisation: Organisation | None
    created: bool
    clinics: int
    staff: int
    patients: int

    @property
    def name(self) -> str:
        return self.organisation.name if self.organisation is not None else ORGANISATION_NAME


def load_practice() -> LoadResult:
    """Create the demo practice unless any of it is already there. All or nothing: a demo that
    is partly there (renamed, or with some logins left) is not doubled. A demo that is there gets
    only what features added since it was loaded bring (such as the procedure catalogue)."""
    existing = demo_organisation()
    if existing is not None:
        # A demo loaded before a feature existed gets that feature's data; each step adds only what is missing.
        _add_later_data(existing)
        return _result(existing, created=False)
    if demo_logins_exist():
        return _result(None, created=False)
    with transaction.atomic():
        organisation = Organisation.objects.create(public_id=DEMO_ORGANISATION_ID, name=ORGANISATION_NAME)
        admin = _create_user(STAFF[0], organisation)
        clinics = {
            plan.key: clinic_create(
                organisation=organisation,
                by=admin,
                values={
                    "name": plan.name,
                    "address": plan.address,
                    "phone": plan.phone,
                    "email": plan.email,
                    "time_zone": plan.time_zone,
                    "locale": Clinic.Locale.EN_AU,
                    "currency": "AUD",
                    "tooth_numbering": Clinic.ToothNumbering.FDI,
                },
            )
            for plan in CLINICS
        }
        for plan in STAFF[1:]:
            user = _create_user(plan, organisation)
            for clinic_key, role, clinical_role in plan.roles:
                Membership.objects.create(user=user, clinic=clinics[clinic_key], role=role, clinical_role=clinical_role)
        _create_patients(clinics)
        load_demo_catalog(organisation, clinics.values(), by=admin)
        load_demo_cases(organisation)
        load_demo_packs(organisation)
    return _result(organisation, created=True)


def _add_later_data(organisation: Organisation) -> None:
    admin = User.objects.filter(organisation=organisation, email=STAFF[0].email).first()
    load_demo_catalog(organisation, organisation.clinics.all(), by=admin)
    load_demo_cases(organisation)
    load_demo_packs(organisation)


def _result(organisation: Organisation | None, *, created: bool) -> LoadResult:
    if organisation is None:
        return LoadResult(organisation=None, created=created, clinics=0, staff=0, patients=0)
    return LoadResult(
        organisation=organisation,
        created=created,
        clinics=organisation.clinics.count(),
        staff=organisation.staff.count(),
        patients=Patient.objects.filter(clinic__organisation=organisation).count(),
    )


def _create_user(plan: StaffPlan, organisation: Organisation) -> User:
    return User.objects.create_user(
        email=plan.email,
        password=DEMO_PASSWORD,
        first_name=plan.first_name,
        last_name=plan.last_name,
        organisation=organisation,
        is_organisation_admin=plan.organisation_admin,
    )


def _create_patients(clinics: dict[str, Clinic]) -> None:
    rng = random.Random(SEED)  # noqa: S311 - repeatable made-up people, not security
    # 0491 570 000–999: Australian mobile numbers set aside for use in fiction.
    mobiles = iter(f"+61491570{number:03d}" for number in rng.sample(range(1000), 1000))
    used_emails: set[str] = set()
    for plan in CLINICS:
        clinic = clinics[plan.key]
        dentists = [
            membership.user
            for membership in clinic.memberships.filter(
                role=Role.PRACTITIONER, clinical_role=Clinical.DENTIST
            ).select_related("user")
        ]
        front_desk_membership = clinic.memberships.filter(role=Role.FRONT_DESK).select_related("user").first()
        if front_desk_membership is None:
            raise ValueError(f"The demo staff plan gives {clinic.name} no front desk to register its patients.")
        front_desk = front_desk_membership.user
        people = list(names.SHOWCASE_PATIENTS) if plan.key == "sydney" else []
        # Namesakes happen in real practices, but in a demo they only confuse.
        taken = {(person["first_name"], person["last_name"]) for person in people}
        while len(people) < plan.patients:
            person = _random_person(rng)
            if (person["first_name"], person["last_name"]) not in taken:
                taken.add((person["first_name"], person["last_name"]))
                people.append(person)
        for number, person in enumerate(people):
            details = _patient_details(
                rng,
                clinic=clinic,
                person=person,
                mobiles=mobiles,
                used_emails=used_emails,
                dentists=dentists,
                pms_id=str(plan.pms_id_start + number),
            )
            patient_create(clinic=clinic, by=front_desk, details=details)


def _random_person(rng: random.Random) -> dict[str, Any]:
    group_names = list(names.NAME_GROUPS)
    group = rng.choices(group_names, weights=[names.NAME_GROUPS[key].weight for key in group_names])[0]
    family = names.NAME_GROUPS[group]
    first_name = rng.choice(family.female + family.male)
    if rng.random() < names.MIXED_FAMILY_SHARE:
        last_name = rng.choice(names.NAME_GROUPS[rng.choice(group_names)].last)
    else:
        last_name = rng.choice(family.last)
    preferred = ""
    if first_name in names.PREFERRED_NAMES and rng.random() < 0.6:
        preferred = rng.choice(names.PREFERRED_NAMES[first_name])
    roll = rng.random()
    if roll < 0.16:
        age = rng.randint(3, 17)
    elif roll < 0.28:
        age = rng.randint(18, 25)
    else:
        age = rng.randint(26, 89)
    return {"first_name": first_name, "last_name": last_name, "preferred_name": preferred, "age": age, "group": group}


def _born(rng: random.Random, *, age: int, today: date) -> date:
    """A birthday that makes the patient exactly `age` today."""
    try:
        latest = today.replace(year=today.year - age)
    except ValueError:  # today is 29 February
        latest = today.replace(year=today.year - age, day=28)
    return latest - timedelta(days=rng.randint(0, 360))


def _email_for(first_name: str, last_name: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9.]", "", f"{fold(first_name)}.{fold(last_name)}".replace(" ", "").replace("-", ""))
    email, suffix = f"{base}@example.com", 2
    while email in used:
        email, suffix = f"{base}{suffix}@example.com", suffix + 1
    used.add(email)
    return email


def _patient_details(
    rng: random.Random,
    *,
    clinic: Clinic,
    person: dict[str, Any],
    mobiles: Any,
    used_emails: set[str],
    dentists: list[User],
    pms_id: str,
) -> dict[str, Any]:
    first_name, last_name, age = person["first_name"], person["last_name"], person["age"]
    details: dict[str, Any] = {
        "first_name": first_name,
        "last_name": last_name,
        "preferred_name": person.get("preferred_name", ""),
        "date_of_birth": _born(rng, age=age, today=clinic_today(clinic)),
        # A few patients were registered in Clearplan before the practice-management system.
        "pms_id": pms_id if rng.random() < 0.93 else "",
        "primary_dentist": rng.choice(dentists) if dentists and rng.random() < 0.85 else None,
        "medical_alerts": rng.choice(names.MEDICAL_ALERTS) if rng.random() < 0.12 else "",
        "notes": rng.choice(names.NOTES) if rng.random() < 0.18 else "",
        "mobile": "",
        "email": "",
    }
    if age < ADULT_AGE:
        family = names.NAME_GROUPS[person["group"]]
        relationship, gender = rng.choice(names.GUARDIAN_RELATIONSHIPS)
        guardian_first = rng.choice(
            [name for name in (family.female if gender == "female" else family.male) if name != first_name]
        )
        guardian_last = last_name if relationship != "Legal guardian" else rng.choice(family.last)
        details |= {
            "guardian_name": f"{guardian_first} {guardian_last}",
            "guardian_relationship": relationship,
            "guardian_mobile": next(mobiles),
            "guardian_email": _email_for(guardian_first, guardian_last, used_emails) if rng.random() < 0.7 else "",
        }
        if age >= 14 and rng.random() < 0.5:
            details["mobile"] = next(mobiles)
    else:
        if rng.random() < 0.95:
            details["mobile"] = next(mobiles)
        if rng.random() < 0.75:
            details["email"] = _email_for(first_name, last_name, used_emails)

    has_mobile = bool(details["mobile"] or details.get("guardian_mobile"))
    has_email = bool(details["email"] or details.get("guardian_email"))
    details["consent_sms"] = has_mobile and rng.random() < 0.9
    details["consent_email"] = has_email and rng.random() < 0.8
    if not (details["consent_sms"] or details["consent_email"]):
        # Every demo patient can be reached one way or another.
        if not has_mobile:
            details["mobile"] = next(mobiles)
        details["consent_sms"] = True
    prefers_email = details["consent_email"] and (not details["consent_sms"] or rng.random() < 0.3)
    details["preferred_channel"] = Patient.Channel.EMAIL if prefers_email else Patient.Channel.SMS
    return details


# ---------------------------------------------------------------------------
# The logins printed for people trying the demo
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: str
    clinic: str


def demo_logins() -> list[DemoLogin]:
    """One line per demo staff member who exists, in the order of the plan above."""
    short_names = {plan.key: plan.short_name for plan in CLINICS}
    existing = set(User.objects.filter(email__in=[plan.email for plan in STAFF]).values_list("email", flat=True))
    logins = []
    for plan in STAFF:
        if plan.email not in existing:
            continue
        if plan.organisation_admin:
            role, clinic = "Organisation admin", "All clinics"
        else:
            labels = {_role_label(role, clinical_role) for _, role, clinical_role in plan.roles}
            role = " / ".join(sorted(labels))
            clinic = " and ".join(short_names[key] for key, _, _ in plan.roles)
        logins.append(DemoLogin(email=plan.email, name=f"{plan.first_name} {plan.last_name}", role=role, clinic=clinic))
    return logins


def _role_label(role: str, clinical_role: str) -> str:
    if role == Role.PRACTITIONER and clinical_role:
        return Clinical(clinical_role).label
    return Role(role).label
