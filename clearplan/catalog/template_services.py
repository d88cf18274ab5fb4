"""Every change to pack templates and the education library: checked, saved in one transaction
and written to the audit log with what changed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clearplan.accounts.models import Organisation
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record, changes_between
from clearplan.catalog.data.starter_templates import STARTER_EDUCATION, STARTER_TEMPLATES
from clearplan.catalog.models import (
    DEFAULT_CONSENT_STATEMENTS,
    DEFAULT_EMAIL_MESSAGE,
    DEFAULT_EMAIL_SUBJECT,
    DEFAULT_SMS_MESSAGE,
    EducationItem,
    PackTemplate,
    Procedure,
    normalise_code,
)
from clearplan.catalog.placeholders import placeholder_problem
from clearplan.plans.models import PlanType

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import User

PACK_TEMPLATE_RECORD_TYPE = "pack_template"
EDUCATION_ITEM_RECORD_TYPE = "education_item"

TEXT_FIELDS = (
    "cover_message",
    "what_we_found",
    "your_options_intro",
    "costs_intro",
    "next_steps",
    "aftercare",
    "sending_script",
)
# The messages that carry the patient's link (the link itself is always added after them).
MESSAGE_FIELDS = ("sms_message", "email_subject", "email_message")
MESSAGE_DEFAULTS = {
    "sms_message": DEFAULT_SMS_MESSAGE,
    "email_subject": DEFAULT_EMAIL_SUBJECT,
    "email_message": DEFAULT_EMAIL_MESSAGE,
}
REQUIRED_TEXT = {
    "name": "Give the template a name the team will recognise, such as “Crown”.",
    "cover_message": "Write the cover message the patient reads first.",
    "what_we_found": "Write the “What we found” section.",
    "next_steps": "Write the “Next steps” section.",
    "sending_script": "Write what the team member can say when sending the pack.",
    "sms_message": "Write the text message that carries the link to the pack.",
    "email_subject": "Write the subject of the email that carries the link to the pack.",
    "email_message": "Write the email that carries the link to the pack.",
}
TEMPLATE_FIELDS = (
    "name",
    "plan_type",
    "treatments",
    *TEXT_FIELDS,
    *MESSAGE_FIELDS,
    "questions",
    "consent_statements",
    "default_options",
)
# A text message of about three parts before the link; a subject that fits one line.
SMS_MESSAGE_MAX = 480
EMAIL_SUBJECT_MAX = 200
MAX_CONSENT_STATEMENTS = 10
CONSENT_STATEMENT_MAX = 500

MAX_QUESTIONS = 12
MAX_OPTIONS = 5
MAX_LINES = 20
MAX_QUANTITY = 99
MAX_PHASE = 9
OPTION_KINDS = ("treatment", "no_treatment")


def clean_questions(value: Any) -> list[dict[str, str]]:
    """[{"question": ..., "answer": ...}] with both filled in; raises ValidationError with a sentence."""
    if not isinstance(value, list):
        raise ValidationError("Questions must be a list of questions, each with its answer.")
    if len(value) > MAX_QUESTIONS:
        raise ValidationError(f"Keep to {MAX_QUESTIONS} questions at most, so patients read them.")
    cleaned = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, Mapping) or set(item) - {"question", "answer"}:
            raise ValidationError(f"Question {number} must have a question and an answer, and nothing else.")
        question = item.get("question")
        answer = item.get("answer")
        if not isinstance(question, str) or not question.strip():
            raise ValidationError(f"Question {number} has no question.")
        if not isinstance(answer, str) or not answer.strip():
            raise ValidationError(f"Question {number} (“{question.strip()}”) has no answer.")
        for text in (question, answer):
            problem = placeholder_problem(text)
            if problem:
                raise ValidationError(f"Question {number}: {problem}")
        cleaned.append({"question": question.strip(), "answer": answer.strip()})
    return cleaned


def clean_consent_statements(value: Any) -> list[str]:
    """What the patient agrees to by signing: one to ten statements, each ticked separately."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Consent statements must be a list of sentences.")
    statements = [" ".join(item.split()) for item in value if item.strip()]
    if not statements:
        raise ValidationError("Write at least one statement the patient agrees to by signing.")
    if len(statements) > MAX_CONSENT_STATEMENTS:
        raise ValidationError(f"Keep to {MAX_CONSENT_STATEMENTS} statements at most, so patients read each one.")
    for number, statement in enumerate(statements, start=1):
        if len(statement) > CONSENT_STATEMENT_MAX:
            raise ValidationError(f"Statement {number} is longer than {CONSENT_STATEMENT_MAX} characters.")
        problem = placeholder_problem(statement)
        if problem:
            raise ValidationError(f"Statement {number}: {problem}")
    return statements


