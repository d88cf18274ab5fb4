"""Logs never hold a patient link's token (pack, appointment, unsubscribe): gunicorn's access log
and Django's request log."""

from __future__ import annotations

import logging

import pytest

from clearplan.web.gunicorn_logging import redact

TOKEN = "Jxv0VmCFtqlBFq5_8U0ee2MinpBxp1FW"
IMAGE = "0b5b8e8e-1f7c-4d5e-9a55-0d2a3f0c9b11"


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        (f"/p/{TOKEN}", "/p/…"),
        (f"GET /p/{TOKEN} HTTP/1.1", "GET /p/… HTTP/1.1"),
        (f"GET /p/{TOKEN}?utm=sms HTTP/1.1", "GET /p/…?utm=sms HTTP/1.1"),
        ("/p/", "/p/"),
        ("/p/verify/", "/p/verify/"),
        (
            "/p/images/0b5b8e8e-1f7c-4d5e-9a55-0d2a3f0c9b11/medium",
            "/p/images/0b5b8e8e-1f7c-4d5e-9a55-0d2a3f0c9b11/medium",
        ),
        ("/p/signed/0b5b8e8e-1f7c-4d5e-9a55-0d2a3f0c9b11.pdf", "/p/signed/0b5b8e8e-1f7c-4d5e-9a55-0d2a3f0c9b11.pdf"),
        ("/patients/", "/patients/"),
        ("GET /u/0123456789abcdef0123456789abcdef/ HTTP/1.1", "GET /u/…/ HTTP/1.1"),
        ("/users/", "/users/"),
    ],
)
def test_the_access_log_shows_patient_links_without_their_token(logged, expected):
    assert redact(logged) == expected


@pytest.mark.django_db
def test_an_unknown_or_ended_link_is_answered_without_logging_its_token(client, caplog):
    with caplog.at_level(logging.INFO):
        response = client.get(f"/p/{TOKEN}")
    assert response.status_code == 404
    assert TOKEN not in caplog.text
