from __future__ import annotations

import pytest
from django.core.cache import cache

IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth keeps its own sign-in rate limits in the cache; each test starts clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sending(settings, django_capture_on_commit_callbacks):
    """`with sending(): ...` runs what is queued on commit inside the block, with tasks run
    immediately, so emails from email_send_later land in `mailoutbox`."""
    settings.TASKS = IMMEDIATE_TASKS

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block
