"""Forms for tasks and the clinic's checklist steps. They read what was typed; the services in
task_services decide whether it makes sense, and their messages are put back at the field."""

from __future__ import annotations

from typing import Any

from django import forms

from clearplan.accounts.models import Clinic, User
from clearplan.pipeline import checklist
from clearplan.pipeline.models import CaseTask
from clearplan.pipeline.task_services import MAX_TITLE, Assignee
from clearplan.plans.forms import DateInput
from clearplan.plans.selectors import staff_at

ROLE_PREFIX = "role:"
PERSON_PREFIX = "person:"


def assignee_choices(people: list[User]) -> list[tuple[str, Any]]:
    roles = [(ROLE_PREFIX + value, label) for value, label in checklist.ROLE_CHOICES]
    named = [(PERSON_PREFIX + str(person.public_id), person.display_name) for person in people]
    return [("Anyone who…", roles), ("One person", named)] if named else roles


def assignee_value(task: CaseTask) -> str:
    if task.assigned_to is not None:
        return PERSON_PREFIX + str(task.assigned_to.public_id)
    return ROLE_PREFIX + task.role


class TaskForm(forms.Form):
    title = forms.CharField(
        label="Task",
        max_length=MAX_TITLE,
        error_messages={"required": "Say what needs doing.", "max_length": f"Keep it under {MAX_TITLE} characters."},
    )
    assignee = forms.ChoiceField(label="Who does it", error_messages={"invalid_choice": "Choose who does this task."})
    due_on = forms.DateField(
        label="Due", required=False, widget=DateInput, error_messages={"invalid": "Enter a date, e.g. 18/09/2025."}
    )

    def __init__(self, *args: Any, clinic: Clinic, with_title: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = list(staff_at(clinic))
        self.fields["assignee"].choices = assignee_choices(self.people)
        if not with_title:
            del self.fields["title"]

    def chosen_assignee(self) -> Assignee:
        value = self.cleaned_data["assignee"]
        if value.startswith(PERSON_PREFIX):
            key = value[len(PERSON_PREFIX) :]
            person = next((p for p in self.people if str(p.public_id) == key), None)
            return Assignee(person=person, role="")
        return Assignee(role=value[len(ROLE_PREFIX) :])


class StepForm(forms.Form):
    """One step's settings; the page shows one per step, prefixed with the step's key."""

    enabled = forms.BooleanField(label="On", required=False)
    # Blank is a choice: the case's own treatment coordinator.
    role = forms.ChoiceField(
        label="Who does it",
        choices=checklist.ROLE_CHOICES,
        required=False,
        error_messages={"invalid_choice": "Choose who does it."},
    )
    due_after_days = forms.IntegerField(
        label="Due after (days)",
        required=False,
        min_value=0,
        max_value=checklist.MAX_DUE_AFTER_DAYS,
        error_messages={
            "invalid": "Enter a whole number of days.",
            "min_value": "Enter 0 or more days.",
            "max_value": f"Choose a number from 0 to {checklist.MAX_DUE_AFTER_DAYS}.",
        },
    )

    def __init__(self, *args: Any, step: checklist.StepDefinition, **kwargs: Any) -> None:
        super().__init__(*args, prefix=step.key, **kwargs)
        self.step = step
        if not step.has_due_date:
            del self.fields["due_after_days"]
