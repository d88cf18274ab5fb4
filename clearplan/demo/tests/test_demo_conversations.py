"""The demo practice's conversations: threads that read like a real week at the front desk, the
pack-page question and SMS reply in one thread for the issue's walkthrough, and saved replies.
One shared load (see test_demo_cases)."""

from collections import Counter

from django.utils import timezone

from clearplan.demo.conversations import SAVED_REPLIES, SHOWCASE_QUESTION
from clearplan.demo.tests.test_demo_cases import (  # noqa: F401  (the shared load and its settings)
    _demo_installation,
    _shared_media,
    demo,
    demo_media,
    demo_organisation,
    load,
)
from clearplan.messaging.models import Conversation, ConversationMessage, OutboundMessage, SavedReply
from clearplan.patients.models import Patient
from clearplan.pipeline.models import CaseProgress, FollowUpRun


def test_a_patients_pack_question_and_their_text_share_one_unread_thread_and_the_text_stopped_follow_up(
    demo_organisation,  # noqa: F811
):
    asked = ConversationMessage.objects.get(
        channel="pack", pack_response__kind="question", pack_response__message=SHOWCASE_QUESTION
    )
    thread = asked.conversation
    assert thread.clinic.organisation_id == demo_organisation.pk
    assert thread.unread_count == 2
    assert thread.status == Conversation.Status.OPEN
    texted = thread.messages.get(channel="sms", direction="in")
    assert texted.from_address == thread.patient.mobile
    assert texted.created_at < asked.created_at <= timezone.now()
    assert thread.last_inbound_channel == "pack"
    progress = CaseProgress.objects.get(case=asked.case)
    assert progress.stage in ("sent", "follow_up")
    # Automatic follow-up was running (a rule texted the patient) until the patient's text stopped it.
    contacted = FollowUpRun.objects.filter(case=asked.case, outcome="messaged").order_by("created_at").last()
    assert contacted is not None
    assert contacted.created_at < texted.created_at
    assert progress.follow_ups_stopped_at == texted.created_at
    assert progress.follow_ups_stopped_because == "The patient replied by SMS"


def test_threads_read_like_a_week_at_the_front_desk(demo_organisation):  # noqa: F811
    threads = Conversation.objects.filter(clinic__organisation=demo_organisation)
    written = threads.filter(messages__direction="in", messages__channel__in=["sms", "email"]).distinct()
    assert 20 <= written.count() <= 32
    assert threads.filter(unread_count__gt=0).count() >= 4
    assert threads.filter(assigned_to__isnull=False).count() >= 3
    assert threads.filter(snoozed_until__gt=timezone.now()).exists()
    assert threads.filter(status="closed", closed_at__isnull=False).count() >= 4
    bodies = " ".join(ConversationMessage.objects.filter(conversation__in=written).values_list("body", flat=True))
    for words in ("spread the cost", "implant hurt", "time off work", "HCF", "think about it", "move my appointment"):
        assert words in bodies, words
    assert ConversationMessage.objects.filter(conversation__in=written, from_whom="guardian").exists()
    notes = ConversationMessage.objects.filter(conversation__in=written, direction="internal")
    assert notes.filter(body__startswith="Called, left a voicemail").exists()
    # The team's answers are signed and were delivered at the time; nothing of theirs waits in the queue.
    replies = OutboundMessage.objects.filter(purpose="conversation", clinic__organisation=demo_organisation)
    assert replies.count() >= 10
    assert set(replies.values_list("status", flat=True)) == {"delivered"}
    for reply in ConversationMessage.objects.filter(outbound__in=replies).select_related("author"):
        assert reply.author is not None
        assert reply.author.first_name in reply.body


def test_every_message_sits_in_the_past_in_order_and_each_thread_sums_up_its_last_one(demo_organisation):  # noqa: F811
    now = timezone.now()
    threads = Conversation.objects.filter(clinic__organisation=demo_organisation)
    assert not ConversationMessage.objects.filter(conversation__in=threads, created_at__gt=now).exists()
    for thread in threads.filter(last_message_at__isnull=False):
        last = thread.messages.exclude(direction="internal").order_by("created_at", "id").last()
        assert thread.last_message_at == last.created_at
        assert thread.last_message_direction == last.direction


def test_every_pack_and_follow_up_the_demo_sent_is_in_the_patients_thread(demo_organisation):  # noqa: F811
    sent = OutboundMessage.objects.filter(
        clinic__organisation=demo_organisation, patient__isnull=False, purpose__in=["pack", "follow_up"]
    )
    assert sent.exists()
    assert not sent.filter(conversation_message__isnull=True).exists()


def test_every_mobile_number_belongs_to_one_patient_so_texts_find_their_thread(demo_organisation):  # noqa: F811
    patients = Patient.objects.filter(clinic__organisation=demo_organisation)
    numbers = Counter(
        number
        for mobile, guardian_mobile in patients.values_list("mobile", "guardian_mobile")
        for number in (mobile, guardian_mobile)
        if number
    )
    assert numbers
    assert max(numbers.values()) == 1
    assert all(number.startswith("+61") for number in numbers)


def test_each_clinic_has_its_saved_replies(demo_organisation):  # noqa: F811
    for clinic in demo_organisation.clinics.all():
        titles = list(SavedReply.objects.filter(clinic=clinic).values_list("title", flat=True))
        assert titles == [title for title, _ in SAVED_REPLIES]
        assert 8 <= len(titles) <= 10


def test_loading_again_adds_no_conversations(demo, db):  # noqa: F811
    before = (ConversationMessage.objects.count(), SavedReply.objects.count(), Conversation.objects.count())
    load()
    assert (ConversationMessage.objects.count(), SavedReply.objects.count(), Conversation.objects.count()) == before
