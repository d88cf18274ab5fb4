"""Recording how the patient reads their pack, by the page itself (no third-party analytics).

Every load of the pack page starts a visit, so "opened" is known even without JavaScript. The page's
script (static/clearplan/js/pack.js) then reports which sections came into view and how long the
page was visible, a few times a minute and when the reader leaves. The server believes only what
it can bound: known section names, at most `MAX_SECONDS_PER_UPDATE` a report, never more in total
than the time since the visit started, and only for the session's own visit.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clearplan.packs.models import PackSession, PackVersion, PackVisit

if TYPE_CHECKING:
    from collections.abc import Iterable

# The data-pack-section names of the pack page (templates/pack/_pack_body.html) and its action area.
SECTION_NAMES = (
    "cover",
    "images",
    "what-we-found",
    "options",
    "costs",
    "insurance-and-payment",
    "next-steps",
    "about-your-treatment",
    "questions",
    "aftercare",
    "actions",
    "contact",
)
# The script reports every 15 seconds; a late report (a tab woken from sleep) may carry a little more.
MAX_SECONDS_PER_UPDATE = 30


def visit_start(*, session: PackSession, version: PackVersion) -> PackVisit:
    """A new visit for a page load of the pack (the link and case are the session's)."""
    link = session.link
    return PackVisit.objects.create(
        session=session,
        link=link,
        case_id=link.case_id,
        version=version,
        device_type=session.device_type,
    )


def _parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def known_sections(names: Iterable[str]) -> list[str]:
    return [name for name in SECTION_NAMES if name in set(names)]


def visit_record(*, session: PackSession, visit_id: str, seconds: int, sections: Iterable[str]) -> PackVisit | None:
    """Add what the page reported to the session's own visit; None when the visit is not this session's."""
    public_id = _parse_uuid(visit_id)
    if public_id is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        visit = PackVisit.objects.select_for_update().filter(public_id=public_id, session=session).first()
        if visit is None:
            return None
        seconds = max(0, min(int(seconds), MAX_SECONDS_PER_UPDATE))
        elapsed = max(0, int((now - visit.started_at).total_seconds()))
        visit.seconds_viewed = min(visit.seconds_viewed + seconds, elapsed)
        reported = set(visit.sections) | set(known_sections(sections))
        visit.sections = [name for name in SECTION_NAMES if name in reported]
        visit.measured_by_script = True
        visit.last_seen_at = now
        visit.save(update_fields=["seconds_viewed", "sections", "measured_by_script", "last_seen_at"])
    return visit
