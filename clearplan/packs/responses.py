"""What the patient does from their pack: ask a question, ask to proceed, say "not right now", sign.

Every reply belongs to a verified pack session and to the pack version the patient was reading,
so the team can always tell what the patient saw when they answered. Each form carries a random
`submission_key` (unique in the database): the same form sent twice, by a double tap or a resend
on a slow connection, gives back the reply already recorded instead of a second one.

A signature keeps the exact wording of every consent statement ticked, the SHA-256 of the version
signed, how the signer verified, when (UTC), from where (IP, browser) and, when drawn, the
signature as SVG path data. Only the latest version can be signed, once per link; a newer version
needs a new signature. The signed PDF is made after the signature is committed.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.packs.access import patient_audit, session_details
from clearplan.packs.links import link_is_usable
from clearplan.packs.models import ConsentSignature, PackLink, PatientResponse, Recipient
from clearplan.packs.versions import latest_version
from clearplan.pipeline import events as pipeline_events

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest

    from clearplan.packs.models import PackSession, PackVersion
    from clearplan.plans.models import Case

logger = logging.getLogger(__name__)

Submitted = TypeVar("Submitted", PatientResponse, ConsentSignature)

MESSAGE_MAX_CHARS = 2000
PREFERRED_TIMES_MAX_CHARS = 500
SIGNER_NAME_MAX_CHARS = 200
SUBMISSION_KEY_MAX_CHARS = 64
# Quick choices offered beside the free text for when the patient would like to come in.
PREFERRED_TIME_CHOICES = ("Weekday mornings", "Weekday afternoons", "Saturdays", "Any time")

UPDATED_SINCE_READ = "This pack was updated — please read the latest version before signing."
ALREADY_SIGNED = "You have already signed this version of your pack — thank you. There is nothing more to do."
NOT_VERIFIED = "Please confirm who you are before replying to this pack."
LINK_ENDED = "This link has ended. Please contact the clinic for a new one."
TRY_AGAIN = "Something went wrong sending this form. Please try again."

Kind = PatientResponse.Kind
Relationship = ConsentSignature.Relationship
GUARDIAN_RELATIONSHIPS = (Relationship.PARENT, Relationship.GUARDIAN, Relationship.OTHER)


# ---------- Reading the frozen pack ----------


def treatment_options(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The options a patient can choose to go ahead with, the recommended one first."""
    options = [option for option in snapshot.get("options", []) if option.get("kind") == "treatment"]
    return sorted(options, key=lambda option: not option.get("is_recommended"))


def consent_statements(snapshot: dict[str, Any]) -> list[str]:
    return [str(statement) for statement in snapshot.get("consent_statements", [])]


def _option_in(version: PackVersion, option_public_id: object, *, for_signing: bool = False) -> dict[str, Any]:
    """The treatment option of `version` with that public id, or a refusal at the option field."""
    empty = (
        "Choose the option you are agreeing to."
        if for_signing
        else "Choose the option you would like to go ahead with."
    )
    if option_public_id in (None, ""):
        raise ValidationError({"option": empty})
    try:
        wanted = str(uuid.UUID(str(option_public_id)))
    except ValueError:
        raise ValidationError({"option": "Choose one of the options in your pack."}) from None
    for option in version.snapshot.get("options", []):
        if option.get("public_id") == wanted:
            if option.get("kind") != "treatment":
                raise ValidationError({"option": "Choose one of the treatment options to go ahead with."})
            return option
    raise ValidationError({"option": "Choose one of the options in your pack."})


# ---------- Checks shared by replies and signatures ----------


def _clean_key(submission_key: str) -> str:
    key = (submission_key or "").strip()
    if not key or len(key) > SUBMISSION_KEY_MAX_CHARS:
        raise ValidationError(TRY_AGAIN)
    return key


def _once(model: type[Submitted], *, key: str, session: PackSession, record: Callable[[], Submitted]) -> Submitted:
    """What `record` makes, or what the same form (same key, same session) already made."""
    existing = model.objects.filter(submission_key=key).first()
    if existing is not None:
        if existing.session_id != session.pk:
            raise ValidationError(TRY_AGAIN)
        return existing
    try:
        return record()
    except IntegrityError:
        # The same form sent twice at the same moment: the other request recorded it.
        existing = model.objects.filter(submission_key=key, session=session).first()
        if existing is None:
            raise
        return existing


