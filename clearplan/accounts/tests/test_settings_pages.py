"""Settings hub, your profile, clinic profile (with logo) and organisation settings."""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.test import Client
from PIL import ExifTags, Image

from clearplan.accounts import services
from clearplan.accounts.logos import prepare_logo
from clearplan.accounts.models import Clinic
from clearplan.accounts.tests.factories import UserFactory
from clearplan.audit.models import AuditEvent


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _image(image_format: str = "PNG", size=(40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (31, 111, 120)).save(buffer, format=image_format)
    return buffer.getvalue()


def _clinic_form(clinic: Clinic, **changes):
    data = {
        "name": clinic.name,
        "address": clinic.address,
        "phone": "02 9000 0000",
        "email": "",
        "time_zone": clinic.time_zone,
        "locale": clinic.locale,
        "currency": clinic.currency,
        "tooth_numbering": clinic.tooth_numbering,
        "brand_colour": clinic.brand_colour,
        "pack_verification": clinic.pack_verification,
        "pack_link_days": clinic.pack_link_days,
    }
    data.update(changes)
    return data


@pytest.fixture
def org_admin(organisation, clinic, other_clinic):
    return UserFactory(organisation=organisation, is_organisation_admin=True, email="admin@example.com")


@pytest.fixture
def org_admin_client(org_admin):
    client = Client()
    client.force_login(org_admin)
    return client


# ---------- Hub ----------


def test_the_settings_hub_links_to_the_pages_each_person_may_use(owner_client, coordinator_client, org_admin_client):
    coordinator_page = coordinator_client.get("/settings/").content.decode()
    assert "/settings/profile/" in coordinator_page
    assert "/accounts/2fa/" in coordinator_page
    assert "/settings/team/" not in coordinator_page
    owner_page = owner_client.get("/settings/").content.decode()
    for path in ("/settings/team/", "/settings/clinic/", "/settings/audit/"):
        assert path in owner_page
    assert "/settings/organisation/" not in owner_page
    assert "/settings/organisation/" in org_admin_client.get("/settings/").content.decode()


# ---------- Your profile ----------


def test_staff_change_their_name_and_email_preference(coordinator_client, coordinator):
    response = coordinator_client.post("/settings/profile/", {"first_name": "Chloe", "last_name": "O'Connor-Lee"})
    assert response.status_code == 302
    coordinator.refresh_from_db()
    assert coordinator.first_name == "Chloe"
    assert coordinator.last_name == "O'Connor-Lee"
    assert coordinator.notify_by_email is False
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert event.changes["notify_by_email"] == [True, False]


def test_a_profile_needs_a_first_name(coordinator_client, coordinator):
    response = coordinator_client.post("/settings/profile/", {"first_name": "", "notify_by_email": "on"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    coordinator.refresh_from_db()
    assert coordinator.first_name == "Chloé"


def test_the_profile_links_to_password_and_two_factor(coordinator_client):
    page = coordinator_client.get("/settings/profile/").content.decode()
    assert "/accounts/password/change/" in page
    assert "Set up an authenticator app" in page


# ---------- Clinic profile ----------


def test_a_manager_updates_the_clinic_profile_and_the_phone_is_stored_internationally(owner_client, owner, clinic):
    response = owner_client.post(
        "/settings/clinic/",
        _clinic_form(
            clinic,
            name="Harbour Dental Circular Quay",
            phone="(02) 9251 1234",
            email="hello@harbourdental.example",
            time_zone="Australia/Brisbane",
            currency="AUD",
            tooth_numbering="palmer",
            brand_colour="#0a5c36",
        ),
    )
    assert response.status_code == 302, response.content.decode()
    clinic.refresh_from_db()
    assert clinic.name == "Harbour Dental Circular Quay"
    assert clinic.phone == "+61292511234"
    assert clinic.time_zone == "Australia/Brisbane"
    assert clinic.tooth_numbering == "palmer"
    assert clinic.brand_colour == "#0A5C36"
    event = AuditEvent.objects.get(action=AuditEvent.Action.SETTINGS)
    assert event.actor == owner
    assert event.changes["phone"] == ["+61290000000", "+61292511234"]
    # Shown back the way the practice writes it.
    assert "(02) 9251 1234" in owner_client.get("/settings/clinic/").content.decode()


def test_a_manager_chooses_how_patients_open_their_pack_links(owner_client, clinic):
    response = owner_client.post(
        "/settings/clinic/", _clinic_form(clinic, pack_verification="code", pack_link_days="30")
    )
    assert response.status_code == 302, response.content.decode()
    clinic.refresh_from_db()
    assert (clinic.pack_verification, clinic.pack_link_days) == ("code", 30)
    event = AuditEvent.objects.get(action=AuditEvent.Action.SETTINGS)
    assert event.changes["pack_link_days"] == [60, 30]

    response = owner_client.post("/settings/clinic/", _clinic_form(clinic, pack_link_days="400"))
    assert "A link can work for at most 365 days." in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.pack_link_days == 30


def test_the_phone_is_read_for_the_clinics_country(owner_client, clinic):
    owner_client.post("/settings/clinic/", _clinic_form(clinic, locale="en-US", phone="(212) 555-0142", currency="USD"))
    clinic.refresh_from_db()
    assert clinic.phone == "+12125550142"


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"phone": "12345"}, "This doesn&#x27;t look like a valid phone number in Australia."),
        ({"time_zone": "Mars/Olympus_Mons"}, "Select a valid choice."),
        ({"brand_colour": "teal"}, "Use a colour written like #1F6F78"),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"name": ""}, "This field is required."),
        ({"currency": "DOGE"}, "Select a valid choice."),
    ],
)
def test_bad_clinic_details_are_shown_at_the_field_and_nothing_is_saved(owner_client, clinic, changes, field_error):
    response = owner_client.post("/settings/clinic/", _clinic_form(clinic, **changes, address="Changed address"))
    assert response.status_code == 200
    assert field_error in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.address != "Changed address"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SETTINGS).exists()


