"""Running `manage.py worker` as a real process against this test's own database (a file for
SQLite, the test database on PostgreSQL), for tests that kill and restart workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings as django_settings
from django.db import connection

MANAGE_PY = Path(django_settings.BASE_DIR) / "manage.py"


def database_url_for_this_test() -> str:
    """The URL of the database this test is using right now (the test database)."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(database['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        credentials = quote(database["USER"] or "", safe="")
        if database.get("PASSWORD"):
            credentials += ":" + quote(database["PASSWORD"], safe="")
        host = database.get("HOST") or "localhost"
        port = f":{database['PORT']}" if database.get("PORT") else ""
        return f"postgres://{credentials}@{host}{port}/{quote(database['NAME'], safe='')}"
    raise AssertionError(f"No worker set-up for the {connection.vendor} database")


def start_worker(log: Path, *extra: str, environment: dict[str, str]) -> subprocess.Popen:
    """`manage.py worker` on the email queue (staff emails and messages), its output in `log`;
    `environment` adds settings such as EMAIL_URL or SMS_URL."""
    full_environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clearplan.settings",
        "DATABASE_URL": database_url_for_this_test(),
        "SECRET_KEY": "worker-restart-test",
        "CLEARPLAN_VAR_DIR": str(django_settings.VAR_DIR),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "PYTHONUNBUFFERED": "1",
        **environment,
    }
    full_environment.pop("DEBUG", None)
    full_environment.pop("CLEARPLAN_DEMO", None)
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, str(MANAGE_PY), "worker", "--queue-name", "email", "--interval", "0.2", *extra],
        env=full_environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def wait_until(condition, *, timeout: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    output = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in logs if log.exists())
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}.\n{output}")
