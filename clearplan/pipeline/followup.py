"""Calm follow-up: each clinic's rules, applied by the worker.

What each kind of rule does is fixed; a clinic chooses whether it runs, after how many business
days, and the words (see `DEFAULT_RULES` for the defaults every clinic starts with):

- Not opened: the pack went out and none of the case's links has been opened → a gentle
  reminder on the channels the pack went by, with a new link (the patient's first link keeps
  working).
- Viewed, no response: the patient opened the pack and has not replied → the case moves to
  Follow-up required and the coordinator (or the dentist) gets a task, due that day, to call.
- Still no response: some days after the pack was sent → one message from the coordinator
  (or the dentist), in their name, unless the team has already followed the case up.
- Not proceeding for now: the date to look again has come → back to Follow-up required with a
  task to check in, and a check-in message when the clinic has written one.

When. Rules act on the clinic's business days within its contact hours, in its own time zone:
something that falls due at 9 pm on Friday happens at the start of Monday's contact hours. A
worker that was stopped catches up with what fell due in the last `CATCH_UP` (older cases are
left to the team on the board, rather than messaged late).

Limits. Any reply, decline, booking or opt-out stops the rules (CaseProgress.follow_ups_stopped_at,
set in events.py); a move to another stage makes a rule moot; each message respects the patient's
current consent; a case gets at most the clinic's `max_automatic_contacts` automatic messages, and
never two on the same day.

Once. Each application is recorded as a FollowUpRun, unique for (case, rule, anchor), in the same
transaction as its message, task or move, with the case's progress row locked meanwhile. A
restart, a round run twice, or two workers at once therefore never act twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from clearplan.accounts.models import Clinic
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.catalog.placeholders import render_text
from clearplan.lib.clinic_time import clinic_zone
from clearplan.pipeline.followup_calendar import (
    MIDNIGHT,
    WorkingWeek,
    business_days_from_text,
    instant_of,
    local_wall,
)
from clearplan.pipeline.models import (
    CaseProgress,
    CaseTask,
    FollowUpRule,
    FollowUpRun,
    FollowUpSettings,
    MoveCause,
    RuleKind,
    Stage,
    StageMove,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from clearplan.accounts.models import User
    from clearplan.messaging.models import OutboundMessage
    from clearplan.packs.models import PackSend
    from clearplan.plans.models import Case

logger = logging.getLogger(__name__)

K = RuleKind
S = Stage
Outcome = FollowUpRun.Outcome

# The order rules are applied in within a round: moves first, so a message rule sees the stage they left.
RULE_ORDER: tuple[str, ...] = (K.LOOK_AGAIN, K.VIEWED_NO_RESPONSE, K.NOT_OPENED, K.NO_RESPONSE_MESSAGE)
# Rules whose words the clinic writes (the others only move the case and make a task).
RULES_WITH_WORDS: frozenset[str] = frozenset({K.NOT_OPENED, K.NO_RESPONSE_MESSAGE, K.LOOK_AGAIN})
# Rules counted in business days from their anchor (the look-again rule has its own date).
RULES_WITH_DAYS: frozenset[str] = frozenset({K.NOT_OPENED, K.VIEWED_NO_RESPONSE, K.NO_RESPONSE_MESSAGE})
# The stages each rule applies in: a case moved anywhere else makes the rule moot.
RULE_STAGES: dict[str, tuple[str, ...]] = {
    K.NOT_OPENED: (S.SENT,),
    K.VIEWED_NO_RESPONSE: (S.SENT,),
    K.NO_RESPONSE_MESSAGE: (S.SENT, S.FOLLOW_UP),
    K.LOOK_AGAIN: (S.NOT_PROCEEDING,),
}
CATCH_UP = dt.timedelta(days=7)
# Cases one round handles per rule; anything beyond waits for the next round, a minute later.
ROUND_LIMIT = 500
# The words events.patient_opted_out records: the one stop that also silences the look-again check-in.
OPTED_OUT = "The patient asked not to be contacted"


@dataclass(frozen=True)
class RuleDefaults:
    after_business_days: int
    sms_text: str = ""
    email_subject: str = ""
    email_text: str = ""


DEFAULT_RULES: dict[str, RuleDefaults] = {
    K.NOT_OPENED: RuleDefaults(
        after_business_days=1,
        sms_text=(
            "Hi {patient_first_name}, a gentle reminder from {clinic_name} that your treatment pack "
            "is ready whenever suits you:"
        ),
        email_subject="Your treatment pack from {clinic_name}",
        email_text=(
            "Hi {patient_first_name},\n\nJust a gentle reminder that your treatment pack is ready whenever "
            "suits you. It has the options we talked about, what each would cost, and what happens next.\n\n"
            "If anything is unclear, reply from the pack or call us on {clinic_phone}.\n\n"
            "Kind regards,\n{team_member_name}\n{clinic_name}"
        ),
    ),
    K.VIEWED_NO_RESPONSE: RuleDefaults(after_business_days=3),
    K.NO_RESPONSE_MESSAGE: RuleDefaults(
        after_business_days=7,
        sms_text=(
            "Hi {patient_first_name}, it's {team_member_name} from {clinic_name}. I hope your treatment pack "
            "was helpful. If any questions have come up, I'm happy to talk them through: just reply or call "
            "{clinic_phone}. Your pack is here:"
        ),
        email_subject="Any questions about your treatment pack?",
        email_text=(
            "Hi {patient_first_name},\n\nI hope your treatment pack from {dentist_name} was helpful. If any "
            "questions have come up, or you'd like to talk the options through, I'm happy to help: reply from "
            "the pack, or call us on {clinic_phone}.\n\nThere's no rush. Take the time you need.\n\n"
            "Kind regards,\n{team_member_name}\n{clinic_name}"
        ),
    ),
    # A person checks in by default; a clinic may add words for a check-in message.
    K.LOOK_AGAIN: RuleDefaults(after_business_days=1),
}

# When each rule applies and what it does, for the settings page.
RULE_WHEN: dict[str, str] = {
    K.NOT_OPENED: "The pack was sent and has not been opened.",
    K.VIEWED_NO_RESPONSE: "The patient opened the pack and has not replied.",
    K.NO_RESPONSE_MESSAGE: "There is still no reply some days after the pack was sent.",
    K.LOOK_AGAIN: "A case not proceeding for now reaches its date to look again.",
}
RULE_EFFECTS: dict[str, str] = {
    K.NOT_OPENED: "A gentle reminder, with a link to the pack, on the channels the pack was sent by.",
    K.VIEWED_NO_RESPONSE: (
        "The case moves to Follow-up required, and its coordinator (or its dentist) gets a task "
        "to call the patient, due that day."
    ),
    K.NO_RESPONSE_MESSAGE: (
        "One message in the name of the case's coordinator (or its dentist), unless the team has "
        "already done the case's follow-up task."
    ),
    K.LOOK_AGAIN: (
        "On the date to look again, the case comes back to Follow-up required with a task to check in. "
        "With words below, the patient also gets a check-in message."
    ),
}


# ---------- The clinic's settings and rules ----------


def settings_for(clinic: Clinic) -> FollowUpSettings:
    """The clinic's follow-up settings; the defaults (unsaved) when it has none."""
    found = FollowUpSettings.objects.filter(clinic=clinic).first()
    return found if found is not None else FollowUpSettings(clinic=clinic)


