"""The pack and the signed consent as PDF documents.

`pack_pdf` lays out a frozen version for A4 paper: the clinic's letterhead, who the pack is for and
when it was made, then the version's own `body_html` (the very page the patient was shown), styled
for print by clearplan/css/pack-print.css with every question and education answer opened out.
`signed_pdf` adds the consent and signature record as the last page, and `signature_pdf_store`
keeps that document with the signature, once.

The renderer (WeasyPrint) reads nothing from the network or the disk by itself: its URL fetcher
serves the version's own image copies and the clinic's logo from storage and refuses every other
address, so a crafted page cannot make the server fetch anything. WeasyPrint is imported when a
PDF is made, so the rest of the application runs on a machine without Pango.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import mimetypes
import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.text import slugify

from clearplan.audit.models import AuditEvent
from clearplan.packs.models import ConsentSignature, PackVersion
from clearplan.plans import services
from clearplan.plans.composer import readable_text_colour

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.urls import URLFetcher

# Relative addresses in the page resolve against this origin, which no network can reach; the
# fetcher answers only for it.
PDF_ORIGIN = "https://pdf.clearplan.invalid"
STYLESHEETS = ("clearplan/css/pack.css", "clearplan/css/pack-print.css")
DEFAULT_BRAND = "#1F6F78"
BRAND_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
FINGERPRINT_LENGTH = 12
# The drawn signature: SVG path data only (commands, numbers, separators), in a 0–1000 × 0–300 box.
SIGNATURE_BOX = (1000, 300)
SIGNATURE_MAX_LENGTH = 100_000
_PATH_DATA = re.compile(r"[Mm][MmLlHhVvCcSsQqTtAaZz0-9eE.,+\-\s]*")
_SIZES = ("thumb", "medium", "large")


class _QuietStylesheetNotes(logging.Filter):
    """pack.css is written for screens; WeasyPrint notes each rule it has no use for (container
    queries and the like) on every render. Those notes are dropped; refused addresses still log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not message.startswith(("Ignored `", "Unknown rule", "Invalid or unsupported selector"))


@functools.cache
def _load_weasyprint() -> None:
    """Import WeasyPrint once, keeping Pillow's refusal of damaged images: WeasyPrint switches on
    "load truncated images" for the whole process when imported, which would let a damaged upload
    (a logo, an X-ray) through the checks in clearplan.lib.imaging after the first PDF."""
    from PIL import ImageFile

    accept_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint  # noqa: F401

    ImageFile.LOAD_TRUNCATED_IMAGES = accept_truncated


def _quiet_renderer_logs() -> None:
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    renderer = logging.getLogger("weasyprint")
    if not any(isinstance(existing, _QuietStylesheetNotes) for existing in renderer.filters):
        renderer.addFilter(_QuietStylesheetNotes())


class RefusedURL(ValueError):
    """The PDF asked for something that is not a file of this pack."""


def is_signature_path(data: str) -> bool:
    """Whether `data` is SVG path data and nothing else, so it can be placed in a path's d attribute."""
    data = data.strip()
    return bool(data) and len(data) <= SIGNATURE_MAX_LENGTH and _PATH_DATA.fullmatch(data) is not None


def fingerprint(sha256: str) -> str:
    """The short form of a version's SHA-256 printed in every page's footer."""
    return sha256[:FINGERPRINT_LENGTH]


def pack_pdf_filename(version: PackVersion) -> str:
    """A download name that says what the file is, without naming the patient."""
    clinic = slugify(version.snapshot.get("clinic", {}).get("name", "")) or "clinic"
    return f"{clinic}-treatment-pack-v{version.number}.pdf"


def signed_pdf_filename(signature: ConsentSignature) -> str:
    clinic = slugify(signature.version.snapshot.get("clinic", {}).get("name", "")) or "clinic"
    return f"{clinic}-signed-consent-v{signature.version.number}.pdf"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# Dates are written out here, not by template filters, which would move them to the server's zone.
def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _moment(moment: datetime) -> str:
    return f"{_day(moment)}, {moment:%H:%M:%S} {moment.tzname()}"


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(ZoneInfo('UTC')):%Y-%m-%d %H:%M:%S} UTC"


def _brand_css(snapshot: dict[str, Any]) -> str:
    colour = snapshot.get("clinic", {}).get("brand_colour") or ""
    brand = colour if BRAND_COLOUR.match(colour) else DEFAULT_BRAND
    on_brand = readable_text_colour(brand)
    return f":root, .pack {{ --pack-brand: {brand}; --pack-on-brand: {on_brand}; }}\n"


def _stylesheets() -> list[CSS]:
    """The print stylesheets, parsed once per process while their files are unchanged."""
    paths = []
    for name in STYLESHEETS:
        path = finders.find(name)
        if not isinstance(path, str):
            raise FileNotFoundError(f"Stylesheet {name} is missing.")
        paths.append((path, os.stat(path).st_mtime_ns))
    return list(_parsed_stylesheets(tuple(paths)))


@functools.lru_cache(maxsize=2)
def _parsed_stylesheets(paths: tuple[tuple[str, int], ...]) -> tuple[CSS, ...]:
    _load_weasyprint()
    from weasyprint import CSS

    parsed = []
    for path, _modified in paths:
        with open(path, encoding="utf-8") as handle:
            parsed.append(CSS(string=handle.read(), url_fetcher=_url_fetcher(None)))
    return tuple(parsed)


