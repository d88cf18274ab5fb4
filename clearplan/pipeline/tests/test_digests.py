"""Email digests: who gets which, when (07:00 on the clinic's business days, in its own time
zone), once per period whatever the worker does, and what they say (figures only, never a
patient's name). The figures come from the week in digest_scenario.py, worked out by hand."""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import ClinicFactory, staff_member
from clearplan.audit.models import AuditEvent
from clearplan.messaging.models import OutboundMessage
from clearplan.pipeline import digests
from clearplan.pipeline.digests import period_for, period_start_for, send_due_digests
from clearplan.pipeline.models import DigestChoice, DigestSent, FollowUpSettings
from clearplan.pipeline.tests import digest_scenario
from clearplan.pipeline.tests.digest_scenario import PATIENT_NAMES, SYDNEY, sydney

pytestmark = pytest.mark.django_db

SITE = "https://clearplan.example.com"
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def scenario(clinic, other_clinic, owner, dentist, coordinator, outsider, procedures):
    return digest_scenario.build(
        clinic=clinic,
        other_clinic=other_clinic,
        owner=owner,
        dentist=dentist,
        coordinator=coordinator,
        outsider=outsider,
        procedure=procedures["crown"],
    )


def round_at(moment: dt.datetime) -> int:
    """One round of the worker's digest upkeep, with the clock at `moment`."""
    with time_machine.travel(moment, tick=False):
        return send_due_digests()


def digests_to(user) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(to_address=user.email, purpose="digest").order_by("pk"))


def only_digest_to(user) -> OutboundMessage:
    [message] = digests_to(user)
    return message


def lines(message: OutboundMessage) -> list[str]:
    return [line.strip() for line in message.body.splitlines() if line.strip()]


def choose(user, kind: str, frequency: str) -> None:
    DigestChoice.objects.create(user=user, kind=kind, frequency=frequency)


# ---------------------------------------------------------------------------
# What the digests say
# ---------------------------------------------------------------------------


def test_the_daily_practice_digest_on_tuesday_reports_monday_and_the_value_waiting(scenario, clinic, owner):
    """Olivia chose the daily practice digest. On Tuesday 3 March at 07:00 it covers Monday 2 March:

    - today: D's 09:30 with Priya (confirmed). D's Wednesday visit is tomorrow; the 15:00 one was cancelled.
    - packs sent Monday: A (10:00) = 1. B (Friday), C (Thursday) and F (Sunday) were before Monday;
      X was sent from Perth.
    - opened Monday: A (14:00) and B (09:00) = 2 patients. C opened on Friday.
    - asked to proceed: B = 1. Asked a question: C = 1.
    - appointments booked Monday: D's Wednesday visit (11:00) = 1.
    - waiting: Sent A 1,715.00 + F 300.00 = 2 cases, 2,015.00; Follow-up C 540.00;
      Requested B 4,391.00 (its first treatment option, as none is recommended);
      in all 4 cases, 2,015.00 + 540.00 + 4,391.00 = 6,946.00. D (booked) and E (not sent) are not waiting.
    - by team member: Chloé sent 1 and looks after A, B, C: 1,715.00 + 4,391.00 + 540.00 = 6,646.00;
      Olivia looks after F: 300.00.
    """
    choose(owner, "practice", "daily")

    assert round_at(sydney(3, 7)) >= 1

    message = only_digest_to(owner)
    assert message.subject == f"{clinic.name}: your practice digest for Tuesday 3 March"
    assert (message.channel, message.purpose, message.case, message.patient) == ("email", "digest", None, None)
    text = lines(message)
    assert "TODAY" in text
    assert "1 appointment booked, 1 confirmed by the patient." in text
    assert "9:30 a.m.  Priya Raman, 60 min (confirmed)" in text
    yesterday = text[text.index("YESTERDAY") + 1 : text.index("WAITING")]
    assert yesterday == [
        "Packs sent: 1",
        "Patients who opened their pack: 2",
        "Asked to proceed: 1",
        "Asked a question: 1",
        "Appointments booked: 1",
    ]
    assert "4 cases worth $6,946.00 are waiting on the patient or the team:" in text
    assert "Sent: 2 cases, $2,015.00" in text
    assert "Follow-up required: 1 case, $540.00" in text
    assert "Requested to proceed: 1 case, $4,391.00" in text
    assert "Chloé O'Connor: 1 sent; 3 cases, $6,646.00" in text
    assert "Olivia Owner: 0 sent; 1 case, $300.00" in text
    assert f"Open the pipeline: {SITE}/digests/{clinic.public_id}/board/" in text
    assert "Chloé O&#x27;Connor" in message.html
    assert "$6,946.00" in message.html