def _message_problem(field: str, text: str) -> str | None:
    if field == "sms_message" and len(text) > SMS_MESSAGE_MAX:
        return f"Keep the text message to {SMS_MESSAGE_MAX} characters; the link is added after it."
    if field == "email_subject" and ("\n" in text or len(text) > EMAIL_SUBJECT_MAX):
        return f"Keep the subject to one line of at most {EMAIL_SUBJECT_MAX} characters."
    return placeholder_problem(text)


def _positive_int(value: Any, *, default: int, most: int, what: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ValidationError(f"{what} must be a whole number from 1 to {most}.")
    return value


def clean_default_options(value: Any, *, known_codes: Iterable[str] | None) -> list[dict[str, Any]]:
    """The options the composer starts from. With `known_codes`, every line's code must be one of them."""
    if not isinstance(value, list):
        raise ValidationError('Options must be a list, such as [{"title": "Option A: implant", "lines": []}].')
    if len(value) > MAX_OPTIONS:
        raise ValidationError(f"Keep to {MAX_OPTIONS} options at most.")
    known = set(known_codes) if known_codes is not None else None
    cleaned: list[dict[str, Any]] = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, Mapping):
            raise ValidationError(f"Option {number} must have a title.")
        extra = set(item) - {"title", "recommended", "kind", "lines"}
        if extra:
            raise ValidationError(f"Option {number} has settings that are not used: {', '.join(sorted(extra))}.")
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValidationError(f"Option {number} has no title.")
        kind = item.get("kind", "treatment")
        if kind not in OPTION_KINDS:
            raise ValidationError(f"Option {number}: the kind must be “treatment” or “no_treatment”.")
        recommended = item.get("recommended", False)
        if not isinstance(recommended, bool):
            raise ValidationError(f"Option {number}: recommended must be true or false.")
        lines = item.get("lines", [])
        if not isinstance(lines, list):
            raise ValidationError(f"Option {number}: lines must be a list.")
        if kind == "no_treatment" and (lines or recommended):
            raise ValidationError(f"Option {number} is “no treatment”, so it has no lines and is not recommended.")
        if len(lines) > MAX_LINES:
            raise ValidationError(f"Option {number} has more than {MAX_LINES} lines.")
        cleaned_lines = []
        for line_number, line in enumerate(lines, start=1):
            where = f"Option {number}, line {line_number}"
            if not isinstance(line, Mapping) or set(line) - {"code", "quantity", "phase"}:
                raise ValidationError(f"{where} needs a code, and may have a quantity and a phase.")
            code = line.get("code")
            if not isinstance(code, str) or not code.strip():
                raise ValidationError(f"{where} has no procedure code.")
            code = normalise_code(code)
            if known is not None and code not in known:
                raise ValidationError(f"{where}: code {code} is not in your catalogue (or is retired).")
            cleaned_lines.append(
                {
                    "code": code,
                    "quantity": _positive_int(
                        line.get("quantity"), default=1, most=MAX_QUANTITY, what=f"{where}: quantity"
                    ),
                    "phase": _positive_int(line.get("phase"), default=1, most=MAX_PHASE, what=f"{where}: phase"),
                }
            )
        option: dict[str, Any] = {"title": title.strip(), "kind": kind}
        if kind == "treatment":
            option["recommended"] = recommended
            option["lines"] = cleaned_lines
        cleaned.append(option)
    if sum(1 for option in cleaned if option.get("recommended")) > 1:
        raise ValidationError("Mark at most one option as recommended.")
    return cleaned


def _active_codes(organisation_id: int) -> set[str]:
    return set(Procedure.objects.filter(organisation_id=organisation_id).active().values_list("code", flat=True))


