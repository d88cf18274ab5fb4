"""The team's pack pages: the send form, the case page's "Treatment pack" panel and its actions."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.lib.clinic_time import clinic_now
from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.tests.conftest import IMMEDIATE_TASKS
from clearplan.packs.models import PackLink, PackSend, PackVersion, PatientResponse
from clearplan.packs.tests.test_sending import send
from clearplan.plans import services


@pytest.fixture(autouse=True)
def _messages_go_out(settings):
    settings.SMS_BACKEND = SMS_OUTBOX_BACKEND
    settings.SMS_OPTIONS = {}
    settings.TASKS = IMMEDIATE_TASKS
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = "https://clearplan.example.com"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def visible_text(response) -> str:
    """The page's words without tags, spaces collapsed, as a reader meets them."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split()).replace(" :", ":")


def form_values(response) -> dict[str, str]:
    """What the browser would post: the form's initial values, as rendered."""
    form = response.context["form"]
    values = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.widget.attrs.get("disabled"):
            continue
        if isinstance(value, bool):
            if value:
                values[name] = "on"
        elif value is not None:
            values[name] = str(value)
    return values


def send_url(case) -> str:
    return reverse("packs:send", args=[case.public_id])


@pytest.mark.django_db
def test_the_send_form_shows_where_it_goes_masked_with_the_templates_words(coordinator_client, sendable_case, clinic):
    response = coordinator_client.get(send_url(sendable_case))

    assert response.status_code == 200
    text = page_text(response)
    assert "Mere Ngata" in text
    assert "— the patient" in text
    assert "SMS to mobile ending 678" in text
    assert "Email to m…@example.com" in text
    assert "+61412345678" not in text
    assert "mere.ngata@example.com" not in text
    form = response.context["form"]
    assert form["sms_text"].value().startswith(f"Hi Mere, it's Chloé O'Connor from {clinic.name}.")
    assert form["email_subject"].value() == f"Your treatment pack from {clinic.name}"
    assert "The link to the pack is added at the end." in text
    assert re.search(r"\d+ characters with the link: \d text message", text)
    assert len(form["submission_key"].value()) == 32
    assert AuditEvent.objects.filter(action="view", object_id=str(sendable_case.public_id)).exists()


@pytest.mark.django_db
def test_a_channel_that_cannot_be_used_is_shown_disabled_with_its_reason(coordinator_client, sendable_case):
    patient = sendable_case.patient
    patient.consent_sms = False
    patient.save()

    response = coordinator_client.get(send_url(sendable_case))

    text = page_text(response)
    assert re.search(r'<input type="checkbox" name="by_sms"[^>]*disabled', response.content.decode())
    assert "Mere has not agreed to receive SMS — ask Mere, then tick “Agrees to receive SMS” on the record." in text


@pytest.mark.django_db(transaction=True)
def test_sending_from_the_form_confirms_on_the_case_page(coordinator_client, sendable_case):
    form = coordinator_client.get(send_url(sendable_case))

    response = coordinator_client.post(send_url(sendable_case), form_values(form), follow=True)

    assert response.redirect_chain[-1][0] == reverse("plans:detail", args=[sendable_case.public_id]) + (
        "#treatment-pack"
    )
    text = page_text(response)
    assert "The pack is on its way to Mere Ngata by SMS and email." in text
    assert "Treatment pack" in text
    assert "Sent " in text
    assert "by Chloé O'Connor" in text
    assert text.count("Not viewed yet") == 1
    assert "Send again" in text
    version = PackVersion.objects.get()
    assert version.sha256[:12] in text
    assert OutboundMessage.objects.filter(case=sendable_case).count() == 2


@pytest.mark.django_db
def test_a_refusal_shows_at_the_field_and_sends_nothing(coordinator_client, sendable_case):
    form = coordinator_client.get(send_url(sendable_case))
    values = form_values(form)
    patient = sendable_case.patient
    patient.email = ""
    patient.consent_email = False
    patient.save()

    response = coordinator_client.post(send_url(sendable_case), values)

    assert response.status_code == 400
    assert response.context["form"].errors["by_email"] == ["There is no email address on Mere's record."]
    assert not PackSend.objects.exists()
    assert not PackVersion.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_send_sends_once(coordinator_client, sendable_case):
    values = form_values(coordinator_client.get(send_url(sendable_case)))

    coordinator_client.post(send_url(sendable_case), values)
    coordinator_client.post(send_url(sendable_case), values)

    assert PackSend.objects.count() == 1
    assert OutboundMessage.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_scheduling_for_a_chosen_time_in_the_clinics_time_zone(coordinator_client, sendable_case, clinic):
    values = form_values(coordinator_client.get(send_url(sendable_case)))
    later = clinic_now(clinic) + timedelta(days=1)
    values.update(when="later", later_date=later.strftime("%Y-%m-%d"), later_time="09:30")

    response = coordinator_client.post(send_url(sendable_case), values, follow=True)

    pack = PackSend.objects.get()
    assert pack.status == PackSend.Status.SCHEDULED
    local = pack.send_at.astimezone(later.tzinfo)
    assert (local.date(), local.hour, local.minute) == (later.date(), 9, 30)
    text = page_text(response)
    assert "The pack will go to Mere Ngata by SMS and email at 9:30 am tomorrow." in text
    assert "Scheduled for 9:30 am tomorrow" in text

    coordinator_client.post(reverse("packs:send_cancel", args=[sendable_case.public_id, pack.public_id]))
    pack.refresh_from_db()
    assert pack.status == PackSend.Status.CANCELLED


