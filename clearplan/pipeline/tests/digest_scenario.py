"""A known week at Harbour Dental Sydney for the digest tests, written row by row with fixed
times so every figure in a digest can be worked out by hand (see the tests' docstrings).

All times are Sydney's (AEDT, UTC+11, in March 2026). The daily digest on Tuesday 3 March looks
back on Monday 2 March; the weekly digest on Monday 2 March looks back on 23 February–1 March.

  case  dentist  coordinator  stage       value                        history
  A     Priya    Chloé        Sent        1,500.00 + 215.00 = 1,715.00  sent Mon 10:00, opened Mon 14:00
  B     Priya    Chloé        Requested   4,200.00 + 2 × 95.50 = 4,391.00  sent Fri 27 Feb, opened Mon 09:00,
                                          (no recommended option: the    asked to proceed Mon 09:10
                                          first treatment option counts)
  C     Sam      Chloé        Follow-up   3 × 180.00 = 540.00          sent Thu 26 Feb, opened Fri 27 Feb 19:00,
                                                                       asked a question Mon 16:00
  D     Priya    Chloé        Booked      2,000.00                     booked Fri 27 Feb for Tue 3 Mar 09:30
                                                                       (confirmed); booked Mon 11:00 for Wed
                                                                       4 Mar 10:00; a cancelled one for Tue 15:00
  E     Sam      Chloé        Not sent    800.00
  F     Sam      Olivia       Sent        300.00                       sent by Sam Sun 1 Mar 18:00
  X     (Perth, another clinic)           Sent        999.00           sent Mon 2 Mar: never counted for Sydney
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import staff_member
from clearplan.packs.models import PackLink, PackSend, PackSession, PackVersion, PackVisit, PatientResponse
from clearplan.patients.tests.factories import PatientFactory
from clearplan.pipeline.models import Booking, CaseProgress, Stage
from clearplan.plans.models import Case, PlanLine, PlanOption

SYDNEY = ZoneInfo("Australia/Sydney")
PERTH = ZoneInfo("Australia/Perth")

PATIENT_NAMES = {
    "A": ("Mere", "Ngata"),
    "B": ("Zoë", "O'Brien"),
    "C": ("Hamish", "Kowalczyk"),
    "D": ("Priyanka", "Venkataraman"),
    "E": ("Lachlan", "Fitzgerald"),
    "F": ("Thi Thu", "Nguyen"),
    "X": ("Wiremu", "Tipene"),
}


def sydney(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SYDNEY)


@dataclass
class Scenario:
    cases: dict[str, Case]
    sam: object
    mei: object


def _case(
    clinic,
    key: str | tuple[str, str],
    *,
    dentist,
    coordinator,
    stage: str,
    options: list[tuple[str, bool, list[tuple[str, int]]]],
    procedure,
    created_by,
) -> Case:
    first, last = PATIENT_NAMES[key] if isinstance(key, str) else key
    patient = PatientFactory(clinic=clinic, first_name=first, last_name=last)
    case = Case.objects.create(
        clinic=clinic,
        patient=patient,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=dt.date(2026, 2, 20),
        plan_type="oral_health",
        created_by=created_by,
    )
    for position, (title, recommended, lines) in enumerate(options):
        option = PlanOption.objects.create(case=case, title=title, is_recommended=recommended, position=position)
        for fee, quantity in lines:
            PlanLine.objects.create(option=option, procedure=procedure, fee=Decimal(fee), quantity=quantity)
    CaseProgress.objects.filter(case=case).update(stage=stage)
    return case


def _pack(case, *, by) -> tuple[PackVersion, PackLink, PackSession]:
    version = PackVersion.objects.create(case=case, number=1, snapshot={}, body_html="", sha256="0" * 64, created_by=by)
    link = PackLink.objects.create(
        case=case,
        token_sha256=secrets.token_hex(32),
        verification="date_of_birth",
        created_by=by,
        expires_at=sydney(30, 12, month=4),
    )
    session = PackSession.objects.create(
        link=link, key_sha256=secrets.token_hex(32), expires_at=sydney(30, 12, month=4)
    )
    return version, link, session


def _sent(case, pack, *, by, at: dt.datetime) -> None:
    version, link, _ = pack
    PackSend.objects.create(
        case=case,
        version=version,
        link=link,
        by_sms=True,
        send_at=at,
        sent_by=by,
        submission_key=secrets.token_hex(16),
    )


def _opened(case, pack, *, at: dt.datetime) -> None:
    version, link, session = pack
    visit = PackVisit.objects.create(session=session, link=link, case=case, version=version, seconds_viewed=120)
    PackVisit.objects.filter(pk=visit.pk).update(started_at=at, last_seen_at=at + dt.timedelta(minutes=2))


def _responded(case, pack, *, kind: str, at: dt.datetime) -> None:
    version, _, session = pack
    response = PatientResponse.objects.create(
        case=case,
        version=version,
        session=session,
        kind=kind,
        option_public_id=uuid.uuid4() if kind == "proceed" else None,
        message="" if kind == "proceed" else "Will it hurt?",
        submission_key=secrets.token_hex(16),
    )
    PatientResponse.objects.filter(pk=response.pk).update(created_at=at)


def _booking(case, *, practitioner, by, starts_at, created_at, confirmed=False, cancelled=False) -> Booking:
    return Booking.objects.create(
        case=case,
        starts_at=starts_at,
        duration_minutes=60,
        practitioner=practitioner,
        created_by=by,
        created_at=created_at,
        status=Booking.Status.CANCELLED if cancelled else Booking.Status.BOOKED,
        cancelled_at=created_at + dt.timedelta(hours=2) if cancelled else None,
        patient_confirmed_at=created_at + dt.timedelta(hours=3) if confirmed else None,
        # Confirmation and reminder already went, so nothing else is due for these patients.
        confirmation_sent_at=created_at,
        reminder_sent_at=created_at,
        submission_key=secrets.token_hex(16),
    )


def build(*, clinic, other_clinic, owner, dentist, coordinator, outsider, procedure) -> Scenario:
    sam = staff_member(
        clinic,
        Membership.Role.PRACTITIONER,
        clinical_role=Membership.ClinicalRole.DENTIST,
        first_name="Sam",
        last_name="Second",
        email="sam@example.com",
    )
    mei = staff_member(
        clinic,
        Membership.Role.PRACTITIONER,
        clinical_role=Membership.ClinicalRole.HYGIENIST,
        first_name="Mei",
        last_name="Hygienist",
        email="mei@example.com",
    )

    def make(key, *, dentist, coordinator, stage, options, target_clinic=clinic, created_by=coordinator):
        return _case(
            target_clinic,
            key,
            dentist=dentist,
            coordinator=coordinator,
            stage=stage,
            options=options,
            procedure=procedure,
            created_by=created_by,
        )

    a = make(
        "A",
        dentist=dentist,
        coordinator=coordinator,
        stage=Stage.SENT,
        options=[("Crown", True, [("1500.00", 1), ("215.00", 1)]), ("Filling", False, [("180.00", 1)])],
    )
    b = make(
        "B",
        dentist=dentist,
        coordinator=coordinator,
        stage=Stage.REQUESTED,
        options=[("Implant", False, [("4200.00", 1), ("95.50", 2)]), ("Bridge", False, [("900.00", 1)])],
    )
    c = make(
        "C", dentist=sam, coordinator=coordinator, stage=Stage.FOLLOW_UP, options=[("Fillings", True, [("180.00", 3)])]
    )
    d = make(
        "D", dentist=dentist, coordinator=coordinator, stage=Stage.BOOKED, options=[("Denture", True, [("2000.00", 1)])]
    )
    make("E", dentist=sam, coordinator=coordinator, stage=Stage.NOT_SENT, options=[("Crown", True, [("800.00", 1)])])
    f = make("F", dentist=sam, coordinator=owner, stage=Stage.SENT, options=[("Whitening", True, [("300.00", 1)])])
    x = make(
        "X",
        dentist=outsider,
        coordinator=outsider,
        stage=Stage.SENT,
        target_clinic=other_clinic,
        created_by=outsider,
        options=[("Crown", True, [("999.00", 1)])],
    )

    pack_a, pack_b, pack_c, pack_f, pack_x = (
        _pack(a, by=coordinator),
        _pack(b, by=coordinator),
        _pack(c, by=coordinator),
        _pack(f, by=sam),
        _pack(x, by=outsider),
    )
    _sent(a, pack_a, by=coordinator, at=sydney(2, 10))
    _opened(a, pack_a, at=sydney(2, 14))
    _sent(b, pack_b, by=coordinator, at=sydney(27, 11, month=2))
    _opened(b, pack_b, at=sydney(2, 9))
    _responded(b, pack_b, kind="proceed", at=sydney(2, 9, 10))
    _sent(c, pack_c, by=coordinator, at=sydney(26, 15, month=2))
    _opened(c, pack_c, at=sydney(27, 19, month=2))
    _responded(c, pack_c, kind="question", at=sydney(2, 16))
    _sent(f, pack_f, by=sam, at=sydney(1, 18))
    _sent(x, pack_x, by=outsider, at=sydney(2, 12))
    _opened(x, pack_x, at=sydney(2, 13))

    _booking(
        d,
        practitioner=dentist,
        by=coordinator,
        starts_at=sydney(3, 9, 30),
        created_at=sydney(27, 15, month=2),
        confirmed=True,
    )
    _booking(d, practitioner=dentist, by=coordinator, starts_at=sydney(4, 10), created_at=sydney(2, 11))
    _booking(
        d, practitioner=sam, by=coordinator, starts_at=sydney(3, 15), created_at=sydney(25, 10, month=2), cancelled=True
    )
    return Scenario(cases={"A": a, "B": b, "C": c, "D": d, "F": f, "X": x}, sam=sam, mei=mei)


def extra_waiting_case(clinic, number: int, *, dentist, coordinator, procedure) -> Case:
    """Another case sent and waiting, worth 100.00, with its own patient."""
    return _case(
        clinic,
        (f"Extra{number}", "Patient"),
        dentist=dentist,
        coordinator=coordinator,
        stage=Stage.SENT,
        options=[("Check-up", True, [("100.00", 1)])],
        procedure=procedure,
        created_by=coordinator,
    )