def _checked_values(values: Mapping[str, Any], *, organisation_id: int) -> dict[str, Any]:
    """Every field's problem at once, as a ValidationError by field; or the values ready to save."""
    unknown = set(values) - set(TEMPLATE_FIELDS)
    if unknown:
        raise ValueError(f"Not pack template fields staff can set: {', '.join(sorted(unknown))}")
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in ("name", "plan_type", "treatments", *TEXT_FIELDS):
        text = values.get(field, "")
        text = text.strip() if isinstance(text, str) else ""
        if field in REQUIRED_TEXT and not text:
            errors.setdefault(field, []).append(REQUIRED_TEXT[field])
        elif field in TEXT_FIELDS:
            problem = placeholder_problem(text)
            if problem:
                errors.setdefault(field, []).append(problem)
        cleaned[field] = text
    if cleaned["plan_type"] not in PlanType.values:
        errors["plan_type"] = ["Choose oral health, aesthetic / elective, or both."]
    for field in MESSAGE_FIELDS:
        # Left out entirely (an older caller), the default words; written empty, a refusal.
        text = values.get(field, MESSAGE_DEFAULTS[field])
        text = text.strip() if isinstance(text, str) else ""
        problem = REQUIRED_TEXT[field] if not text else _message_problem(field, text)
        if problem:
            errors.setdefault(field, []).append(problem)
        cleaned[field] = text
    try:
        cleaned["questions"] = clean_questions(values.get("questions", []))
    except ValidationError as error:
        errors["questions"] = error.messages
    try:
        cleaned["consent_statements"] = clean_consent_statements(
            values.get("consent_statements", list(DEFAULT_CONSENT_STATEMENTS))
        )
    except ValidationError as error:
        errors["consent_statements"] = error.messages
    try:
        cleaned["default_options"] = clean_default_options(
            values.get("default_options", []), known_codes=_active_codes(organisation_id)
        )
    except ValidationError as error:
        errors["default_options"] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _snapshot(template: PackTemplate) -> dict[str, Any]:
    return {field: getattr(template, field) for field in TEMPLATE_FIELDS}


def _name_taken_error(organisation_id: int, name: str, exclude_pk: int | None) -> ValidationError | None:
    same = PackTemplate.objects.filter(organisation_id=organisation_id, name__iexact=name)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    taken = same.first()
    if taken is None:
        return None
    retired = " (retired — restore it instead)" if taken.is_retired else ""
    return ValidationError({"name": f"Another template is already called “{taken.name}”{retired}."})


def _save(template: PackTemplate) -> None:
    error = _name_taken_error(template.organisation_id, template.name, template.pk)
    if error is not None:
        raise error
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as integrity_error:
        error = _name_taken_error(template.organisation_id, template.name, template.pk)
        if error is not None:
            raise error from integrity_error
        raise


def pack_template_create(
    *, organisation: Organisation, by: User | None, values: Mapping[str, Any], request: HttpRequest | None = None
) -> PackTemplate:
    """Raises ValidationError (by field) and saves nothing when any field is refused."""
    with transaction.atomic():
        cleaned = _checked_values(values, organisation_id=organisation.pk)
        template = PackTemplate(organisation=organisation, updated_by=by, **cleaned)
        _save(template)
        audit_record(
            action=AuditEvent.Action.CREATE,
            request=request,
            actor=by,
            obj=template,
            object_type=PACK_TEMPLATE_RECORD_TYPE,
            changes=changes_between({}, _snapshot(template)),
        )
    return template


def pack_template_update(
    *, template: PackTemplate, by: User | None, values: Mapping[str, Any], request: HttpRequest | None = None
) -> PackTemplate:
    with transaction.atomic():
        current = PackTemplate.objects.select_for_update().get(pk=template.pk)
        cleaned = _checked_values({**_snapshot(current), **values}, organisation_id=current.organisation_id)
        before = _snapshot(current)
        for field, value in cleaned.items():
            setattr(current, field, value)
        changes = changes_between(before, _snapshot(current))
        if changes:
            current.updated_by = by
            _save(current)
            audit_record(
                action=AuditEvent.Action.UPDATE,
                request=request,
                actor=by,
                obj=current,
                object_type=PACK_TEMPLATE_RECORD_TYPE,
                changes=changes,
            )
    return current


def _copy_name(organisation_id: int, name: str) -> str:
    taken = {
        existing.lower()
        for existing in PackTemplate.objects.filter(
            organisation_id=organisation_id, name__istartswith=f"{name} (copy"
        ).values_list("name", flat=True)
    }
    number = 1
    while True:
        candidate = f"{name} (copy)" if number == 1 else f"{name} (copy {number})"
        if candidate.lower() not in taken:
            return candidate[:120]
        number += 1


def pack_template_duplicate(
    *, template: PackTemplate, by: User | None, request: HttpRequest | None = None
) -> PackTemplate:
    """A copy to adapt, named “… (copy)”; the original is untouched."""
    with transaction.atomic():
        copy = PackTemplate(
            organisation_id=template.organisation_id,
            updated_by=by,
            **{field: getattr(template, field) for field in TEMPLATE_FIELDS if field != "name"},
        )
        copy.name = _copy_name(template.organisation_id, template.name)
        _save(copy)
        audit_record(
            action=AuditEvent.Action.CREATE,
            request=request,
            actor=by,
            obj=copy,
            object_type=PACK_TEMPLATE_RECORD_TYPE,
            changes={"copied_from": [None, str(template.public_id)], "name": [None, copy.name]},
        )
    return copy