@pytest.mark.django_db
def test_a_time_in_the_past_is_refused_at_the_field(coordinator_client, sendable_case, clinic):
    values = form_values(coordinator_client.get(send_url(sendable_case)))
    earlier = clinic_now(clinic) - timedelta(days=1)
    values.update(when="later", later_date=earlier.strftime("%Y-%m-%d"), later_time="09:30")

    response = coordinator_client.post(send_url(sendable_case), values)

    assert response.status_code == 400
    assert "That time has passed" in response.context["form"].errors["later_time"][0]
    assert not PackSend.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_changes_after_sending_are_noticed_and_the_update_makes_version_two(
    coordinator_client, coordinator, sendable_case
):
    first = _sent(sendable_case, coordinator)
    detail = reverse("plans:detail", args=[sendable_case.public_id])
    assert "changes not yet in the patient's pack" not in page_text(coordinator_client.get(detail))

    option = sendable_case.options.get(title="Option B: denture")
    services.option_rename(option=option, title="Option B: partial denture", by=coordinator)
    text = page_text(coordinator_client.get(detail))
    assert "There are changes not yet in the patient's pack." in text
    assert "Update the patient's pack" in text

    response = coordinator_client.post(
        reverse("packs:publish_update", args=[sendable_case.public_id]), {"notify": "on"}, follow=True
    )

    text = page_text(response)
    assert "The patient's pack now shows version 2 and told the patient." in text
    assert "There are changes not yet in the patient's pack." not in text
    assert PackVersion.objects.filter(case=sendable_case).count() == 2
    assert OutboundMessage.objects.filter(case=sendable_case, body__contains="has been updated").count() == 1
    assert first.link.sends.count() == 1


def _sent(case, by, **overrides):
    return send(case, by, **{"key": "sent-" + str(case.public_id), "by_email": False, **overrides})


@pytest.mark.django_db(transaction=True)
def test_revoke_and_send_a_new_link_from_the_panel(coordinator_client, coordinator, sendable_case):
    first = _sent(sendable_case, coordinator)

    coordinator_client.post(reverse("packs:link_revoke", args=[sendable_case.public_id, first.link.public_id]))
    first.link.refresh_from_db()
    assert first.link.revoked_at is not None

    response = coordinator_client.post(
        reverse("packs:link_resend", args=[sendable_case.public_id, first.link.public_id]),
        {"submission_key": "resend-1"},
        follow=True,
    )
    assert "The old link no longer works." in page_text(response)
    assert PackLink.objects.filter(case=sendable_case, revoked_at__isnull=True).count() == 1
    assert PackSend.objects.filter(case=sendable_case).count() == 2
    # The same button pressed twice makes one new link.
    coordinator_client.post(
        reverse("packs:link_resend", args=[sendable_case.public_id, first.link.public_id]),
        {"submission_key": "resend-1"},
    )
    assert PackSend.objects.filter(case=sendable_case).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failed_delivery_shows_on_the_case_with_a_way_to_resend(coordinator_client, coordinator, sendable_case):
    pack = _sent(sendable_case, coordinator)
    OutboundMessage.objects.filter(public_id=pack.sms_message_id).update(
        status="failed", failed_at=timezone.now(), failure_detail_for_staff="The number is not in service."
    )

    text = visible_text(coordinator_client.get(reverse("plans:detail", args=[sendable_case.public_id])))

    assert "The SMS could not be delivered: The number is not in service." in text
    assert "Resend with a new link" in text


@pytest.mark.django_db(transaction=True)
def test_the_patients_responses_show_with_mark_as_seen(coordinator_client, coordinator, sendable_case):
    from clearplan.packs.models import PackSession

    pack = _sent(sendable_case, coordinator)
    session = PackSession.objects.create(
        link=pack.link, key_sha256="a" * 64, expires_at=timezone.now() + timedelta(hours=1)
    )
    option = sendable_case.options.get(title="Option A: crown")
    response = PatientResponse.objects.create(
        case=sendable_case,
        version=pack.version,
        session=session,
        kind="proceed",
        option_public_id=option.public_id,
        option_title=option.title,
        preferred_times="Weekday mornings",
        submission_key="r1",
    )
    PatientResponse.objects.create(
        case=sendable_case,
        version=pack.version,
        session=session,
        kind="question",
        message="Will the crown match my other teeth?",
        submission_key="r2",
    )
    detail = reverse("plans:detail", args=[sendable_case.public_id])

    text = page_text(coordinator_client.get(detail))
    assert "Would like to proceed" in text
    assert "Option: Option A: crown · Preferred times: Weekday mornings" in text
    assert "Will the crown match my other teeth?" in text
    assert "2 new" in text

    coordinator_client.post(reverse("packs:response_seen", args=[sendable_case.public_id, response.public_id]))
    response.refresh_from_db()
    assert response.seen_by == coordinator
    assert "1 new" in page_text(coordinator_client.get(detail))