def test_a_clinic_name_must_be_unique_in_the_organisation(owner_client, clinic, other_clinic):
    response = owner_client.post("/settings/clinic/", _clinic_form(clinic, name=other_clinic.name.upper()))
    assert "Another clinic in your organisation already has this name." in response.content.decode()


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_a_logo_is_uploaded_and_served_only_to_the_clinics_staff(
    owner_client, coordinator_client, outsider_client, clinic, image_format
):
    content = _image(image_format)
    upload = SimpleUploadedFile("my logo.img", content, content_type="application/octet-stream")
    response = owner_client.post("/settings/clinic/", {**_clinic_form(clinic), "logo": upload})
    assert response.status_code == 302, response.content.decode()
    clinic.refresh_from_db()
    assert clinic.logo.name.startswith("clinic-logos/")
    assert "my logo" not in clinic.logo.name

    logo_url = f"/settings/clinics/{clinic.public_id}/logo/"
    assert logo_url in owner_client.get("/settings/clinic/").content.decode()
    response = coordinator_client.get(logo_url)
    assert response.status_code == 200
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as served:
        assert (served.format, served.size) == (image_format, (40, 20))
        assert served.convert("RGB").getpixel((20, 10)) == pytest.approx((31, 111, 120), abs=3)
    assert response["Content-Type"] == {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[image_format]
    assert outsider_client.get(logo_url).status_code == 404
    assert Client().get(logo_url).status_code == 302  # signed out: to the sign-in page


def _stored_logo(owner_client, clinic, content: bytes) -> Image.Image:
    upload = SimpleUploadedFile("logo", content, content_type="application/octet-stream")
    response = owner_client.post("/settings/clinic/", {**_clinic_form(clinic), "logo": upload})
    assert response.status_code == 302, response.content.decode()
    clinic.refresh_from_db()
    with clinic.logo.open("rb") as stored:
        image = Image.open(io.BytesIO(stored.read()))
        image.load()
    return image


def _exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.ImageDescription] = "Taken at Dr Lee's house"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (33.0, 51.0, 54.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (151.0, 12.0, 36.0),
    }
    return exif


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_a_logos_location_and_other_metadata_are_removed_before_it_is_stored(owner_client, clinic, image_format):
    buffer = io.BytesIO()
    extra = {"pnginfo": _png_text("Author", "Dr Lee, 12 Private Road")} if image_format == "PNG" else {}
    Image.new("RGB", (40, 20), (31, 111, 120)).save(
        buffer, format=image_format, exif=_exif_with_gps(), xmp=b"<x:xmpmeta>Dr Lee</x:xmpmeta>", **extra
    )
    original = Image.open(io.BytesIO(buffer.getvalue()))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload really carries a position

    stored = _stored_logo(owner_client, clinic, buffer.getvalue())
    assert stored.format == image_format
    assert not stored.getexif()
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "Author", "icc_profile"):
        assert key not in stored.info
    with clinic.logo.open("rb") as raw:
        data = raw.read()
    for trace in (b"PhoneMaker", b"Dr Lee", b"Private Road"):
        assert trace not in data


