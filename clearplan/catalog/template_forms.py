"""The pack template form. Questions are typed as "Q:" and "A:" lines, which staff can write without
learning a format; the options the composer starts from are kept as JSON for now, as only a manager
setting up templates touches them."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from clearplan.catalog.placeholders import placeholder_problem
from clearplan.catalog.template_services import EMAIL_SUBJECT_MAX, REQUIRED_TEXT, SMS_MESSAGE_MAX
from clearplan.plans.models import PlanType

TEXT_FIELDS = (
    "cover_message",
    "what_we_found",
    "your_options_intro",
    "costs_intro",
    "next_steps",
    "aftercare",
    "sending_script",
    "sms_message",
    "email_subject",
    "email_message",
)


def questions_to_text(questions: list[dict[str, str]]) -> str:
    return "\n\n".join(f"Q: {item['question']}\nA: {item['answer']}" for item in questions)


def questions_from_text(text: str) -> list[dict[str, str]]:
    """Blocks of "Q: …" then "A: …" (answers may run over several lines). Raises ValidationError."""
    questions: list[dict[str, str]] = []
    current: dict[str, list[str]] | None = None
    part = ""
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if line[:2].upper() == "Q:":
            current = {"question": [line[2:].strip()], "answer": []}
            questions.append(current)  # type: ignore[arg-type]
            part = "question"
        elif line[:2].upper() == "A:":
            if current is None or current["answer"]:
                raise ValidationError("Each answer (“A:”) must follow its own question (“Q:”).")
            current["answer"].append(line[2:].strip())
            part = "answer"
        elif line:
            if current is None:
                raise ValidationError("Start each question on a new line with “Q:”, and its answer with “A:”.")
            current[part].append(line)
    result = []
    for number, block in enumerate(questions, start=1):
        item: dict[str, Any] = block
        question = " ".join(item["question"]).strip()
        answer = "\n".join(item["answer"]).strip()
        if not answer:
            raise ValidationError(f"Question {number} (“{question}”) has no answer. Add a line starting with “A:”.")
        result.append({"question": question, "answer": answer})
    return result


def statements_from_text(text: str) -> list[str]:
    """One consent statement a line; blank lines are ignored."""
    return [line.strip() for line in (text or "").replace("\r\n", "\n").split("\n") if line.strip()]


class PackTemplateForm(forms.Form):
    name = forms.CharField(max_length=120, required=False, label="Name")
    plan_type = forms.ChoiceField(choices=PlanType.choices, label="Plan type")
    treatments = forms.CharField(
        max_length=200,
        required=False,
        label="Treatments it covers",
        help_text="Words that help the team find it, for example “crown, cracked tooth”.",
    )
    cover_message = forms.CharField(required=False, label="Cover message", widget=forms.Textarea(attrs={"rows": 7}))
    what_we_found = forms.CharField(required=False, label="What we found", widget=forms.Textarea(attrs={"rows": 4}))
    your_options_intro = forms.CharField(
        required=False, label="Your options (introduction)", widget=forms.Textarea(attrs={"rows": 3})
    )
    costs_intro = forms.CharField(
        required=False, label="Costs (introduction)", widget=forms.Textarea(attrs={"rows": 3})
    )
    next_steps = forms.CharField(required=False, label="Next steps", widget=forms.Textarea(attrs={"rows": 3}))
    questions = forms.CharField(
        required=False,
        label="Questions people often ask",
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Start each question with “Q:” and its answer with “A:” on the next line.",
    )
    aftercare = forms.CharField(
        required=False, label="Caring for your teeth afterwards", widget=forms.Textarea(attrs={"rows": 4})
    )
    sending_script = forms.CharField(
        required=False,
        label="What to say when sending",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For the team member, not shown to the patient.",
    )
    sms_message = forms.CharField(
        required=False,
        label="Text message",
        max_length=SMS_MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent with the pack by SMS. The link to the pack is added after it. "
        "The team member can change the words before sending.",
    )
    email_subject = forms.CharField(
        required=False, label="Email subject", max_length=EMAIL_SUBJECT_MAX, help_text="Keep it to one line."
    )
    email_message = forms.CharField(
        required=False,
        label="Email",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Sent with the pack by email, followed by a button “Open your treatment pack”. "
        "Keep treatment details for the pack itself.",
    )
    consent_statements = forms.CharField(
        required=False,
        label="Consent statements",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One statement per line. The patient ticks each one before signing.",
    )
    default_options = forms.CharField(
        required=False,
        label="Options to start from",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code-input"}),
        help_text="The composer pre-fills a new pack with these, for example "
        '[{"title": "Option A: implant", "recommended": true, "lines": [{"code": "661", "quantity": 1, "phase": 2}]}, '
        '{"title": "No treatment — what to expect", "kind": "no_treatment"}].',
    )

    # The service checks these too, for templates saved other ways than this form.
    REQUIRED = (
        "name",
        "cover_message",
        "what_we_found",
        "next_steps",
        "sending_script",
        "sms_message",
        "email_subject",
        "email_message",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.REQUIRED:
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = REQUIRED_TEXT[name]

    @classmethod
    def initial_for(cls, content: dict[str, Any]) -> dict[str, Any]:
        initial = dict(content)
        initial["questions"] = questions_to_text(content.get("questions") or [])
        initial["consent_statements"] = "\n".join(content.get("consent_statements") or [])
        initial["default_options"] = json.dumps(content.get("default_options") or [], indent=2, ensure_ascii=False)
        return initial

    def clean_questions(self) -> list[dict[str, str]]:
        return questions_from_text(self.cleaned_data.get("questions") or "")

    def clean_consent_statements(self) -> list[str]:
        statements = statements_from_text(self.cleaned_data.get("consent_statements") or "")
        if not statements:
            raise ValidationError("Write at least one statement the patient agrees to by signing.")
        problems = []
        for number, statement in enumerate(statements, start=1):
            problem = placeholder_problem(statement)
            if problem:
                problems.append(f"Line {number}: {problem}")
        if problems:
            raise ValidationError(problems)
        return statements

    def clean_default_options(self) -> Any:
        text = (self.cleaned_data.get("default_options") or "").strip()
        if not text:
            return []
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(
                f"This is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg.lower()})."
            ) from error

    def clean(self) -> dict[str, Any]:
        # Checked here as well as in the service, so every problem shows at once even when the
        # questions or options cannot be read.
        cleaned = super().clean() or {}
        for name in TEXT_FIELDS:
            problem = placeholder_problem(cleaned.get(name) or "")
            if problem:
                self.add_error(name, problem)
        return cleaned

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)

    def content_for_preview(self) -> dict[str, Any]:
        """What has been typed so far, read leniently, so the preview can follow along."""
        data = {name: self.data.get(name, "") for name in self.fields}
        try:
            data["questions"] = questions_from_text(data["questions"])
        except ValidationError:
            data["questions"] = []
        data["consent_statements"] = statements_from_text(data["consent_statements"])
        try:
            data["default_options"] = json.loads(data["default_options"] or "[]")
        except json.JSONDecodeError:
            data["default_options"] = []
        return data
