"""Pack templates: placeholders, the starter set, saving with checks, and who may see and change them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clearplan.accounts.tests.factories import OrganisationFactory
from clearplan.audit.models import AuditEvent
from clearplan.catalog.data.starter_templates import STARTER_TEMPLATES
from clearplan.catalog.models import EducationItem, PackTemplate, Procedure
from clearplan.catalog.placeholders import placeholder_problem, placeholders_in, render_html, render_text
from clearplan.catalog.services import catalog_install_starter, procedure_retire
from clearplan.catalog.template_forms import questions_from_text
from clearplan.catalog.template_services import (
    pack_template_duplicate,
    pack_template_update,
    pack_templates_install_starter,
)

VALUES = {"patient_first_name": "Sam", "dentist_name": "Dr Priya Raman", "clinic_name": "Harbour", "clinic_phone": ""}


# ---------- Placeholders ----------


def test_known_placeholders_are_filled_in():
    text = "Hi {patient_first_name}, {dentist_name} at {clinic_name} says hello."
    assert render_text(text, VALUES) == "Hi Sam, Dr Priya Raman at Harbour says hello."


def test_missing_values_read_as_neutral_words():
    assert render_text("Call {clinic_phone} or ask {dentist_name}.", {}) == "Call our usual number or ask your dentist."


def test_unknown_placeholders_are_named_in_the_message():
    problem = placeholder_problem("Hi {first_name}, see {dentist} or {clinic_name}")
    assert problem is not None
    assert "{first_name}" in problem
    assert "{dentist}" in problem
    assert "{clinic_name}" not in problem.split(".")[0]


def test_an_unmatched_brace_is_refused():
    assert "brace" in (placeholder_problem("Hi {patient_first_name") or "")
    assert placeholder_problem("Hi {patient_first_name}") is None


def test_placeholders_are_listed_once_in_order():
    assert placeholders_in("{clinic_name} {dentist_name} {clinic_name}") == ["clinic_name", "dentist_name"]


def test_html_escapes_the_text_and_the_values():
    html = render_html("<b>Hi</b> {patient_first_name}\n\nSecond & last", {"patient_first_name": "<script>"})
    assert html == "<p>&lt;b&gt;Hi&lt;/b&gt; &lt;script&gt;</p><p>Second &amp; last</p>"


# ---------- Starter set ----------


@pytest.fixture
def catalogue(organisation, owner):
    catalog_install_starter(organisation=organisation, region="AU", by=owner)


def test_the_starter_set_covers_the_common_treatments(organisation, owner, catalogue):
    result = pack_templates_install_starter(organisation=organisation, by=owner)
    names = set(PackTemplate.objects.filter(organisation=organisation).values_list("name", flat=True))
    assert result.templates_added == len(STARTER_TEMPLATES) >= 13
    assert {"Check-up findings", "Crown", "Implant", "Clear aligners", "Children's orthodontics"} <= names
    assert result.lines_skipped == 0
    implant = PackTemplate.objects.get(organisation=organisation, name="Implant")
    assert implant.default_options[0]["lines"][-1] == {"code": "661", "quantity": 1, "phase": 2}
    assert implant.default_options[-1] == {"title": "No treatment — what to expect", "kind": "no_treatment"}
    for template in PackTemplate.objects.filter(organisation=organisation):
        assert 3 <= len(template.questions) <= 5
        assert template.cover_message
        assert template.aftercare
        assert template.sending_script
    assert EducationItem.objects.filter(organisation=organisation, procedure__code="613").exists()


def test_installing_the_starter_set_again_changes_nothing(organisation, owner, catalogue):
    pack_templates_install_starter(organisation=organisation, by=owner)
    crown = PackTemplate.objects.get(organisation=organisation, name="Crown")
    pack_template_update(template=crown, by=owner, values={"name": "Crowns"})
    again = pack_templates_install_starter(organisation=organisation, by=owner)
    assert (again.templates_added, again.education_added) == (0, 0)
    assert PackTemplate.objects.filter(organisation=organisation).count() == len(STARTER_TEMPLATES)


def test_starter_lines_missing_from_the_catalogue_are_left_out(organisation, owner, catalogue):
    Procedure.objects.filter(organisation=organisation, code="661").delete()
    result = pack_templates_install_starter(organisation=organisation, by=owner)
    assert result.lines_skipped >= 2
    implant = PackTemplate.objects.get(organisation=organisation, name="Implant")
    codes = [line["code"] for line in implant.default_options[0]["lines"]]
    assert codes == ["684", "688"]


def test_the_starter_set_installs_without_a_catalogue(organisation, owner):
    result = pack_templates_install_starter(organisation=organisation, by=owner)
    assert result.templates_added == len(STARTER_TEMPLATES)
    assert result.education_added == 0


# ---------- Saving ----------


@pytest.fixture
def crown(organisation, owner, catalogue):
    pack_templates_install_starter(organisation=organisation, by=owner)
    return PackTemplate.objects.get(organisation=organisation, name="Crown")


def test_an_unknown_placeholder_is_refused_and_nothing_is_saved(crown, owner):
    with pytest.raises(ValidationError) as caught:
        pack_template_update(
            template=crown, by=owner, values={"cover_message": "Hi {first_name}", "name": "Crowns for all"}
        )
    assert "Unknown placeholder {first_name}" in caught.value.message_dict["cover_message"][0]
    crown.refresh_from_db()
    assert crown.name == "Crown"


def test_required_sections_cannot_be_emptied(crown, owner):
    with pytest.raises(ValidationError) as caught:
        pack_template_update(template=crown, by=owner, values={"what_we_found": "  ", "sending_script": ""})
    assert set(caught.value.message_dict) == {"what_we_found", "sending_script"}


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ("not a list", "must be a list"),
        ([{"question": "Does it hurt?"}], "has no answer"),
        ([{"question": "", "answer": "No"}], "has no question"),
        ([{"question": "Q", "answer": "A", "extra": 1}], "and nothing else"),
    ],
)
def test_malformed_questions_are_refused(crown, owner, questions, message):
    with pytest.raises(ValidationError) as caught:
        pack_template_update(template=crown, by=owner, values={"questions": questions})
    assert message in caught.value.message_dict["questions"][0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"title": "A"}, "must be a list"),
        ([{"lines": []}], "Option 1 has no title"),
        ([{"title": "A", "lines": [{"code": "999"}]}], "code 999 is not in your catalogue"),
        ([{"title": "A", "lines": [{"code": "613", "quantity": 0}]}], "quantity must be a whole number"),
        ([{"title": "A", "recommended": True}, {"title": "B", "recommended": True}], "at most one option"),
        ([{"title": "None", "kind": "no_treatment", "lines": [{"code": "613"}]}], "has no lines"),
        ([{"title": "A", "kind": "maybe"}], "the kind must be"),
    ],
)
def test_malformed_options_are_refused(crown, owner, options, message):
    with pytest.raises(ValidationError) as caught:
        pack_template_update(template=crown, by=owner, values={"default_options": options})
    assert message in caught.value.message_dict["default_options"][0]


def test_a_retired_procedure_cannot_be_a_starting_line(crown, owner, organisation):
    procedure_retire(procedure=Procedure.objects.get(organisation=organisation, code="613"), by=owner)
    with pytest.raises(ValidationError) as caught:
        pack_template_update(
            template=crown, by=owner, values={"default_options": [{"title": "A", "lines": [{"code": "613"}]}]}
        )
    assert "code 613 is not in your catalogue (or is retired)" in caught.value.message_dict["default_options"][0]


def test_questions_are_typed_as_q_and_a_lines():
    text = "Q: Does it hurt?\nA: Not much.\nIt is numbed.\n\nq: How long?\na: An hour."
    assert questions_from_text(text) == [
        {"question": "Does it hurt?", "answer": "Not much.\nIt is numbed."},
        {"question": "How long?", "answer": "An hour."},
    ]
    with pytest.raises(ValidationError, match="has no answer"):
        questions_from_text("Q: Does it hurt?")
    with pytest.raises(ValidationError, match="Start each question"):
        questions_from_text("Does it hurt?")


def test_changes_are_audited_with_what_changed(crown, owner):
    pack_template_update(template=crown, by=owner, values={"next_steps": "Book two visits."})
    event = AuditEvent.objects.filter(object_type="pack_template", object_id=str(crown.public_id)).latest("id")
    assert event.action == AuditEvent.Action.UPDATE
    assert "next_steps" in event.changes


def test_a_copy_gets_its_own_name_and_the_same_words(crown, owner):
    first = pack_template_duplicate(template=crown, by=owner)
    second = pack_template_duplicate(template=crown, by=owner)
    assert (first.name, second.name) == ("Crown (copy)", "Crown (copy 2)")
    assert first.cover_message == crown.cover_message
    assert first.default_options == crown.default_options
    assert first.starter_key == ""


def test_a_name_already_in_use_is_refused(crown, owner, organisation):
    with pytest.raises(ValidationError) as caught:
        pack_template_update(template=crown, by=owner, values={"name": "implant"})
    assert "already called “Implant”" in caught.value.message_dict["name"][0]


# ---------- Pages and permissions ----------


def url(name, template=None):
    return reverse(f"catalog:{name}", args=[template.public_id] if template else [])


def form_data(template, **changes):
    from clearplan.catalog.template_forms import PackTemplateForm
    from clearplan.catalog.template_services import TEMPLATE_FIELDS

    initial = PackTemplateForm.initial_for({field: getattr(template, field) for field in TEMPLATE_FIELDS})
    return {**initial, "treatments": "", **changes}


def test_the_list_groups_templates_by_plan_type(crown, coordinator_client):
    page = coordinator_client.get(url("pack_templates")).content.decode()
    assert page.index("Oral health") < page.index("Crown") < page.index("Aesthetic / elective") < page.index("Veneers")
    assert "Only owners and managers can change them." in page


def test_the_list_runs_the_same_number_of_queries_however_many_templates(
    organisation, owner, owner_client, django_assert_num_queries
):
    pack_templates_install_starter(organisation=organisation, by=owner)
    owner_client.get(url("pack_templates"))  # the session's first write settles
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url("pack_templates"))
    for template in PackTemplate.objects.filter(organisation=organisation):
        pack_template_duplicate(template=template, by=owner)
    with django_assert_num_queries(len(few.captured_queries)):
        response = owner_client.get(url("pack_templates"))
    assert sum(len(group.templates) for group in response.context["groups"]) == 2 * len(STARTER_TEMPLATES)


def test_another_organisations_template_is_not_found(owner_client, owner):
    stranger_org = OrganisationFactory()
    pack_templates_install_starter(organisation=stranger_org, by=None)
    stranger = PackTemplate.objects.filter(organisation=stranger_org).first()
    for name in ("pack_template_detail", "pack_template_edit"):
        assert owner_client.get(url(name, stranger)).status_code == 404
    assert owner_client.post(url("pack_template_retire", stranger)).status_code == 404


def test_team_members_can_read_but_not_change_templates(crown, coordinator_client):
    detail = coordinator_client.get(url("pack_template_detail", crown))
    assert detail.status_code == 200
    assert "Hi Sam," in detail.content.decode()
    assert "Edit" not in detail.content.decode().split("</h1>")[1].split("template-layout")[0]
    assert coordinator_client.get(url("pack_template_edit", crown)).status_code == 403
    assert coordinator_client.post(url("pack_template_edit", crown), form_data(crown)).status_code == 403
    assert coordinator_client.post(url("pack_template_retire", crown)).status_code == 403
    assert coordinator_client.post(url("pack_templates_starter")).status_code == 403


def test_the_preview_uses_the_clinic_and_a_practitioners_name(crown, owner_client, dentist, clinic):
    page = owner_client.get(url("pack_template_detail", crown)).content.decode()
    assert "Hi Sam," in page
    assert f"{dentist.display_name} and the team at {clinic.name}" in page


def test_a_manager_saves_a_change_from_the_form(crown, owner_client):
    response = owner_client.post(url("pack_template_edit", crown), form_data(crown, next_steps="Two visits."))
    assert response.status_code == 302
    crown.refresh_from_db()
    assert crown.next_steps == "Two visits."


def test_bad_input_is_shown_at_the_field_and_nothing_is_saved(crown, owner_client):
    response = owner_client.post(
        url("pack_template_edit", crown),
        form_data(crown, cover_message="Hi {first_name}", default_options="[{", questions="Q: Why?"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "Unknown placeholder {first_name}" in form.errors["cover_message"][0]
    assert "not valid JSON" in form.errors["default_options"][0]
    assert "has no answer" in form.errors["questions"][0]
    crown.refresh_from_db()
    assert crown.cover_message.startswith("Hi {patient_first_name}")


def test_the_preview_button_shows_the_typed_words_without_saving(crown, owner_client):
    response = owner_client.post(
        url("pack_template_edit", crown),
        form_data(crown, cover_message="Hello {patient_first_name}!", action="preview"),
    )
    assert "Hello Sam!" in response.content.decode()
    crown.refresh_from_db()
    assert crown.cover_message.startswith("Hi {patient_first_name}")


def test_the_live_preview_escapes_what_is_typed(crown, owner_client):
    response = owner_client.post(
        url("pack_template_preview", crown), form_data(crown, what_we_found="<img src=x onerror=alert(1)>")
    )
    page = response.content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page


def test_retiring_and_restoring(crown, owner_client):
    owner_client.post(url("pack_template_retire", crown))
    crown.refresh_from_db()
    assert crown.is_retired
    assert "Crown" not in owner_client.get(url("pack_templates")).content.decode().split("<h1>")[1]
    owner_client.post(url("pack_template_restore", crown))
    crown.refresh_from_db()
    assert crown.is_active


def test_a_manager_copies_a_template_and_lands_on_its_form(crown, owner_client):
    response = owner_client.post(url("pack_template_duplicate", crown))
    copy = PackTemplate.objects.get(name="Crown (copy)")
    assert response["Location"] == url("pack_template_edit", copy)


def test_the_starter_button_adds_templates(organisation, owner_client):
    owner_client.post(url("pack_templates_starter"))
    assert PackTemplate.objects.filter(organisation=organisation).count() == len(STARTER_TEMPLATES)


def test_the_sending_messages_and_consent_statements_are_edited_with_their_placeholders_checked(crown, owner_client):
    response = owner_client.post(
        url("pack_template_edit", crown),
        form_data(
            crown,
            sms_message="Hi {first_name}, here it is:",
            email_subject="",
            consent_statements="I have read it.\n\nI agree with {dentist}.",
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "Unknown placeholder {first_name}" in errors["sms_message"][0]
    assert errors["email_subject"] == ["Write the subject of the email that carries the link to the pack."]
    assert errors["consent_statements"][0].startswith("Line 2: Unknown placeholder {dentist}")

    response = owner_client.post(
        url("pack_template_edit", crown),
        form_data(
            crown,
            sms_message="Hi {patient_first_name}, {team_member_name} here. Your pack:",
            email_subject="Your pack from {clinic_name}",
            consent_statements="  I have read the pack.  \n\nI agree to go ahead with {dentist_name}.\n",
        ),
    )
    assert response.status_code == 302
    crown.refresh_from_db()
    assert crown.sms_message == "Hi {patient_first_name}, {team_member_name} here. Your pack:"
    assert crown.email_subject == "Your pack from {clinic_name}"
    assert crown.consent_statements == ["I have read the pack.", "I agree to go ahead with {dentist_name}."]
    page = owner_client.get(url("pack_template_detail", crown)).content.decode()
    assert "I agree to go ahead with" in page


def test_the_starter_templates_carry_messages_and_consent(organisation, owner):
    pack_templates_install_starter(organisation=organisation, by=owner)
    for template in PackTemplate.objects.filter(organisation=organisation):
        assert "{team_member_name}" in template.sms_message
        assert template.email_subject
        assert len(template.consent_statements) >= 4
    veneers = PackTemplate.objects.get(organisation=organisation, plan_type="elective", name__icontains="veneer")
    assert any("shade and shape" in statement for statement in veneers.consent_statements)
