"""Settings → Procedures → Import descriptions: preview first, then all or nothing."""

from __future__ import annotations

import codecs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import Procedure
from clearplan.catalog.services import catalog_install_starter
from clearplan.catalog.views import IMPORT_SESSION_KEY

IMPORT_URL = reverse("catalog:import_descriptions")
CONFIRM_URL = reverse("catalog:import_confirm")


@pytest.fixture
def catalogue(organisation, owner):
    catalog_install_starter(organisation=organisation, region="AU", by=owner)
    return Procedure.objects.filter(organisation=organisation)


def upload(client, content: bytes, name: str = "codes.csv"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def descriptions(catalogue):
    return dict(catalogue.exclude(licensed_description="").values_list("code", "licensed_description"))


def test_a_file_is_previewed_and_nothing_changes_until_it_is_confirmed(owner_client, catalogue):
    content = (
        codecs.BOM_UTF8 + "Item,Description\n11,Licensed words for 011\n012,Licensed – 012\n999,Not ours\n".encode()
    )
    response = upload(owner_client, content)
    preview = response.context["preview"]
    assert [update.code for update in preview.updates] == ["011", "012"]
    assert [line.code for line in preview.unknown] == ["999"]
    page = response.content.decode()
    assert "2 procedures will get their licensed description" in page
    assert "1 code in the file is not in your catalogue and will be skipped" in page
    assert descriptions(catalogue) == {}

    token = response.context["token"]
    response = owner_client.post(CONFIRM_URL, {"token": token}, follow=True)

    assert "Licensed descriptions imported: 2 procedures updated." in response.content.decode()
    assert descriptions(catalogue) == {"011": "Licensed words for 011", "012": "Licensed – 012"}
    assert catalogue.get(code="011").licensed_description_imported_at is not None
    event = AuditEvent.objects.get(object_label="Licensed descriptions imported")
    assert event.changes == {"file": "codes.csv", "procedures_updated": 2, "codes": "011, 012"}
    # Our own names stay as they were.
    assert catalogue.get(code="011").name == "Full check-up, new patient"


def test_a_windows_1252_file_imports_its_accents(owner_client, catalogue):
    response = upload(owner_client, "code,description\n022,Radiograph – intraoral café\n".encode("cp1252"))
    owner_client.post(CONFIRM_URL, {"token": response.context["token"]})
    assert descriptions(catalogue) == {"022": "Radiograph – intraoral café"}


def test_a_file_with_bad_rows_lists_them_and_cannot_be_imported(owner_client, catalogue):
    content = b"code,description\n011,Fine\n012,\n022,Fine too\n011,Again\n"
    response = upload(owner_client, content)
    page = response.content.decode()
    assert "Nothing has been saved." in page
    assert [(problem.row, problem.problem) for problem in response.context["preview"].problems] == [
        (3, "Code 012 has no description."),
        (5, "Code 011 is also on row 2. Keep one row per code."),
    ]
    assert "Import 2 descriptions" not in page
    assert IMPORT_SESSION_KEY not in owner_client.session
    assert owner_client.post(CONFIRM_URL, {"token": ""}).status_code == 302
    assert descriptions(catalogue) == {}


def test_an_old_or_forged_confirmation_imports_nothing(owner_client, catalogue):
    upload(owner_client, b"code,description\n011,Words\n")
    response = owner_client.post(CONFIRM_URL, {"token": "made-up"}, follow=True)
    assert "That preview is no longer available" in response.content.decode()
    assert descriptions(catalogue) == {}


def test_a_preview_can_be_confirmed_only_once(owner_client, catalogue):
    token = upload(owner_client, b"code,description\n011,Words\n").context["token"]
    owner_client.post(CONFIRM_URL, {"token": token})
    catalogue.filter(code="011").update(licensed_description="Changed since")
    owner_client.post(CONFIRM_URL, {"token": token})
    assert descriptions(catalogue) == {"011": "Changed since"}


def test_a_preview_from_one_practice_cannot_be_applied_in_another(owner_client, owner, catalogue, settings):
    token = upload(owner_client, b"code,description\n011,Words\n").context["token"]
    session = owner_client.session
    session[IMPORT_SESSION_KEY]["organisation"] = 0
    session.save()
    owner_client.post(CONFIRM_URL, {"token": token})
    assert descriptions(catalogue) == {}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("codes.xlsx", b"PK\x03\x04", "This is a spreadsheet file."),
        ("codes.pdf", b"%PDF-1.7", "Choose a CSV file (its name ends in .csv)."),
        ("codes.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "This does not look like a CSV file."),
        ("codes.csv", b"Fee,Words\n95,Exam\n", "The first line should name the columns"),
        ("codes.csv", b"code,description\n" + b"011,words\n" * 250_000, "larger than 2 MB"),
    ],
)
def test_files_that_cannot_be_read_are_explained_at_the_field(owner_client, catalogue, name, content, message):
    response = upload(owner_client, content, name=name)
    assert response.status_code == 200
    assert message in response.context["form"].errors["file"][0]
    assert response.context["preview"] is None
    assert descriptions(catalogue) == {}


def test_a_file_must_be_chosen(owner_client, catalogue):
    response = owner_client.post(IMPORT_URL, {})
    assert response.context["form"].errors["file"] == ["Choose the CSV file to import."]


def test_a_file_that_changes_nothing_says_so(owner_client, catalogue):
    catalogue.filter(code="011").update(licensed_description="Same words")
    response = upload(owner_client, b"code,description\n011,Same words\n")
    assert "Nothing to change." in response.content.decode()
    assert response.context["token"] == ""


def test_non_managers_cannot_import(coordinator_client, catalogue):
    response = coordinator_client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("codes.csv", b"code,description\n011,W\n", content_type="text/csv")}
    )
    assert response.status_code == 403
    assert coordinator_client.post(CONFIRM_URL, {"token": "x"}).status_code == 403
    assert descriptions(catalogue) == {}
