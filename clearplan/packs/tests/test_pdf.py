"""The pack and the signed consent as PDFs: the same content the patient read, laid out for paper,
and a record of the signature that can be kept and sent.

Set CLEARPLAN_PDF_OUT to a folder to keep the PDFs these tests make, for looking at."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader

from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import EducationItem
from clearplan.packs.links import link_create
from clearplan.packs.models import ConsentSignature, PackSession, PackVersion
from clearplan.packs.pdf import (
    is_signature_path,
    pack_pdf,
    pack_pdf_filename,
    signature_pdf_store,
    signed_pdf,
    signed_pdf_filename,
)
from clearplan.packs.tests.conftest import png_bytes
from clearplan.packs.versions import digest, pack_version_freeze

SIGNED_AT = datetime(2025, 9, 16, 8, 4, 12, tzinfo=UTC)  # 6:04 pm in Sydney
# A signature drawn in the 0–1000 × 0–300 box: a loop and a flourish.
DRAWN = "M 60 210 C 120 60, 200 60, 230 190 S 330 260, 380 150 L 420 120 Q 470 90 520 170 T 640 150 M 700 220 L 940 200"


def text_of(pdf: bytes, page: int | None = None) -> str:
    """The PDF's text with runs of white space (line breaks included) made single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = reader.pages if page is None else [reader.pages[page]]
    return " ".join(" ".join(p.extract_text() or "" for p in pages).split())