def _set_retired(
    *, template: PackTemplate, retired: bool, by: User | None, request: HttpRequest | None
) -> PackTemplate:
    with transaction.atomic():
        current = PackTemplate.objects.select_for_update().get(pk=template.pk)
        if current.is_retired == retired:
            return current
        current.retired_at = timezone.now() if retired else None
        current.updated_by = by
        current.save(update_fields=["retired_at", "updated_by", "updated_at"])
        audit_record(
            action=AuditEvent.Action.UPDATE,
            request=request,
            actor=by,
            obj=current,
            object_type=PACK_TEMPLATE_RECORD_TYPE,
            changes={"retired": [not retired, retired]},
        )
    return current


def pack_template_retire(
    *, template: PackTemplate, by: User | None, request: HttpRequest | None = None
) -> PackTemplate:
    """No longer offered for new packs; packs already made from it are unaffected."""
    return _set_retired(template=template, retired=True, by=by, request=request)


def pack_template_restore(
    *, template: PackTemplate, by: User | None, request: HttpRequest | None = None
) -> PackTemplate:
    return _set_retired(template=template, retired=False, by=by, request=request)


# ---------- Starter set ----------


@dataclass(frozen=True)
class StarterTemplatesInstall:
    templates_added: int
    education_added: int
    lines_skipped: int


def _options_for_catalogue(options: list[dict[str, Any]], codes: set[str]) -> tuple[list[dict[str, Any]], int]:
    """The starter options with lines whose code the catalogue lacks left out (and counted)."""
    kept: list[dict[str, Any]] = []
    skipped = 0
    for option in options:
        lines = [line for line in option.get("lines", []) if line["code"] in codes]
        skipped += len(option.get("lines", [])) - len(lines)
        kept.append({**option, "lines": lines} if "lines" in option else dict(option))
    return kept, skipped


def pack_templates_install_starter(
    *, organisation: Organisation, by: User | None, request: HttpRequest | None = None
) -> StarterTemplatesInstall:
    """Add the starter templates and education items the organisation does not have yet. Ones installed
    before, even edited, retired or renamed, are left as they are, so running it again changes nothing."""
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        codes = _active_codes(organisation.pk)
        have = set(
            PackTemplate.objects.filter(organisation=organisation)
            .exclude(starter_key="")
            .values_list("starter_key", flat=True)
        )
        names = {
            name.lower()
            for name in PackTemplate.objects.filter(organisation=organisation).values_list("name", flat=True)
        }
        added: list[PackTemplate] = []
        skipped = 0
        for starter in STARTER_TEMPLATES:
            # A practice's own template with the starter's name wins; the starter is not forced in beside it.
            if starter["key"] in have or starter["name"].lower() in names:
                continue
            options, skipped_here = _options_for_catalogue(starter["default_options"], codes)
            skipped += skipped_here
            values = {
                field: starter[field] for field in TEMPLATE_FIELDS if field != "default_options" and field in starter
            }
            template = PackTemplate(organisation=organisation, starter_key=starter["key"], updated_by=by)
            cleaned = _checked_values({**values, "default_options": options}, organisation_id=organisation.pk)
            for field, value in cleaned.items():
                setattr(template, field, value)
            template.save()
            added.append(template)
        education_added = _install_starter_education(organisation)
        if added or education_added:
            audit_record(
                action=AuditEvent.Action.CREATE,
                request=request,
                actor=by,
                object_type=PACK_TEMPLATE_RECORD_TYPE,
                object_label="Starter pack templates",
                changes={
                    "templates_added": [None, [template.name for template in added]],
                    "education_items_added": [None, education_added],
                },
            )
    return StarterTemplatesInstall(templates_added=len(added), education_added=education_added, lines_skipped=skipped)


def _install_starter_education(organisation: Organisation) -> int:
    procedures = {
        procedure.code: procedure
        for procedure in Procedure.objects.filter(
            organisation=organisation, code__in=[item["code"] for item in STARTER_EDUCATION]
        )
    }
    have = set(
        EducationItem.objects.filter(organisation=organisation)
        .exclude(starter_key="")
        .values_list("starter_key", flat=True)
    )
    new = [
        EducationItem(
            organisation=organisation,
            starter_key=f"procedure:{item['code']}",
            procedure=procedures[item["code"]],
            title=item["title"],
            body=item["body"],
        )
        for item in STARTER_EDUCATION
        if item["code"] in procedures and f"procedure:{item['code']}" not in have
    ]
    EducationItem.objects.bulk_create(new)
    return len(new)