def _check_session(session: PackSession, version: PackVersion, link: PackLink) -> None:
    """The session is verified, still current, on a working link, and reading this case's pack."""
    if session.verified_at is None:
        raise ValidationError(NOT_VERIFIED)
    if session.expires_at <= timezone.now() or not link_is_usable(link):
        raise ValidationError(LINK_ENDED)
    if version.case_id != link.case_id:
        # Never reached through the patient's pages (the version comes from the session's own case).
        raise ValidationError("This pack does not belong to this link.")


def _audit(*, request: HttpRequest | None, link: PackLink, changes: dict[str, Any]) -> None:
    patient_audit(request=request, link=link, action=AuditEvent.Action.CREATE, changes=changes)


def _notify(*, case: Case, kind: str, detail: str = "") -> None:
    """Tell the case's team, inside the caller's transaction (the notice exists only if the reply does)."""
    try:
        from clearplan.notifications.services import notify_team, text_for
    except ImportError:  # pragma: no cover - the notifications app is part of the same release
        logger.warning("Team notifications are not available; a %s reply was recorded without one", kind)
        return
    text = text_for(kind=kind, case=case)
    if detail:
        text = f"{text}: {detail}"
    notify_team(case=case, kind=kind, text=text)


def _clean_text(text: str, *, field_name: str, limit: int, what: str) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise ValidationError({field_name: f"Please keep {what} to {limit} characters (it has {len(text)})."})
    return text


# ---------- Replies: proceed, question, not right now ----------


def response_record(
    *,
    session: PackSession,
    version: PackVersion,
    kind: str,
    option_public_id: object = None,
    preferred_times: str = "",
    message: str = "",
    reason: str = "",
    submission_key: str,
    request: HttpRequest | None = None,
) -> PatientResponse:
    """Record the patient's reply to `version` and tell the team. The same `submission_key` again
    gives back the reply already recorded."""
    key = _clean_key(submission_key)
    return _once(
        PatientResponse,
        key=key,
        session=session,
        record=lambda: _response_record(
            session=session,
            version=version,
            kind=kind,
            option_public_id=option_public_id,
            preferred_times=preferred_times,
            message=message,
            reason=reason,
            key=key,
            request=request,
        ),
    )


def _response_record(
    *,
    session: PackSession,
    version: PackVersion,
    kind: str,
    option_public_id: object,
    preferred_times: str,
    message: str,
    reason: str,
    key: str,
    request: HttpRequest | None,
) -> PatientResponse:
    with transaction.atomic():
        link = PackLink.objects.select_related("case__clinic", "case__patient").get(pk=session.link_id)
        _check_session(session, version, link)
        if kind not in Kind.values:
            raise ValidationError("Choose what you would like to do.")
        option: dict[str, Any] = {}
        message = _clean_text(message, field_name="message", limit=MESSAGE_MAX_CHARS, what="your message")
        if kind == Kind.PROCEED:
            option = _option_in(version, option_public_id)
            preferred_times = _clean_text(
                preferred_times,
                field_name="preferred_times",
                limit=PREFERRED_TIMES_MAX_CHARS,
                what="the times that suit you",
            )
            reason = ""
        elif kind == Kind.QUESTION:
            if not message:
                raise ValidationError({"message": "Type your question for the team."})
            preferred_times, reason = "", ""
        else:
            if reason not in PatientResponse.NotNowReason.values:
                raise ValidationError({"reason": "Choose one of the reasons, or none."})
            preferred_times = ""
        case = link.case
        response = PatientResponse.objects.create(
            case=case,
            version=version,
            session=session,
            kind=kind,
            option_public_id=uuid.UUID(option["public_id"]) if option else None,
            option_title=str(option.get("title", ""))[:120],
            preferred_times=preferred_times,
            message=message,
            reason=reason,
            responder=link.recipient,
            submission_key=key,
        )
        _audit(
            request=request,
            link=link,
            changes={
                "pack_response": [None, kind],
                "response": [None, str(response.public_id)],
                "pack_version": [None, version.number],
                **({"option": [None, response.option_title]} if response.option_title else {}),
                **({"reason": [None, reason]} if reason else {}),
            },
        )
        pipeline_events.patient_responded(response=response)
        _notify(case=case, kind=kind, detail=f"“{response.option_title}”" if response.option_title else "")
        _into_conversation(response)
    return response