@pytest.mark.django_db(transaction=True)
def test_another_clinics_staff_get_not_found(outsider_client, coordinator, sendable_case):
    pack = _sent(sendable_case, coordinator)
    case_id = sendable_case.public_id
    gets = [send_url(sendable_case), reverse("packs:version_pdf", args=[case_id, pack.version.public_id])]
    posts = [
        send_url(sendable_case),
        reverse("packs:publish_update", args=[case_id]),
        reverse("packs:send_cancel", args=[case_id, pack.public_id]),
        reverse("packs:link_revoke", args=[case_id, pack.link.public_id]),
        reverse("packs:link_resend", args=[case_id, pack.link.public_id]),
    ]
    for url in gets:
        assert outsider_client.get(url).status_code == 404, url
    for url in posts:
        assert outsider_client.post(url, {"submission_key": "x"}).status_code == 404, url
    pack.link.refresh_from_db()
    assert pack.link.revoked_at is None
    assert PackSend.objects.count() == 1


@pytest.mark.django_db
def test_actions_are_post_only(coordinator_client, sendable_case):
    assert coordinator_client.get(reverse("packs:publish_update", args=[sendable_case.public_id])).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_downloading_the_pack_as_pdf_is_audited(coordinator_client, coordinator, sendable_case):
    pack = _sent(sendable_case, coordinator)

    response = coordinator_client.get(
        reverse("packs:version_pdf", args=[sendable_case.public_id, pack.version.public_id])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content if response.streaming else [response.content]).startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        action="export", object_id=str(sendable_case.public_id), changes__has_key="pack_pdf_downloaded"
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_a_signature_shows_with_its_signed_pdf_to_download_or_email(coordinator_client, sendable_case, mailoutbox):
    from clearplan.packs.tests.test_responses import start_session
    from clearplan.packs.tests.test_signing import sign

    pack = _sent(sendable_case, sendable_case.coordinator)
    signature = sign(start_session(pack.link), pack.version, signer_name="Mere Ngata")
    case_id = sendable_case.public_id

    text = visible_text(coordinator_client.get(reverse("plans:detail", args=[case_id])))
    assert "Mere Ngata (the patient) signed version 1" in text

    download = coordinator_client.get(reverse("packs:signature_pdf", args=[case_id, signature.public_id]))
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="export", changes__has_key="signed_pdf_downloaded").exists()

    response = coordinator_client.post(
        reverse("packs:signature_email", args=[case_id, signature.public_id]), follow=True
    )
    assert "The signed copy is on its way by email." in page_text(response)
    message = OutboundMessage.objects.get(purpose="signed_copy")
    assert message.to_address == "mere.ngata@example.com"
    # (The team's own notification emails about the signature go out too.)
    [mail] = [mail for mail in mailoutbox if mail.to == ["mere.ngata@example.com"]]
    [(filename, content, mimetype)] = mail.attachments
    assert filename.endswith(".pdf")
    assert mimetype == "application/pdf"
    assert content.startswith(b"%PDF")
    assert "Chloé O'Connor" in mail.body


@time_machine.travel(datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Australia/Sydney")), tick=False)
@pytest.mark.django_db(transaction=True)
def test_six_pm_today_is_one_click_before_six(coordinator_client, sendable_case):
    form = coordinator_client.get(send_url(sendable_case))
    assert "At 6 pm today" in page_text(form)
    values = {**form_values(form), "when": "evening"}

    coordinator_client.post(send_url(sendable_case), values)

    pack = PackSend.objects.get()
    assert pack.status == PackSend.Status.SCHEDULED
    assert pack.send_at == datetime(2026, 3, 4, 18, 0, tzinfo=ZoneInfo("Australia/Sydney"))


@time_machine.travel(datetime(2026, 3, 4, 18, 30, tzinfo=ZoneInfo("Australia/Sydney")), tick=False)
@pytest.mark.django_db
def test_after_six_the_evening_choice_is_not_offered(coordinator_client, sendable_case):
    form = coordinator_client.get(send_url(sendable_case))
    assert "At 6 pm today" not in page_text(form)


@pytest.mark.django_db(transaction=True)
def test_the_case_page_runs_the_same_number_of_queries_however_many_sends(
    coordinator_client, coordinator, sendable_case
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    detail = reverse("plans:detail", args=[sendable_case.public_id])
    _sent(sendable_case, coordinator)
    coordinator_client.get(detail)  # the session's first write settles
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(detail)
    for number in range(3):
        _sent(sendable_case, coordinator, key=f"more-{number}", by_email=True)
    with CaptureQueriesContext(connection) as four:
        coordinator_client.get(detail)
    assert len(four.captured_queries) == len(one.captured_queries)