def test_the_weekly_practice_digest_goes_on_monday_about_last_week_and_the_week_ahead(scenario, clinic, owner):
    """Owners get the weekly digest unless they choose. On Monday 2 March at 07:00 it covers
    23 February to 1 March:

    - this week: D's Tuesday 09:30 (confirmed) and Wednesday 10:00 = 2 appointments, 1 confirmed.
    - packs sent: C (Thu 26 Feb), B (Fri 27 Feb), F (Sun 1 Mar) = 3; Chloé 2, Sam 1.
    - opened: C (Fri 27 Feb 19:00) = 1. No replies last week.
    - booked: D's Tuesday visit, booked Friday = 1. The cancelled one does not count.
    - waiting is what is waiting now: the same 4 cases worth 6,946.00.
    """
    assert round_at(sydney(3, 7)) >= 0
    assert digests_to(owner) == [], "Tuesday is not the weekly digest's day"

    round_at(sydney(2, 7))

    message = only_digest_to(owner)
    assert message.subject == f"{clinic.name}: your practice digest for the week of 2 March"
    text = lines(message)
    assert "2 appointments booked, 1 confirmed by the patient." in text
    assert "Tue 3 Mar, 9:30 a.m.  Priya Raman, 60 min (confirmed)" in text
    assert "Wed 4 Mar, 10:00 a.m.  Priya Raman, 60 min" in text
    last_week = text[text.index("LAST WEEK") + 1 : text.index("WAITING")]
    assert last_week == [
        "Packs sent: 3",
        "Patients who opened their pack: 1",
        "Asked to proceed: 0",
        "Asked a question: 0",
        "Appointments booked: 1",
    ]
    assert "4 cases worth $6,946.00 are waiting on the patient or the team:" in text
    assert "Chloé O'Connor: 2 sent; 3 cases, $6,646.00" in text
    assert "Sam Second: 1 sent; 0 cases, $0.00" in text
    assert DigestSent.objects.get(user=owner).period_start == dt.date(2026, 3, 2)


def test_each_practitioner_hears_about_their_own_patients_and_an_empty_digest_is_skipped(scenario, clinic, dentist):
    """ "My patients" on Tuesday 3 March (daily by default for practitioners), about Monday:

    - Priya (A, B, D): asked to proceed B = 1; questions 0; opened A and B = 2; sent A = 1;
      booked D's Wednesday visit = 1; B is still waiting to be booked; today: her 09:30 (confirmed).
    - Sam (C, E, F): a question on C = 1, nothing else; no appointments (his 15:00 was cancelled).
    - Mei, a hygienist with no cases: nothing to tell, so no email; the day is still recorded as handled.
    """
    round_at(sydney(3, 7))

    priya = only_digest_to(dentist)
    assert priya.subject == f"Your patients at {clinic.name}: Tuesday 3 March"
    text = lines(priya)
    assert text[text.index("YESTERDAY") + 1 : text.index("YESTERDAY") + 6] == [
        "Asked to proceed: 1",
        "Asked a question: 0",
        "Opened their treatment pack: 2",
        "Packs sent: 1",
        "Appointments booked: 1",
    ]
    assert "1 patient is waiting to be booked after asking to proceed." in text
    assert "9:30 a.m.  60 min (confirmed)" in text
    assert f"Open Today: {SITE}/digests/{clinic.public_id}/today/" in text

    sam = lines(only_digest_to(scenario.sam))
    assert "Asked a question: 1" in sam
    assert "Asked to proceed: 0" in sam
    assert "None recorded in Clearplan." in sam

    assert digests_to(scenario.mei) == []
    skipped = DigestSent.objects.get(user=scenario.mei)
    assert (skipped.kind, skipped.message, skipped.period_start) == ("my_patients", None, dt.date(2026, 3, 3))