def _into_conversation(response: PatientResponse) -> None:
    """The reply also lands in the patient's conversation, beside their texts and emails (the
    notification above already told the team)."""
    from clearplan.messaging.conversations.services import message_receive

    if response.kind == Kind.PROCEED:
        lines = [f"I'd like to proceed with “{response.option_title}”."]
        if response.preferred_times:
            lines.append(f"Times that suit me: {response.preferred_times}")
    elif response.kind == Kind.NOT_NOW:
        reason = PatientResponse.NotNowReason(response.reason).label if response.reason else ""
        lines = [f"Not right now. {reason}".strip() + ("." if reason else "")]
    else:
        lines = []
    if response.message:
        lines.append(response.message)
    message_receive(
        patient=response.case.patient,
        channel="pack",
        body="\n".join(lines),
        from_whom=response.responder,
        pack_response=response,
        notify=False,
    )


# ---------- Consent and signature ----------

_PATH_COMMANDS = {"M": 2, "L": 2, "Q": 4, "C": 6}
_PATH_TOKENS = re.compile(r"[MLQC]|[^MLQC\s,]+")
_PATH_NUMBER = re.compile(r"-?\d{1,4}(?:\.\d{1,3})?")
DRAWN_SIGNATURE_MAX_CHARS = 40_000
DRAWN_SIGNATURE_MAX_NUMBERS = 12_000
# The drawing box: x from 0 to 1000, y from 0 to 300 (the canvas is scaled to it).
_PATH_BOX = (1000.0, 300.0)
_DRAWN_REFUSED = "The drawn signature could not be read. Clear it and draw it again, or leave it out."


def clean_drawn_signature(text: str) -> str:
    """SVG path data made only of M, L, Q and C commands and numbers inside the drawing box,
    rewritten in one plain form; anything else is refused."""
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) > DRAWN_SIGNATURE_MAX_CHARS:
        raise ValidationError(
            {"drawn_signature": "The drawn signature is too long. Clear it and draw it again, or leave it out."}
        )
    if not re.fullmatch(r"[MLQC0-9.,\s-]+", text) or re.search(r"(,\s*,)|([MLQC]\s*,)|(^,)|(,\s*$)", text):
        raise ValidationError({"drawn_signature": _DRAWN_REFUSED})
    parts: list[str] = []
    command = ""
    numbers: list[str] = []
    count = 0

    def finish() -> None:
        if command:
            needed = _PATH_COMMANDS[command]
            if not numbers or len(numbers) % needed:
                raise ValidationError({"drawn_signature": _DRAWN_REFUSED})
            parts.append(" ".join([command, *numbers]))

    for piece in _PATH_TOKENS.findall(text):
        if piece in _PATH_COMMANDS:
            finish()
            if not command and piece != "M":
                raise ValidationError({"drawn_signature": _DRAWN_REFUSED})
            command, numbers = piece, []
            continue
        if not command or not _PATH_NUMBER.fullmatch(piece):
            raise ValidationError({"drawn_signature": _DRAWN_REFUSED})
        value = float(piece)
        if not 0 <= value <= _PATH_BOX[len(numbers) % 2]:
            raise ValidationError({"drawn_signature": _DRAWN_REFUSED})
        count += 1
        if count > DRAWN_SIGNATURE_MAX_NUMBERS:
            raise ValidationError(
                {"drawn_signature": "The drawn signature is too long. Clear it and draw it again, or leave it out."}
            )
        numbers.append(piece)
    finish()
    return " ".join(parts)


def _clean_signer_name(signer_name: str) -> str:
    # Kept exactly as typed (Zoë, O'Brien, Nguyễn): only the spaces around it are dropped.
    name = (signer_name or "").strip()
    if not name:
        raise ValidationError({"signer_name": "Type your full name to sign."})
    if len(name) > SIGNER_NAME_MAX_CHARS:
        raise ValidationError({"signer_name": f"Please keep your name to {SIGNER_NAME_MAX_CHARS} characters."})
    if any(ord(character) < 32 or 127 <= ord(character) < 160 for character in name):
        raise ValidationError({"signer_name": "Type your name on one line."})
    return name