def image_count(pdf: bytes) -> int:
    """Distinct pictures in the PDF (pages may share one resource list, so count by content)."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return len({hashlib.sha256(image.data).hexdigest() for page in pages for image in page.images})


def keep(name: str, pdf: bytes) -> None:
    folder = os.environ.get("CLEARPLAN_PDF_OUT")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_bytes(pdf)


@pytest.fixture
def branded_case(sendable_case):
    clinic = sendable_case.clinic
    clinic.brand_colour = "#2B5F8A"
    clinic.email = "hello@harbourdental.example"
    clinic.logo.save("logo.png", ContentFile(png_bytes((255, 255, 255), (240, 80))), save=False)
    clinic.save()
    crown = sendable_case.options.get(title="Option A: crown").lines.order_by("-fee").first().procedure
    EducationItem.objects.create(
        organisation=clinic.organisation,
        procedure=crown,
        title="What a crown is",
        body="A crown is a cap made to fit over the whole tooth.\n\nIt protects a cracked tooth from splitting.",
    )
    return sendable_case


def make_signature(version: PackVersion, by, *, drawn: str = DRAWN, **fields) -> ConsentSignature:
    link, _token = link_create(case=version.case, recipient="guardian", by=by)
    session = PackSession.objects.create(
        link=link,
        key_sha256=secrets.token_hex(32),
        expires_at=timezone.now() + timedelta(hours=1),
        verified_at=SIGNED_AT,
        verified_by="date_of_birth",
    )
    option = version.snapshot["options"][0]
    values = {
        "case": version.case,
        "version": version,
        "version_sha256": version.sha256,
        "session": session,
        "option_public_id": option["public_id"],
        "option_title": option["title"],
        "signer_name": "Zoë O'Brien",
        "relationship": ConsentSignature.Relationship.PARENT,
        "verified_by": "date_of_birth",
        "signed_at": SIGNED_AT,
        "ip_address": "203.0.113.42",
        "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "consent_statements": version.snapshot["consent_statements"],
        "drawn_signature": drawn,
        "submission_key": secrets.token_hex(16),
        **fields,
    }
    return ConsentSignature.objects.create(**values)


def test_the_pack_pdf_holds_what_the_patient_read_with_every_answer_open(branded_case, coordinator):
    version = pack_version_freeze(case=branded_case, by=coordinator)

    pdf = pack_pdf(version)
    keep("pack.pdf", pdf)

    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    snapshot = version.snapshot
    assert "Your treatment pack" in text
    assert f"Prepared for {snapshot['patient']['full_name']}" in text
    assert f"From {snapshot['dentist_name']} at {snapshot['clinic']['name']}" in text
    for option in snapshot["options"]:
        assert option["title"] in text
    for option in snapshot["options"][:2]:
        assert option["total_display"] in text  # "$1,715.00"
        for line in option["lines"]:
            assert line["name"] in text
    # Questions and education are folded away on the page; on paper every answer shows.
    assert "Does it hurt, Mere? Very little." in text
    assert "What a crown is A crown is a cap made to fit over the whole tooth." in text
    assert "It protects a cracked tooth from splitting." in text
    assert "The cracked upper left molar" in text
    assert "Your smile today" in text
    # The two key images and the clinic's logo are in the document, served from the version's copies.
    assert image_count(pdf) == 3


def test_every_page_has_the_clinic_version_fingerprint_and_page_of_pages(sendable_case, coordinator):
    version = pack_version_freeze(case=sendable_case, by=coordinator)

    pdf = pack_pdf(version)

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages >= 2
    for number in range(pages):
        text = text_of(pdf, number)
        assert f"Page {number + 1} of {pages}" in text
        assert f"{sendable_case.clinic.name} · Treatment pack version 1 · SHA-256 {version.sha256[:12]}" in text
    assert version.sha256[:13] not in text_of(pdf)


def test_the_signed_pdf_ends_with_the_consent_and_signature_record(branded_case, coordinator):
    version = pack_version_freeze(case=branded_case, by=coordinator)
    signature = make_signature(version, coordinator)

    pdf = signed_pdf(signature)
    keep("signed.pdf", pdf)

    pack_pages = len(PdfReader(io.BytesIO(pack_pdf(version))).pages)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == pack_pages + 1
    assert "Your treatment pack" in text_of(pdf, 0)
    record = text_of(pdf, -1)
    assert record.startswith("Consent and signature record")
    assert "Patient Mere Ngata" in record
    assert "Signed by Zoë O'Brien" in record
    assert "Relationship to the patient Parent" in record
    assert "How they verified who they are Date of birth" in record
    assert "Signed at (UTC) 2025-09-16 08:04:12 UTC" in record
    assert "Signed at (clinic time) 16 September 2025, 18:04:12 AEST (Australia/Sydney)" in record
    assert "IP address 203.0.113.42" in record
    assert "iPhone OS 18_0" in record
    assert "Option chosen Option A: crown" in record
    statements = version.snapshot["consent_statements"]
    assert statements
    for statement in statements:
        assert " ".join(statement.split()) in record
    assert version.sha256 in record
    assert "This PDF was made" in record
    assert "Drawn by Zoë O'Brien" in record
    assert f"Page {pack_pages + 1} of {pack_pages + 1}" in record


def test_a_typed_signature_says_so(sendable_case, coordinator):
    version = pack_version_freeze(case=sendable_case, by=coordinator)
    signature = make_signature(version, coordinator, drawn="")

    record = text_of(signed_pdf(signature), -1)

    assert "Signed by typing their name" in record
    assert "Drawn by" not in record


@pytest.fixture
def listener():
    """A local server that should never be contacted: anything the PDF fetched would queue here."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


def assert_never_contacted(server: socket.socket) -> None:
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return
    connection.close()
    pytest.fail("The PDF renderer connected to an address outside the pack.")


def test_the_pdf_fetches_nothing_but_the_versions_own_files(sendable_case, coordinator, listener, tmp_path):
    first = pack_version_freeze(case=sendable_case, by=coordinator)
    other_image = first.images.first()
    port = listener.getsockname()[1]
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes((255, 0, 0)))
    body = f"""<article class="pack">
      <p>Crafted page</p>
      <img src="http://127.0.0.1:{port}/x.png" alt="">
      <img src="https://127.0.0.1:{port}/y.png" alt="">
      <img src="//127.0.0.1:{port}/z.png" alt="">
      <img src="file://{secret}" alt="">
      <img src="/p/images/{other_image.public_id}/medium" alt="">
      <img src="/p/images/{other_image.public_id}/original" alt="">
      <img src="/p/logo/{sendable_case.clinic.public_id}" alt="">
      <link rel="stylesheet" href="http://127.0.0.1:{port}/s.css">
      <style>@import url("http://127.0.0.1:{port}/i.css");
        p {{ background: url("http://127.0.0.1:{port}/b.png"); }}</style>
      <svg><image href="http://127.0.0.1:{port}/svg.png" width="10" height="10"/></svg>
    </article>"""
    crafted = PackVersion.objects.create(
        case=sendable_case,
        number=first.number + 1,
        snapshot=first.snapshot,
        body_html=body,
        sha256=digest(first.snapshot, body),
        created_by=coordinator,
    )

    pdf = pack_pdf(crafted)

    assert "Crafted page" in text_of(pdf)
    assert_never_contacted(listener)
    # Not the file on disk, not another version's image, not a logo the clinic does not have.
    assert image_count(pdf) == 0


