"""The follow-up rules, each on the right business day and not before, with the clock moved by
time-machine: a gentle reminder for a pack not opened, Follow-up required and a call task for a
pack viewed without a reply, one message from the coordinator when there is still no reply, and
a check-in when the date to look again comes. The clinic is Harbour Dental Sydney; 2 March 2027
is a Tuesday and Sydney is on daylight time (UTC+11)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from clearplan.audit.models import AuditEvent
from clearplan.packs.links import link_for_token, link_is_usable
from clearplan.pipeline.followup import follow_up_runs_for, rules_for, settings_for
from clearplan.pipeline.models import CaseTask, FollowUpRule, FollowUpRun, FollowUpSettings, Stage, StageMove
from clearplan.pipeline.stages import stage_move
from clearplan.pipeline.tests.followup_support import (
    PUBLIC,
    _messages_can_go,  # noqa: F401  (an autouse fixture)
    follow_up_messages,
    link_in,
    local,
    open_link,
    pack_message,
    round_at,
    runs,
    send_pack,
)

SYDNEY = "Australia/Sydney"
pytestmark = pytest.mark.django_db


def sydney(text: str) -> dt.datetime:
    return local(SYDNEY, text)


@pytest.fixture
def sent(sendable_case, coordinator):
    """The pack went by SMS and email on Tuesday 2 March 2027 at 10:00."""
    return send_pack(sendable_case, coordinator, sydney("2027-03-02 10:00"))


# ---------- Not opened → a gentle reminder ----------


def test_a_pack_not_opened_gets_a_gentle_reminder_one_business_day_later_and_not_before(
    sent, sendable_case, coordinator, clinic
):
    assert round_at(sydney("2027-03-02 16:00")) == 0
    assert round_at(sydney("2027-03-03 09:59")) == 0
    assert follow_up_messages(sendable_case) == []

    assert round_at(sydney("2027-03-03 10:00")) == 1

    sms, email = sorted(follow_up_messages(sendable_case), key=lambda message: message.channel, reverse=True)
    assert (sms.channel, sms.to_address) == ("sms", "+61412345678")
    assert sms.body.startswith(
        f"Hi Mere, a gentle reminder from {clinic.name} that your treatment pack is ready whenever suits you:\n\n"
        f"{PUBLIC}/p/"
    )
    assert (email.channel, email.to_address) == ("email", "mere.ngata@example.com")
    assert email.subject == f"Your treatment pack from {clinic.name}"
    assert "Kind regards,\nChloé O'Connor" in email.body
    assert "Open your treatment pack" in email.html
    for message in (sms, email):
        assert (message.purpose, message.case, message.sender, message.status) == (
            "follow_up",
            sendable_case,
            coordinator,
            "queued",
        )
    [run] = runs(sendable_case)
    assert (run.kind, run.outcome, run.anchor) == ("not_opened", "messaged", f"send:{sent.pk}")
    assert run.detail == "Reminder sent by SMS and email in the name of Chloé O'Connor."
    assert run.message in (sms, email)
    sendable_case.progress.refresh_from_db()
    assert sendable_case.progress.automatic_contacts == 1
    assert sendable_case.progress.stage == Stage.SENT


def test_the_reminder_carries_a_working_link_and_the_first_link_keeps_working(sent, sendable_case):
    round_at(sydney("2027-03-03 10:00"))
    reminder = follow_up_messages(sendable_case)[0]
    first_link = link_in(pack_message(sent))
    new_link = link_in(reminder)
    assert new_link != first_link
    # Both links are the same patient's, and neither is revoked.
    for path in (first_link, new_link):
        link = link_for_token(path.removeprefix("/p/"))
        assert link.case == sendable_case
        assert link_is_usable(link)

    page = open_link(new_link, sendable_case, sydney("2027-03-03 12:00"))
    assert page.status_code == 200
    assert "Option A: crown" in page.content.decode()
    assert open_link(first_link, sendable_case, sydney("2027-03-03 12:05")).status_code == 200


def test_once_the_pack_is_opened_no_reminder_goes(sent, sendable_case):
    open_link(link_in(pack_message(sent)), sendable_case, sydney("2027-03-02 20:00"))
    assert round_at(sydney("2027-03-03 10:00")) == 0
    assert follow_up_messages(sendable_case) == []


def test_a_reminder_due_at_nine_on_friday_evening_waits_for_monday_morning(sendable_case, coordinator):
    # Sent Thursday 4 March at 21:00 (a scheduled evening send), due Friday 21:00.
    send_pack(sendable_case, coordinator, sydney("2027-03-04 21:00"))
    for moment in ("2027-03-05 21:00", "2027-03-06 10:00", "2027-03-07 12:00", "2027-03-08 08:59"):
        assert round_at(sydney(moment)) == 0, moment
    assert round_at(sydney("2027-03-08 09:00")) == 1
    assert len(follow_up_messages(sendable_case)) == 2  # SMS and email, once


def test_a_reminder_due_before_contact_hours_waits_until_they_start(sendable_case, coordinator):
    send_pack(sendable_case, coordinator, sydney("2027-03-02 07:30"))
    assert round_at(sydney("2027-03-03 07:30")) == 0
    assert round_at(sydney("2027-03-03 08:59")) == 0
    assert round_at(sydney("2027-03-03 09:00")) == 1


# ---------- Viewed, no response → Follow-up required and a call task ----------


def test_a_pack_viewed_without_a_reply_moves_to_follow_up_required_with_a_call_task_three_business_days_later(
    sent, sendable_case, coordinator
):
    # Viewed on Wednesday at 19:40; three business days later is Monday 19:40, outside contact
    # hours, so the case moves on Tuesday morning.
    open_link(link_in(pack_message(sent)), sendable_case, sydney("2027-03-03 19:40"))
    assert round_at(sydney("2027-03-08 18:00")) == 0
    assert round_at(sydney("2027-03-09 08:59")) == 0

    assert round_at(sydney("2027-03-09 09:00")) == 1

    sendable_case.progress.refresh_from_db()
    assert sendable_case.progress.stage == Stage.FOLLOW_UP
    move = StageMove.objects.get(case=sendable_case, to_stage=Stage.FOLLOW_UP)
    opened_link = sendable_case.pack_links.get(first_opened_at__isnull=False)
    assert (move.from_stage, move.cause, move.moved_by) == (Stage.SENT, "follow_up_rule", None)
    assert move.event_key == f"follow_up:{sendable_case.public_id}:opened:{opened_link.pk}"
    [task] = CaseTask.objects.filter(case=sendable_case, kind=CaseTask.Kind.FOLLOW_UP)
    assert task.title == "Call Mere about their treatment plan"
    assert task.assigned_to == coordinator
    assert task.due_on == dt.date(2027, 3, 9)
    assert not task.is_done
    [run] = runs(sendable_case)
    assert (run.kind, run.outcome) == ("viewed_no_response", "moved")
    assert run.detail == (
        "Moved to Follow-up required, with a task for Chloé O'Connor: “Call Mere about their treatment plan”."
    )
    # No message to the patient: a person calls.
    assert follow_up_messages(sendable_case) == []


def test_the_call_task_goes_to_the_dentist_when_the_case_has_no_coordinator(sent, sendable_case, dentist):
    type(sendable_case).objects.filter(pk=sendable_case.pk).update(coordinator=None)
    open_link(link_in(pack_message(sent)), sendable_case, sydney("2027-03-02 12:00"))
    round_at(sydney("2027-03-05 12:00"))
    assert CaseTask.objects.get(case=sendable_case, kind=CaseTask.Kind.FOLLOW_UP).assigned_to == dentist


# ---------- Still no response → one message from the coordinator ----------


def test_still_no_response_after_seven_business_days_sends_one_message_from_the_coordinator(
    sent, sendable_case, coordinator, clinic
):
    open_link(link_in(pack_message(sent)), sendable_case, sydney("2027-03-02 18:30"))
    assert round_at(sydney("2027-03-08 09:00")) == 1  # the call task, Monday morning
    assert round_at(sydney("2027-03-11 09:59")) == 0
    assert follow_up_messages(sendable_case) == []

    # Tuesday 2 March + 7 business days = Thursday 11 March, 10:00.
    assert round_at(sydney("2027-03-11 10:00")) == 1

    sms, email = sorted(follow_up_messages(sendable_case), key=lambda message: message.channel, reverse=True)
    assert sms.body.startswith(f"Hi Mere, it's Chloé O'Connor from {clinic.name}. I hope your treatment pack")
    assert "I'm happy to talk them through" in sms.body
    assert email.subject == "Any questions about your treatment pack?"
    assert "There's no rush. Take the time you need." in email.body
    assert email.body.count("Chloé O'Connor") == 1
    assert {sms.sender, email.sender} == {coordinator}
    run = FollowUpRun.objects.get(case=sendable_case, kind="no_response_message")
    assert run.outcome == "messaged"
    assert round_at(sydney("2027-03-12 10:00")) == 0
    assert len(follow_up_messages(sendable_case)) == 2


def test_no_message_when_the_team_already_did_the_call_task(sent, sendable_case, coordinator):
    open_link(link_in(pack_message(sent)), sendable_case, sydney("2027-03-02 11:00"))
    round_at(sydney("2027-03-05 11:00"))
    task = CaseTask.objects.get(case=sendable_case, kind=CaseTask.Kind.FOLLOW_UP)
    task.done_at, task.done_by = sydney("2027-03-05 15:00"), coordinator
    task.save()

    assert round_at(sydney("2027-03-11 10:00")) == 1

    assert follow_up_messages(sendable_case) == []
    run = FollowUpRun.objects.get(case=sendable_case, kind="no_response_message")
    assert run.outcome == "skipped"
    assert run.detail == ("No message: Chloé O'Connor already followed up (“Call Mere about their treatment plan”).")


# ---------- Not proceeding for now → back to follow-up on the date ----------


def _not_proceeding(case, by, *, on: str, look_again: dt.date):
    import time_machine

    with time_machine.travel(sydney(on), tick=False):
        return stage_move(case=case, to_stage=Stage.NOT_PROCEEDING, by=by, reason="cost", look_again_on=look_again)


def test_the_date_to_look_again_brings_the_case_back_with_a_check_in_task(sent, sendable_case, coordinator):
    move = _not_proceeding(sendable_case, coordinator, on="2027-03-02 15:00", look_again=dt.date(2027, 6, 1))
    assert round_at(sydney("2027-05-31 17:59")) == 0

    assert round_at(sydney("2027-06-01 09:00")) == 1

    sendable_case.progress.refresh_from_db()
    assert sendable_case.progress.stage == Stage.FOLLOW_UP
    back = StageMove.objects.get(case=sendable_case, cause="look_again")
    assert back.event_key == f"follow_up:{sendable_case.public_id}:look_again:{move.pk}"
    task = CaseTask.objects.get(case=sendable_case, kind=CaseTask.Kind.FOLLOW_UP)
    assert (task.title, task.assigned_to, task.due_on) == (
        "Check in with Mere about their treatment plan",
        coordinator,
        dt.date(2027, 6, 1),
    )
    # The rule has no words by default: a person checks in, no message goes.
    assert follow_up_messages(sendable_case) == []
    assert runs(sendable_case)[-1].outcome == "moved"


def test_with_words_the_look_again_rule_also_sends_a_check_in_message(sent, sendable_case, coordinator, clinic):
    rule = rules_for(clinic)["look_again"]
    rule.sms_text = "Hi {patient_first_name}, it's {team_member_name}. Your plan is here whenever you're ready:"
    rule.email_subject = "Your treatment pack from {clinic_name}"
    rule.email_text = "Hi {patient_first_name},\n\nYour plan is here whenever you're ready.\n\n{team_member_name}"
    rule.save()
    _not_proceeding(sendable_case, coordinator, on="2027-03-02 15:00", look_again=dt.date(2027, 6, 1))

    round_at(sydney("2027-06-01 09:30"))

    sms = next(message for message in follow_up_messages(sendable_case) if message.channel == "sms")
    assert sms.body.startswith("Hi Mere, it's Chloé O'Connor. Your plan is here whenever you're ready:\n\n")
    run = runs(sendable_case)[-1]
    assert run.outcome == "moved"
    assert run.message is not None
    assert "Check-in message sent by SMS and email" in run.detail


# ---------- A clear record ----------


def test_each_application_is_on_the_case_record_and_in_the_audit_log(sent, sendable_case):
    round_at(sydney("2027-03-03 10:00"))
    [entry] = follow_up_runs_for(sendable_case)
    assert (entry.rule, entry.outcome, entry.outcome_label) == ("Not opened", "messaged", "Message sent")
    assert entry.at.isoformat() == "2027-03-03T10:00:00+11:00"
    assert entry.message_id is not None
    event = AuditEvent.objects.filter(object_id=str(sendable_case.public_id), changes__has_key="follow-up rule").get()
    assert event.actor is None
    assert event.changes["outcome"] == [None, "Message sent"]


# ---------- The clinic's settings ----------


def test_a_clinic_without_rules_gets_the_calm_defaults(clinic):
    assert not FollowUpRule.objects.filter(clinic=clinic).exists()
    rules = rules_for(clinic)
    assert list(rules) == ["look_again", "viewed_no_response", "not_opened", "no_response_message"]
    assert [(rule.kind, rule.after_business_days) for rule in rules.values() if rule.kind != "look_again"] == [
        ("viewed_no_response", 3),
        ("not_opened", 1),
        ("no_response_message", 7),
    ]
    assert FollowUpRule.objects.filter(clinic=clinic).count() == 4
    assert rules_for(clinic) == rules  # the second time finds them
    for rule in rules.values():
        for words in (rule.sms_text, rule.email_text):
            for pushy in ("urgent", "limited", "act now", "don't miss", "!"):
                assert pushy not in words.lower()


def test_the_settings_are_the_defaults_until_saved(clinic):
    settings = settings_for(clinic)
    assert settings.pk is None
    assert (settings.automatic_follow_up, settings.max_automatic_contacts, settings.business_days) == (
        True,
        2,
        "12345",
    )
    assert not FollowUpSettings.objects.exists()


def test_a_contact_window_that_ends_before_it_starts_is_refused_by_the_database(clinic):
    with pytest.raises(ValidationError):
        FollowUpSettings(clinic=clinic, contact_from=dt.time(18), contact_until=dt.time(9)).full_clean()