def test_no_digest_names_a_patient_or_their_treatment(scenario, owner):
    choose(owner, "practice", "daily")
    round_at(sydney(2, 7))
    round_at(sydney(3, 7))

    sent = list(OutboundMessage.objects.filter(purpose="digest"))
    assert len(sent) >= 4
    words = [part for first, last in PATIENT_NAMES.values() for part in (*first.split(), last)]
    words += ["Crown", "Implant", "Fillings", "Denture", "Whitening", "hurt"]
    for message in sent:
        for content in (message.subject, message.body, message.html):
            for word in words:
                assert not re.search(rf"\b{re.escape(word)}\b", content, flags=re.IGNORECASE), (word, message.subject)


# ---------------------------------------------------------------------------
# Once per period
# ---------------------------------------------------------------------------


def test_a_second_round_and_a_restart_send_nothing_again(scenario, owner, dentist):
    choose(owner, "practice", "daily")
    first = round_at(sydney(3, 7))
    again = round_at(sydney(3, 7, 1))
    after_restart = round_at(sydney(3, 9, 30))

    assert first == 3  # Olivia's practice digest, Priya's and Sam's "My patients"
    assert (again, after_restart) == (0, 0)
    assert len(digests_to(owner)) == 1
    assert len(digests_to(dentist)) == 1
    assert OutboundMessage.objects.filter(purpose="digest").count() == 3
    # Each message was recorded with its digest: the claim and the email were saved together.
    assert set(DigestSent.objects.exclude(message=None).values_list("message_id", flat=True)) == set(
        OutboundMessage.objects.filter(purpose="digest").values_list("pk", flat=True)
    )
    assert AuditEvent.objects.filter(action="create", object_type__icontains="message").count() >= 3