def _url_fetcher(version: PackVersion | None) -> URLFetcher:
    """A fetcher that serves the version's own image copies and its clinic's logo from storage and
    refuses every other address (with no version, it refuses everything)."""
    _load_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    refused = "Only the pack's own images are shown in its PDF."

    def open_file(name: str, url: str) -> URLFetcherResponse:
        with default_storage.open(name, "rb") as handle:
            content = handle.read()
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=content, headers={"Content-Type": content_type})

    class PackFiles(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            parts = urlsplit(url)
            if version is None or f"{parts.scheme}://{parts.netloc}" != PDF_ORIGIN or parts.query or parts.fragment:
                raise RefusedURL(refused)
            try:
                match = resolve(parts.path)
            except Resolver404 as error:
                raise RefusedURL(refused) from error
            if match.view_name == "packs:patient_image" and match.kwargs.get("size") in _SIZES:
                image = version.images.filter(public_id=match.kwargs["image_id"]).first()
                if image is not None:
                    return open_file(getattr(image, match.kwargs["size"]).name, url)
            clinic = version.case.clinic
            if (
                match.view_name == "packs:patient_logo"
                and match.kwargs.get("clinic_id") == clinic.public_id
                and clinic.logo
            ):
                return open_file(clinic.logo.name, url)
            raise RefusedURL(refused)

    # No protocol is allowed to the base class: fetch() above never hands an address on to it.
    return PackFiles(allowed_protocols=(), allow_redirects=False)


@dataclass(frozen=True)
class _Document:
    version: PackVersion
    clinic: dict[str, Any]
    patient_name: str
    dentist_name: str
    prepared_on: str
    fingerprint: str


def _document(version: PackVersion) -> _Document:
    snapshot = version.snapshot
    clinic = dict(snapshot.get("clinic", {}))
    zone = _zone(clinic.get("time_zone") or version.case.clinic.time_zone)
    return _Document(
        version=version,
        clinic=clinic,
        patient_name=snapshot.get("patient", {}).get("full_name", ""),
        dentist_name=snapshot.get("dentist_name", ""),
        prepared_on=_day(timezone.localtime(version.created_at, zone)),
        fingerprint=fingerprint(version.sha256),
    )


def _render(version: PackVersion, template: str, context: dict[str, Any]) -> bytes:
    _load_weasyprint()
    from weasyprint import CSS, HTML

    _quiet_renderer_logs()
    fetcher = _url_fetcher(version)
    clinic = version.case.clinic
    html = render_to_string(
        template,
        {
            "document": _document(version),
            "body_html": version.body_html,
            "logo_url": reverse("packs:patient_logo", args=[clinic.public_id]) if clinic.logo else "",
            **context,
        },
    )
    stylesheets = [*_stylesheets(), CSS(string=_brand_css(version.snapshot), url_fetcher=_url_fetcher(None))]
    document = HTML(string=html, base_url=f"{PDF_ORIGIN}/", url_fetcher=fetcher)
    return bytes(document.write_pdf(stylesheets=stylesheets, pdf_tags=True))


def pack_pdf(version: PackVersion) -> bytes:
    """The frozen version as an A4 document: letterhead, who it is for, and the page the patient saw."""
    return _render(version, "packs/pdf/pack.html", {})


@dataclass(frozen=True)
class _SignatureRecord:
    signature: ConsentSignature
    signed_at_utc: str
    signed_at_local: str
    time_zone: str
    drawn_path: str
    drawn_but_invalid: bool
    sha256_matches: bool
    generated_at: str
    box: tuple[int, int] = SIGNATURE_BOX


def signed_pdf(signature: ConsentSignature) -> bytes:
    """The pack PDF of the signed version followed by the consent and signature record."""
    version = signature.version
    zone_name = version.case.clinic.time_zone or version.snapshot.get("clinic", {}).get("time_zone") or "UTC"
    drawn = signature.drawn_signature.strip()
    valid = is_signature_path(drawn)
    record = _SignatureRecord(
        signature=signature,
        signed_at_utc=_utc(signature.signed_at),
        signed_at_local=_moment(timezone.localtime(signature.signed_at, _zone(zone_name))),
        time_zone=zone_name,
        drawn_path=drawn if valid else "",
        drawn_but_invalid=bool(drawn) and not valid,
        sha256_matches=signature.version_sha256 == version.sha256,
        generated_at=_utc(timezone.now()),
    )
    return _render(version, "packs/pdf/signed.html", {"record": record})


def signature_pdf_store(signature: ConsentSignature) -> ConsentSignature:
    """Make the signed PDF and keep it with the signature (a random file name, and its SHA-256).

    Does nothing when the signature already has its PDF, so running it twice (a retried task, two
    workers) keeps one file."""
    if signature.pdf:
        return signature
    content = signed_pdf(signature)
    with transaction.atomic():
        current = (
            ConsentSignature.objects.select_for_update().select_related("case__clinic", "version").get(pk=signature.pk)
        )
        if current.pdf:
            return current
        current.pdf.save("signed.pdf", ContentFile(content), save=False)
        try:
            current.pdf_sha256 = hashlib.sha256(content).hexdigest()
            current.save(update_fields=["pdf", "pdf_sha256"])
            services._audit(
                action=AuditEvent.Action.CREATE,
                case=current.case,
                by=None,
                request=None,
                changes={"signed_pdf_sha256": [None, current.pdf_sha256]},
            )
        except BaseException:
            # The row was not updated: the file would be an orphan (a random name, never served).
            default_storage.delete(current.pdf.name)
            raise
    signature.pdf, signature.pdf_sha256 = current.pdf, current.pdf_sha256
    return current
