import pytest


def test_health_answers_when_the_database_is_reachable(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/today/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/today/", "/pipeline/", "/conversations/", "/patients/", "/insights/", "/settings/"])
def test_every_section_opens_for_a_coordinator(coordinator_client, path):
    response = coordinator_client.get(path)
    assert response.status_code == 200
    assert b'aria-label="Main"' in response.content


def test_unknown_pages_get_the_friendly_not_found_page(coordinator_client):
    response = coordinator_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()
