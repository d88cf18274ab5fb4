from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_sign_in_throttle_cleanup_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="signinthrottle", name="throttle_by_last_failure"),
        migrations.RenameField(model_name="signinthrottle", old_name="last_failure_at", new_name="last_attempt_at"),
        migrations.AddIndex(
            model_name="signinthrottle",
            index=models.Index(fields=["last_attempt_at"], name="throttle_by_last_attempt"),
        ),
        migrations.AddField(
            model_name="signinthrottle",
            name="attempts",
            field=models.PositiveIntegerField(default=0, help_text="Attempts counted in the current lock-out period."),
        ),
        # Rows written before attempts were counted: every attempt counted so far was a failure.
        migrations.RunSQL("UPDATE accounts_signinthrottle SET attempts = failures", migrations.RunSQL.noop),
    ]
