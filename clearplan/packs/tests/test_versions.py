"""Freezing a pack: what the patient is shown never changes once sent."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from clearplan.audit.models import AuditEvent
from clearplan.packs.models import ImmutableError, PackVersion
from clearplan.packs.versions import case_changed_since, digest, pack_version_freeze
from clearplan.plans import services


def test_a_frozen_version_holds_the_pack_as_data_page_and_digest(sendable_case, coordinator):
    version = pack_version_freeze(case=sendable_case, by=coordinator)

    assert version.number == 1
    snapshot = version.snapshot
    assert snapshot["patient"]["first_name"] == "Mere"
    titles = [option["title"] for option in snapshot["options"]]
    assert titles == ["Option A: crown", "Option B: denture", "No treatment — what to expect"]
    crown = snapshot["options"][0]
    assert crown["is_recommended"] is True
    assert crown["total"] == "1715.00"  # examination 65.00 + crown 1,650.00
    assert [line["where"] for line in crown["lines"]] == ["Whole mouth", "26"]
    assert snapshot["consent_statements"][0].startswith("I have read this treatment pack")
    assert "Mere" in version.body_html
    assert "Option A: crown" in version.body_html
    assert version.sha256 == digest(snapshot, version.body_html)
    assert AuditEvent.objects.filter(object_id=str(sendable_case.public_id), changes__pack_version=[None, 1]).exists()


def test_the_frozen_page_points_at_copies_of_the_images_not_the_case_images(sendable_case, coordinator):
    version = pack_version_freeze(case=sendable_case, by=coordinator)

    frozen = list(version.images.all())
    assert [image.source.caption for image in frozen] == ["The cracked upper left molar", "Your smile today"]
    for image in frozen:
        assert f"/p/images/{image.public_id}/medium" in version.body_html
        assert image.medium.name != image.source.medium.name
        assert default_storage.exists(image.medium.name)
    for case_image in sendable_case.images.all():
        assert str(case_image.public_id) not in version.body_html


def test_a_version_cannot_be_changed_once_made(sendable_case, coordinator):
    version = pack_version_freeze(case=sendable_case, by=coordinator)
    version.body_html = "changed"
    with pytest.raises(ImmutableError):
        version.save()
    assert PackVersion.objects.get(pk=version.pk).body_html != "changed"


def test_editing_the_plan_after_freezing_is_noticed_and_the_next_version_is_numbered_after(sendable_case, coordinator):
    first = pack_version_freeze(case=sendable_case, by=coordinator)
    assert case_changed_since(first) is False

    option = sendable_case.options.get(title="Option B: denture")
    services.option_rename(option=option, title="Option B: partial denture", by=coordinator)
    assert case_changed_since(first) is True

    second = pack_version_freeze(case=sendable_case, by=coordinator)
    assert second.number == 2
    assert second.sha256 != first.sha256
    assert "Option B: partial denture" not in PackVersion.objects.get(pk=first.pk).body_html


def test_a_case_with_an_empty_treatment_option_cannot_be_frozen(sendable_case, coordinator):
    option = sendable_case.options.get(title="Option B: denture")
    option.lines.all().delete()
    with pytest.raises(ValidationError, match="Add procedures to “Option B: denture”"):
        pack_version_freeze(case=sendable_case, by=coordinator)
    assert not PackVersion.objects.exists()


def test_an_option_in_several_steps_shows_a_simple_timeline(sendable_case, coordinator):
    version = pack_version_freeze(case=sendable_case, by=coordinator)

    crown = version.body_html.split("Option A: crown", 1)[1].split("Option B: denture", 1)[0]
    assert "How it goes" in crown
    step_one, step_two = crown.split("Step 1", 1)[1].split("Step 2", 1)
    assert "Comprehensive examination" in step_one
    assert "Porcelain crown" not in step_one
    assert "Porcelain crown" in step_two
    denture = version.body_html.split("Option B: denture", 1)[1]
    assert "How it goes" not in denture.split("No treatment", 1)[0]
