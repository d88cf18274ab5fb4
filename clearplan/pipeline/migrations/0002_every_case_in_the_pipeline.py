"""Cases that existed before the pipeline get their progress row, in the stage their history shows."""

from django.db import migrations


def stage_from_history(case):
    if case.signatures.exists() or case.pack_responses.filter(kind="proceed").exists():
        return "requested", ""
    latest = case.pack_responses.order_by("-created_at").first()
    if latest is not None and latest.kind == "not_now":
        return "not_proceeding", latest.reason or "other"
    if case.pack_sends.exclude(status="cancelled").exists():
        return "sent", ""
    return "not_sent", ""


def forwards(apps, schema_editor):
    Case = apps.get_model("plans", "Case")
    CaseProgress = apps.get_model("pipeline", "CaseProgress")
    for case in Case.objects.filter(progress__isnull=True).iterator():
        stage, reason = stage_from_history(case)
        CaseProgress.objects.create(
            case=case,
            clinic_id=case.clinic_id,
            stage=stage,
            stage_since=case.updated_at,
            last_activity_at=case.updated_at,
            not_proceeding_reason=reason,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0001_pipeline"),
        ("packs", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