def _clean_relationship(relationship: str, link: PackLink, first_name: str) -> str:
    if link.recipient == Recipient.GUARDIAN:
        if relationship not in GUARDIAN_RELATIONSHIPS:
            raise ValidationError({"relationship": f"Choose how you are related to {first_name or 'the patient'}."})
        return relationship
    if relationship not in ("", Relationship.SELF):
        raise ValidationError({"relationship": "This link is for the patient, who signs for themselves."})
    return Relationship.SELF


def _check_statements(statements: list[str], ticked: list[int]) -> None:
    ticked_set = {index for index in ticked if isinstance(index, int)}
    missing = [number for number in range(len(statements)) if number not in ticked_set]
    if not missing:
        return
    if len(missing) == len(statements):
        raise ValidationError({"statements": "Tick each statement to show you agree with it."})
    listed = "; ".join(f"{number + 1}. “{statements[number]}”" for number in missing)
    plural = "statement" if len(missing) == 1 else "statements"
    raise ValidationError({"statements": f"Tick each statement to sign. Still to tick: {plural} {listed}"})


def signature_record(
    *,
    session: PackSession,
    version: PackVersion,
    signer_name: str,
    relationship: str,
    statements_ticked: list[int],
    drawn_signature: str = "",
    option_public_id: object,
    submission_key: str,
    request: HttpRequest | None = None,
) -> ConsentSignature:
    """Record the patient's (or guardian's) consent to the latest version of their pack and the
    option chosen, tell the team, and make the signed PDF once committed. A proceed reply for that
    option is recorded too when there is none yet."""
    key = _clean_key(submission_key)
    return _once(
        ConsentSignature,
        key=key,
        session=session,
        record=lambda: _signature_record(
            session=session,
            version=version,
            signer_name=signer_name,
            relationship=relationship,
            statements_ticked=statements_ticked,
            drawn_signature=drawn_signature,
            option_public_id=option_public_id,
            key=key,
            request=request,
        ),
    )


def _signature_record(
    *,
    session: PackSession,
    version: PackVersion,
    signer_name: str,
    relationship: str,
    statements_ticked: list[int],
    drawn_signature: str,
    option_public_id: object,
    key: str,
    request: HttpRequest | None,
) -> ConsentSignature:
    with transaction.atomic():
        # Signing takes turns per link, so two tabs cannot both sign the same version.
        link = (
            PackLink.objects.select_for_update().select_related("case__clinic", "case__patient").get(pk=session.link_id)
        )
        _check_session(session, version, link)
        case = link.case
        newest = latest_version(case)
        if newest is None or newest.pk != version.pk:
            raise ValidationError(UPDATED_SINCE_READ)
        if ConsentSignature.objects.filter(version=version, session__link=link).exists():
            raise ValidationError(ALREADY_SIGNED)

        statements = consent_statements(version.snapshot)
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        checks = {
            "option": lambda: _option_in(version, option_public_id, for_signing=True),
            "statements": lambda: _check_statements(statements, statements_ticked),
            "signer_name": lambda: _clean_signer_name(signer_name),
            "relationship": lambda: _clean_relationship(
                relationship, link, str(version.snapshot.get("patient", {}).get("first_name", ""))
            ),
            "drawn_signature": lambda: clean_drawn_signature(drawn_signature),
        }
        for name, check in checks.items():
            try:
                cleaned[name] = check()
            except ValidationError as error:
                for field_name, messages in error.message_dict.items():
                    errors.setdefault(field_name, []).extend(messages)
        if errors:
            raise ValidationError(errors)

        option = cleaned["option"]
        details = session_details(request) if request is not None else None
        signature = ConsentSignature.objects.create(
            case=case,
            version=version,
            version_sha256=version.sha256,
            session=session,
            option_public_id=uuid.UUID(option["public_id"]),
            option_title=str(option.get("title", ""))[:120],
            signer_name=cleaned["signer_name"],
            relationship=cleaned["relationship"],
            verified_by=session.verified_by or link.verification,
            signed_at=timezone.now(),
            ip_address=details.ip_address if details else None,
            user_agent=details.user_agent if details else "",
            consent_statements=statements,
            drawn_signature=cleaned["drawn_signature"],
            submission_key=key,
        )
        proceeding = PatientResponse.objects.filter(
            version=version, session__link=link, kind=Kind.PROCEED, option_public_id=signature.option_public_id
        ).exists()
        if not proceeding:
            PatientResponse.objects.create(
                case=case,
                version=version,
                session=session,
                kind=Kind.PROCEED,
                option_public_id=signature.option_public_id,
                option_title=signature.option_title,
                responder=link.recipient,
                submission_key=f"signature:{signature.public_id.hex}",
            )
        _audit(
            request=request,
            link=link,
            changes={
                "consent_signature": [None, str(signature.public_id)],
                "pack_version": [None, version.number],
                "version_sha256": [None, version.sha256],
                "option": [None, signature.option_title],
                "relationship": [None, signature.relationship],
                "verified_by": [None, signature.verified_by],
                "drawn": [None, bool(signature.drawn_signature)],
            },
        )
        pipeline_events.patient_signed(signature=signature)
        _notify(case=case, kind="signed", detail=f"“{signature.option_title}”")
        signature_id = signature.pk
        transaction.on_commit(lambda: signed_pdf_make(signature_id))
    return signature