def test_a_drawn_signature_that_is_not_path_data_is_not_embedded(sendable_case, coordinator, listener):
    version = pack_version_freeze(case=sendable_case, by=coordinator)
    port = listener.getsockname()[1]
    drawn = f'M 10 10 L 20 20"/><image href="http://127.0.0.1:{port}/sig.png" width="500" height="100"/><path d="M0 0'
    signature = make_signature(version, coordinator, drawn=drawn)

    record = text_of(signed_pdf(signature), -1)

    assert "a drawing was recorded but could not be shown" in record
    assert_never_contacted(listener)


def test_path_data_is_recognised():
    assert is_signature_path(DRAWN)
    assert is_signature_path("m10,10l5-5z")
    assert is_signature_path("M1e2 3.5E1 l -.5 .5")
    assert not is_signature_path("")
    assert not is_signature_path("L 10 10")
    assert not is_signature_path('M 0 0"/><script>x</script>')
    assert not is_signature_path("M 0 0 url(#x)")
    assert not is_signature_path("M 0 0 " + "L 1 1 " * 20_000)


def test_storing_the_signed_pdf_twice_keeps_one_file(sendable_case, coordinator, settings):
    version = pack_version_freeze(case=sendable_case, by=coordinator)
    signature = make_signature(version, coordinator)
    stale = ConsentSignature.objects.get(pk=signature.pk)

    stored = signature_pdf_store(signature)
    again = signature_pdf_store(signature)
    from_stale = signature_pdf_store(stale)

    assert stored.pdf.name == again.pdf.name == from_stale.pdf.name
    assert stored.pdf.name.startswith("signed-packs/")
    assert stored.pdf.name.endswith(".pdf")
    assert "Ngata" not in stored.pdf.name
    files = list((Path(settings.MEDIA_ROOT) / "signed-packs").iterdir())
    assert len(files) == 1
    with default_storage.open(stored.pdf.name, "rb") as handle:
        content = handle.read()
    assert hashlib.sha256(content).hexdigest() == stored.pdf_sha256
    saved = ConsentSignature.objects.get(pk=signature.pk)
    assert (saved.pdf.name, saved.pdf_sha256) == (stored.pdf.name, stored.pdf_sha256)
    assert "Consent and signature record" in text_of(content, -1)
    events = AuditEvent.objects.filter(object_id=str(sendable_case.public_id), changes__has_key="signed_pdf_sha256")
    assert events.count() == 1


def test_download_names_say_what_the_file_is_without_naming_the_patient(sendable_case, coordinator):
    version = pack_version_freeze(case=sendable_case, by=coordinator)
    signature = make_signature(version, coordinator)

    assert pack_pdf_filename(version).endswith("-treatment-pack-v1.pdf")
    assert signed_pdf_filename(signature).endswith("-signed-consent-v1.pdf")
    for name in (pack_pdf_filename(version), signed_pdf_filename(signature)):
        assert "ngata" not in name.lower()


def test_making_a_pdf_leaves_damaged_uploads_refused(sendable_case, coordinator):
    from PIL import ImageFile

    from clearplan.lib.imaging import ImageRejected, inspect_upload

    pack_pdf(pack_version_freeze(case=sendable_case, by=coordinator))

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(ImageRejected, match="damaged"):
        inspect_upload(png_bytes(size=(400, 400))[:200], filename="x-ray.png")