def test_the_next_business_day_brings_the_next_daily_digest(scenario, dentist):
    round_at(sydney(3, 7))
    round_at(sydney(4, 7))

    assert [message.subject.rsplit(": ", 1)[1] for message in digests_to(dentist)] == [
        "Tuesday 3 March",
        "Wednesday 4 March",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_send_each_digest_once(scenario, owner):
    choose(owner, "practice", "daily")
    start = threading.Barrier(2)
    counts, problems = [], []

    def worker():
        try:
            start.wait()
            counts.append(send_due_digests(now=sydney(3, 7, 2)))
        except Exception as error:  # shown whole in the assertion below
            problems.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert problems == []
    assert sum(counts) == 3
    assert OutboundMessage.objects.filter(purpose="digest").count() == 3
    assert DigestSent.objects.filter(period_start=dt.date(2026, 3, 3)).count() == 4  # with Mei's, skipped


# ---------------------------------------------------------------------------
# When: 07:00 on business days, in each clinic's own time zone
# ---------------------------------------------------------------------------


@pytest.fixture
def perth_manager(other_clinic):
    return staff_member(other_clinic, Membership.Role.MANAGER, first_name="Ben", email="ben@example.com")


def test_each_clinic_gets_its_digest_at_seven_in_its_own_time_zone(scenario, owner, perth_manager):
    choose(owner, "practice", "daily")
    choose(perth_manager, "practice", "daily")

    round_at(dt.datetime(2026, 3, 2, 19, 59, tzinfo=UTC))  # Sydney 06:59 (AEDT, UTC+11)
    assert OutboundMessage.objects.filter(purpose="digest").count() == 0

    round_at(dt.datetime(2026, 3, 2, 20, 0, tzinfo=UTC))  # Sydney 07:00; Perth 04:00
    assert len(digests_to(owner)) == 1
    assert digests_to(perth_manager) == []

    round_at(dt.datetime(2026, 3, 2, 22, 59, tzinfo=UTC))  # Perth 06:59 (AWST, UTC+8)
    assert digests_to(perth_manager) == []
    round_at(dt.datetime(2026, 3, 2, 23, 0, tzinfo=UTC))  # Perth 07:00
    [perth] = digests_to(perth_manager)
    assert perth.subject.endswith("Tuesday 3 March")
    # Perth's digest counts Perth's send and opening, and none of Sydney's.
    text = lines(perth)
    assert "Packs sent: 1" in text
    assert "Patients who opened their pack: 1" in text
    assert "1 case worth $999.00 is waiting on the patient or the team:" in text


def test_seven_oclock_follows_daylight_saving_in_sydney(owner):
    """Sydney's summer time ends at 03:00 on Sunday 5 April 2026: 07:00 is 20:00 UTC the day
    before until then (UTC+11), and 21:00 UTC after (UTC+10)."""
    choose(owner, "practice", "daily")

    round_at(dt.datetime(2026, 4, 2, 20, 0, tzinfo=UTC))  # Friday 3 April 07:00 AEDT
    assert len(digests_to(owner)) == 1

    round_at(dt.datetime(2026, 4, 5, 20, 0, tzinfo=UTC))  # Monday 6 April 06:00 AEST: not yet
    assert len(digests_to(owner)) == 1
    round_at(dt.datetime(2026, 4, 5, 21, 0, tzinfo=UTC))  # Monday 6 April 07:00 AEST
    assert len(digests_to(owner)) == 2
    assert digests_to(owner)[1].subject.endswith("Monday 6 April")


def test_seven_oclock_follows_daylight_saving_in_new_york(organisation):
    """New York's summer time starts on Sunday 8 March 2026: 07:00 is 12:00 UTC on Friday 6 March
    (UTC−5) and 11:00 UTC on Monday 9 March (UTC−4)."""
    manhattan = ClinicFactory(organisation=organisation, name="Harbour Dental Manhattan", time_zone="America/New_York")
    manager = staff_member(manhattan, Membership.Role.MANAGER, first_name="Nia", email="nia@example.com")
    choose(manager, "practice", "daily")

    round_at(dt.datetime(2026, 3, 6, 11, 59, tzinfo=UTC))
    assert digests_to(manager) == []
    round_at(dt.datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    assert len(digests_to(manager)) == 1

    round_at(dt.datetime(2026, 3, 9, 10, 59, tzinfo=UTC))
    assert len(digests_to(manager)) == 1
    round_at(dt.datetime(2026, 3, 9, 11, 0, tzinfo=UTC))
    assert len(digests_to(manager)) == 2


def test_nothing_goes_on_days_the_clinic_is_closed_and_weekly_waits_for_its_first_open_day(clinic, owner):
    FollowUpSettings.objects.create(clinic=clinic, business_days="23456")  # Tuesday to Saturday

    round_at(sydney(2, 7))  # Monday: closed
    assert digests_to(owner) == []
    round_at(sydney(3, 7))  # Tuesday: the week's first business day
    [weekly] = digests_to(owner)
    assert weekly.subject.endswith("the week of 2 March")
    round_at(sydney(7, 7))  # Saturday: open, but the weekly digest went on Tuesday
    round_at(sydney(8, 7))  # Sunday: closed
    assert len(digests_to(owner)) == 1


def test_a_digest_missed_all_morning_waits_for_the_next_one(scenario, dentist):
    round_at(sydney(3, 12))
    assert digests_to(dentist) == []
    round_at(sydney(4, 11, 59))
    assert [message.subject.rsplit(": ", 1)[1] for message in digests_to(dentist)] == ["Wednesday 4 March"]


def test_the_monday_daily_digest_looks_back_over_the_weekend():
    period = period_for(
        start=dt.date(2026, 3, 2), today=dt.date(2026, 3, 2), frequency="daily", business_days="12345", zone=SYDNEY
    )
    assert period.back_from == sydney(27, 0, month=2)
    assert period.back_to == sydney(2, 0)
    assert period.back_label == "Since Friday"
    tuesday = period_for(
        start=dt.date(2026, 3, 3), today=dt.date(2026, 3, 3), frequency="daily", business_days="12345", zone=SYDNEY
    )
    assert tuesday.back_label == "Yesterday"


@given(
    moment=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31)),
    frequency=st.sampled_from(["daily", "weekly", "never"]),
    days=st.sets(st.sampled_from("1234567"), min_size=1).map(lambda found: "".join(sorted(found))),
)
def test_a_digest_is_only_ever_due_on_a_business_morning_and_weekly_once_a_week(moment, frequency, days):
    start = period_start_for(local_now=moment, frequency=frequency, business_days=days)
    if start is None:
        return
    assert frequency != "never"
    assert dt.time(7) <= moment.time() < dt.time(12)
    assert str(moment.isoweekday()) in days
    if frequency == "daily":
        assert start == moment.date()
    else:
        assert start.isoweekday() == 1
        assert moment.isoweekday() == int(min(days))
        assert 0 <= (moment.date() - start).days < 7