def default_rule(clinic: Clinic, kind: str) -> FollowUpRule:
    words = DEFAULT_RULES[kind]
    return FollowUpRule(
        clinic=clinic,
        kind=kind,
        enabled=True,
        after_business_days=words.after_business_days,
        sms_text=words.sms_text,
        email_subject=words.email_subject,
        email_text=words.email_text,
    )


def rules_for(clinic: Clinic, *, save: bool = True) -> dict[str, FollowUpRule]:
    """The clinic's four rules, in the order they apply. A kind the clinic has no rule for gets
    the calm default, saved unless `save` is False (a page that only shows them)."""
    found = {rule.kind: rule for rule in FollowUpRule.objects.filter(clinic=clinic)}
    for kind in RULE_ORDER:
        if kind in found:
            continue
        rule = default_rule(clinic, kind)
        if save:
            try:
                with transaction.atomic():
                    rule.save()
            except IntegrityError:
                # Made meanwhile by another request or worker: theirs stands.
                rule = FollowUpRule.objects.get(clinic=clinic, kind=kind)
        found[kind] = rule
    return {kind: found[kind] for kind in RULE_ORDER}


def working_week(settings: FollowUpSettings) -> WorkingWeek:
    return WorkingWeek(
        business_days=business_days_from_text(settings.business_days),
        contact_from=settings.contact_from,
        contact_until=settings.contact_until,
    )


def rule_has_words(rule: FollowUpRule) -> bool:
    return bool(rule.sms_text.strip() or rule.email_text.strip())


