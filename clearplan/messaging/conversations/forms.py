"""The inbox's forms: the composer (a reply or an internal note), assigning, snoozing, and the
clinic's saved replies. Each checks what it can at the field; the services check the rest."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError

from clearplan.messaging.conversations.services import WORDS_MAX_CHARS, IncomingAttachment
from clearplan.messaging.models import SavedReply

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from clearplan.accounts.models import Clinic, User
    from clearplan.messaging.conversations.services import ReplyRoute

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# What a file's first bytes say it is; the name and the browser's word for it are not trusted.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)


def attachment_from_upload(upload: UploadedFile) -> IncomingAttachment:
    """The upload as an attachment, or a ValidationError saying what to do instead."""
    if upload.size is not None and upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError("This file is larger than 10 MB. Send a smaller copy.", code="too_big")
    content = upload.read(ATTACHMENT_MAX_BYTES + 1)
    if len(content) > ATTACHMENT_MAX_BYTES:
        raise ValidationError("This file is larger than 10 MB. Send a smaller copy.", code="too_big")
    if not content:
        raise ValidationError("This file is empty.", code="empty")
    for signature, content_type in _SIGNATURES:
        if content.startswith(signature):
            name = (upload.name or "attachment").replace("\\", "/").rsplit("/", 1)[-1][:150] or "attachment"
            return IncomingAttachment(name=name, content=content, content_type=content_type)
    raise ValidationError("Attach a photo (JPEG or PNG) or a PDF document.", code="type")


class ComposerForm(forms.Form):
    """A reply to the patient (kind "reply") or an internal note (kind "note")."""

    kind = forms.ChoiceField(choices=[("reply", "Reply"), ("note", "Internal note")], initial="reply")
    channel = forms.ChoiceField(label="Send by", choices=[], required=False)
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=WORDS_MAX_CHARS,
        error_messages={"max_length": f"Please keep a message to {WORDS_MAX_CHARS} characters."},
    )
    attachment = forms.FileField(label="Attach a file", required=False)
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, routes: dict[str, ReplyRoute], default_channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {"sms": "SMS", "email": "Email"}
        choices = []
        for channel, route in routes.items():
            if route.usable:
                label = f"{labels.get(channel, channel)} to {route.masked}" if route.masked else labels[channel]
            else:
                label = f"{labels.get(channel, channel)} — cannot be used"
            choices.append((channel, label))
        field = self.fields["channel"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        self.fields["channel"].initial = default_channel
        self.routes = routes

    def clean_attachment(self) -> IncomingAttachment | None:
        upload = self.cleaned_data.get("attachment")
        if not upload:
            return None
        return attachment_from_upload(upload)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        body = (cleaned.get("body") or "").strip()
        if kind == "reply" and not body and "body" not in self.errors:
            self.add_error("body", "Write the message first.")
        if kind == "note" and not body and not cleaned.get("attachment") and "body" not in self.errors:
            self.add_error("body", "Write the note first.")
        return cleaned


class AssignForm(forms.Form):
    assigned_to = forms.ChoiceField(label="Assigned to", required=False)

    def __init__(self, *args: Any, team: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assigned_to"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "No one")] + [(str(user.public_id), user.display_name) for user in team]
        self.team = {str(user.public_id): user for user in team}

    def clean_assigned_to(self) -> User | None:
        value = self.cleaned_data.get("assigned_to") or ""
        if not value:
            return None
        if value not in self.team:
            raise ValidationError("Choose someone who works at this clinic.", code="invalid")
        return self.team[value]


class SnoozeForm(forms.Form):
    """Later today, tomorrow morning, next Monday morning, or a chosen date and time, all in
    the clinic's time zone."""

    CHOICES = [
        ("later_today", "Later today (5 pm)"),
        ("tomorrow", "Tomorrow morning (8 am)"),
        ("next_week", "Next Monday morning (8 am)"),
        ("custom", "Choose a date and time"),
    ]
    until = forms.ChoiceField(label="Snooze until", choices=CHOICES, widget=forms.RadioSelect)
    on = forms.DateField(label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(label="Time", required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args: Any, clinic: Clinic, now: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.now = now

    def clean(self) -> dict[str, Any]:
        from clearplan.lib.clinic_time import clinic_zone

        cleaned = super().clean() or {}
        zone = clinic_zone(self.clinic)
        local_now = self.now.astimezone(zone)
        today = local_now.date()
        choice = cleaned.get("until")
        when: dt.datetime | None = None
        if choice == "later_today":
            when = dt.datetime.combine(today, dt.time(17, 0), tzinfo=zone)
            if when <= local_now:
                self.add_error("until", "It is already after 5 pm. Choose tomorrow morning or a time.")
                return cleaned
        elif choice == "tomorrow":
            when = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(8, 0), tzinfo=zone)
        elif choice == "next_week":
            days = 7 - today.weekday()
            when = dt.datetime.combine(today + dt.timedelta(days=days), dt.time(8, 0), tzinfo=zone)
        elif choice == "custom":
            on, at = cleaned.get("on"), cleaned.get("at")
            if on is None:
                self.add_error("on", "Choose the date to bring this conversation back.")
            if at is None:
                at = dt.time(8, 0)
            if on is not None:
                when = dt.datetime.combine(on, at, tzinfo=zone)
        cleaned["when"] = when
        return cleaned


class SavedReplyForm(forms.ModelForm):
    class Meta:
        model = SavedReply
        fields = ["title", "body"]
        labels = {"title": "Name", "body": "Message"}
        help_texts = {
            "title": "What the team picks from the list, for example “Running late”.",
            "body": "You can use {patient_first_name}, {clinic_name}, {clinic_phone}, {dentist_name} and "
            "{team_member_name}; they are filled in for the patient.",
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}
        error_messages = {
            "title": {"required": "Give the quick reply a name."},
            "body": {"required": "Write the message."},
        }

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic

    def clean_title(self) -> str:
        title = " ".join((self.cleaned_data.get("title") or "").split())
        taken = SavedReply.objects.filter(clinic=self.clinic, title__iexact=title)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError("There is already a quick reply with this name.", code="taken")
        return title

    def clean_body(self) -> str:
        body = (self.cleaned_data.get("body") or "").strip()
        if len(body) > WORDS_MAX_CHARS:
            raise ValidationError(f"Please keep a quick reply to {WORDS_MAX_CHARS} characters.", code="too_long")
        return body
