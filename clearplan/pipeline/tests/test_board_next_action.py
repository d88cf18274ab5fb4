"""A card's "Next" is what a person should do next: a follow-up call before an overdue checklist step,
and steps people tick before ones Clearplan ticks when they happen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clearplan.pipeline.models import CaseTask, Stage
from clearplan.pipeline.selectors import cards_for
from clearplan.pipeline.tests.board_fixtures import make_case

pytestmark = pytest.mark.django_db


def task(case, title, *, kind=CaseTask.Kind.CHECKLIST, automatic=False, due_days=0):
    return CaseTask.objects.create(
        case=case,
        title=title,
        kind=kind,
        automatic=automatic,
        due_on=timezone.localdate() + dt.timedelta(days=due_days),
    )


def next_action(case):
    (card,) = cards_for([case.pk], case.clinic)
    return card.next_task_title


def test_a_follow_up_call_comes_before_an_overdue_checklist_step(clinic, dentist):
    case = make_case(clinic=clinic, dentist=dentist, stage=Stage.FOLLOW_UP)
    CaseTask.objects.filter(case=case).delete()
    task(case, "Check the patient’s health fund or insurance cover", due_days=-10)
    task(case, "Call Mere about their treatment plan", kind=CaseTask.Kind.FOLLOW_UP, due_days=0)
    assert next_action(case) == "Call Mere about their treatment plan"


def test_a_step_people_tick_comes_before_one_clearplan_ticks(clinic, dentist):
    case = make_case(clinic=clinic, dentist=dentist, stage=Stage.SENT)
    CaseTask.objects.filter(case=case).delete()
    task(case, "Patient signs the treatment consent", automatic=True, due_days=-5)
    task(case, "Check the patient’s health fund or insurance cover", due_days=2)
    assert next_action(case) == "Check the patient’s health fund or insurance cover"


def test_with_only_steps_clearplan_ticks_the_first_due_is_shown(clinic, dentist):
    case = make_case(clinic=clinic, dentist=dentist, stage=Stage.SENT)
    CaseTask.objects.filter(case=case).delete()
    task(case, "Book the treatment and send the confirmation", automatic=True, due_days=3)
    task(case, "Patient signs the treatment consent", automatic=True, due_days=1)
    assert next_action(case) == "Patient signs the treatment consent"