# ---------- Changing them (Settings → Follow-up rules) ----------

SETTINGS_FIELDS: tuple[str, ...] = (
    "automatic_follow_up",
    "max_automatic_contacts",
    "contact_from",
    "contact_until",
    "business_days",
    "look_again_after_days",
    "reminder_hours_before",
)
RULE_FIELDS: tuple[str, ...] = ("enabled", "after_business_days", "sms_text", "email_subject", "email_text")
MAX_CONTACTS = 10
MAX_RULE_DAYS = 60
MAX_LOOK_AGAIN_DAYS = 730
MAX_REMINDER_HOURS = 168
SMS_TEXT_MAX = 480
EMAIL_SUBJECT_MAX = 200
EMAIL_TEXT_MAX = 5000

SETTINGS_LABELS: dict[str, str] = {
    "automatic_follow_up": "Automatic messages",
    "max_automatic_contacts": "Most automatic messages per case",
    "contact_from": "Contact patients from",
    "contact_until": "Contact patients until",
    "business_days": "Business days",
    "look_again_after_days": "Suggested days before looking again",
    "reminder_hours_before": "Appointment reminder, hours before",
}
RULE_LABELS: dict[str, str] = {
    "enabled": "On",
    "after_business_days": "After business days",
    "sms_text": "Text message",
    "email_subject": "Email subject",
    "email_text": "Email",
}


