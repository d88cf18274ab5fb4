"""Search terms kept in the session under a token, so they never reach an address."""

from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from clearplan.lib import private_search


def request_with_session():
    request = RequestFactory().get("/")
    request.session = SessionStore()
    return request


def test_the_same_search_twice_is_one_token(db):
    request = request_with_session()
    first = private_search.remember_search(request, "Zoë O'Brien")
    assert private_search.remember_search(request, "Zoë O'Brien") == first
    assert private_search.recall_search(request, first) == "Zoë O'Brien"


def test_a_search_longer_than_the_limit_typed_twice_is_stored_once(db):
    request = request_with_session()
    long_text = "smith " * 60
    first = private_search.remember_search(request, long_text)
    second = private_search.remember_search(request, long_text)
    assert second == first
    assert len(request.session[private_search.SESSION_KEY]) == 1
    assert private_search.recall_search(request, first) == long_text[: private_search.MAX_LENGTH]


def test_only_the_most_recent_searches_are_kept(db):
    request = request_with_session()
    tokens = [private_search.remember_search(request, f"patient {number}") for number in range(25)]
    kept = request.session[private_search.SESSION_KEY]
    assert len(kept) == private_search.KEEP
    assert private_search.recall_search(request, tokens[0]) is None
    assert private_search.recall_search(request, tokens[-1]) == "patient 24"