def signed_pdf_make(signature_id: int) -> ConsentSignature | None:
    """Make and store the signed PDF (with its audit page) for a committed signature, unless it
    has one. A failure leaves the signature standing: the PDF is made again when first asked for."""
    signature = ConsentSignature.objects.select_related("case__clinic", "version").filter(pk=signature_id).first()
    if signature is None or signature.pdf:
        return signature
    try:
        from clearplan.packs.pdf import signature_pdf_store
    except ImportError:  # pragma: no cover - the PDF module is part of the same release
        logger.warning("Signed PDFs are not available yet; signature %s has none", signature.public_id)
        return signature
    try:
        signature_pdf_store(signature)
    except Exception:
        # Logged by the signature's random id only; the signature itself is already safe.
        logger.exception("Could not make the signed PDF for signature %s", signature.public_id)
    signature.refresh_from_db()
    return signature


# ---------- What the patient's page shows ----------


@dataclass(frozen=True)
class ActionState:
    """What the patient has already done on this link, for the "What would you like to do?" and
    consent sections of the pack page."""

    version: PackVersion
    link: PackLink
    is_guardian: bool
    patient_first_name: str
    clinic_name: str
    time_zone: str
    options: list[dict[str, Any]]
    statements: list[str]
    responses: list[PatientResponse] = field(default_factory=list)
    signature: ConsentSignature | None = None
    earlier_signature: ConsentSignature | None = None
    chosen_option_id: str = ""

    @property
    def needs_new_signature(self) -> bool:
        """Signed an earlier version, but not this one."""
        return self.signature is None and self.earlier_signature is not None

    @property
    def latest_proceed(self) -> PatientResponse | None:
        proceeding = [response for response in self.responses if response.kind == Kind.PROCEED]
        return next((response for response in proceeding if response.version_id == self.version.pk), None)


def patient_action_state(session: PackSession, version: PackVersion) -> ActionState:
    link = session.link
    snapshot = version.snapshot
    options = treatment_options(snapshot)
    responses = list(
        PatientResponse.objects.filter(case_id=link.case_id, session__link=link).order_by("-created_at", "-pk")[:20]
    )
    signatures = list(
        ConsentSignature.objects.filter(case_id=link.case_id, session__link=link)
        .select_related("version")
        .order_by("-signed_at", "-pk")
    )
    signature = next((item for item in signatures if item.version_id == version.pk), None)
    earlier = next((item for item in signatures if item.version.number < version.number), None)
    option_ids = {str(option["public_id"]) for option in options}
    chosen = ""
    if signature is not None:
        chosen = str(signature.option_public_id)
    else:
        for response in responses:
            if response.kind == Kind.PROCEED and str(response.option_public_id) in option_ids:
                chosen = str(response.option_public_id)
                break
        if not chosen and len(options) == 1:
            chosen = str(options[0]["public_id"])
    clinic = snapshot.get("clinic", {})
    return ActionState(
        version=version,
        link=link,
        is_guardian=link.recipient == Recipient.GUARDIAN,
        patient_first_name=str(snapshot.get("patient", {}).get("first_name", "")),
        clinic_name=str(clinic.get("name", "")),
        time_zone=str(clinic.get("time_zone", "") or "UTC"),
        options=options,
        statements=consent_statements(snapshot),
        responses=responses,
        signature=signature,
        earlier_signature=earlier,
        chosen_option_id=chosen,
    )