def _png_text(key: str, value: str):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(key, value)
    return info


def test_a_sideways_photo_is_stored_upright_once_its_turn_note_is_removed(owner_client, clinic):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "turn 90° clockwise to view"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (31, 111, 120)).save(buffer, format="JPEG", exif=exif)
    stored = _stored_logo(owner_client, clinic, buffer.getvalue())
    assert stored.size == (20, 40)
    assert not stored.getexif()


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_a_transparent_logo_stays_transparent(owner_client, clinic, image_format):
    image = Image.new("RGBA", (40, 20), (31, 111, 120, 255))
    image.putpixel((0, 0), (0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    stored = _stored_logo(owner_client, clinic, buffer.getvalue())
    assert stored.format == image_format
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0
    assert stored.getpixel((20, 10))[3] == 255


def test_a_palette_png_with_a_transparent_colour_stays_transparent(owner_client, clinic):
    image = Image.new("P", (40, 20), 1)
    image.putpalette([255, 255, 255, 31, 111, 120])
    image.putpixel((0, 0), 0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=0)
    stored = _stored_logo(owner_client, clinic, buffer.getvalue())
    assert stored.convert("RGBA").getpixel((0, 0))[3] == 0
    assert stored.convert("RGBA").getpixel((20, 10)) == (31, 111, 120, 255)


def test_a_large_logo_is_scaled_down(owner_client, clinic):
    stored = _stored_logo(owner_client, clinic, _image("PNG", size=(3000, 1500)))
    assert stored.size == (2000, 1000)


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims `width` × `height` pixels (one bit each)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GIF89a" + b"\x00" * 100, "This file isn"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "This file isn"),
        ("TOO_MANY_BYTES", "This file is larger than 1 MB"),
        ("GIF", "Use a PNG, JPEG or WebP image."),
        ("TRUNCATED", "This file isn"),
        # Pillow refuses outright above twice its pixel limit, and only warns between one and two times it.
        (_png_header_only(30000, 30000), "This image is too large to open."),
        (_png_header_only(10000, 10000), "This image is too large to open."),
        (_png_header_only(9000, 20), "This image is 9000 × 20 pixels. Use one no larger than 4000 × 4000 pixels."),
    ],
    ids=["gif-bytes", "svg", "over-1-mb", "gif", "truncated", "bomb", "bomb-warning", "too-wide"],
)
def test_a_logo_that_is_not_a_small_png_jpeg_or_webp_is_refused(owner_client, clinic, settings, content, message):
    if content == "TOO_MANY_BYTES":
        content = _image("PNG") + b"\x00" * (1024 * 1024)
    elif content == "GIF":
        content = _image("GIF")
    elif content == "TRUNCATED":
        content = _image("PNG", size=(400, 400))[:200]
    upload = SimpleUploadedFile("logo.png", content, content_type="image/png")
    response = owner_client.post("/settings/clinic/", {**_clinic_form(clinic), "logo": upload})
    assert response.status_code == 200
    assert message in response.content.decode()
    clinic.refresh_from_db()
    assert not clinic.logo
    assert _media_files(settings) == []


def _media_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_refused_profile_change_writes_no_logo_file(owner, clinic, settings):
    with pytest.raises(ValidationError):
        services.clinic_update(
            clinic=clinic,
            by=owner,
            values={"currency": "dollars"},  # the model refuses it: not a three-letter code
            logo=prepare_logo(SimpleUploadedFile("l.png", _image(), "image/png")),
        )
    clinic.refresh_from_db()
    assert not clinic.logo
    assert _media_files(settings) == []


