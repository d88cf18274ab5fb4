"""Cases in any stage, made quickly, for the board, list, stage and reassign tests.

`make_case(clinic=..., dentist=..., stage="sent", value="1650.00")` gives a case whose recommended
option is worth `value`, already in `stage` (as if it had got there), for a new patient."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from clearplan.catalog.models import Procedure
from clearplan.patients.tests.factories import PatientFactory
from clearplan.pipeline.models import CaseProgress, Stage
from clearplan.plans.models import Case, PlanLine, PlanOption


def crown(organisation: Any) -> Procedure:
    procedure, _ = Procedure.objects.get_or_create(
        organisation=organisation,
        code="615",
        defaults={"name": "Porcelain crown", "category": "prosthodontic", "treatment_area": "tooth"},
    )
    return procedure


def make_case(
    *,
    clinic: Any,
    dentist: Any,
    coordinator: Any = None,
    stage: str = Stage.NOT_SENT,
    value: str | Decimal = "1000.00",
    first_name: str = "",
    last_name: str = "",
    plan_type: str = "oral_health",
    template: Any = None,
    days_in_stage: int = 0,
    patient: Any = None,
) -> Case:
    patient = patient or PatientFactory(
        clinic=clinic,
        **({"first_name": first_name} if first_name else {}),
        **({"last_name": last_name} if last_name else {}),
    )
    case = Case.objects.create(
        clinic=clinic,
        patient=patient,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=dt.date(2025, 9, 15),
        plan_type=plan_type,
        template=template,
        created_by=dentist,
    )
    option = PlanOption.objects.create(case=case, title="Option A", is_recommended=True)
    PlanLine.objects.create(option=option, procedure=crown(clinic.organisation), fee=Decimal(value), quantity=1)
    since = timezone.now() - dt.timedelta(days=days_in_stage)
    CaseProgress.objects.filter(case=case).update(
        stage=stage,
        stage_since=since,
        last_activity_at=since,
        not_proceeding_reason="cost" if stage == Stage.NOT_PROCEEDING else "",
    )
    return case


def make_cases(
    table: dict[str, tuple[str, str, str, str, int, Any, str]], *, clinic: Any, dentist: Any
) -> dict[str, Case]:
    """Cases from a table: key → (first name, last name, stage, value, days in the stage,
    coordinator, plan type)."""
    return {
        key: make_case(
            clinic=clinic,
            dentist=dentist,
            coordinator=coordinator,
            stage=stage,
            value=value,
            first_name=first,
            last_name=last,
            days_in_stage=days,
            plan_type=plan_type,
        )
        for key, (first, last, stage, value, days, coordinator, plan_type) in table.items()
    }


def add_engagement(
    case: Case,
    *,
    by: Any,
    visits: tuple[int, ...] = (),
    replied: bool = False,
    sent_at: dt.datetime | None = None,
) -> None:
    """The pack was sent to the patient (at `sent_at`, now by default), opened once per entry of
    `visits` (seconds read each time), and, with `replied`, answered with a question."""
    import secrets

    from clearplan.packs.models import PackLink, PackSend, PackSession, PackVersion, PackVisit, PatientResponse

    now = timezone.now()
    version = PackVersion.objects.create(
        case=case, number=case.pack_versions.count() + 1, snapshot={}, body_html="", sha256="0" * 64, created_by=by
    )
    link = PackLink.objects.create(
        case=case,
        token_sha256=secrets.token_hex(32),
        verification="date_of_birth",
        created_by=by,
        expires_at=now + dt.timedelta(days=60),
    )
    PackSend.objects.create(
        case=case,
        version=version,
        link=link,
        by_sms=True,
        send_at=sent_at or now,
        sent_by=by,
        submission_key=secrets.token_hex(16),
    )
    if not visits and not replied:
        return
    session = PackSession.objects.create(
        link=link, key_sha256=secrets.token_hex(32), expires_at=now + dt.timedelta(days=30), verified_at=now
    )
    for seconds in visits:
        PackVisit.objects.create(
            session=session, link=link, case=case, version=version, seconds_viewed=seconds, measured_by_script=True
        )
    if replied:
        PatientResponse.objects.create(
            case=case,
            version=version,
            session=session,
            kind="question",
            message="Does it hurt?",
            submission_key=secrets.token_hex(16),
        )
