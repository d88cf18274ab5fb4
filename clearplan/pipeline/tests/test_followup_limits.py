"""Follow-up is calm and careful: business days counted on the clinic's own clock across daylight
saving in Sydney, New York and London; at most the clinic's number of automatic messages and never
two on one day; nothing more once the patient replies, declines, books or opts out; each message
on the channels the patient still agrees to; and each rule applied once however often the worker
runs, catching up after a stop but not messaging about cases long past."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clearplan.packs.models import PackSession, Recipient
from clearplan.packs.responses import response_record
from clearplan.pipeline import events
from clearplan.pipeline.followup import apply_due_rules, rules_for
from clearplan.pipeline.models import Booking, CaseTask, FollowUpRun, FollowUpSettings, Stage
from clearplan.pipeline.tests.followup_support import (
    _messages_can_go,  # noqa: F401  (an autouse fixture)
    follow_up_messages,
    link_in,
    local,
    move_clinic,
    open_link,
    pack_message,
    round_at,
    runs,
    send_pack,
)

pytestmark = pytest.mark.django_db


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def stage(case) -> str:
    case.progress.refresh_from_db()
    return case.progress.stage


# ---------- Daylight saving: the same clock time, whatever the offset did ----------


def test_sydney_spring_forward_a_reminder_one_business_day_after_friday_10_am_goes_at_monday_10_am(
    sendable_case, coordinator
):
    # Friday 1 October 2027 10:00 AEST is 00:00 UTC. The clocks go forward on Sunday 3 October,
    # so Monday 10:00 AEDT is 23:00 UTC on Sunday: 71 hours later, not 72.
    send_pack(sendable_case, coordinator, local("Australia/Sydney", "2027-10-01 10:00"))
    assert round_at(utc("2027-10-03 22:59")) == 0
    assert round_at(utc("2027-10-03 23:00")) == 1
    assert runs(sendable_case)[0].kind == "not_opened"


def test_sydney_autumn_viewed_thursday_11_am_becomes_follow_up_required_tuesday_11_am(sendable_case, coordinator):
    # Thursday 1 April 2027 11:00 AEDT (00:00 UTC); the clocks go back on Sunday 4 April.
    # Three business days: Friday, Monday, Tuesday 6 April 11:00 AEST = 01:00 UTC.
    sent = send_pack(sendable_case, coordinator, local("Australia/Sydney", "2027-04-01 09:30"))
    open_link(link_in(pack_message(sent)), sendable_case, utc("2027-04-01 00:00"))
    round_at(utc("2027-04-02 00:00"))  # nothing: the pack was opened
    assert round_at(utc("2027-04-06 00:59")) == 0
    assert stage(sendable_case) == Stage.SENT
    assert round_at(utc("2027-04-06 01:00")) == 1
    assert stage(sendable_case) == Stage.FOLLOW_UP


def test_new_york_spring_forward_still_no_response_goes_seven_business_days_later_at_the_same_clock_time(
    sendable_case, coordinator
):
    move_clinic(sendable_case, "America/New_York")
    # Wednesday 10 March 2027 14:00 EST (19:00 UTC); the clocks go forward on Sunday 14 March.
    sent = send_pack(sendable_case, coordinator, local("America/New_York", "2027-03-10 14:00"))
    open_link(link_in(pack_message(sent)), sendable_case, local("America/New_York", "2027-03-10 15:00"))
    # Seven business days: Thu 11, Fri 12, Mon 15 … Fri 19 March, 14:00 EDT = 18:00 UTC.
    assert round_at(utc("2027-03-15 19:00")) == 1  # Follow-up required on Monday
    assert round_at(utc("2027-03-19 17:59")) == 0
    assert round_at(utc("2027-03-19 18:00")) == 1
    assert [run.kind for run in runs(sendable_case)] == ["viewed_no_response", "no_response_message"]


def test_new_york_autumn_viewed_friday_9_30_am_becomes_follow_up_required_wednesday_9_30_am(sendable_case, coordinator):
    move_clinic(sendable_case, "America/New_York")
    # Friday 5 November 2027 09:30 EDT (13:30 UTC); the clocks go back on Sunday 7 November.
    sent = send_pack(sendable_case, coordinator, local("America/New_York", "2027-11-05 09:00"))
    open_link(link_in(pack_message(sent)), sendable_case, utc("2027-11-05 13:30"))
    # Monday, Tuesday, Wednesday 10 November 09:30 EST = 14:30 UTC.
    assert round_at(utc("2027-11-10 14:29")) == 0
    assert round_at(utc("2027-11-10 14:30")) == 1
    assert stage(sendable_case) == Stage.FOLLOW_UP


def test_london_spring_forward_still_no_response_at_11_am_bst(sendable_case, coordinator):
    move_clinic(sendable_case, "Europe/London")
    # Wednesday 24 March 2027 11:00 GMT; the clocks go forward on Sunday 28 March.
    sent = send_pack(sendable_case, coordinator, local("Europe/London", "2027-03-24 11:00"))
    open_link(link_in(pack_message(sent)), sendable_case, local("Europe/London", "2027-03-24 12:00"))
    round_at(utc("2027-03-29 12:00"))  # Follow-up required
    # Seven business days: Thu 25, Fri 26, Mon 29, Tue 30, Wed 31, Thu 1, Fri 2 April 11:00 BST = 10:00 UTC.
    assert round_at(utc("2027-04-02 09:59")) == 0
    assert round_at(utc("2027-04-02 10:00")) == 1


def test_london_autumn_a_reminder_due_friday_evening_goes_at_9_am_gmt_on_monday(sendable_case, coordinator):
    move_clinic(sendable_case, "Europe/London")
    # Thursday 28 October 2027 19:00 BST: due Friday 19:00, after contact hours. The clocks go
    # back on Sunday 31 October, so Monday 09:00 GMT is 09:00 UTC (not 08:00).
    send_pack(sendable_case, coordinator, local("Europe/London", "2027-10-28 19:00"))
    assert round_at(utc("2027-10-29 18:00")) == 0
    assert round_at(utc("2027-11-01 08:00")) == 0
    assert round_at(utc("2027-11-01 08:59")) == 0
    assert round_at(utc("2027-11-01 09:00")) == 1


# ---------- Limits ----------

TUESDAY = "2027-03-02 10:00"


def sydney(text: str) -> dt.datetime:
    return local("Australia/Sydney", text)


def test_no_more_automatic_messages_than_the_clinic_allows(sendable_case, coordinator, clinic):
    FollowUpSettings.objects.create(clinic=clinic, max_automatic_contacts=1)
    send_pack(sendable_case, coordinator, sydney(TUESDAY))
    assert round_at(sydney("2027-03-03 10:00")) == 1  # the reminder: one message

    assert round_at(sydney("2027-03-11 10:00")) == 1

    assert len(follow_up_messages(sendable_case)) == 2  # the reminder's SMS and email only
    last = runs(sendable_case)[-1]
    assert (last.kind, last.outcome) == ("no_response_message", "skipped")
    assert last.detail == "Message not sent: the case has had its 1 automatic messages."


def test_never_two_messages_on_one_day_a_second_waits_for_the_next_business_day(sendable_case, coordinator, clinic):
    """The worker was stopped for two days: the reminder and the still-no-response message (after
    two business days at this clinic) are both due when it starts again."""
    rule = rules_for(clinic)["no_response_message"]
    rule.after_business_days = 2
    rule.save()
    send_pack(sendable_case, coordinator, sydney(TUESDAY))

    assert round_at(sydney("2027-03-04 10:30")) == 1
    assert [run.kind for run in runs(sendable_case)] == ["not_opened"]
    assert round_at(sydney("2027-03-04 16:00")) == 0

    assert round_at(sydney("2027-03-05 09:00")) == 1
    assert [run.kind for run in runs(sendable_case)] == ["not_opened", "no_response_message"]


def test_a_message_the_team_sent_today_holds_the_reminder_until_tomorrow(sendable_case, coordinator):
    send_pack(sendable_case, coordinator, sydney(TUESDAY))
    send_pack(sendable_case, coordinator, sydney("2027-03-03 09:30"))  # sent again this morning
    assert round_at(sydney("2027-03-03 10:00")) == 0
    assert round_at(sydney("2027-03-04 10:00")) == 1  # the second send's reminder, once


def test_with_automatic_messages_off_nothing_is_sent_but_cases_still_move(sendable_case, coordinator, clinic):
    FollowUpSettings.objects.create(clinic=clinic, automatic_follow_up=False)
    sent = send_pack(sendable_case, coordinator, sydney(TUESDAY))
    round_at(sydney("2027-03-03 10:00"))
    open_link(link_in(pack_message(sent)), sendable_case, sydney("2027-03-03 11:00"))
    round_at(sydney("2027-03-08 11:00"))
    round_at(sydney("2027-03-11 10:00"))

    assert follow_up_messages(sendable_case) == []
    assert [(run.kind, run.outcome) for run in runs(sendable_case)] == [
        ("not_opened", "skipped"),
        ("viewed_no_response", "moved"),
        ("no_response_message", "skipped"),
    ]
    assert runs(sendable_case)[0].detail == "Reminder not sent: automatic messages are switched off."
    assert CaseTask.objects.filter(case=sendable_case, kind="follow_up").count() == 1


def test_a_rule_switched_off_does_nothing(sendable_case, coordinator, clinic):
    FollowUpSettings.objects.create(clinic=clinic)
    rule = rules_for(clinic)["not_opened"]
    rule.enabled = False
    rule.save()
    send_pack(sendable_case, coordinator, sydney(TUESDAY))
    assert round_at(sydney("2027-03-03 10:00")) == 0
    assert runs(sendable_case) == []


def test_the_clinics_own_business_days_and_hours_are_used(sendable_case, coordinator, clinic):
    FollowUpSettings.objects.create(
        clinic=clinic, business_days="123456", contact_from=dt.time(8), contact_until=dt.time(12)
    )
    send_pack(sendable_case, coordinator, sydney("2027-03-05 11:00"))  # Friday
    assert round_at(sydney("2027-03-06 10:59")) == 0
    assert round_at(sydney("2027-03-06 11:00")) == 1  # Saturday is a business day here


# ---------- Stops ----------


@pytest.fixture
def sent(sendable_case, coordinator):
    return send_pack(sendable_case, coordinator, sydney(TUESDAY))


def viewing_session(sent, case) -> PackSession:
    open_link(link_in(pack_message(sent)), case, sydney("2027-03-02 12:00"))
    return PackSession.objects.filter(link__case=case, verified_at__isnull=False).latest("id")


def test_a_question_from_the_patient_stops_follow_up(sent, sendable_case):
    session = viewing_session(sent, sendable_case)
    with time_machine.travel(sydney("2027-03-02 12:05"), tick=False):
        response_record(
            session=session,
            version=sent.version,
            kind="question",
            message="Can I pay in instalments?",
            submission_key=uuid.uuid4().hex,
        )
    for moment in ("2027-03-05 12:00", "2027-03-11 10:00", "2027-03-12 10:00"):
        assert round_at(sydney(moment)) == 0
    assert runs(sendable_case) == []
    assert stage(sendable_case) == Stage.SENT


def test_a_decline_stops_follow_up(sent, sendable_case):
    session = viewing_session(sent, sendable_case)
    with time_machine.travel(sydney("2027-03-02 12:05"), tick=False):
        response_record(
            session=session, version=sent.version, kind="not_now", reason="cost", submission_key=uuid.uuid4().hex
        )
    assert stage(sendable_case) == Stage.NOT_PROCEEDING
    assert round_at(sydney("2027-03-05 12:00")) == 0
    assert round_at(sydney("2027-03-11 10:00")) == 0
    assert follow_up_messages(sendable_case) == []


def test_a_booking_stops_follow_up(sent, sendable_case, coordinator, dentist):
    with time_machine.travel(sydney("2027-03-02 15:00"), tick=False):
        booking = Booking.objects.create(
            case=sendable_case,
            starts_at=sydney("2027-03-20 09:00"),
            practitioner=dentist,
            created_by=coordinator,
            submission_key=uuid.uuid4().hex,
        )
        events.booking_made(booking=booking)
    assert stage(sendable_case) == Stage.BOOKED
    for moment in ("2027-03-03 10:00", "2027-03-11 10:00"):
        assert round_at(sydney(moment)) == 0


def test_a_reply_on_another_channel_stops_follow_up(sent, sendable_case):
    with time_machine.travel(sydney("2027-03-02 18:00"), tick=False):
        events.patient_replied(case=sendable_case)
    assert round_at(sydney("2027-03-03 10:00")) == 0


def test_an_opt_out_stops_follow_up_including_the_look_again_check_in(sent, sendable_case, coordinator, clinic):
    rule = rules_for(clinic)["look_again"]
    rule.sms_text, rule.email_subject, rule.email_text = "Hi {patient_first_name}", "Hello", "Hi"
    rule.save()
    from clearplan.pipeline.stages import stage_move

    with time_machine.travel(sydney("2027-03-02 15:00"), tick=False):
        events.patient_opted_out(case=sendable_case)
        stage_move(
            case=sendable_case,
            to_stage=Stage.NOT_PROCEEDING,
            by=coordinator,
            reason="other",
            look_again_on=dt.date(2027, 4, 1),
        )
    assert round_at(sydney("2027-03-03 10:00")) == 0
    assert round_at(sydney("2027-04-01 10:00")) == 1
    assert follow_up_messages(sendable_case) == []
    assert runs(sendable_case)[0].detail.endswith("No check-in message: the patient asked not to be contacted.")


def test_a_case_moved_on_by_hand_makes_the_rule_moot(sent, sendable_case, coordinator):
    from clearplan.pipeline.stages import stage_move

    with time_machine.travel(sydney("2027-03-02 16:00"), tick=False):
        stage_move(case=sendable_case, to_stage=Stage.FOLLOW_UP, by=coordinator)
    assert round_at(sydney("2027-03-03 10:00")) == 0  # the reminder is for cases still in Sent


# ---------- Consent ----------


def test_consent_withdrawn_means_no_message_and_the_record_says_why(sent, sendable_case):
    patient = sendable_case.patient
    patient.consent_sms = patient.consent_email = False
    patient.save()

    assert round_at(sydney("2027-03-03 10:00")) == 1

    assert follow_up_messages(sendable_case) == []
    [run] = runs(sendable_case)
    assert run.outcome == "skipped"
    assert run.detail == "Reminder not sent: the patient no longer agrees to SMS or email."
    sendable_case.progress.refresh_from_db()
    assert sendable_case.progress.automatic_contacts == 0


def test_a_message_goes_only_on_the_channels_still_agreed_to(sent, sendable_case):
    patient = sendable_case.patient
    patient.consent_sms = False
    patient.save()
    round_at(sydney("2027-03-03 10:00"))
    [email] = follow_up_messages(sendable_case)
    assert email.channel == "email"
    assert runs(sendable_case)[0].detail == (
        "Reminder sent by email in the name of Chloé O'Connor. Not by SMS: the patient no longer agrees to SMS."
    )


def test_only_the_channels_the_pack_was_sent_by(sendable_case, coordinator):
    send_pack(sendable_case, coordinator, sydney(TUESDAY), by_email=False)
    round_at(sydney("2027-03-03 10:00"))
    assert [message.channel for message in follow_up_messages(sendable_case)] == ["sms"]


def test_a_pack_sent_to_a_parent_is_followed_up_with_them_by_name(sendable_case, coordinator):
    patient = sendable_case.patient
    patient.guardian_name = "Aroha Ngata"
    patient.guardian_mobile = "+61491570999"
    patient.save()
    with time_machine.travel(sydney(TUESDAY), tick=False):
        from clearplan.packs import sending

        words = sending.message_texts(sendable_case, coordinator)
        sending.pack_send(
            case=sendable_case,
            by=coordinator,
            recipient=Recipient.GUARDIAN,
            by_sms=True,
            by_email=False,
            sms_text=words["sms_text"],
            email_subject="",
            email_text="",
            submission_key=uuid.uuid4().hex,
        )
    round_at(sydney("2027-03-03 10:00"))
    [sms] = follow_up_messages(sendable_case)
    assert sms.to_address == "+61491570999"
    assert sms.body.startswith("Hi Aroha, a gentle reminder")
    assert sendable_case.pack_links.filter(recipient=Recipient.GUARDIAN).count() == 2


# ---------- Once, and catching up ----------


def test_applying_the_rules_twice_acts_once(sent, sendable_case):
    assert round_at(sydney("2027-03-03 10:00")) == 1
    assert round_at(sydney("2027-03-03 10:00")) == 0
    assert round_at(sydney("2027-03-03 10:01")) == 0
    assert len(runs(sendable_case)) == 1
    assert len(follow_up_messages(sendable_case)) == 2


def test_a_worker_stopped_for_hours_catches_up_on_its_first_round_once(sent, sendable_case):
    # Due Wednesday 10:00; the worker is back at 15:20.
    assert round_at(sydney("2027-03-03 15:20")) == 1
    assert round_at(sydney("2027-03-03 15:21")) == 0
    assert len(follow_up_messages(sendable_case)) == 2


def test_a_reminder_more_than_a_week_late_is_left_to_the_team(sent, sendable_case, clinic):
    rule = rules_for(clinic)["no_response_message"]
    rule.enabled = False
    rule.save()
    # Due Wednesday 3 March; the rules next run eight days later.
    assert round_at(sydney("2027-03-11 10:01")) == 0
    assert follow_up_messages(sendable_case) == []


def test_each_application_commits_with_its_message_or_not_at_all(sent, sendable_case, settings):
    """SMS is switched off after the pack went: the message cannot be made, so the whole
    application rolls back to a skipped run that says why, with no link or message left behind."""
    settings.SMS_BACKEND = ""
    links_before = sendable_case.pack_links.count()
    round_at(sydney("2027-03-03 10:00"))
    [email] = follow_up_messages(sendable_case)
    assert email.channel == "email"
    assert runs(sendable_case)[0].detail.endswith("Not by SMS: SMS is not set up.")
    assert sendable_case.pack_links.count() == links_before + 1


# ---------- Set-based ----------


def another_case(patient, template, dentist, coordinator):
    """A second case for the same patient, from the template, with its one treatment option filled."""
    from clearplan.plans import composer

    case = composer.case_create_from_template(
        patient=patient,
        template=template,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=dt.date(2027, 3, 1),
        by=coordinator,
    ).case
    case.options.filter(kind="treatment", lines__isnull=True).delete()
    return case


def test_a_round_runs_the_same_number_of_queries_however_many_cases_are_waiting(
    sendable_case, coordinator, template, dentist, patient
):
    send_pack(sendable_case, coordinator, sydney(TUESDAY))

    def queries_for_a_quiet_round() -> int:
        with time_machine.travel(sydney("2027-03-02 16:00"), tick=False), CaptureQueriesContext(connection) as ctx:
            assert apply_due_rules(now=timezone.now()) == 0
        return len(ctx.captured_queries)

    one_case = queries_for_a_quiet_round()
    for _ in range(12):
        send_pack(another_case(patient, template, dentist, coordinator), coordinator, sydney(TUESDAY), by_email=False)
    assert queries_for_a_quiet_round() == one_case
    assert one_case <= 8


def test_the_first_round_applies_every_due_case(sendable_case, coordinator, template, dentist, patient):
    cases = [sendable_case] + [another_case(patient, template, dentist, coordinator) for _ in range(5)]
    for case in cases:
        send_pack(case, coordinator, sydney(TUESDAY), by_email=False)
    assert round_at(sydney("2027-03-03 10:00")) == 6
    assert FollowUpRun.objects.filter(kind="not_opened", outcome="messaged").count() == 6


def test_no_reminder_brings_back_a_link_the_team_withdrew(sent, sendable_case, coordinator):
    from clearplan.packs.sending import pack_link_revoke

    with time_machine.travel(sydney("2027-03-02 11:00"), tick=False):
        pack_link_revoke(link=sent.link, by=coordinator)
    assert round_at(sydney("2027-03-03 10:00")) == 1
    assert follow_up_messages(sendable_case) == []
    assert runs(sendable_case)[0].detail == "Reminder not sent: the team withdrew the link that went with the pack."
    assert sendable_case.pack_links.filter(revoked_at__isnull=True).count() == 0


def test_a_coordinator_who_has_left_is_not_named_the_dentist_is(sent, sendable_case, coordinator, dentist):
    coordinator.is_active = False
    coordinator.save()
    round_at(sydney("2027-03-03 10:00"))
    email = next(message for message in follow_up_messages(sendable_case) if message.channel == "email")
    assert email.sender == dentist
    assert f"Kind regards,\n{dentist.display_name}" in email.body