def test_a_logo_file_written_for_a_change_that_is_not_saved_is_deleted(owner, clinic, settings, monkeypatch):
    services.clinic_update(
        clinic=clinic, by=owner, values={}, logo=prepare_logo(SimpleUploadedFile("l.png", _image(), "image/png"))
    )
    clinic.refresh_from_db()
    first_logo = clinic.logo.name

    def database_fails(**kwargs):
        raise DatabaseError("disk full")

    # The failure comes after the new file is written, as the audit row is saved.
    monkeypatch.setattr(services, "audit_record", database_fails)
    with pytest.raises(DatabaseError):
        services.clinic_update(
            clinic=clinic,
            by=owner,
            values={"name": "Renamed"},
            logo=prepare_logo(SimpleUploadedFile("l.png", _image("PNG", size=(60, 30)), "image/png")),
        )
    clinic.refresh_from_db()
    assert clinic.logo.name == first_logo
    assert _media_files(settings) == [first_logo]


def test_a_logo_can_be_removed(owner_client, clinic, django_capture_on_commit_callbacks):
    owner_client.post(
        "/settings/clinic/", {**_clinic_form(clinic), "logo": SimpleUploadedFile("l.png", _image(), "image/png")}
    )
    clinic.refresh_from_db()
    stored = clinic.logo.path
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post("/settings/clinic/", {**_clinic_form(clinic), "remove_logo": "on"})
    clinic.refresh_from_db()
    assert not clinic.logo
    assert not os.path.exists(stored)


def test_logos_have_no_public_address(client, clinic, owner_client):
    owner_client.post(
        "/settings/clinic/", {**_clinic_form(clinic), "logo": SimpleUploadedFile("l.png", _image(), "image/png")}
    )
    clinic.refresh_from_db()
    assert client.get(f"/media-not-public/{clinic.logo.name}").status_code == 404


# ---------- Organisation ----------


def test_organisation_admins_rename_the_organisation_and_require_two_factor(org_admin_client, org_admin, organisation):
    page = org_admin_client.get("/settings/organisation/").content.decode()
    assert "Harbour Dental Sydney" in page
    assert "Harbour Dental Perth" in page
    response = org_admin_client.post("/settings/organisation/", {"name": "Harbour Smiles", "require_two_factor": "on"})
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.name == "Harbour Smiles"
    assert organisation.require_two_factor
    event = AuditEvent.objects.get(action=AuditEvent.Action.SETTINGS)
    assert event.changes == {"name": ["Harbour Smiles Group", "Harbour Smiles"], "require_two_factor": [False, True]}


def test_managers_who_are_not_organisation_admins_cannot_change_the_organisation(owner_client, organisation):
    response = owner_client.post("/settings/organisation/", {"name": "Taken over"})
    assert response.status_code == 403
    organisation.refresh_from_db()
    assert organisation.name == "Harbour Smiles Group"


def test_organisation_admins_add_a_clinic(org_admin_client, org_admin, organisation):
    response = org_admin_client.post(
        "/settings/organisation/clinics/new/",
        {
            "name": "Harbour Dental Hobart",
            "address": "1 Salamanca Place\nHobart TAS 7000",
            "phone": "03 6200 0000",
            "time_zone": "Australia/Hobart",
            "locale": "en-AU",
            "currency": "AUD",
            "tooth_numbering": "fdi",
        },
    )
    assert response.status_code == 302, response.content.decode()
    new = organisation.clinics.get(name="Harbour Dental Hobart")
    assert new.phone == "+61362000000"
    assert new.time_zone == "Australia/Hobart"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, object_id=str(new.public_id)).exists()
    # An organisation admin can work in it straight away.
    page = org_admin_client.get("/today/").content.decode()
    assert f'value="{new.public_id}"' in page


def test_a_new_clinic_needs_a_valid_name_and_phone(org_admin_client, organisation):
    response = org_admin_client.post(
        "/settings/organisation/clinics/new/",
        {
            "name": "Harbour Dental Perth",
            "phone": "not a phone",
            "time_zone": "Australia/Perth",
            "locale": "en-AU",
            "currency": "AUD",
            "tooth_numbering": "fdi",
        },
    )
    page = response.content.decode()
    assert "Another clinic in your organisation already has this name." in page
    assert "valid phone number" in page
    assert organisation.clinics.count() == 2