def check_settings(values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with the clinic's limits, by field (empty when nothing is)."""

    errors: dict[str, str] = {}
    contacts = values.get("max_automatic_contacts")
    if contacts is None or not 0 <= contacts <= MAX_CONTACTS:
        errors["max_automatic_contacts"] = f"Choose from 0 to {MAX_CONTACTS} messages."
    start, end = values.get("contact_from"), values.get("contact_until")
    if start is None:
        errors["contact_from"] = "Give the time contact may start, such as 9:00."
    if end is None:
        errors["contact_until"] = "Give the time contact stops, such as 18:00."
    elif start is not None and start >= end:
        errors["contact_until"] = "Choose a time after the start of contact hours."
    if not business_days_from_text(values.get("business_days") or ""):
        errors["business_days"] = "Choose at least one business day."
    look_again = values.get("look_again_after_days")
    if look_again is None or not 1 <= look_again <= MAX_LOOK_AGAIN_DAYS:
        errors["look_again_after_days"] = f"Choose from 1 to {MAX_LOOK_AGAIN_DAYS} days."
    hours = values.get("reminder_hours_before")
    if hours is None or not 1 <= hours <= MAX_REMINDER_HOURS:
        errors["reminder_hours_before"] = f"Choose from 1 to {MAX_REMINDER_HOURS} hours (a week)."
    return errors


def check_rule(kind: str, values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with one rule, by field. A rule that sends a message needs both its text
    message and its email, as a pack may have gone by either; the look-again rule may have no words."""
    from clearplan.catalog.placeholders import placeholder_problem

    errors: dict[str, str] = {}
    if kind in RULES_WITH_DAYS:
        days = values.get("after_business_days")
        if days is None or not 1 <= days <= MAX_RULE_DAYS:
            errors["after_business_days"] = f"Choose from 1 to {MAX_RULE_DAYS} business days."
    if kind not in RULES_WITH_WORDS:
        return errors
    words = {field: (values.get(field) or "").strip() for field in ("sms_text", "email_subject", "email_text")}
    limits = {"sms_text": SMS_TEXT_MAX, "email_subject": EMAIL_SUBJECT_MAX, "email_text": EMAIL_TEXT_MAX}
    for field, text in words.items():
        problem = placeholder_problem(text)
        if len(text) > limits[field]:
            errors[field] = f"Keep it to {limits[field]} characters; this has {len(text)}."
        elif problem:
            errors[field] = problem
    if "\n" in words["email_subject"] and "email_subject" not in errors:
        errors["email_subject"] = "Keep the subject to one line."
    required = values.get("enabled") and kind != K.LOOK_AGAIN
    if required or any(words.values()):
        what = {"sms_text": "the text message", "email_subject": "the email's subject", "email_text": "the email"}
        for field, text in words.items():
            if text or field in errors:
                continue
            if required:
                errors[field] = f"Write {what[field]}: a pack may have gone by SMS, email or both."
            else:
                errors[field] = f"Write {what[field]} too, or leave all three empty for a task only."
    return errors


def _shown(value: Any) -> Any:
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return value


def follow_up_settings_save(
    *,
    clinic: Clinic,
    by: User,
    values: dict[str, Any],
    rules: dict[str, dict[str, Any]],
    request: Any = None,
) -> FollowUpSettings:
    """Save the clinic's limits and its four rules together, or nothing. Raises ValidationError
    keyed by field: a limit's name, or "<kind>-<field>" for a rule (the settings form's prefixes)."""
    errors = dict(check_settings(values))
    for kind in RULE_ORDER:
        for field, message in check_rule(kind, rules.get(kind, {})).items():
            errors[f"{kind}-{field}"] = message
    if errors:
        raise ValidationError(errors)
    changes: dict[str, list[Any]] = {}
    with transaction.atomic():
        current, _ = FollowUpSettings.objects.select_for_update().get_or_create(clinic=clinic)
        for field in SETTINGS_FIELDS:
            old, new = getattr(current, field), values[field]
            if old != new:
                changes[SETTINGS_LABELS[field]] = [_shown(old), _shown(new)]
                setattr(current, field, new)
        current.save()
        saved = rules_for(clinic)
        for kind in RULE_ORDER:
            rule = FollowUpRule.objects.select_for_update().get(pk=saved[kind].pk)
            given = rules.get(kind, {})
            updated = []
            for field in RULE_FIELDS:
                if field not in given:
                    continue
                new = given[field].strip() if isinstance(given[field], str) else given[field]
                if getattr(rule, field) != new:
                    changes[f"{RuleKind(kind).label}: {RULE_LABELS[field]}"] = [getattr(rule, field), new]
                    setattr(rule, field, new)
                    updated.append(field)
            if updated:
                rule.save(update_fields=[*updated, "updated_at"])
        if changes:
            audit_record(
                action=AuditEvent.Action.SETTINGS,
                request=request,
                actor=by,
                clinic=clinic,
                object_type="follow_up_rules",
                object_id=str(clinic.public_id),
                object_label=f"Follow-up rules at {clinic.name}",
                changes=changes,
            )
    return current


# ---------- One round of the worker ----------


@dataclass(frozen=True)
class _ClinicRound:
    """One clinic, at one moment, inside its contact hours."""

    clinic: Clinic
    settings: FollowUpSettings
    rules: dict[str, FollowUpRule]
    zone: ZoneInfo
    week: WorkingWeek
    now: dt.datetime
    wall: dt.datetime

    @property
    def today(self) -> dt.date:
        return self.wall.date()

    @property
    def start_of_today(self) -> dt.datetime:
        return instant_of(dt.datetime.combine(self.today, MIDNIGHT), self.zone)

    def anchor_bounds(self, business_days: int) -> tuple[dt.datetime, dt.datetime]:
        """Anchors at or after the first and before the second are due now and not too late."""
        due_before = instant_of(self.week.due_before(self.wall, business_days), self.zone)
        too_late = instant_of(
            self.week.due_before(local_wall(self.now - CATCH_UP, self.zone), business_days), self.zone
        )
        return too_late, due_before


def _clinic_rounds(now: dt.datetime) -> list[_ClinicRound]:
    """The clinics inside their contact hours at `now`, with their settings and rules (three queries)."""
    clinics = list(Clinic.objects.select_related("follow_up_settings").order_by("pk"))
    rules: dict[int, dict[str, FollowUpRule]] = {}
    for rule in FollowUpRule.objects.filter(clinic__in=clinics):
        rules.setdefault(rule.clinic_id, {})[rule.kind] = rule
    rounds = []
    for clinic in clinics:
        try:
            settings = clinic.follow_up_settings
        except FollowUpSettings.DoesNotExist:
            settings = FollowUpSettings(clinic=clinic)
        try:
            week = working_week(settings)
            zone = clinic_zone(clinic)
        except (ValueError, LookupError):
            logger.warning("Follow-up: clinic %s has no business days or an unknown time zone", clinic.pk)
            continue
        wall = local_wall(now, zone)
        if not week.is_contact_time(wall):
            continue
        own = rules.get(clinic.pk, {})
        clinic_rules = {kind: own.get(kind) or default_rule(clinic, kind) for kind in RULE_ORDER}
        rounds.append(_ClinicRound(clinic, settings, clinic_rules, zone, week, now, wall))
    return rounds


_ANCHOR_PREFIX: dict[str, str] = {
    K.NOT_OPENED: "send:",
    K.NO_RESPONSE_MESSAGE: "send:",
    K.VIEWED_NO_RESPONSE: "opened:",
    K.LOOK_AGAIN: "look_again:",
}


def _anchored(kind: str, now: dt.datetime) -> QuerySet[CaseProgress]:
    """Progress rows in the rule's stages with what starts the rule's wait: `anchor_pk` and
    `anchor_at` (the pack send, the first opened link, or the move to Not proceeding) and the
    `anchor` key FollowUpRun is unique on."""
    from clearplan.packs.models import PackLink, PackSend

    rows = CaseProgress.objects.filter(stage__in=RULE_STAGES[kind])
    if kind in (K.NOT_OPENED, K.NO_RESPONSE_MESSAGE):
        # The latest send that has gone (a scheduled send counts from its time).
        source: QuerySet[Any] = (
            PackSend.objects.filter(case=OuterRef("case_id"), send_at__lte=now)
            .exclude(status=PackSend.Status.CANCELLED)
            .order_by("-send_at", "-id")
        )
        at_field = "send_at"
    elif kind == K.VIEWED_NO_RESPONSE:
        source = PackLink.objects.filter(case=OuterRef("case_id"), first_opened_at__isnull=False).order_by(
            "first_opened_at", "id"
        )
        at_field = "first_opened_at"
    else:
        source = StageMove.objects.filter(case=OuterRef("case_id"), to_stage=S.NOT_PROCEEDING).order_by(
            "-created_at", "-id"
        )
        at_field = "created_at"
    rows = rows.annotate(
        anchor_pk=Subquery(source.values("pk")[:1]),
        anchor_at=Subquery(source.values(at_field)[:1]),
    ).filter(anchor_pk__isnull=False)
    rows = rows.annotate(anchor=Concat(Value(_ANCHOR_PREFIX[kind]), Cast("anchor_pk", output_field=CharField())))
    done = FollowUpRun.objects.filter(case_id=OuterRef("case_id"), kind=kind, anchor=OuterRef("anchor"))
    rows = rows.filter(~Exists(done))
    if kind != K.LOOK_AGAIN:
        rows = rows.filter(follow_ups_stopped_at__isnull=True)
    if kind == K.NOT_OPENED:
        rows = rows.filter(~Exists(PackLink.objects.filter(case=OuterRef("case_id"), first_opened_at__isnull=False)))
    return rows


def _due(kind: str, rounds: list[_ClinicRound], now: dt.datetime) -> QuerySet[CaseProgress]:
    """The cases `kind` is due for now, in every clinic in `rounds` where the rule is on."""
    where = Q(pk__in=[])
    for clinic_round in rounds:
        rule = clinic_round.rules[kind]
        if not rule.enabled:
            continue
        if kind == K.LOOK_AGAIN:
            where |= Q(clinic_id=clinic_round.clinic.pk, look_again_on__lte=clinic_round.today)
        else:
            too_late, due_before = clinic_round.anchor_bounds(rule.after_business_days)
            where |= Q(clinic_id=clinic_round.clinic.pk, anchor_at__gte=too_late, anchor_at__lt=due_before)
    return _anchored(kind, now).filter(where)


def apply_due_rules(*, now: dt.datetime | None = None) -> int:
    """Apply every rule that is due; returns how many were applied (each recorded as a FollowUpRun)."""
    moment = now or timezone.now()
    rounds = _clinic_rounds(moment)
    if not rounds:
        return 0
    by_clinic = {clinic_round.clinic.pk: clinic_round for clinic_round in rounds}
    applied = 0
    for kind in RULE_ORDER:
        due: Any = _due(kind, rounds, moment).order_by("anchor_at", "case_id")
        for case_id, clinic_id, anchor, anchor_pk in due.values_list("case_id", "clinic_id", "anchor", "anchor_pk")[
            :ROUND_LIMIT
        ]:
            try:
                if _apply_once(by_clinic[clinic_id], kind=kind, case_id=case_id, anchor=anchor, anchor_pk=anchor_pk):
                    applied += 1
            except Exception:
                # One case's trouble must not hold up the others; it is tried again next round.
                logger.exception("Follow-up rule %s could not be applied to case %s", kind, case_id)
    if applied:
        logger.info("Follow-up rules applied %d times", applied)
    return applied


@dataclass(frozen=True)
class _Result:
    outcome: str
    detail: str
    message: OutboundMessage | None = None


def _apply_once(clinic_round: _ClinicRound, *, kind: str, case_id: int, anchor: str, anchor_pk: int) -> bool:
    """Apply the rule to one case, unless something already did or it no longer applies."""
    try:
        with transaction.atomic():
            # Taking turns on the case: a second worker waits here, then finds the run below.
            progress = (
                CaseProgress.objects.select_for_update(of=("self",))
                .select_related("case__patient", "case__clinic", "case__coordinator", "case__dentist")
                .get(case_id=case_id)
            )
            # Still due, as the state is now (the patient may have replied since the query).
            if not _due(kind, [clinic_round], clinic_round.now).filter(Q(case_id=case_id) & Q(anchor=anchor)).exists():
                return False
            rule = clinic_round.rules[kind]
            if kind in RULES_WITH_WORDS and rule_has_words(rule) and _contacted_today(clinic_round, case_id):
                # Never two messages on one day: this waits for the next business day.
                return False
            result = _ACTIONS[kind](clinic_round, progress, anchor, anchor_pk)
            if result is None:
                return False
            FollowUpRun.objects.create(
                case_id=case_id,
                kind=kind,
                anchor=anchor,
                outcome=result.outcome,
                detail=result.detail[:200],
                message=result.message,
                created_at=clinic_round.now,
            )
            audit_record(
                action=AuditEvent.Action.UPDATE,
                clinic=clinic_round.clinic,
                obj=progress.case,
                object_type="case",
                changes={
                    "follow-up rule": [None, RuleKind(kind).label],
                    "outcome": [None, Outcome(result.outcome).label],
                    "detail": [None, result.detail[:200]],
                },
            )
            return True
    except IntegrityError:
        # Recorded meanwhile by another worker (the unique run): its work stands and this rolled back.
        if FollowUpRun.objects.filter(case_id=case_id, kind=kind, anchor=anchor).exists():
            return False
        raise


def _contacted_today(clinic_round: _ClinicRound, case_id: int) -> bool:
    from clearplan.messaging.models import OutboundMessage

    return OutboundMessage.objects.filter(
        case_id=case_id,
        purpose__in=[OutboundMessage.Purpose.PACK, OutboundMessage.Purpose.FOLLOW_UP],
        created_at__gte=clinic_round.start_of_today,
    ).exists()


# ---------- What each rule does ----------


def assigned_person(case: Case) -> User:
    """Who follows the case up: its coordinator, or its dentist when it has none (or they have left)."""
    coordinator = case.coordinator if case.coordinator_id else None
    return coordinator if coordinator is not None and coordinator.is_active else case.dentist


def _first_name(case: Case) -> str:
    patient = case.patient
    return patient.preferred_name or patient.first_name


def _task(clinic_round: _ClinicRound, case: Case, title: str) -> CaseTask:
    return CaseTask.objects.create(
        case=case,
        kind=CaseTask.Kind.FOLLOW_UP,
        title=title,
        assigned_to=assigned_person(case),
        due_on=clinic_round.today,
        created_at=clinic_round.now,
    )


def _to_follow_up(clinic_round: _ClinicRound, case: Case, *, cause: str, anchor: str, only_from: str, task: str) -> str:
    """Move the case to Follow-up required (keyed by the rule's anchor) and give its coordinator a
    task due today; returns what was done, in words, or "" when the case could not move."""
    from clearplan.pipeline.stages import stage_move_automatically

    move = stage_move_automatically(
        case=case,
        to_stage=S.FOLLOW_UP,
        cause=cause,
        event_key=f"follow_up:{case.public_id}:{anchor}",
        only_from=frozenset({only_from}),
        at=clinic_round.now,
    )
    if move is None:
        return ""
    made = _task(clinic_round, case, task)
    return f"with a task for {assigned_person(case).display_name}: “{made.title}”."


def _not_opened(clinic_round: _ClinicRound, progress: CaseProgress, anchor: str, anchor_pk: int) -> _Result:
    from clearplan.packs.models import PackSend

    send = PackSend.objects.select_related("link").get(pk=anchor_pk)
    return _contact(clinic_round, progress, send=send, rule=clinic_round.rules[K.NOT_OPENED], what="Reminder")


def _viewed_no_response(clinic_round: _ClinicRound, progress: CaseProgress, anchor: str, anchor_pk: int) -> _Result:
    case = progress.case
    title = f"Call {_first_name(case)} about their treatment plan"
    done = _to_follow_up(
        clinic_round, case, cause=MoveCause.FOLLOW_UP_RULE, anchor=anchor, only_from=S.SENT, task=title
    )
    if not done:
        return _Result(Outcome.SKIPPED, "The case could not move to Follow-up required.")
    return _Result(Outcome.MOVED, f"Moved to Follow-up required, {done}")


def _no_response_message(clinic_round: _ClinicRound, progress: CaseProgress, anchor: str, anchor_pk: int) -> _Result:
    from clearplan.packs.models import PackSend

    send = PackSend.objects.select_related("link").get(pk=anchor_pk)
    done = CaseTask.objects.filter(
        case_id=progress.case_id, kind=CaseTask.Kind.FOLLOW_UP, done_at__gte=send.send_at, done_by__isnull=False
    ).first()
    if done is not None:
        who = done.done_by.display_name if done.done_by else "The team"
        return _Result(Outcome.SKIPPED, f"No message: {who} already followed up (“{done.title}”).")
    return _contact(clinic_round, progress, send=send, rule=clinic_round.rules[K.NO_RESPONSE_MESSAGE], what="Message")


def _look_again(clinic_round: _ClinicRound, progress: CaseProgress, anchor: str, anchor_pk: int) -> _Result:
    from clearplan.packs.models import PackSend

    case = progress.case
    title = f"Check in with {_first_name(case)} about their treatment plan"
    done = _to_follow_up(
        clinic_round, case, cause=MoveCause.LOOK_AGAIN, anchor=anchor, only_from=S.NOT_PROCEEDING, task=title
    )
    if not done:
        return _Result(Outcome.SKIPPED, "The case could not move to Follow-up required.")
    moved = f"Back in Follow-up required, {done}"
    rule = clinic_round.rules[K.LOOK_AGAIN]
    if not rule_has_words(rule):
        return _Result(Outcome.MOVED, moved)
    if progress.follow_ups_stopped_because == OPTED_OUT:
        return _Result(Outcome.MOVED, f"{moved} No check-in message: the patient asked not to be contacted.")
    send = (
        PackSend.objects.select_related("link")
        .filter(case=case, send_at__lte=clinic_round.now)
        .exclude(status=PackSend.Status.CANCELLED)
        .order_by("-send_at", "-id")
        .first()
    )
    if send is None:
        return _Result(Outcome.MOVED, f"{moved} No check-in message: the pack was never sent.")
    contact = _contact(clinic_round, progress, send=send, rule=rule, what="Check-in message")
    if contact.outcome == Outcome.MESSAGED:
        return _Result(Outcome.MOVED, f"{moved} {contact.detail}", contact.message)
    return _Result(Outcome.MOVED, f"{moved} {contact.detail}")


_ACTIONS: dict[str, Callable[[_ClinicRound, CaseProgress, str, int], _Result]] = {
    K.NOT_OPENED: _not_opened,
    K.VIEWED_NO_RESPONSE: _viewed_no_response,
    K.NO_RESPONSE_MESSAGE: _no_response_message,
    K.LOOK_AGAIN: _look_again,
}


# ---------- Messages ----------


def message_values(case: Case, *, recipient: str, sender: User) -> dict[str, str]:
    """The placeholders for a follow-up message. A pack that went to a parent or guardian is
    followed up with them, so the greeting uses their name."""
    from clearplan.packs.models import Recipient
    from clearplan.plans.composer import placeholder_values

    values = dict(placeholder_values(case))
    values["team_member_name"] = sender.display_name
    guardian = case.patient.guardian_name.strip()
    if recipient == Recipient.GUARDIAN and guardian:
        values["patient_first_name"] = guardian.split()[0]
    return values


def message_words(rule: FollowUpRule, values: dict[str, str]) -> dict[str, str]:
    """The rule's words with the placeholders filled in (the link is added after them)."""
    return {
        "sms_text": render_text(rule.sms_text, values).strip(),
        "email_subject": " ".join(render_text(rule.email_subject, values).split()),
        "email_text": render_text(rule.email_text, values).strip(),
    }


def _channel_name(channel: str) -> str:
    return "SMS" if channel == "sms" else "email"


def _why_not(refused: list[tuple[str, str]]) -> str:
    """Why channels were not used, in one sentence: [("sms", "consent"), ("email", "no address")]."""
    reasons = []
    unconsented = [_channel_name(channel) for channel, why in refused if why == "consent"]
    if unconsented:
        reasons.append(f"the patient no longer agrees to {' or '.join(unconsented)}")
    for channel, why in refused:
        if why == "not set up":
            reasons.append(f"{_channel_name(channel)} is not set up")
        elif why == "no address":
            reasons.append(f"there is no {'mobile number' if channel == 'sms' else 'email address'} on record")
    return "; ".join(reasons)


def _contact(
    clinic_round: _ClinicRound, progress: CaseProgress, *, send: PackSend, rule: FollowUpRule, what: str
) -> _Result:
    """The rule's message on the channels `send` went by, where the patient still agrees to them,
    with a new link to the pack; or the reason nothing was sent."""
    from clearplan.messaging.services import message_send
    from clearplan.messaging.sms import sms_configured
    from clearplan.packs.links import link_create, link_path
    from clearplan.packs.sending import EMAIL, SMS, _pack_email_html, absolute_url, destinations

    settings = clinic_round.settings
    if not settings.automatic_follow_up:
        return _Result(Outcome.SKIPPED, f"{what} not sent: automatic messages are switched off.")
    limit = settings.max_automatic_contacts
    if progress.automatic_contacts >= limit:
        return _Result(Outcome.SKIPPED, f"{what} not sent: the case has had its {limit} automatic messages.")
    case = progress.case
    if send.link.revoked_at is not None:
        # The team stopped the link that went with this send (and sent no new one): not for a reminder to undo.
        return _Result(Outcome.SKIPPED, f"{what} not sent: the team withdrew the link that went with the pack.")
    places = destinations(case.patient, send.recipient)
    channels = [channel for channel, used in ((SMS, send.by_sms), (EMAIL, send.by_email)) if used]
    usable: list[str] = []
    refused: list[tuple[str, str]] = []
    for channel in channels:
        if channel == SMS and not sms_configured():
            refused.append((channel, "not set up"))
        elif not places[channel].address:
            refused.append((channel, "no address"))
        elif not places[channel].usable:
            refused.append((channel, "consent"))
        else:
            usable.append(channel)
    if not usable:
        return _Result(Outcome.SKIPPED, f"{what} not sent: {_why_not(refused)}.")
    sender = assigned_person(case)
    words = message_words(rule, message_values(case, recipient=send.recipient, sender=sender))
    try:
        with transaction.atomic():
            # A new link: the one the patient already has keeps working.
            _link, token = link_create(case=case, recipient=send.recipient, by=sender)
            url = absolute_url(link_path(token))
            common: dict[str, Any] = {
                "clinic": case.clinic,
                "purpose": "follow_up",
                "patient": case.patient,
                "case": case,
                "sender": sender,
            }
            sent = []
            for channel in usable:
                if channel == SMS:
                    body = f"{words['sms_text']}\n\n{url}"
                    sent.append(message_send(channel=SMS, to=places[SMS].address, body=body, **common))
                else:
                    sent.append(
                        message_send(
                            channel=EMAIL,
                            to=places[EMAIL].address,
                            subject=words["email_subject"],
                            body=f"{words['email_text']}\n\n{url}",
                            html=_pack_email_html(case=case, text=words["email_text"], url=url),
                            **common,
                        )
                    )
    except ValidationError as error:
        return _Result(Outcome.SKIPPED, f"{what} not sent: {' '.join(error.messages)}")
    CaseProgress.objects.filter(pk=progress.pk).update(automatic_contacts=F("automatic_contacts") + 1)
    by = " and ".join(_channel_name(channel) for channel in usable)
    detail = f"{what} sent by {by} in the name of {sender.display_name}."
    if refused:
        detail += f" Not by {' or '.join(_channel_name(channel) for channel, _ in refused)}: {_why_not(refused)}."
    return _Result(Outcome.MESSAGED, detail, sent[0])


# ---------- What happened on a case ----------


@dataclass(frozen=True)
class FollowUpRunEntry:
    """One application of a rule to a case, for the case's timeline."""

    at: dt.datetime  # in the clinic's time zone
    rule: str
    outcome: str
    outcome_label: str
    detail: str
    message_id: uuid.UUID | None


def follow_up_runs_for(case: Case) -> list[FollowUpRunEntry]:
    """What the follow-up rules did on the case, oldest first (one query)."""
    zone = clinic_zone(case.clinic)
    runs = FollowUpRun.objects.filter(case=case).select_related("message").order_by("created_at", "pk")
    return [
        FollowUpRunEntry(
            at=run.created_at.astimezone(zone),
            rule=RuleKind(run.kind).label,
            outcome=run.outcome,
            outcome_label=Outcome(run.outcome).label,
            detail=run.detail,
            message_id=run.message.public_id if run.message is not None else None,
        )
        for run in runs
    ]