# ---------------------------------------------------------------------------
# Who
# ---------------------------------------------------------------------------


def test_only_active_staff_who_can_open_the_clinic_and_want_emails_get_a_digest(scenario, clinic, owner, dentist):
    former = staff_member(clinic, Membership.Role.MANAGER, first_name="Fay", email="former@example.com")
    Membership.objects.filter(user=former).delete()
    gone = staff_member(clinic, Membership.Role.MANAGER, first_name="Gus", email="gone@example.com", is_active=False)
    quiet = staff_member(clinic, Membership.Role.MANAGER, first_name="Quinn", email="quiet@example.com")
    quiet.notify_by_email = False
    quiet.save()
    choose(dentist, "my_patients", "never")

    round_at(sydney(2, 7))

    assert len(digests_to(owner)) == 1
    for person in (former, gone, quiet, dentist):
        assert digests_to(person) == []


def test_an_organisation_admin_gets_the_practice_digest_of_every_clinic(scenario, clinic, other_clinic, organisation):
    admin = staff_member(clinic, Membership.Role.COORDINATOR, first_name="Margaret", email="margaret@example.com")
    Membership.objects.filter(user=admin).delete()
    admin.is_organisation_admin = True
    admin.save()

    round_at(dt.datetime(2026, 3, 1, 20, 0, tzinfo=UTC))  # Sydney's Monday 07:00
    round_at(dt.datetime(2026, 3, 1, 23, 0, tzinfo=UTC))  # Perth's

    subjects = sorted(message.subject for message in digests_to(admin))
    assert subjects == [
        f"{other_clinic.name}: your practice digest for the week of 2 March",
        f"{clinic.name}: your practice digest for the week of 2 March",
    ]


def test_coordinators_and_front_desk_get_no_digest_by_default(scenario, coordinator, front_desk):
    round_at(sydney(2, 7))
    assert digests_to(coordinator) == []
    assert digests_to(front_desk) == []


# ---------------------------------------------------------------------------
# Cost
# ---------------------------------------------------------------------------


def test_outside_the_morning_a_round_costs_one_query(scenario, django_assert_num_queries):
    # 16:00 in Sydney is 13:00 in Perth: no clinic is in its morning.
    with django_assert_num_queries(1), time_machine.travel(sydney(3, 16), tick=False):
        assert send_due_digests() == 0


def test_the_practice_figures_take_the_same_queries_however_many_cases(
    scenario, clinic, coordinator, dentist, procedures, django_assert_max_num_queries
):
    period = period_for(
        start=dt.date(2026, 3, 2), today=dt.date(2026, 3, 2), frequency="weekly", business_days="12345", zone=SYDNEY
    )
    with django_assert_max_num_queries(8) as few:
        digests.practice_figures(clinic=clinic, period=period)
    for number in range(12):
        digest_scenario.extra_waiting_case(
            clinic, number, dentist=dentist, coordinator=coordinator, procedure=procedures["crown"]
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        figures = digests.practice_figures(clinic=clinic, period=period)
    assert figures.waiting_cases == 4 + 12
    assert figures.waiting_value == Decimal("6946.00") + 12 * Decimal("100.00")
