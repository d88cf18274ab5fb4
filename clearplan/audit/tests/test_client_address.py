"""Which address the audit log records when Clearplan sits behind reverse proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import client_address

PROXY = "10.0.0.2"
CLIENT = "203.0.113.7"


def request_from(remote_addr=PROXY, forwarded=None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "recorded"),
    [
        # No trusted proxy: the header is whatever the client chose to send.
        (0, None, PROXY),
        (0, CLIENT, PROXY),
        # One proxy appends the address it saw; anything before that came from the client.
        (1, CLIENT, CLIENT),
        (1, f"198.51.100.66, {CLIENT}", CLIENT),
        (1, f"{CLIENT}:51234", CLIENT),
        (1, "2001:db8::7", "2001:db8::7"),
        (1, "[2001:db8::7]:443", "2001:db8::7"),
        # Two proxies (say a CDN, then a load balancer): the client is second from the right.
        (2, f"{CLIENT}, 192.0.2.10", CLIENT),
        (2, f"198.51.100.66, {CLIENT}, 192.0.2.10", CLIENT),
        # Fewer entries than proxies: the request did not come through all of them.
        (2, CLIENT, PROXY),
        # Not an address at all.
        (1, "<script>", PROXY),
        (1, "unknown", PROXY),
        (1, "", PROXY),
    ],
)
def test_the_address_comes_from_the_trusted_proxies_only(settings, proxies, forwarded, recorded):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(request_from(forwarded=forwarded)) == recorded


def test_a_spoofed_header_cannot_replace_the_address_without_a_trusted_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_from(remote_addr=CLIENT, forwarded="198.51.100.66")) == CLIENT


def test_a_remote_address_that_is_not_an_address_is_left_empty(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_from(remote_addr="")) is None
    assert client_address(request_from(remote_addr="somewhere")) is None
    assert client_address(None) is None


@pytest.mark.parametrize(("proxies", "recorded"), [(0, PROXY), (1, CLIENT)])
def test_audit_rows_record_the_client_behind_the_proxy(settings, coordinator_client, clinic, proxies, recorded):
    from clearplan.patients.tests.factories import PatientFactory

    settings.TRUSTED_PROXY_COUNT = proxies
    patient = PatientFactory(clinic=clinic)
    coordinator_client.get(
        f"/patients/{patient.public_id}/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.66, {CLIENT}"
    )
    assert AuditEvent.objects.get(object_id=str(patient.public_id)).ip_address == recorded
